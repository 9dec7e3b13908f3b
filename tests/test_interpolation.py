import numpy as np
import pytest

from acai import interpolation
from acai.networks import ACAINetworks


def test_lerp_endpoints():
    a, b = np.ones((2, 2, 3), np.float32), np.zeros((2, 2, 3), np.float32)
    path = interpolation.lerp(a, b, [0.0, 0.25, 1.0])
    np.testing.assert_allclose(path[0], a)
    np.testing.assert_allclose(path[-1], b)
    np.testing.assert_allclose(path[1], 0.75)


def test_slerp_keeps_the_norm_and_the_ends():
    rng = np.random.default_rng(0)
    a = rng.normal(size=32).astype(np.float32)
    b = rng.normal(size=32).astype(np.float32)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    path = interpolation.slerp(a, b, np.linspace(0, 1, 9))
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a), rtol=1e-5)
    np.testing.assert_allclose(path[0], a, atol=1e-5)
    np.testing.assert_allclose(path[-1], b, atol=1e-5)
    np.testing.assert_allclose(interpolation.slerp(a, a, [0.5])[0], a, rtol=1e-6)  # parallel: lerp


@pytest.fixture(scope="module")
def networks(tiny_config):
    return ACAINetworks(tiny_config)


def test_strip_ends_are_reconstructions(networks, lines_dataset):
    first, second = lines_dataset.x_test[:2]
    strip = interpolation.strip(networks, first, second, steps=7, method="slerp")
    assert strip.frames.shape == (7, 32, 32, 1) and strip.critic.shape == (7,)
    reconstructions = networks(lines_dataset.x_test[:2]).numpy()
    np.testing.assert_allclose(strip.frames[[0, -1]], reconstructions, atol=1e-5)
    with pytest.raises(ValueError, match="unknown interpolation"):
        interpolation.strip(networks, first, second, 5, method="cubic")


def test_grid_corners_and_pairs(networks, lines_dataset):
    corners = lines_dataset.x_test[:4]
    frames = interpolation.grid(networks, corners, size=5)
    reconstructions = networks(corners).numpy()
    assert frames.shape == (5, 5, 32, 32, 1)
    np.testing.assert_allclose(frames[[0, 0, -1, -1], [0, -1, 0, -1]], reconstructions, atol=1e-5)
    pairs = interpolation.interpolate_pairs(networks, corners[:2], corners[2:], steps=4)
    np.testing.assert_allclose(pairs[:, 0], reconstructions[:2], atol=1e-5)


def test_lines_benchmark_draws_reports_median_and_spread(networks):
    from acai import evaluation

    draws = [evaluation.lines_benchmark(networks, pairs=8, seed=seed) for seed in (1, 2, 3)]
    summary = evaluation.lines_benchmark_draws(networks, draws=3, pairs=8)
    distances = sorted(draw["mean_distance"] for draw in draws)
    assert len(set(distances)) == 3  # independent draws of test lines, not one set three times
    assert summary["mean_distance"] == pytest.approx(distances[1])
    assert summary["mean_distance_sd"] == pytest.approx(np.std(distances, ddof=1))


def test_quick_representation_measures_a_fixed_random_share_of_the_test_images(networks, lines_dataset, monkeypatch):
    from acai import evaluation

    seen = []

    def encode(networks_, images):
        seen.append(np.asarray(images))
        return original(networks_, images)

    original = interpolation.encode
    monkeypatch.setattr(interpolation, "encode", encode)
    first = evaluation.representation(networks, lines_dataset, max_train=100, max_test=300, restarts=1,
                                      probe_iterations=20)
    again = evaluation.representation(networks, lines_dataset, max_train=100, max_test=300, restarts=1,
                                      probe_iterations=20)
    assert first == again
    train, test, train_again, test_again = seen
    assert len(train) == 100 and len(test) == 300
    np.testing.assert_array_equal(test, test_again)  # the same images every time
    flat = lines_dataset.x_test.reshape(len(lines_dataset.x_test), -1)
    rows = {row.tobytes(): k for k, row in enumerate(flat)}
    picked = [rows[row.tobytes()] for row in test.reshape(len(test), -1)]
    assert len(set(picked)) == 300 and max(picked) > 1_000  # distinct test images from all over the split
    seen.clear()
    evaluation.representation(networks, lines_dataset, max_train=100, restarts=1, probe_iterations=20)
    np.testing.assert_array_equal(seen[1], lines_dataset.x_test)  # the full evaluation: every test image
