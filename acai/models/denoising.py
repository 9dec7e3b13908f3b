"""The denoising autoencoder of the paper's Table 1: reconstruct the clean image from the image plus Gaussian
noise; MSE. The probe reads the code of the clean image, as the authors' does."""

from __future__ import annotations

import dataclasses

from acai.models.base import Batch, Model, Step, TableRow, losses, probe_terms, register


@dataclasses.dataclass(frozen=True)
class DenoisingSettings:
    noise_std: float = 1.0  # std of the Gaussian noise added to the input (the authors' flag: noise)

    def __post_init__(self):
        if self.noise_std < 0:
            raise ValueError(f"noise_std must be >= 0, got {self.noise_std}")


@register
class Denoising(Model):
    name = "denoising"
    title = "denoising"
    summary = "denoising autoencoder: reconstructs the clean image from a noisy one"
    Settings = DenoisingSettings
    table_rows = (TableRow("denoising", "denoising", 2, 4.21, 0.66, 0.32, 0.02),)

    @classmethod
    def describe(cls, config, card=None) -> str:
        return f"denoising autoencoder, Gaussian input noise of std {config.model_settings.noise_std:g}"

    def forward(self, networks, batch: Batch) -> Step:
        images = batch.images
        noisy = images + self.settings.noise_std * batch.draw("normal", tuple(images.shape[1:]), 2)
        reconstruction = losses.reconstruction_loss(
            images, networks.decoder(networks.encoder(noisy, training=True), training=True))
        probe = probe_terms(networks, networks.encoder(images, training=False), batch.labels)
        return Step({"reconstruction": reconstruction, **probe}, {"autoencoder": reconstruction, "probe": probe["probe"]})
