"""The dropout autoencoder of the paper's Table 1: dropout on the latent code before decoding; MSE."""

from __future__ import annotations

import dataclasses

from acai.models.base import Batch, Model, Step, TableRow, losses, probe_terms, register


@dataclasses.dataclass(frozen=True)
class DropoutSettings:
    keep_probability: float = 0.5  # probability of keeping each latent unit (the authors' flag: dropout)

    def __post_init__(self):
        if not 0.0 < self.keep_probability <= 1.0:
            raise ValueError(f"keep_probability must lie in (0, 1], got {self.keep_probability}")


@register
class Dropout(Model):
    name = "dropout"
    title = "dropout"
    summary = "dropout autoencoder: latent units dropped (kept ones scaled by 1/p) before decoding"
    Settings = DropoutSettings
    table_rows = (TableRow("dropout", "dropout", 1, 2.85, 0.74, 0.54, 0.02),)

    @classmethod
    def describe(cls, config, card=None) -> str:
        return f"dropout autoencoder, keep probability {config.model_settings.keep_probability:g} on the latent"

    def forward(self, networks, batch: Batch) -> Step:
        keep_probability = self.settings.keep_probability
        latents = networks.encoder(batch.images, training=True)
        keep = batch.draw("uniform", tuple(latents.shape[1:]), 1) < keep_probability
        reconstructions = networks.decoder(losses.drop_units(latents, keep, keep_probability), training=True)
        reconstruction = losses.reconstruction_loss(batch.images, reconstructions)
        probe = probe_terms(networks, latents, batch.labels)
        return Step({"reconstruction": reconstruction, **probe}, {"autoencoder": reconstruction, "probe": probe["probe"]})
