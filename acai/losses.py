"""The ACAI losses as pure functions of tensors (NumPy arrays work too), one per equation.

Notation (REFERENCE.md): x input, x_rec = g(f(x)), alpha in [0, 0.5], x_mix = g(alpha z + (1 - alpha) z_rev),
d the critic. Every mean is over all elements.
"""

from __future__ import annotations

from keras import ops


def fold_alpha(uniform):
    """u ~ U(0, 1) -> alpha = 0.5 - |u - 0.5| in [0, 0.5]: the distance to the nearest endpoint."""
    return 0.5 - ops.abs(uniform - 0.5)


def mix_with_reversed(latents, alpha):
    """alpha * z + (1 - alpha) * z[::-1], alpha (N,) broadcast over the latent axes."""
    alpha = ops.reshape(alpha, (-1,) + (1,) * (len(latents.shape) - 1))
    return alpha * latents + (1.0 - alpha) * ops.flip(latents, axis=0)


def blend_with_input(images, reconstructions, gamma):
    """gamma * x + (1 - gamma) * x_rec: what the critic must call 'not interpolated' (alpha 0)."""
    return gamma * images + (1.0 - gamma) * reconstructions


def reconstruction_loss(images, reconstructions):
    """mean((x - x_rec)^2)."""
    return ops.mean(ops.square(images - reconstructions))


def adversarial_loss(critic_on_mix):
    """mean(d(x_mix)^2): the autoencoder wants the critic to see alpha = 0 in every mix."""
    return ops.mean(ops.square(critic_on_mix))


def autoencoder_loss(images, reconstructions, critic_on_mix, lam):
    """mean((x - x_rec)^2) + lambda * mean(d(x_mix)^2)."""
    return reconstruction_loss(images, reconstructions) + lam * adversarial_loss(critic_on_mix)


def critic_alpha_loss(critic_on_mix, alpha):
    """mean((d(x_mix) - alpha)^2): the critic recovers the mixing coefficient."""
    return ops.mean(ops.square(critic_on_mix - alpha))


def critic_real_loss(critic_on_blend):
    """mean(d(gamma x + (1 - gamma) x_rec)^2): real-ish images get alpha 0. No lambda here."""
    return ops.mean(ops.square(critic_on_blend))


def critic_loss(critic_on_mix, alpha, critic_on_blend):
    return critic_alpha_loss(critic_on_mix, alpha) + critic_real_loss(critic_on_blend)
