import numpy as np
import pytest

from acai import lines, metrics

PAIRS, STEPS = 64, 16


@pytest.fixture(scope="module")
def paths():
    rng = np.random.default_rng(0)
    start = rng.uniform(0, 2 * np.pi, PAIRS)
    turn = rng.uniform(0.5, 2.5, PAIRS) * rng.choice([-1, 1], PAIRS)
    t = np.linspace(0, 1, STEPS)
    exact = lines.render_lines((start[:, None] + turn[:, None] * t).ravel()).reshape(PAIRS, STEPS, 32, 32, 1)
    first, last = exact[:, :1], exact[:, -1:]
    weights = t.reshape(1, STEPS, 1, 1, 1).astype(np.float32)
    return {
        "exact": exact,
        "crossfade": (1 - weights) * first + weights * last,
        "abrupt": np.where(weights < 0.5, first, last),
    }


def test_exact_rendered_path_scores_near_zero(paths):
    result = metrics.lines_benchmark(paths["exact"])
    assert result["mean_distance"] < 1e-5 and result["smoothness"] < 0.02


def test_pixel_crossfade_has_high_mean_distance(paths):
    result = metrics.lines_benchmark(paths["crossfade"])
    assert result["mean_distance"] > 3e-3  # lines at both ends: far from any single line


def test_abrupt_switch_has_high_smoothness(paths):
    result = metrics.lines_benchmark(paths["abrupt"])
    assert result["mean_distance"] < 1e-5  # every frame is a real line...
    assert result["smoothness"] > 0.9  # ...but the whole turn happens in one step


def test_smoothness_by_hand():
    even = np.linspace(0, 1.5, 16)
    one_jump = np.r_[np.zeros(8), np.full(8, 1.5)]
    scores = metrics.smoothness_scores(np.stack([even, one_jump, np.zeros(16)]))
    np.testing.assert_allclose(scores[:2], [0.0, 1 - 1 / 15], atol=1e-12)
    assert np.isnan(scores[2])  # no change: no score
    wrapped = np.mod(np.linspace(6.0, 6.6, 16), 2 * np.pi)  # crosses 2*pi: unwrap keeps it even
    assert metrics.smoothness_scores(wrapped[None])[0] == pytest.approx(0.0, abs=1e-9)


def test_nan_pairs_count_in_the_denominator():
    still = np.zeros(16)
    one_jump = np.r_[np.zeros(8), np.full(8, 1.5)]  # scores 1 - 1/15
    images = lines.render_lines(np.r_[still, one_jump]).reshape(2, 16, 32, 32, 1)
    assert metrics.lines_benchmark(images)["smoothness"] == pytest.approx((1 - 1 / 15) / 2, abs=1e-3)
    assert np.isnan(metrics.lines_benchmark(images[:1])["smoothness"])  # all NaN: NaN, as the authors


def test_cosine_distance_by_hand():
    image = lines.render_lines([1.0])
    distance, angle = metrics.nearest_reference_lines(image)
    assert distance[0] < 1e-6 and angle[0] == pytest.approx(1.0, abs=2 * np.pi / 10_000)
    distance, _ = metrics.nearest_reference_lines(-image)  # the negative of a line: cosine < 0
    assert distance[0] > 1.0


def test_hungarian_accuracy():
    labels = np.array([0, 0, 1, 1, 2, 2, 2])
    assert metrics.hungarian_accuracy(labels, (labels + 1) % 3) == 1.0  # a permuted labelling
    assert metrics.hungarian_accuracy(labels, np.array([0, 0, 0, 1, 1, 1, 1])) == pytest.approx(5 / 7)


def test_clustering_accuracy_on_separated_blobs():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=20, size=(10, 8))
    labels = np.repeat(np.arange(10), 50)
    points = centres[labels] + rng.normal(size=(500, 8))
    assert metrics.clustering_accuracy(points, points, labels, restarts=5) == 1.0


def test_whitening_gives_unit_scale_uncorrelated_axes():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(300, 3)) @ np.array([[3.0, 0, 0], [1, 0.5, 0], [0, 0, 0]])  # rank 2
    (white,) = metrics.whiten(data)
    assert white.shape == (300, 2)
    np.testing.assert_allclose(white.T @ white, np.eye(2), atol=1e-9)


def test_linear_probe_accuracy():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 600)
    points = np.eye(3)[labels] * 4 + rng.normal(size=(600, 3))
    accuracy = metrics.linear_probe_accuracy(points[:400], labels[:400], points[400:], labels[400:])
    assert accuracy > 0.95


def test_reconstruction_error_by_hand():
    result = metrics.reconstruction_error(np.zeros((1, 2)), np.array([[0.5, -0.5]]))
    assert result["mse"] == pytest.approx(0.25) and result["rmse_255"] == pytest.approx(63.75)


def test_grey_fraction_counts_only_mid_grey_pixels():
    images = np.full((2, 2, 2, 1), -1.0, np.float32)
    images[0, 0, 0] = 0.0  # grey
    images[0, 0, 1] = 0.5  # the boundary is not grey
    images[0, 1, 0] = 1.0  # ink
    images[1] = 0.25  # all grey
    np.testing.assert_allclose(metrics.grey_fraction(images), [0.25, 1.0])


def test_nearest_images_by_pixels_nearest_first():
    from acai.metrics import nearest_images

    images = np.zeros((5, 2, 2, 1), np.float32)
    for index, value in enumerate([0.9, -1.0, 0.5, 0.1, 2.0]):
        images[index] = value
    np.testing.assert_array_equal(nearest_images(np.full((2, 2, 1), 0.4, np.float32), images, 3), [2, 3, 0])
    assert nearest_images(images[4], images, 1).tolist() == [4]
