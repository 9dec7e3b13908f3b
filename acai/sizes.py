"""How many weights the shared builders of acai.networks make for a config, counted from the config alone
(no TensorFlow), so that a config asking for a huge network is refused before anything is allocated.
tests/test_networks.py checks every count against the built networks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from acai.config import IMAGE_SIZE

if TYPE_CHECKING:
    from acai.config import Config


def _conv(kernel: int, inputs: int, outputs: int) -> int:
    return kernel * kernel * inputs * outputs + outputs


def _dense(inputs: int, outputs: int) -> int:
    return inputs * outputs + outputs


def encoder_parameters(config: Config) -> int:
    """Weights of acai.networks' encoder (and of the critic, its twin), counted from the config."""
    pixels = IMAGE_SIZE * IMAGE_SIZE * config.channels
    if config.architecture != "conv":
        return _dense(pixels, config.mlp_width) + _dense(config.mlp_width, config.mlp_width) + \
            _dense(config.mlp_width, config.latent_size)
    width = config.channels * config.patch ** 2
    total = _conv(1, width, config.depth)
    width = config.depth
    for scale in range(config.encoder_scales):
        total += _conv(3, width, config.depth << scale) + _conv(3, config.depth << scale, config.depth << scale)
        width = config.depth << scale
    last = config.depth << config.encoder_scales
    return total + _conv(3, width, last) + _conv(3, last, config.latent_channels)


def decoder_parameters(config: Config) -> int:
    """Weights of acai.networks' decoder, counted from the config."""
    pixels = IMAGE_SIZE * IMAGE_SIZE * config.channels
    if config.architecture != "conv":
        return _dense(config.latent_size, config.mlp_width) + _dense(config.mlp_width, config.mlp_width) + \
            _dense(config.mlp_width, pixels)
    total, width = 0, config.latent_channels
    for scale in reversed(range(config.decoder_scales)):
        total += _conv(3, width, config.depth << scale) + _conv(3, config.depth << scale, config.depth << scale)
        width = config.depth << scale
    return total + _conv(3, width, config.depth) + _conv(3, config.depth, config.channels * config.decoder_patch ** 2)


def dense_parameters(inputs: int, outputs: int) -> int:
    """Weights of a Dense layer (kernel and bias)."""
    return _dense(inputs, outputs)

