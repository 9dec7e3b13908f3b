"""The adversarial autoencoder of the paper's Table 1: MSE plus fooling a discriminator that tells codes from
samples of N(0, 1); the discriminator (an MLP 100-100 on the flattened code) learns with sigmoid
cross-entropy (codes 0, prior samples 1)."""

from __future__ import annotations

import dataclasses

from acai.models.base import Batch, Model, Step, TableRow, builders, lazy, losses, probe_terms, register, tf

keras = lazy("keras")
DISCRIMINATOR = (100, 100)  # the authors' hidden widths
AUTHORS_ADVERSARY_LR = 1e-4  # the authors' adversary_lr default: the autoencoder's own


@dataclasses.dataclass(frozen=True)
class AAESettings:
    """Two deviations from the authors' code by default, both needed on lines at this budget (docs/METHOD.md,
    "Why the published AAE collapses"); `--model aae-published` sets them to the authors' values."""

    # The discriminator's learning rate (the authors' flag adversary_lr; their default, the autoencoder's).
    adversary_learning_rate: float = AUTHORS_ADVERSARY_LR
    # Deviation: steps of reconstruction alone before the adversary's term enters the autoencoder's loss (the
    # discriminator learns from the start). Until the decoder uses the code, the term moves every code alike.
    warmup: int = 1500
    # Deviation: the weight of the adversary's term in the autoencoder's loss (the authors': 1). At 1 the term
    # outweighs the reconstruction in Adam's step and pulls every code together again.
    fooling_weight: float = 0.01

    def __post_init__(self):
        if not 0 < self.adversary_learning_rate <= 1:
            raise ValueError(f"adversary_learning_rate must lie in (0, 1], got {self.adversary_learning_rate}")
        if self.warmup < 0 or self.fooling_weight < 0:
            raise ValueError(f"warmup and fooling_weight must be >= 0, got {self.warmup} and {self.fooling_weight}")


PUBLISHED = {"adversary_learning_rate": AUTHORS_ADVERSARY_LR, "warmup": 0, "fooling_weight": 1.0}


@register
class AAE(Model):
    name = "aae"
    title = "AAE"
    summary = "adversarial autoencoder: a discriminator pushes the codes towards N(0, 1)"
    Settings = AAESettings
    aliases = {"aae-published": {"settings": PUBLISHED}}
    earlier_settings = PUBLISHED
    table_rows = (TableRow("aae", "AAE", 4, 3.26, 0.14, 0.19, 0.02),)
    players = ("autoencoder", "discriminator", "probe")
    loss_names = ("reconstruction", "fooling", "discriminator_codes", "discriminator_prior", "probe",
                  "probe_accuracy")

    @classmethod
    def describe(cls, config, card=None) -> str:
        settings = config.model_settings
        if dataclasses.asdict(settings) == PUBLISHED:
            return "adversarial autoencoder as the authors published it, N(0, 1) prior, MLP discriminator 100-100"
        return (f"adversarial autoencoder, N(0, 1) prior, MLP discriminator 100-100 learning at "
                f"{settings.adversary_learning_rate:g}; its verdict weighs {settings.fooling_weight:g} from step "
                f"{settings.warmup:,} (the authors': 1 from the start)")

    def learning_rate(self, player: str) -> float | None:
        return self.settings.adversary_learning_rate if player == "discriminator" else None

    @classmethod
    def parameter_count(cls, config, num_classes) -> int:
        from acai.sizes import dense_parameters

        sizes = (config.latent_size, *DISCRIMINATOR, 1)
        return super().parameter_count(config, num_classes) + sum(
            dense_parameters(a, b) for a, b in zip(sizes, sizes[1:]))

    @classmethod
    def build_networks(cls, networks, config) -> None:
        super().build_networks(networks, config)
        # The discriminator: an MLP (LeakyReLU 0.2) from the flattened code to one logit, "drawn from the prior".
        layers = keras.layers
        inputs = keras.Input(config.latent_shape)
        x = layers.Flatten()(inputs)
        for size in DISCRIMINATOR:
            x = builders.leaky()(layers.Dense(size, kernel_initializer=builders.dense_initializer())(x))
        logit = layers.Dense(1, kernel_initializer=builders.dense_initializer())(x)[:, 0]
        networks.discriminator = keras.Model(inputs, logit, name="discriminator")

    def variables(self, networks):
        return {"autoencoder": networks.autoencoder_variables,
                "discriminator": networks.discriminator.trainable_variables,
                "probe": networks.probe.trainable_variables}

    def forward(self, networks, batch: Batch) -> Step:
        latents = networks.encoder(batch.images, training=True)
        reconstruction = losses.reconstruction_loss(batch.images, networks.decoder(latents, training=True))
        on_codes = networks.discriminator(latents, training=True)
        on_prior = networks.discriminator(batch.draw("normal", tuple(latents.shape[1:]), 4), training=True)
        fooling = losses.sigmoid_cross_entropy(on_codes, 1.0)
        codes, prior = losses.sigmoid_cross_entropy(on_codes, 0.0), losses.sigmoid_cross_entropy(on_prior, 1.0)
        probe = probe_terms(networks, latents, batch.labels)
        weight = self.settings.fooling_weight * tf.cast(batch.step >= self.settings.warmup, tf.float32)
        return Step({"reconstruction": reconstruction, "fooling": fooling, "discriminator_codes": codes,
                     "discriminator_prior": prior, **probe},
                    {"autoencoder": reconstruction + weight * fooling, "discriminator": codes + prior,
                     "probe": probe["probe"]})
