"""The shared network builders: the official convolutional encoder, decoder and critic, the MLP of the
TensorFlow 2.0 blog-post notebook this project started from (docs/METHOD.md), the linear probe, the layers
they are made of (and the VQ-VAE's quantizer layer), and ACAINetworks, which holds one model's networks.
What a model adds beyond these (VAE heads, the AAE's discriminator, the VQ-VAE's bottleneck) its module of
acai/models builds.

All builders return Functional Keras models. The critic is the encoder's architecture with its
own weights, its output averaged into one scalar per image.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import math

import keras
from keras import layers, ops

from acai import models
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


# The dtype policy of the conv stacks' inner layers while networks are built (Config.precision): "float32", or
# "mixed_bfloat16" (bfloat16 arithmetic, float32 weights). Every network's output layer stays float32, so
# latents, images and the critic's estimate are float32 either way and the weight files are the same.
_compute_policy: contextvars.ContextVar[str] = contextvars.ContextVar("compute_policy", default="float32")


@contextlib.contextmanager
def computing_in(precision: str):
    token = _compute_policy.set("mixed_bfloat16" if precision == "bfloat16" else "float32")
    try:
        yield
    finally:
        _compute_policy.reset(token)


def next_seed() -> int | None:
    counter = _layer_seeds.get()
    return None if counter is None else next(counter)


def conv_initializer() -> keras.initializers.Initializer:
    """The authors' init: normal with std = 1 / sqrt((1 + 0.2^2) * fan_in), not truncated."""
    return keras.initializers.VarianceScaling(
        scale=1.0 / (1.0 + LEAKY_RELU_SLOPE**2), mode="fan_in", distribution="untruncated_normal", seed=next_seed()
    )


def mlp_initializer() -> keras.initializers.Initializer:
    """The blog-post notebook's init: VarianceScaling(0.2, fan_in, truncated normal)."""
    return keras.initializers.VarianceScaling(scale=0.2, mode="fan_in", distribution="truncated_normal",
                                              seed=next_seed())


class MeanOverFeatures(layers.Layer):
    """Averages every axis but the batch one: (N, ...) -> (N,). The critic's read-out."""

    def call(self, inputs):
        return ops.mean(ops.reshape(inputs, (ops.shape(inputs)[0], -1)), axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],)


def dense_initializer() -> keras.initializers.Initializer:
    """tf.layers.dense's default, which the authors' extra layers (VAE heads, AAE, VQ-VAE) kept."""
    return keras.initializers.GlorotUniform(seed=next_seed())


