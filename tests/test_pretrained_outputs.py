"""Every shipped model loads and computes exactly what it computed when it was exported: refactors of the
networks or the checkpoint format must not change a shipped model's outputs. tests/data/pretrained_outputs.npz
holds, per folder of pretrained/, its encoder's, decoder's and critic's outputs on fixed inputs."""

from pathlib import Path

import numpy as np
import pytest

from acai.checkpoints import load_checkpoint

pytestmark = pytest.mark.slow  # trainings, subprocesses or app runs: CI runs them, `-m "not slow"` skips

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = np.load(ROOT / "tests" / "data" / "pretrained_outputs.npz")
FOLDERS = sorted({key.split("/")[0] for key in EXPECTED.files})


def test_every_shipped_model_has_a_reference():
    assert sorted(path.name for path in (ROOT / "pretrained").iterdir() if path.is_dir()) == FOLDERS


@pytest.mark.parametrize("name", FOLDERS)
def test_shipped_model_computes_as_exported(name):
    checkpoint = load_checkpoint(ROOT / "pretrained" / name)
    images = np.random.default_rng(0).uniform(-1, 1, (4, 32, 32, checkpoint.config.channels)).astype("float32")
    latents = checkpoint.networks.encoder(images).numpy()
    np.testing.assert_allclose(latents, EXPECTED[f"{name}/latents"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(checkpoint.networks.decoder(EXPECTED[f"{name}/latents"]).numpy(),
                               EXPECTED[f"{name}/decoded"], rtol=1e-5, atol=1e-6)
    if f"{name}/critic" in EXPECTED.files:
        np.testing.assert_allclose(checkpoint.networks.critic(images).numpy(), EXPECTED[f"{name}/critic"],
                                   rtol=1e-5, atol=1e-6)
    else:
        assert checkpoint.networks.critic is None
