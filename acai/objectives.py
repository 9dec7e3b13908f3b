"""How each model of the paper's Table 1 trains: its players, its one forward pass and what it records.

An Objective names its players (groups of variables, each with its own Adam; the first is the autoencoder,
the last the linear probe), the loss terms recorded at every step, and `forward`, which returns those terms
and one total per player from a single forward pass (acai.losses holds the formulas). The Trainer takes all
gradients before any update, applies them, then calls `after_update` (the VQ-VAE's codebook averages).

Random draws (dropout masks, input noise, the VAE's epsilon, the AAE's prior samples) come from `draw`, the
trainer's stateless generator keyed by (seed, step): a resumed run draws exactly what it would have.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from acai import losses
from acai.config import Config

Draw = Callable[[str, tuple, int], tf.Tensor]  # draw("uniform" | "normal", shape, salt) -> a float32 tensor


class Objective:
    """The ACAI step (lambda = 0: the plain autoencoder). Subclasses are the other autoencoders."""

    players = ("autoencoder", "critic", "probe")
    loss_names = ("reconstruction", "adversarial", "critic_alpha", "critic_real", "probe", "probe_accuracy")

    def __init__(self, config: Config):
        self.config = config

    def build(self, networks) -> None:
        """Create the objective's own training state, if any (once, in the trainer's distribution scope)."""
        del networks

    def variables(self, networks) -> list[list[tf.Variable]]:
        """One list of trainable variables per player, in the order of `players`."""
        return [networks.autoencoder_variables, networks.critic.trainable_variables,
                networks.probe.trainable_variables]

    def forward(self, networks, images, labels, draw: Draw, alpha, lam, gamma):
        """Returns (the recorded terms in the order of loss_names, one total per player, extras for
        after_update)."""
        terms = losses.acai_losses(networks, images, labels, alpha, lam, gamma)
        return ([terms.reconstruction, terms.adversarial, terms.critic_alpha, terms.critic_real, terms.probe,
                 terms.probe_accuracy], [terms.autoencoder, terms.critic, terms.probe], ())

    def state(self) -> dict[str, tf.Variable]:
        """Variables that resume needs beside the networks and optimizers (saved with the optimizer state)."""
        return {}

    def after_update(self, networks, extras) -> None:
        """Called inside the compiled step once the updates are applied, with `forward`'s extras."""
        del networks, extras  # nothing to do but for the VQ-VAE (AutoGraph also needs a body here)


def _probe_terms(networks, latents, labels):
    logits = networks.probe(tf.stop_gradient(latents), training=True)  # no gradient reaches the encoder
    return losses.probe_loss(labels, logits), losses.probe_accuracy(labels, logits)


class DropoutObjective(Objective):
    """Dropout on the latent code (keep probability p, kept units scaled by 1/p) before decoding; MSE."""

    players = ("autoencoder", "probe")
    loss_names = ("reconstruction", "probe", "probe_accuracy")

    def variables(self, networks):
        return [networks.autoencoder_variables, networks.probe.trainable_variables]

    def forward(self, networks, images, labels, draw, alpha, lam, gamma):
        latents = networks.encoder(images, training=True)
        keep = draw("uniform", tuple(latents.shape[1:]), 1) < self.config.keep_probability
        reconstructions = networks.decoder(losses.drop_units(latents, keep, self.config.keep_probability),
                                           training=True)
        reconstruction = losses.reconstruction_loss(images, reconstructions)
        probe, accuracy = _probe_terms(networks, latents, labels)
        return [reconstruction, probe, accuracy], [reconstruction, probe], ()


class DenoisingObjective(DropoutObjective):
    """Reconstruct the clean image from the image plus Gaussian noise (std sigma); MSE. The probe reads the
    code of the clean image, as the authors' does."""

    def forward(self, networks, images, labels, draw, alpha, lam, gamma):
        noisy = images + self.config.noise_std * draw("normal", tuple(images.shape[1:]), 2)
        reconstruction = losses.reconstruction_loss(
            images, networks.decoder(networks.encoder(noisy, training=True), training=True))
        probe, accuracy = _probe_terms(networks, networks.encoder(images, training=False), labels)
        return [reconstruction, probe, accuracy], [reconstruction, probe], ()


class VAEObjective(Objective):
    """The ELBO with a Bernoulli decoder on pixels mapped to [0, 1] and a diagonal Gaussian posterior."""

    players = ("autoencoder", "probe")
    loss_names = ("reconstruction", "negative_log_likelihood", "kl", "probe", "probe_accuracy")

    def variables(self, networks):
        return [networks.autoencoder_variables, networks.probe.trainable_variables]

    def forward(self, networks, images, labels, draw, alpha, lam, gamma):
        mean, log_variance = networks.posterior(images, training=True)
        latents = mean + tf.exp(0.5 * log_variance) * draw("normal", tuple(mean.shape[1:]), 3)
        logits = networks.decoder_logits(latents, training=True)
        nll = losses.bernoulli_negative_log_likelihood(images, logits)
        kl = losses.gaussian_kl(mean, log_variance)
        reconstruction = losses.reconstruction_loss(images, 2.0 * tf.sigmoid(logits) - 1.0)
        probe, accuracy = _probe_terms(networks, mean, labels)
        return ([reconstruction, nll, kl, probe, accuracy],
                [losses.negative_elbo(nll, kl, self.config.kl_weight), probe], ())


