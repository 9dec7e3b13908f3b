"""What an ACAI critic tells its autoencoder: does it still tell mixes from real images, and how much of
the autoencoder's gradient comes from fooling it rather than from reconstructing.

Why this is worth watching (docs/RESULTS.md, "Why ACAI's reconstructions stop improving"): a critic that
has lost every cue to alpha settles near the best constant output, yet its gradient with respect to the
images can keep growing; the autoencoder then follows a gradient that is mostly the critic's, and its
reconstructions, which bound its Mean Distance, stop improving.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from acai import losses
from acai.models.acai import acai_terms

# alpha ~ U[0, 1/2] (folded): mean 1/4, variance (1/2)^2 / 12 = 1/48.
_ALPHA_MEAN, _ALPHA_VARIANCE = 0.25, 1.0 / 48.0


def constant_critic() -> dict[str, float]:
    """The best critic that ignores its input, as a yardstick for a trained one.

    A critic that outputs c for every image has critic loss E[(c - alpha)^2] + c^2
    = Var(alpha) + (c - E[alpha])^2 + c^2, least at c = E[alpha] / 2 = 1/8: alpha loss 1/48 + 1/64 = 7/192
    (0.0365), real loss and adversarial term 1/64 (0.0156) each.
    """
    output = _ALPHA_MEAN / 2
    return {"output": output, "critic_alpha": _ALPHA_VARIANCE + (output - _ALPHA_MEAN) ** 2,
            "critic_real": output ** 2, "adversarial": output ** 2}


def _norm_and_vector(tape, loss, variables) -> tuple[float, np.ndarray]:
    gradients = tape.gradient(loss, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    flat = np.concatenate([np.reshape(gradient.numpy(), -1) for gradient in gradients])
    return float(np.linalg.norm(flat)), flat


def critic_report(networks, images: np.ndarray, batch_size: int = 64, lam: float = 0.5, gamma: float = 0.2,
                  seed: int = 0) -> dict[str, float]:
    """The critic's outputs and the autoencoder's two gradients on `images`, in batches as in training.

    Each batch pairs example i with example N - 1 - i at alpha drawn as in training (seeded). The
    gradients are those of the reconstruction loss and of lambda times the adversarial term with respect
    to the encoder and decoder weights, the two parts of the autoencoder's update (Adam divides their sum
    by its running size, so a much larger part sets the step).

    Returns:
        critic_on_mix_mean / _sd, alpha_correlation (of the critic's output on mixes with alpha; 0 is a
        critic that has lost alpha), critic_on_blend_mean / _sd, critic_alpha, critic_real, adversarial
        (the loss terms, means over all images), reconstruction_gradient, adversarial_gradient (medians
        over batches of the gradient norms), gradient_ratio (median of adversarial / reconstruction) and
        gradient_cosine (median cosine between the two).
    """
    if networks.critic is None:
        raise ValueError("only ACAI models (and the plain autoencoder, lambda 0) have a critic")
    rng = np.random.default_rng([seed, 6])
    variables = networks.autoencoder_variables
    on_mix, on_blend, alphas, norms = [], [], [], []
    for start in range(0, len(images) - batch_size + 1, batch_size):
        batch = tf.constant(images[start : start + batch_size], tf.float32)
        alpha = losses.fold_alpha(tf.constant(rng.uniform(size=batch_size), tf.float32))
        labels = tf.zeros(batch_size, tf.int64)  # the probe's term is not looked at
        with tf.GradientTape(persistent=True) as tape:
            terms = acai_terms(networks, batch, labels, alpha, lam, gamma)
            adversarial = lam * terms.adversarial
        reconstruction_norm, reconstruction = _norm_and_vector(tape, terms.reconstruction, variables)
        adversarial_norm, adversarial_vector = _norm_and_vector(tape, adversarial, variables)
        del tape
        both = reconstruction_norm * adversarial_norm
        norms.append((reconstruction_norm, adversarial_norm,
                      adversarial_norm / reconstruction_norm if reconstruction_norm else np.inf,
                      float(reconstruction @ adversarial_vector / both) if both else 0.0))
        on_mix.append(np.asarray(terms.critic_on_mix, np.float64))
        on_blend.append(np.asarray(terms.critic_on_blend, np.float64))
        alphas.append(alpha.numpy().astype(np.float64))
    if not norms:
        raise ValueError(f"need at least one batch of {batch_size} images, got {len(images)}")
    on_mix, on_blend, alphas = np.concatenate(on_mix), np.concatenate(on_blend), np.concatenate(alphas)
    medians = np.median(np.array(norms), axis=0)
    correlation = np.corrcoef(on_mix, alphas)[0, 1] if on_mix.std() > 0 else 0.0
    return {
        "critic_on_mix_mean": float(on_mix.mean()), "critic_on_mix_sd": float(on_mix.std()),
        "alpha_correlation": float(correlation),
        "critic_on_blend_mean": float(on_blend.mean()), "critic_on_blend_sd": float(on_blend.std()),
        "critic_alpha": float(np.mean((on_mix - alphas) ** 2)), "critic_real": float(np.mean(on_blend ** 2)),
        "adversarial": float(np.mean(on_mix ** 2)),
        "reconstruction_gradient": float(medians[0]), "adversarial_gradient": float(medians[1]),
        "gradient_ratio": float(medians[2]), "gradient_cosine": float(medians[3]),
    }
