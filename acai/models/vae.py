"""The VAE of the paper's Table 1: the ELBO with a Bernoulli decoder on pixels mapped to [0, 1] and a diagonal
Gaussian posterior. Its encoder (what the app interpolates) gives the posterior mean."""

from __future__ import annotations

import dataclasses

from acai.models.base import Batch, Model, Step, TableRow, builders, lazy, losses, probe_terms, register, tf

keras = lazy("keras")


@dataclasses.dataclass(frozen=True)
class VAESettings:
    kl_weight: float = 1.0  # weight of the KL term of the ELBO (the authors' flag: beta)

    def __post_init__(self):
        if self.kl_weight < 0:
            raise ValueError(f"kl_weight must be >= 0, got {self.kl_weight}")


@register
class VAE(Model):
    name = "vae"
    title = "VAE"
    summary = "variational autoencoder (ELBO, Bernoulli decoder); interpolated between posterior means"
    Settings = VAESettings
    table_rows = (TableRow("vae", "VAE", 3, 1.21, 0.49, 0.17, 0.13),)
    loss_names = ("reconstruction", "negative_log_likelihood", "kl", "probe", "probe_accuracy")

    @classmethod
    def describe(cls, config, card=None) -> str:
        return (f"VAE, KL weight {config.model_settings.kl_weight:g}, Bernoulli decoder; "
                "interpolated between posterior means")

    @classmethod
    def parameter_count(cls, config, num_classes) -> int:
        from acai.sizes import dense_parameters

        return super().parameter_count(config, num_classes) + 2 * dense_parameters(config.latent_size, config.latent_size)

    @classmethod
    def build_networks(cls, networks, config) -> None:
        """Sharing layers: posterior (images -> mean, log variance, each of the latent's shape), encoder (images ->
        the mean: what the app interpolates), decoder_logits (latents -> Bernoulli logits) and decoder (latents ->
        2 sigmoid(logits) - 1, the mean image in [-1, 1])."""
        layers = keras.layers
        images = keras.Input(config.image_shape)
        features = layers.Flatten()(builders.conv_encoder_stack(images, config, config.latent_channels))
        mean, log_variance = (layers.Reshape(config.latent_shape)(
            layers.Dense(config.latent_size, kernel_initializer=builders.dense_initializer())(features))
            for _ in range(2))
        networks.posterior = keras.Model(images, [mean, log_variance], name="posterior")
        networks.encoder = keras.Model(images, mean, name="encoder")
        latents = keras.Input(config.latent_shape)
        logits = builders.conv_decoder_stack(latents, config)
        networks.decoder_logits = keras.Model(latents, logits, name="decoder_logits")
        networks.decoder = keras.Model(
            latents, layers.Rescaling(2.0, offset=-1.0)(layers.Activation("sigmoid")(logits)), name="decoder")

    @classmethod
    def autoencoder_parts(cls, networks) -> list:
        return [networks.posterior, networks.decoder]

    def forward(self, networks, batch: Batch) -> Step:
        mean, log_variance = networks.posterior(batch.images, training=True)
        latents = mean + tf.exp(0.5 * log_variance) * batch.draw("normal", tuple(mean.shape[1:]), 3)
        logits = networks.decoder_logits(latents, training=True)
        nll = losses.bernoulli_negative_log_likelihood(batch.images, logits)
        kl = losses.gaussian_kl(mean, log_variance)
        reconstruction = losses.reconstruction_loss(batch.images, 2.0 * tf.sigmoid(logits) - 1.0)
        probe = probe_terms(networks, mean, batch.labels)
        return Step({"reconstruction": reconstruction, "negative_log_likelihood": nll, "kl": kl, **probe},
                    {"autoencoder": losses.negative_elbo(nll, kl, self.settings.kl_weight), "probe": probe["probe"]})
