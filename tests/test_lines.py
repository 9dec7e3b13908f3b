import numpy as np
import pytest

from acai import lines


@pytest.mark.parametrize("angle, rows, cols", [
    (0.0, (15, 16), (16, 30)),  # right
    (np.pi / 2, (1, 15), (15, 16)),  # up
    (np.pi, (15, 16), (1, 15)),  # left
    (3 * np.pi / 2, (16, 30), (15, 16)),  # down
])
def test_axis_aligned_line_lights_30_pixels(angle, rows, cols):
    image = lines.render_lines([angle])[0, :, :, 0]
    lit = np.argwhere(image == 1.0)
    assert len(lit) == 30 and np.all(image[image < 1] == -1)
    assert tuple(lit[:, 0][[0, -1]]) == rows and (lit[:, 1].min(), lit[:, 1].max()) == cols


def test_covered_area_is_length_times_width_at_any_angle():
    images = lines.render_lines(np.random.default_rng(0).uniform(0, 2 * np.pi, 500))
    assert images.shape == (500, 32, 32, 1) and images.dtype == np.float32
    np.testing.assert_allclose(((images + 1) / 2).sum(axis=(1, 2, 3)), 30.0, atol=1e-4)
    assert images.min() >= -1 and images.max() <= 1


def test_diagonal_coverage_is_exact():
    # At 45 degrees the rectangle's edges cut pixels diagonally: partial values appear,
    # and the picture is symmetric about the diagonal.
    image = lines.render_lines([np.pi / 4])[0, :, :, 0]
    assert ((image > -1) & (image < 1)).sum() > 10
    np.testing.assert_allclose(image, image[::-1, ::-1].T, atol=1e-6)


def test_labels_are_ten_angle_bins():
    angles = np.array([0.0, 0.63, 2 * np.pi * 0.55, 2 * np.pi - 1e-9, 2 * np.pi])
    np.testing.assert_array_equal(lines.angle_labels(angles), [0, 1, 5, 9, 0])


def test_reference_set_is_cached_and_unit_norm():
    reference, angles = lines.reference_set()
    assert reference.shape == (10_000, 1024) and angles[1] == pytest.approx(2 * np.pi / 10_000)
    np.testing.assert_allclose(np.linalg.norm(reference, axis=1), 1.0)
    assert lines.reference_set()[0] is reference
