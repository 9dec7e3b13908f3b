"""The VQ-VAE of the paper's Table 1 (the authors' moving-average variant): the code passes through
`code_vectors` vectors, each replaced by its nearest entry of a codebook of 2^codebook_bits (straight-through
gradient); MSE plus beta times the commitment loss; the codebook follows moving averages of the vectors
assigned to each entry (CodebookAverages) after every update.

Its decoder has three parts in a row, to_vectors (latents -> V vectors of the latent's size), the quantizer and
from_vectors (quantized vectors -> relu, Dense(512), relu, Dense(latent size) -> the conv decoder); the app
interpolates through the whole decoder, so latents are quantized when decoded.
"""

from __future__ import annotations

import dataclasses

from acai.models.base import Batch, Model, Step, TableRow, builders, lazy, losses, probe_terms, register, tf

keras = lazy("keras")

HIDDEN = 512  # the authors' filter_size: the width of the MLP after the codebook


@dataclasses.dataclass(frozen=True)
class VQVAESettings:
    codebook_bits: int = 14  # log2 of the codebook size (the authors' flag: z_log_size)
    commitment: float = 10.0  # weight of the commitment loss (the authors' flag: beta)
    code_vectors: int = 10  # discrete codes per image (the authors' flag: num_latents)
    # Deviation from the authors' code (docs/METHOD.md, "Why the published VQ-VAE collapses"): 1 = averages
    # that start at zero and are debiased (Sonnet's VectorQuantizerEMA); 0 = the authors' averages, whose sums
    # start at the initial codebook, so that from step 3 one code serves every vector of every image.
    debiased: int = 1
    # Also a deviation: an entry that no vector chose for this many steps in a row restarts at a random encoder
    # vector of the batch (the random restarts of Dhariwal et al. 2020, Jukebox); 0 = never (the authors').
    restart_after: int = 100

    def __post_init__(self):
        if not 1 <= self.codebook_bits <= 20 or self.code_vectors < 1:
            raise ValueError(f"codebook_bits must lie in [1, 20] and code_vectors be >= 1, "
                             f"got {self.codebook_bits} and {self.code_vectors}")
        if self.commitment < 0:
            raise ValueError(f"commitment must be >= 0, got {self.commitment}")
        if self.debiased not in (0, 1) or self.restart_after < 0:
            raise ValueError(f"debiased must be 0 or 1 and restart_after >= 0, "
                             f"got {self.debiased} and {self.restart_after}")


class CodebookAverages:
    """The codebook's exponential moving averages (the authors' EMA variant of VQ-VAE): per code, the decayed
    count of vectors assigned to it and the decayed sum of those vectors; the codebook is their ratio, the
    counts Laplace-smoothed with epsilon. Training state only: the shipped model needs the codebook alone.

    The authors start the counts at 0 and the sums at the initial codebook: after one step an unused entry is
    (decay / smoothed count) ~ 10^5 times its initial value, and every vector picks the one entry that stayed
    small. `debiased` starts both at 0 and divides by 1 - decay^t (Sonnet); an entry whose count is still
    below USED keeps its value (Sonnet's would fall to 0). With `restart_after`, an entry unused that many
    steps in a row moves to a random vector of the batch and its averages start again from 0."""

    decay = 0.999
    epsilon = 1e-5
    USED = 1e-3  # a debiased count below this: the entry keeps its value

    def __init__(self, quantizer, settings):
        self.debiased, self.restart_after = bool(settings.debiased), settings.restart_after
        self.counts = tf.Variable(tf.zeros([quantizer.codes]), trainable=False, name="codebook_counts")
        start = tf.zeros_like(quantizer.codebook) if self.debiased else tf.identity(quantizer.codebook)
        self.sums = tf.Variable(start, trainable=False, name="codebook_sums")
        self.updates = tf.Variable(0.0, trainable=False, name="codebook_updates")
        self.unused = tf.Variable(tf.zeros([quantizer.codes]), trainable=False, name="codebook_unused")

    def state(self) -> dict:
        state = {"codebook/counts": self.counts, "codebook/sums": self.sums}
        if self.debiased:
            state["codebook/updates"] = self.updates
        if self.restart_after:
            state["codebook/unused"] = self.unused
        return state

    def update(self, quantizer, vectors, codes, picks) -> None:
        """One step: `vectors` (N, V, D) chose `codes` (N, V); `picks` (>= codes, in [0, 1)) choose the vectors
        at which restarted entries start."""
        flat = tf.reshape(vectors, [-1, quantizer.dimension])
        codes = tf.reshape(codes, [-1])
        # Per code: how many vectors chose it and their sum (a segment sum: the one-hot matmul of the
        # authors' code, without its (N V) x K x D multiply).
        batch_counts = tf.math.unsorted_segment_sum(tf.ones_like(codes, tf.float32), codes, quantizer.codes)
        batch_sums = tf.math.unsorted_segment_sum(flat, codes, quantizer.codes)
        self.counts.assign(self.decay * self.counts + (1 - self.decay) * batch_counts)
        self.sums.assign(self.decay * self.sums + (1 - self.decay) * batch_sums)
        counts, sums = self.counts, self.sums
        if self.debiased:
            self.updates.assign_add(1.0)
            debias = 1.0 - tf.pow(self.decay, self.updates)
            counts, sums = counts / debias, sums / debias
        total = tf.reduce_sum(counts)
        smoothed = (counts + self.epsilon) / (total + quantizer.codes * self.epsilon) * total
        codebook = sums / smoothed[:, None]
        if self.debiased:
            codebook = tf.where((counts >= self.USED)[:, None], codebook, quantizer.codebook)
        if self.restart_after:
            self.unused.assign(tf.where(batch_counts > 0, 0.0, self.unused + 1.0))
            dead = self.unused >= self.restart_after
            rows = tf.cast(tf.shape(flat)[0], tf.float32)
            chosen = tf.cast(tf.floor(picks[: quantizer.codes] * rows), tf.int32)
            codebook = tf.where(dead[:, None], tf.gather(flat, chosen), codebook)
            self.counts.assign(tf.where(dead, 0.0, self.counts))
            self.sums.assign(tf.where(dead[:, None], 0.0, self.sums))
            self.unused.assign(tf.where(dead, 0.0, self.unused))
        quantizer.codebook.assign(codebook)


