"""The losses as pure functions of tensors (NumPy arrays work too), one per equation: ACAI's, then those of
the other autoencoders. The forward passes that combine them live in each model's module of acai/models.

Notation (docs/METHOD.md): x input, x_rec = g(f(x)), alpha in [0, 0.5], x_mix = g(alpha z + (1 - alpha) z_rev),
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
    """mean((d(x_mix) - alpha)^2) + mean(d(gamma x + (1 - gamma) x_rec)^2)."""
    return critic_alpha_loss(critic_on_mix, alpha) + critic_real_loss(critic_on_blend)


def probe_loss(labels, logits):
    """Softmax cross-entropy of the linear probe: the authors' running measure of the latent's quality."""
    return ops.mean(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True))


def probe_accuracy(labels, logits):
    """Share of the batch whose largest logit is its label."""
    return ops.mean(ops.cast(ops.equal(ops.argmax(logits, axis=1), labels), "float32"))


# The other autoencoders of Table 1 (docs/METHOD.md, "The other autoencoders").

def drop_units(latents, keep, keep_probability):
    """Dropout: units where `keep` is False become 0, the others are scaled by 1 / keep_probability."""
    return ops.where(keep, latents / keep_probability, ops.zeros_like(latents))


def _per_example_sum(values):
    """Sum over every axis but the batch one, then the mean over the batch."""
    return ops.mean(ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=1))


def bernoulli_negative_log_likelihood(images, logits):
    """VAE: -log p(x | z) per image, Bernoulli pixels with targets (x + 1) / 2 in [0, 1] (the authors')."""
    targets = (images + 1.0) / 2.0
    # -[t log s(l) + (1 - t) log(1 - s(l))] = max(l, 0) - l t + log(1 + exp(-|l|)), stable for any logit.
    return _per_example_sum(ops.relu(logits) - logits * targets + ops.log1p(ops.exp(-ops.abs(logits))))


def gaussian_kl(mean, log_variance):
    """VAE: KL(N(mean, exp(log_variance)) || N(0, 1)) per image: 0.5 sum(exp(lv) + mean^2 - 1 - lv)."""
    return _per_example_sum(0.5 * (ops.exp(log_variance) + ops.square(mean) - 1.0 - log_variance))


def negative_elbo(negative_log_likelihood, kl, kl_weight):
    """VAE: what it minimises, -(log p(x | z) - beta KL)."""
    return negative_log_likelihood + kl_weight * kl


def sigmoid_cross_entropy(logits, target):
    """AAE: mean sigmoid cross-entropy of logits against one constant target (0 or 1)."""
    return ops.mean(ops.relu(logits) - logits * target + ops.log1p(ops.exp(-ops.abs(logits))))


def commitment_loss(vectors, quantized):
    """VQ-VAE: mean((v - stop_gradient(q))^2), which keeps the encoder's vectors near their codes."""
    return ops.mean(ops.square(vectors - ops.stop_gradient(quantized)))