class AAEObjective(Objective):
    """MSE plus fooling a discriminator that tells codes from samples of N(0, 1); the discriminator learns
    with sigmoid cross-entropy (codes 0, prior samples 1)."""

    players = ("autoencoder", "discriminator", "probe")
    loss_names = ("reconstruction", "fooling", "discriminator_codes", "discriminator_prior", "probe",
                  "probe_accuracy")

    def variables(self, networks):
        return [networks.autoencoder_variables, networks.discriminator.trainable_variables,
                networks.probe.trainable_variables]

    def forward(self, networks, images, labels, draw, alpha, lam, gamma):
        latents = networks.encoder(images, training=True)
        reconstruction = losses.reconstruction_loss(images, networks.decoder(latents, training=True))
        on_codes = networks.discriminator(latents, training=True)
        on_prior = networks.discriminator(draw("normal", tuple(latents.shape[1:]), 4), training=True)
        fooling = losses.sigmoid_cross_entropy(on_codes, 1.0)
        codes, prior = losses.sigmoid_cross_entropy(on_codes, 0.0), losses.sigmoid_cross_entropy(on_prior, 1.0)
        probe, accuracy = _probe_terms(networks, latents, labels)
        return ([reconstruction, fooling, codes, prior, probe, accuracy],
                [reconstruction + fooling, codes + prior, probe], ())


class CodebookAverages:
    """The VQ-VAE codebook's exponential moving averages (the authors' EMA variant of VQ-VAE): per code, the
    decayed count of vectors assigned to it and the decayed sum of those vectors; the codebook is their ratio,
    the counts Laplace-smoothed with epsilon. Training state only: the shipped model needs the codebook alone."""

    decay = 0.999
    epsilon = 1e-5

    def __init__(self, quantizer):
        self.counts = tf.Variable(tf.zeros([quantizer.codes]), trainable=False, name="codebook_counts")
        self.sums = tf.Variable(tf.identity(quantizer.codebook), trainable=False, name="codebook_sums")

    def update(self, quantizer, vectors, codes) -> None:
        flat = tf.reshape(vectors, [-1, quantizer.dimension])
        codes = tf.reshape(codes, [-1])
        # Per code: how many vectors chose it and their sum (a segment sum: the one-hot matmul of the
        # authors' code, without its (N V) x K x D multiply).
        batch_counts = tf.math.unsorted_segment_sum(tf.ones_like(codes, tf.float32), codes, quantizer.codes)
        batch_sums = tf.math.unsorted_segment_sum(flat, codes, quantizer.codes)
        self.counts.assign(self.decay * self.counts + (1 - self.decay) * batch_counts)
        self.sums.assign(self.decay * self.sums + (1 - self.decay) * batch_sums)
        total = tf.reduce_sum(self.counts)
        smoothed = (self.counts + self.epsilon) / (total + quantizer.codes * self.epsilon) * total
        quantizer.codebook.assign(self.sums / smoothed[:, None])


class VQVAEObjective(Objective):
    """MSE through the codebook bottleneck (straight-through) plus beta times the commitment loss; the
    codebook follows its moving averages (CodebookAverages) after every update."""

    players = ("autoencoder", "probe")
    loss_names = ("reconstruction", "commitment", "codes_used", "probe", "probe_accuracy")

    def __init__(self, config: Config):
        super().__init__(config)
        self.averages: CodebookAverages | None = None

    def build(self, networks) -> None:
        self.averages = CodebookAverages(networks.quantizer)

    def variables(self, networks):
        return [networks.autoencoder_variables, networks.probe.trainable_variables]

    def state(self):
        return {"codebook/counts": self.averages.counts, "codebook/sums": self.averages.sums}

    def forward(self, networks, images, labels, draw, alpha, lam, gamma):
        latents = networks.encoder(images, training=True)
        vectors = networks.to_vectors(latents, training=True)
        codes = networks.quantizer.nearest(vectors)
        quantized = networks.quantizer.lookup(codes)
        straight_through = vectors + tf.stop_gradient(quantized - vectors)
        reconstruction = losses.reconstruction_loss(images, networks.from_vectors(straight_through, training=True))
        commitment = losses.commitment_loss(vectors, quantized)
        used = tf.cast(tf.size(tf.unique(tf.reshape(codes, [-1]))[0]), tf.float32)
        probe, accuracy = _probe_terms(networks, latents, labels)
        return ([reconstruction, commitment, used, probe, accuracy],
                [reconstruction + self.config.commitment * commitment, probe], (vectors, codes))

    def after_update(self, networks, extras) -> None:
        vectors, codes = extras
        self.averages.update(networks.quantizer, vectors, codes)


OBJECTIVES = {"acai": Objective, "dropout": DropoutObjective, "denoising": DenoisingObjective,
              "vae": VAEObjective, "aae": AAEObjective, "vqvae": VQVAEObjective}


def for_config(config: Config) -> Objective:
    return OBJECTIVES[config.model](config)