@register
class VQVAE(Model):
    name = "vqvae"
    title = "VQ-VAE"
    summary = "VQ-VAE: the code is quantized to a learned codebook (moving averages)"
    Settings = VQVAESettings
    table_rows = (TableRow("vqvae", "VQ-VAE", 5, 5.41, 0.77, 0.49, 0.02),)
    loss_names = ("reconstruction", "commitment", "codes_used", "probe", "probe_accuracy")
    distributable = False  # the codebook averages are not reduced over replicas
    aliases = {"vqvae-published": {"settings": {"debiased": 0, "restart_after": 0}}}  # the authors' code as is
    earlier_settings = {"debiased": 0, "restart_after": 0}

    @classmethod
    def adapt(cls, base):
        """The authors ran the VQ-VAE on lines with a 4x4 latent map (latent 256), not the 2x2 of the others."""
        if base.dataset == "lines" and (base.latent_width, base.latent_size) == (2, 64):
            base = base.replace(latent_width=4, latent_size=256)
        return base.replace(model=cls.name)

    @classmethod
    def describe(cls, config, card=None) -> str:
        settings = config.model_settings
        return (f"VQ-VAE, {settings.code_vectors} codes per image from a codebook of 2^{settings.codebook_bits}, "
                f"commitment {settings.commitment:g}, codebook by moving averages (decay {CodebookAverages.decay:g})")

    @classmethod
    def parameter_count(cls, config, num_classes) -> int:
        from acai.sizes import dense_parameters

        settings, size = config.model_settings, config.latent_size
        return super().parameter_count(config, num_classes) + (
            dense_parameters(size, size * settings.code_vectors) + (1 << settings.codebook_bits) * size
            + dense_parameters(size * settings.code_vectors, HIDDEN) + dense_parameters(HIDDEN, size))

    @classmethod
    def build_networks(cls, networks, config) -> None:
        layers = keras.layers
        settings = config.model_settings
        networks.encoder = builders.build_encoder(config)
        dimension, vectors = config.latent_size, settings.code_vectors
        latents = keras.Input(config.latent_shape)
        projected = layers.Dense(dimension * vectors, kernel_initializer=builders.dense_initializer())(
            layers.Flatten()(latents))
        networks.to_vectors = keras.Model(latents, layers.Reshape((vectors, dimension))(projected), name="to_vectors")
        networks.quantizer = builders.VectorQuantizer(1 << settings.codebook_bits, dimension,
                                                      seed=builders.next_seed(), name="quantizer")
        quantized = keras.Input((vectors, dimension))
        x = layers.ReLU()(layers.Flatten()(quantized))
        x = layers.ReLU()(layers.Dense(HIDDEN, kernel_initializer=builders.dense_initializer())(x))
        x = layers.Dense(dimension, kernel_initializer=builders.dense_initializer())(x)
        networks.from_vectors = keras.Model(
            quantized, builders.conv_decoder_stack(layers.Reshape(config.latent_shape)(x), config), name="from_vectors")
        networks.decoder = keras.Model(
            latents, networks.from_vectors(networks.quantizer(networks.to_vectors(latents))), name="decoder")

    def build(self, networks) -> None:
        self.averages = CodebookAverages(networks.quantizer, self.settings)

    def state(self):
        return self.averages.state()

    def forward(self, networks, batch: Batch) -> Step:
        latents = networks.encoder(batch.images, training=True)
        vectors = networks.to_vectors(latents, training=True)
        codes = networks.quantizer.nearest(vectors)
        quantized = networks.quantizer.lookup(codes)
        straight_through = vectors + tf.stop_gradient(quantized - vectors)
        reconstruction = losses.reconstruction_loss(batch.images,
                                                    networks.from_vectors(straight_through, training=True))
        commitment = losses.commitment_loss(vectors, quantized)
        used = tf.cast(tf.size(tf.unique(tf.reshape(codes, [-1]))[0]), tf.float32)
        probe = probe_terms(networks, latents, batch.labels)
        return Step({"reconstruction": reconstruction, "commitment": commitment, "codes_used": used, **probe},
                    {"autoencoder": reconstruction + self.settings.commitment * commitment, "probe": probe["probe"]},
                    extras=(vectors, codes, self._restart_picks(batch, networks.quantizer.codes)))

    @staticmethod
    def _restart_picks(batch: Batch, codes: int):
        """One number in [0, 1) per codebook entry, drawn like every other random number of a step (keyed by
        seed, replica and step), so that a rerun restarts the same entries at the same vectors."""
        per_image = -(-codes // (batch.images.shape[0] or 1))
        return tf.reshape(batch.draw("uniform", (per_image,), 5), [-1])

    def after_update(self, networks, extras) -> None:
        vectors, codes, picks = extras
        self.averages.update(networks.quantizer, vectors, codes, picks)
