"""ACAI (the paper's section 3): an autoencoder whose decoded interpolations a critic tries to tell apart;
with lambda = 0 it is the plain autoencoder baseline (its critic still trains, as a monitor).

One forward pass gives every term (docs/METHOD.md): z = f(x), x_rec = g(z), x_mix = g(alpha z + (1 - alpha)
z_rev), d(x_mix) and d(gamma x + (1 - gamma) x_rec). The autoencoder minimises ||x - x_rec||^2 +
lambda ||d(x_mix)||^2; the critic ||d(x_mix) - alpha||^2 + ||d(gamma x + (1 - gamma) x_rec)||^2.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from acai.models.base import Batch, Model, Step, TableRow, builders, losses, register, tf


class ACAITerms(NamedTuple):
    """Every term of one ACAI forward pass (scalars), the two totals the players minimise, and the critic's
    outputs (what acai.diagnostics reads)."""

    reconstruction: Any  # mean((x - x_rec)^2)
    adversarial: Any  # mean(d(x_mix)^2)
    critic_alpha: Any  # mean((d(x_mix) - alpha)^2)
    critic_real: Any  # mean(d(gamma x + (1 - gamma) x_rec)^2)
    probe: Any  # cross-entropy of the linear probe on stop_gradient(z)
    probe_accuracy: Any
    autoencoder: Any  # reconstruction + lambda * adversarial: minimised by encoder and decoder
    critic: Any  # critic_alpha + critic_real: minimised by the critic
    critic_on_mix: Any  # d(x_mix), (N,)
    critic_on_blend: Any  # d(gamma x + (1 - gamma) x_rec), (N,)


def acai_terms(networks, images, labels, alpha, lam, gamma) -> ACAITerms:
    """One forward pass of ACAI and every loss term from it (the formulas are acai.losses').

    Args:
        networks: an ACAINetworks (encoder f, decoder g, critic d, probe).
        images: x, (N, 32, 32, C) in [-1, 1]; the partner of example i is example N - 1 - i.
        labels: (N,) int64, for the probe only.
        alpha: (N,) mixing coefficients in [0, 0.5].
        lam, gamma: the adversarial weight and the critic's blend (scalars or variables).
    """
    latents = networks.encoder(images, training=True)  # z = f(x)
    reconstructions = networks.decoder(latents, training=True)  # x_rec = g(z)
    mixed = networks.decoder(losses.mix_with_reversed(latents, alpha), training=True)  # x_mix = g(z_mix)
    critic_on_mix = networks.critic(mixed, training=True)  # d(x_mix)
    critic_on_blend = networks.critic(losses.blend_with_input(images, reconstructions, gamma), training=True)
    logits = networks.probe(tf.stop_gradient(latents), training=True)  # no gradient reaches f
    return ACAITerms(
        reconstruction=losses.reconstruction_loss(images, reconstructions),
        adversarial=losses.adversarial_loss(critic_on_mix),
        critic_alpha=losses.critic_alpha_loss(critic_on_mix, alpha),
        critic_real=losses.critic_real_loss(critic_on_blend),
        probe=losses.probe_loss(labels, logits),
        probe_accuracy=losses.probe_accuracy(labels, logits),
        autoencoder=losses.autoencoder_loss(images, reconstructions, critic_on_mix, lam),
        critic=losses.critic_loss(critic_on_mix, alpha, critic_on_blend),
        critic_on_mix=tf.reshape(critic_on_mix, (-1,)),
        critic_on_blend=tf.reshape(critic_on_blend, (-1,)),
    )


def alpha_of(draw) -> Any:
    """The step's alphas: u ~ U(0, 1) folded into [0, 0.5]. Salt 0 of the trainer's stateless draws, so a
    resumed run and a race partner (same seed) draw exactly the same ones."""
    return losses.fold_alpha(draw("uniform", (), 0))


@register
class ACAI(Model):
    name = "acai"
    title = "ACAI"
    summary = "ACAI: the autoencoder and a critic that estimates alpha from decoded mixes (lambda 0: plain autoencoder)"
    aliases = {"ae": {"lam": 0.0}}  # the plain autoencoder
    table_rows = (TableRow("baseline", "plain autoencoder", 0, 6.88, 0.44, 0.21, 0.04),
                  TableRow("acai", "ACAI", 6, 0.24, 0.10, 0.01, 0.01))
    players = ("autoencoder", "critic", "probe")
    loss_names = ("reconstruction", "adversarial", "critic_alpha", "critic_real", "probe", "probe_accuracy")
    has_critic = True
    architectures = ("conv", "mlp")

    @classmethod
    def kind(cls, config) -> str:
        return "baseline" if config.lam == 0 else "acai"

    @classmethod
    def describe(cls, config, card=None) -> str:
        from acai.config import describe_regularization  # (acai.config imports this module)

        card = card or {}
        if config.lam == 0 and not card.get("regularization_changes"):
            return "plain autoencoder (ACAI with lambda 0; its critic trained only as a monitor)"
        described = f"ACAI, {describe_regularization(config.lam, config.gamma, card)}"
        return described + (" (lambda 0: a plain autoencoder)" if config.lam == 0 else "")

    @classmethod
    def parameter_count(cls, config, num_classes) -> int:
        from acai.sizes import encoder_parameters

        return super().parameter_count(config, num_classes) + encoder_parameters(config)  # the critic

    @classmethod
    def build_networks(cls, networks, config) -> None:
        super().build_networks(networks, config)
        networks.critic = builders.build_critic(config)

    def variables(self, networks):
        return {"autoencoder": networks.autoencoder_variables, "critic": networks.critic.trainable_variables,
                "probe": networks.probe.trainable_variables}

    def forward(self, networks, batch: Batch) -> Step:
        terms = acai_terms(networks, batch.images, batch.labels, alpha_of(batch.draw), batch.lam, batch.gamma)
        return Step(recorded={name: getattr(terms, name) for name in self.loss_names},
                    totals={"autoencoder": terms.autoencoder, "critic": terms.critic, "probe": terms.probe})
