import pytest

from acai.config import PRESETS, Config, default_config


def test_derived_values():
    config = PRESETS["lines32"]
    assert config.scales == 4 and config.latent_channels == 16 and config.latent_shape == (2, 2, 16)
    assert PRESETS["mnist32"].latent_shape == (4, 4, 2)
    assert PRESETS["mnist_mlp"].latent_shape == (32,)
    assert Config(lam=0).is_baseline and not Config().is_baseline


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
])
def test_bad_values_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        Config(**changes)


def test_round_trip_and_unknown_keys():
    config = default_config("digits")
    assert Config.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown config keys: colour"):
        Config.from_dict({**config.to_dict(), "colour": 1})
