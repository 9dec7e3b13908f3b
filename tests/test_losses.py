"""Each loss against values computed by hand on a 2-example batch."""

import numpy as np
import pytest

from acai import losses

X = np.array([[1.0, -1.0], [0.5, 0.0]], dtype=np.float32)  # two 'images' of two pixels
X_REC = np.array([[0.5, -1.0], [0.5, 1.0]], dtype=np.float32)


def test_fold_alpha_maps_to_distance_from_nearest_end():
    u = np.array([0.0, 0.1, 0.5, 0.9, 1.0], dtype=np.float32)
    np.testing.assert_allclose(losses.fold_alpha(u), [0.0, 0.1, 0.5, 0.1, 0.0], atol=1e-7)
    sampled = np.asarray(losses.fold_alpha(np.random.default_rng(0).uniform(size=10_000).astype(np.float32)))
    assert sampled.min() >= 0 and sampled.max() <= 0.5 and abs(sampled.mean() - 0.25) < 0.01


def test_mix_with_reversed_partner():
    z = np.array([[2.0, 0.0], [0.0, 4.0]], dtype=np.float32)
    alpha = np.array([0.25, 0.5], dtype=np.float32)
    # row 0: 0.25*[2,0] + 0.75*[0,4] = [0.5, 3]; row 1: 0.5*[0,4] + 0.5*[2,0] = [1, 2]
    np.testing.assert_allclose(losses.mix_with_reversed(z, alpha), [[0.5, 3.0], [1.0, 2.0]])


def test_reconstruction_and_autoencoder_loss():
    # squared errors: 0.25, 0, 0, 1 -> mean 0.3125
    assert float(losses.reconstruction_loss(X, X_REC)) == pytest.approx(0.3125)
    critic_on_mix = np.array([0.2, -0.4], dtype=np.float32)  # mean square = (0.04 + 0.16) / 2 = 0.1
    assert float(losses.adversarial_loss(critic_on_mix)) == pytest.approx(0.1)
    assert float(losses.autoencoder_loss(X, X_REC, critic_on_mix, 0.5)) == pytest.approx(0.3125 + 0.05)
    assert float(losses.autoencoder_loss(X, X_REC, critic_on_mix, 0.0)) == pytest.approx(0.3125)


def test_critic_losses():
    critic_on_mix = np.array([0.2, 0.1], dtype=np.float32)
    alpha = np.array([0.4, 0.1], dtype=np.float32)  # errors -0.2, 0 -> 0.02
    critic_on_blend = np.array([0.3, -0.1], dtype=np.float32)  # (0.09 + 0.01) / 2 = 0.05
    assert float(losses.critic_alpha_loss(critic_on_mix, alpha)) == pytest.approx(0.02)
    assert float(losses.critic_real_loss(critic_on_blend)) == pytest.approx(0.05)
    assert float(losses.critic_loss(critic_on_mix, alpha, critic_on_blend)) == pytest.approx(0.07)


def test_blend_with_input():
    np.testing.assert_allclose(losses.blend_with_input(X, X_REC, 0.2), 0.2 * X + 0.8 * X_REC)
    np.testing.assert_allclose(losses.blend_with_input(X, X_REC, 0.0), X_REC)
