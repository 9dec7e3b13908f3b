"""Encoder, decoder and critic builders: the official convolutional architecture and
the MLP of the TensorFlow 2.0 blog-post notebook this project started from (docs/METHOD.md).

All builders return Functional Keras models. The critic is the encoder's architecture with its
own weights, its output averaged into one scalar per image.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools

import keras
from keras import layers, ops

from acai.config import LEAKY_RELU_SLOPE, Config

# While networks are built under `seeded(seed)`, every initializer takes the next seed of this counter, so
# the same seed gives the same initial weights in any process (multi-worker training checks exactly that).
_layer_seeds: contextvars.ContextVar[itertools.count | None] = contextvars.ContextVar("layer_seeds", default=None)


@contextlib.contextmanager
def seeded(seed: int | None):
    """Build networks whose initial weights follow from `seed` alone (None: Keras's own random draws)."""
    token = _layer_seeds.set(None if seed is None else itertools.count(seed * 1_000))
    try:
        yield
    finally:
        _layer_seeds.reset(token)


def _next_seed() -> int | None:
    counter = _layer_seeds.get()
    return None if counter is None else next(counter)


def conv_initializer() -> keras.initializers.Initializer:
    """The authors' init: normal with std = 1 / sqrt((1 + 0.2^2) * fan_in), not truncated."""
    return keras.initializers.VarianceScaling(
        scale=1.0 / (1.0 + LEAKY_RELU_SLOPE**2), mode="fan_in", distribution="untruncated_normal", seed=_next_seed()
    )


def mlp_initializer() -> keras.initializers.Initializer:
    """The blog-post notebook's init: VarianceScaling(0.2, fan_in, truncated normal)."""
    return keras.initializers.VarianceScaling(scale=0.2, mode="fan_in", distribution="truncated_normal",
                                              seed=_next_seed())


@keras.saving.register_keras_serializable(package="acai")
class MeanOverFeatures(layers.Layer):
    """Averages every axis but the batch one: (N, ...) -> (N,). The critic's read-out."""

    def call(self, inputs):
        return ops.mean(ops.reshape(inputs, (ops.shape(inputs)[0], -1)), axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)


def _conv(filters: int, kernel: int = 3) -> layers.Conv2D:
    return layers.Conv2D(filters, kernel, padding="same", kernel_initializer=conv_initializer())


def _leaky() -> layers.LeakyReLU:
    return layers.LeakyReLU(negative_slope=LEAKY_RELU_SLOPE)


def _conv_encoder_stack(inputs, config: Config, output_channels: int):
    """1x1 conv; per scale two 3x3 conv + LeakyReLU and 2x2 average pooling; two 3x3 convs."""
    x = _conv(config.depth, kernel=1)(inputs)
    for scale in range(config.scales):
        for _ in range(2):
            x = _leaky()(_conv(config.depth << scale)(x))
        x = layers.AveragePooling2D(2)(x)
    x = _leaky()(_conv(config.depth << config.scales)(x))
    return _conv(output_channels)(x)


def _mlp_encoder_stack(inputs, config: Config):
    """Dense(1000)-Dense(1000) with LeakyReLU, then the projection to the latent size that the
    notebook's printed code forgot."""
    x = layers.Flatten()(inputs)
    for _ in range(2):
        x = _leaky()(layers.Dense(config.mlp_width, kernel_initializer=mlp_initializer())(x))
    return layers.Dense(config.latent_size, kernel_initializer=mlp_initializer())(x)


def _encoder_stack(inputs, config: Config):
    """The encoder's architecture for the configured kind; the critic reuses it with its own weights."""
    if config.architecture == "conv":
        return _conv_encoder_stack(inputs, config, config.latent_channels)
    return _mlp_encoder_stack(inputs, config)


def build_encoder(config: Config) -> keras.Model:
    """Images (N, 32, 32, C) -> latents (N, *config.latent_shape)."""
    inputs = keras.Input(config.image_shape)
    return keras.Model(inputs, _encoder_stack(inputs, config), name="encoder")


def build_decoder(config: Config) -> keras.Model:
    """Latents (N, *config.latent_shape) -> images (N, 32, 32, C), linear output (conv)."""
    inputs = keras.Input(config.latent_shape)
    if config.architecture == "conv":
        x = inputs
        for scale in reversed(range(config.scales)):
            for _ in range(2):
                x = _leaky()(_conv(config.depth << scale)(x))
            x = layers.UpSampling2D(2, interpolation="nearest")(x)
        x = _leaky()(_conv(config.depth)(x))
        outputs = _conv(config.channels)(x)
    else:
        x = inputs
        for _ in range(2):
            x = _leaky()(layers.Dense(config.mlp_width, kernel_initializer=mlp_initializer())(x))
        # The notebook's last Dense lacked its size: one unit per pixel. Its sigmoid on [0, 1] data
        # becomes 2 * sigmoid - 1 on our [-1, 1] data, the same function under the affine map.
        x = layers.Dense(config.image_shape[0] * config.image_shape[1] * config.channels,
                         kernel_initializer=mlp_initializer(), activation="sigmoid")(x)
        x = layers.Rescaling(2.0, offset=-1.0)(x)
        outputs = layers.Reshape(config.image_shape)(x)
    return keras.Model(inputs, outputs, name="decoder")


def build_critic(config: Config) -> keras.Model:
    """Images (N, 32, 32, C) -> (N,): the encoder's architecture, averaged to one scalar."""
    inputs = keras.Input(config.image_shape)
    return keras.Model(inputs, MeanOverFeatures()(_encoder_stack(inputs, config)), name="critic")


def build_probe(config: Config, num_classes: int = 10) -> keras.Model:
    """The official running monitor: a linear softmax classifier on the (stopped) latent."""
    inputs = keras.Input(config.latent_shape)
    logits = layers.Dense(num_classes, kernel_initializer=keras.initializers.GlorotUniform(seed=_next_seed()))(
        layers.Flatten()(inputs))
    return keras.Model(inputs, logits, name="probe")


class ACAINetworks(keras.Model):
    """The four networks of one run, held together so their weights save and load as one file."""

    def __init__(self, config: Config, num_classes: int = 10, seed: int | None = None, **kwargs):
        """`seed`: initial weights that follow from it alone (the Trainer passes the config's seed)."""
        super().__init__(name="acai", **kwargs)
        self.config = config
        with seeded(seed):
            self.encoder = build_encoder(config)
            self.decoder = build_decoder(config)
            self.critic = build_critic(config)
            self.probe = build_probe(config, num_classes)
        self.built = True  # the four Functional parts are built; nothing is left to infer

    def copy(self) -> ACAINetworks:
        """Independent networks with the same weights (the app's snapshots, a race's twin start)."""
        twin = ACAINetworks(self.config, self.probe.output_shape[-1])
        twin.set_weights(self.get_weights())
        return twin

    def call(self, images):
        """Reconstruction of a batch (N, 32, 32, C)."""
        return self.decoder(self.encoder(images))

    def get_config(self):  # Never saved as a whole model: weights + our own JSON config.
        return {"config": self.config.to_dict()}
