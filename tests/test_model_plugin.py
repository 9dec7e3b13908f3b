"""A model is one file: an eighth autoencoder defined here alone trains through the real CLI, with a setting
of its own, and its checkpoint loads and resumes."""

import dataclasses

import numpy as np
import pytest

from acai import models
from acai.checkpoints import load_checkpoint
from acai.cli import main
from acai.models.base import Batch, Model, Step, losses, probe_terms, tf

pytestmark = pytest.mark.slow  # trainings, subprocesses or app runs: CI runs them, `-m "not slow"` skips


@dataclasses.dataclass(frozen=True)
class SparseSettings:
    l1: float = 1e-3  # weight of the mean absolute latent

    def __post_init__(self):
        if self.l1 < 0:
            raise ValueError("l1 must be >= 0")


class Sparse(Model):
    """A sparse autoencoder: MSE plus l1 times the mean absolute code."""

    name = "sparse"
    title = "sparse"
    summary = "sparse autoencoder (a test's own model)"
    Settings = SparseSettings
    loss_names = ("reconstruction", "sparsity", "probe", "probe_accuracy")

    def forward(self, networks, batch: Batch) -> Step:
        latents = networks.encoder(batch.images, training=True)
        reconstruction = losses.reconstruction_loss(batch.images, networks.decoder(latents, training=True))
        sparsity = tf.reduce_mean(tf.abs(latents))
        probe = probe_terms(networks, latents, batch.labels)
        return Step({"reconstruction": reconstruction, "sparsity": sparsity, **probe},
                    {"autoencoder": reconstruction + self.settings.l1 * sparsity, "probe": probe["probe"]})


@pytest.fixture
def sparse_registered():
    models.register(Sparse)
    yield Sparse
    models.unregister(Sparse.name)


TINY = ["--dataset", "lines", "--depth", "8", "--latent-width", "16", "--latent-size", "256", "--batch", "32"]


def test_a_model_defined_in_one_file_trains_through_the_cli_and_loads(sparse_registered, tmp_path):
    folder = tmp_path / "sparse"
    assert main(["train", "--model", "sparse", *TINY, "--setting", "l1=0.5", "--steps", "4", "--out", str(folder)]) == 0
    checkpoint = load_checkpoint(folder)
    assert checkpoint.config.kind == "sparse" and checkpoint.config.model_settings == SparseSettings(l1=0.5)
    assert checkpoint.networks.critic is None and checkpoint.step == 4
    sparsity = checkpoint.history[:, 1 + Sparse.loss_names.index("sparsity")]
    assert sparsity.shape == (4,) and np.all(np.isfinite(sparsity)) and np.all(sparsity > 0)
    assert main(["train", "--resume", "--steps", "2", "--out", str(folder)]) == 0
    assert load_checkpoint(folder).step == 6


def test_its_settings_are_checked_like_the_built_in_ones(sparse_registered, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--model", "sparse", *TINY, "--setting", "l1=-1", "--out", str(tmp_path / "x")])
    assert "l1 must be >= 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--model", "sparse", *TINY, "--setting", "keep_probability=0.5", "--out", str(tmp_path / "x")])
    assert "the sparse model has no setting keep_probability" in capsys.readouterr().err


def test_names_are_unique():
    with pytest.raises(ValueError, match="registered already"):
        models.register(type("Again", (Model,), {"name": "vae", "title": "again"}))
