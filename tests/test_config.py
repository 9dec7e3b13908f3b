import numpy as np
import pytest

from acai.config import PRESETS, Config, default_config, describe_regularization, note_regularization_change


def test_derived_values():
    config = PRESETS["lines32"]
    assert config.encoder_scales == config.decoder_scales == 4
    assert config.latent_channels == 16 and config.latent_shape == (2, 2, 16)
    assert PRESETS["mnist32"].latent_shape == (4, 4, 2)
    assert PRESETS["mnist_mlp"].latent_shape == (32,)
    assert Config(lam=0).is_baseline and not Config().is_baseline
    patched = Config(latent_width=2, latent_size=64, patch=4)
    assert (patched.encoder_scales, patched.decoder_scales) == (2, 4)  # 32 / 4 = 8 -> 4 -> 2; 2 -> ... -> 32
    assert patched.replace(decoder_patch=2).decoder_scales == 3


def test_paper_defaults():
    config = Config()
    assert (config.lam, config.gamma, config.learning_rate, config.batch_size) == (0.5, 0.2, 1e-4, 64)


@pytest.mark.parametrize("changes, message", [
    ({"dataset": "cifar"}, "unknown dataset"),
    ({"architecture": "resnet"}, "unknown architecture"),
    ({"batch_size": 63}, "even"),
    ({"latent_size": 33}, "multiple"),
    ({"latent_width": 3}, "power of two"),
    ({"gamma": 1.5}, "gamma"),
    ({"lam": -1}, "lambda"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": float("nan")}, "learning_rate must be a finite number"),
    ({"learning_rate": float("inf")}, "learning_rate must be a finite number"),
    ({"lam": float("nan")}, "lam must be a finite number"),
    ({"gamma": float("-inf")}, "gamma must be a finite number"),
    ({"learning_rate": "1e-4"}, "learning_rate must be a finite number"),
    ({"batch_size": 64.0}, "batch_size must be an integer"),
    ({"depth": True}, "depth must be an integer"),
    ({"patch": 3}, "patch must be a power of two"),
    ({"patch": 16, "latent_width": 4}, "larger than the map of 32 / patch pixels"),
    ({"decoder_patch": 16, "latent_width": 4}, "larger than the map of 32 / patch pixels"),
    ({"decoder_patch": 6}, "decoder_patch must be a power of two"),
    ({"patch": 2, "architecture": "mlp"}, "conv architecture only"),
])
def test_bad_values_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        Config(**changes)


def test_round_trip_and_unknown_keys():
    config = default_config("digits")
    assert Config.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown config keys: colour"):
        Config.from_dict({**config.to_dict(), "colour": 1})


def test_same_model_ignores_only_lambda_and_gamma():
    config = PRESETS["lines32"]
    assert config.same_model_as(config.replace(lam=0.0, gamma=0.7))
    assert not config.same_model_as(config.replace(learning_rate=1e-3))


def test_demo_presets_are_labelled_and_valid():
    demos = [name for name in PRESETS if name.startswith("demo-")]
    assert {"demo-lines", "demo-mnist", "demo-fashion"} <= set(demos)
    assert PRESETS["demo-lines"].dataset == "lines" and PRESETS["demo-mnist"].dataset == "mnist"


def test_a_card_keeps_each_change_of_lambda_and_gamma():
    start = Config(lam=0.5, gamma=0.2)
    quiet = note_regularization_change({"steps": 10}, 10, start, start.replace(gamma=float(np.float32(0.2))))
    assert quiet == {"steps": 10}  # a float32 round trip of gamma is no change
    card = note_regularization_change({}, 34500, start, start.replace(lam=0.05))
    card = note_regularization_change(card, 40000, start.replace(lam=0.05), start.replace(lam=0.05, gamma=0.3))
    assert describe_regularization(0.05, 0.3, card) == (
        "lambda 0.5, then 0.05 from step 34,500; gamma 0.2, then 0.3 from step 40,000")
    assert describe_regularization(0.5, 0.2, {}) == "lambda 0.5, gamma 0.2"
