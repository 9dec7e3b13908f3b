import numpy as np
import pytest

from acai import checkpoints, diagnostics, lines
from acai.cli import main
from acai.config import Config
from acai.networks import ACAINetworks


def test_the_constant_critic_is_the_best_one_that_ignores_its_input():
    constant = diagnostics.constant_critic()
    assert constant["output"] == 0.125
    assert constant["critic_alpha"] == pytest.approx(7 / 192)  # 1/48 + 1/64
    assert constant["critic_real"] == constant["adversarial"] == pytest.approx(1 / 64)
    alpha = 0.5 - np.abs(np.linspace(0, 1, 200_001) - 0.5)  # the folded uniform, on a fine grid
    def critic_loss(c):
        return np.mean((c - alpha) ** 2) + c ** 2
    assert critic_loss(0.125) == pytest.approx(constant["critic_alpha"] + constant["critic_real"], rel=1e-5)
    assert critic_loss(0.125) < min(critic_loss(0.12), critic_loss(0.13))


@pytest.fixture(scope="module")
def tiny():
    config = Config(dataset="lines", depth=8, latent_width=16, latent_size=256, batch_size=32, seed=3)
    images, _ = lines.sample_lines(64, np.random.default_rng(0))
    return config, ACAINetworks(config, seed=config.seed), images


def test_a_silent_critic_gives_no_adversarial_gradient(tiny):
    config, networks, images = tiny
    silent = networks.copy()
    last = [layer for layer in silent.critic.layers if layer.weights][-1]
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])  # d(x) = 0 for every image
    report = diagnostics.critic_report(silent, images, batch_size=32)
    assert report["critic_on_mix_mean"] == report["critic_on_blend_mean"] == report["adversarial"] == 0
    assert report["adversarial_gradient"] == report["gradient_ratio"] == 0
    assert report["reconstruction_gradient"] > 0
    rng = np.random.default_rng([0, 6])  # the alphas the report draws: its critic_alpha is mean(alpha^2)
    alpha = 0.5 - np.abs(rng.uniform(size=(2, 32)) - 0.5)
    assert report["critic_alpha"] == pytest.approx(np.mean(alpha ** 2), rel=1e-5)


def test_the_adversarial_gradient_is_lambda_times_the_terms(tiny):
    config, networks, images = tiny
    half = diagnostics.critic_report(networks, images, batch_size=32, lam=0.5)
    whole = diagnostics.critic_report(networks, images, batch_size=32, lam=1.0)
    assert whole["adversarial_gradient"] == pytest.approx(2 * half["adversarial_gradient"], rel=1e-4)
    assert whole["reconstruction_gradient"] == pytest.approx(half["reconstruction_gradient"], rel=1e-5)
    assert whole["gradient_cosine"] == pytest.approx(half["gradient_cosine"], abs=1e-4)
    assert -1 <= half["gradient_cosine"] <= 1 and -1 <= half["alpha_correlation"] <= 1
    assert half["critic_real"] == pytest.approx(half["critic_on_blend_mean"] ** 2 + half["critic_on_blend_sd"] ** 2)
    with pytest.raises(ValueError, match="at least one batch"):
        diagnostics.critic_report(networks, images[:10], batch_size=32)


@pytest.mark.slow
def test_the_critic_command_prints_one_row_per_checkpoint(tiny, tmp_path, capsys):
    config, networks, _ = tiny
    checkpoints.save_checkpoint(tmp_path / "acai", networks, config, 7)
    assert main(["critic", str(tmp_path / "acai"), "--batches", "2"]) == 0
    lines_out = capsys.readouterr().out.splitlines()
    assert "0.125" in lines_out[0] and "adv/rec" in lines_out[1]
    row = lines_out[2].split()
    assert row[:2] == ["7", "0.5"] and row[-1] == str(tmp_path / "acai")
    checkpoints.save_checkpoint(tmp_path / "ae", networks, config.replace(lam=0.0), 7)
    assert main(["critic", str(tmp_path / "ae"), str(tmp_path / "ae"), "--batches", "2", "--lam", "0.5"]) == 0
    ae_rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert len(ae_rows) == 2 and ae_rows[0][1] == "0.5" and float(ae_rows[0][9]) > 0  # the baseline's critic slope, at lambda 0.5

    vae = Config(dataset="lines", depth=8, latent_width=16, latent_size=256, batch_size=32, model="vae")
    checkpoints.save_checkpoint(tmp_path / "vae", ACAINetworks(vae), vae, 1)
    with pytest.raises(SystemExit):
        main(["critic", str(tmp_path / "vae")])
    assert "only ACAI and the plain autoencoder have a critic" in capsys.readouterr().err