class VectorQuantizer(layers.Layer):
    """The VQ-VAE bottleneck: each vector (N, V, D) is replaced by its nearest codebook entry (K, D), with the
    straight-through gradient (the decoder's gradient passes to the vector unchanged).

    The codebook is not trained by gradients: the trainer moves it by exponential moving averages
    (acai.models.vqvae.CodebookAverages), as the authors' code does. Its initial values are the authors'
    uniform unit scaling: U(-sqrt(3 / K), sqrt(3 / K)).
    """

    def __init__(self, codes: int, dimension: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.codes, self.dimension, self.seed = codes, dimension, seed

    def build(self, input_shape):
        limit = math.sqrt(3.0 / self.codes)
        self.codebook = self.add_weight(
            shape=(self.codes, self.dimension), name="codebook", trainable=False,
            initializer=keras.initializers.RandomUniform(-limit, limit, seed=self.seed))

    def nearest(self, vectors):
        """Index of the nearest codebook entry (squared Euclidean distance) of every vector: (N, V) int."""
        flat = ops.reshape(vectors, (-1, self.dimension))
        distances = (ops.sum(ops.square(flat), axis=1, keepdims=True) - 2.0 * ops.matmul(flat, ops.transpose(self.codebook))
                     + ops.sum(ops.square(self.codebook), axis=1)[None, :])
        return ops.reshape(ops.argmin(distances, axis=1), ops.shape(vectors)[:-1])

    def lookup(self, codes):
        return ops.take(self.codebook, codes, axis=0)

    def call(self, vectors):
        quantized = self.lookup(self.nearest(vectors))
        return vectors + ops.stop_gradient(quantized - vectors)


def _conv(filters: int, kernel: int = 3, output: bool = False) -> layers.Conv2D:
    """A 3x3 (or 1x1) same-padded conv with the authors' init; an output conv always computes in float32."""
    return layers.Conv2D(filters, kernel, padding="same", kernel_initializer=conv_initializer(),
                         dtype="float32" if output else _compute_policy.get())


def leaky() -> layers.LeakyReLU:
    return layers.LeakyReLU(negative_slope=LEAKY_RELU_SLOPE, dtype=_compute_policy.get())


class SpaceToDepth(layers.Layer):
    """(N, H, W, C) -> (N, H / b, W / b, b * b * C): each b x b block of pixels becomes one pixel's channels."""

    def __init__(self, block: int, **kwargs):
        super().__init__(**kwargs)
        self.block = block

    def call(self, inputs):
        _, height, width, channels = inputs.shape
        b = self.block
        x = ops.reshape(inputs, (-1, height // b, b, width // b, b, channels))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, height // b, width // b, b * b * channels))

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (batch, height // self.block, width // self.block, channels * self.block ** 2)


class DepthToSpace(SpaceToDepth):
    """The inverse of SpaceToDepth: (N, H, W, b * b * C) -> (N, H * b, W * b, C)."""

    def call(self, inputs):
        _, height, width, channels = inputs.shape
        b = self.block
        x = ops.reshape(inputs, (-1, height, width, b, b, channels // (b * b)))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, height * b, width * b, channels // (b * b)))

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (batch, height * self.block, width * self.block, channels // self.block ** 2)


def conv_encoder_stack(inputs, config: Config, output_channels: int):
    """[space-to-depth when patch > 1;] 1x1 conv; per scale two 3x3 conv + LeakyReLU and 2x2 average pooling;
    two 3x3 convs."""
    if config.patch > 1:
        inputs = SpaceToDepth(config.patch)(inputs)
    x = _conv(config.depth, kernel=1)(inputs)
    for scale in range(config.encoder_scales):
        for _ in range(2):
            x = leaky()(_conv(config.depth << scale)(x))
        x = layers.AveragePooling2D(2, dtype=_compute_policy.get())(x)
    x = leaky()(_conv(config.depth << config.encoder_scales)(x))
    return _conv(output_channels, output=True)(x)


def _mlp_encoder_stack(inputs, config: Config):
    """Dense(1000)-Dense(1000) with LeakyReLU, then the projection to the latent size that the
    notebook's printed code forgot."""
    x = layers.Flatten()(inputs)
    for _ in range(2):
        x = leaky()(layers.Dense(config.mlp_width, kernel_initializer=mlp_initializer())(x))
    return layers.Dense(config.latent_size, kernel_initializer=mlp_initializer())(x)


def _encoder_stack(inputs, config: Config):
    """The encoder's architecture for the configured kind; the critic reuses it with its own weights."""
    if config.architecture == "conv":
        return conv_encoder_stack(inputs, config, config.latent_channels)
    return _mlp_encoder_stack(inputs, config)


def build_encoder(config: Config) -> keras.Model:
    """Images (N, 32, 32, C) -> latents (N, *config.latent_shape)."""
    inputs = keras.Input(config.image_shape)
    return keras.Model(inputs, _encoder_stack(inputs, config), name="encoder")


def conv_decoder_stack(x, config: Config):
    """Per scale (coarsest first) two 3x3 conv + LeakyReLU and 2x nearest upsampling; two 3x3 convs, linear
    [; depth-to-space when decoder_patch > 1: the last conv gives each pixel of the map a whole block]."""
    for scale in reversed(range(config.decoder_scales)):
        for _ in range(2):
            x = leaky()(_conv(config.depth << scale)(x))
        x = layers.UpSampling2D(2, interpolation="nearest", dtype=_compute_policy.get())(x)
    x = leaky()(_conv(config.depth)(x))
    if config.decoder_patch > 1:
        block = config.decoder_patch
        return DepthToSpace(block)(_conv(config.channels * block ** 2, output=True)(x))
    return _conv(config.channels, output=True)(x)


def build_decoder(config: Config) -> keras.Model:
    """Latents (N, *config.latent_shape) -> images (N, 32, 32, C), linear output (conv)."""
    inputs = keras.Input(config.latent_shape)
    if config.architecture == "conv":
        outputs = conv_decoder_stack(inputs, config)
    else:
        x = inputs
        for _ in range(2):
            x = leaky()(layers.Dense(config.mlp_width, kernel_initializer=mlp_initializer())(x))
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
    logits = layers.Dense(num_classes, kernel_initializer=keras.initializers.GlorotUniform(seed=next_seed()))(
        layers.Flatten()(inputs))
    return keras.Model(inputs, logits, name="probe")


class ACAINetworks(keras.Model):
    """The networks of one run, held together so their weights save and load as one file.

    Every model has encoder (images -> latents), decoder (latents -> images in [-1, 1]) and probe. ACAI adds
    the critic (None for the others); the VAE adds posterior and decoder_logits; the AAE the discriminator;
    the VQ-VAE to_vectors, quantizer and from_vectors (parts of its decoder). Shared layers are saved once.
    """

    def __init__(self, config: Config, num_classes: int = 10, seed: int | None = None, **kwargs):
        """`seed`: initial weights that follow from it alone (the Trainer passes the config's seed)."""
        super().__init__(name="acai", **kwargs)
        self.config = config
        self.model_class = models.get(config.model)
        self.critic = None
        with seeded(seed), computing_in(config.precision):
            self.model_class.build_networks(self, config)
            self.probe = build_probe(config, num_classes)
        self.built = True  # the Functional parts are built; nothing is left to infer

    @property
    def autoencoder_variables(self) -> list:
        """The trainable variables of the encoder and decoder side (every head included, each once)."""
        unique = {}
        for part in self.model_class.autoencoder_parts(self):
            for variable in part.trainable_variables:
                unique.setdefault(id(variable), variable)
        return list(unique.values())

    def copy(self) -> ACAINetworks:
        """Independent networks with the same weights (the app's snapshots, a race's twin start)."""
        twin = ACAINetworks(self.config, self.probe.output_shape[-1])
        twin.set_weights(self.get_weights())
        return twin

    def part_names(self) -> tuple[str, ...]:
        """The names of its networks (the attributes that are Keras models), e.g. encoder, decoder, probe."""
        return tuple(name for name, value in vars(self).items()
                     if isinstance(value, keras.Model) and not name.startswith("_"))

    def take_alike(self, other: ACAINetworks) -> tuple[str, ...]:
        """Copy the weights of every network that `other` has alike (same name, same weight shapes): a race
        between two kinds of model starts them from the same encoder where they share one. Returns the names."""
        taken = []
        for name in self.part_names():
            mine, theirs = getattr(self, name), getattr(other, name, None)
            if isinstance(theirs, keras.Model) and [w.shape for w in mine.weights] == [w.shape for w in theirs.weights]:
                mine.set_weights(theirs.get_weights())
                taken.append(name)
        return tuple(taken)

    def call(self, images):
        """Reconstruction of a batch (N, 32, 32, C)."""
        return self.decoder(self.encoder(images))

