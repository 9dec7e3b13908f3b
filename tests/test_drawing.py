"""Drawings made into model inputs: the MNIST framing (crop, 20-pixel box, centre of mass), strokes as lines."""

import math

import numpy as np
import pytest

from acai import drawing
from acai.lines import render_lines


def canvas(size: int = 280) -> np.ndarray:
    return np.zeros((size, size, 4), np.uint8)  # transparent: black once weighted by alpha


def paint(image: np.ndarray, rows: slice, columns: slice) -> np.ndarray:
    image[rows, columns] = (255, 255, 255, 255)
    return image


def ink(image: np.ndarray) -> np.ndarray:
    """The [0, 1] ink of a model input (32, 32, 1) in [-1, 1]."""
    return (image[..., 0] + 1) / 2


def test_a_tall_stroke_is_scaled_to_20_pixels_and_centred_by_its_mass():
    drawn = paint(canvas(), slice(20, 220), slice(200, 240))  # a 200x40 bar near the right edge, high up
    result = drawing.to_mnist_input(drawn)
    assert result.shape == (32, 32, 1) and result.dtype == np.float32
    assert result.min() >= -1 and result.max() <= 1
    rows, columns = np.nonzero(ink(result) > 0.5)
    assert rows.max() - rows.min() + 1 == 20  # the longer side is 20 pixels
    assert 3 <= columns.max() - columns.min() + 1 <= 5  # aspect kept: 40/200 of 20
    row, column = drawing.centre_of_mass(ink(result))
    assert row == pytest.approx(15.5, abs=0.6) and column == pytest.approx(15.5, abs=0.6)  # 13.5 + the 2 of padding
    assert (result[:2] == -1).all() and (result[:, :2] == -1).all()  # the padding is background


def test_mass_not_the_box_decides_the_centre():
    drawn = paint(canvas(), slice(100, 120), slice(40, 240))  # a thin horizontal bar...
    paint(drawn, slice(60, 160), slice(200, 240))  # ...with a heavy block at its right end
    result = ink(drawing.to_mnist_input(drawn))
    _, column = drawing.centre_of_mass(result)
    assert column == pytest.approx(15.5, abs=0.6)
    columns = np.nonzero(result.max(axis=0) > 0.5)[0]
    assert (columns.min() + columns.max()) / 2 < 15.5 - 1  # so the box sits left of the centre


def test_rgb_and_grey_canvases_are_read_alike():
    grey = np.zeros((100, 100), np.uint8)
    grey[20:80, 45:55] = 255
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    np.testing.assert_array_equal(drawing.to_mnist_input(grey), drawing.to_mnist_input(rgb))


@pytest.mark.parametrize("image, message", [(canvas(), "empty"),
                                            (paint(canvas(), slice(140, 146), slice(140, 146)), "dot")])
def test_an_empty_canvas_or_a_dot_gets_a_short_message(image, message):
    with pytest.raises(drawing.DrawingError, match=message):
        drawing.to_model_input(image, "mnist")
    with pytest.raises(drawing.DrawingError, match=message):
        drawing.to_model_input(image, "lines")


@pytest.mark.parametrize("rows, columns, angle", [
    (slice(135, 145), slice(140, 270), 0.0),  # from the centre to the right
    (slice(10, 140), slice(135, 145), math.pi / 2),  # up
    (slice(135, 145), slice(10, 140), math.pi),  # left
    (slice(140, 270), slice(135, 145), 3 * math.pi / 2),  # down
])
def test_a_stroke_becomes_the_datasets_line_in_its_direction(rows, columns, angle):
    drawn = paint(canvas(), rows, columns)
    found = drawing.stroke_angle(drawn)
    assert min(abs(found - angle), 2 * math.pi - abs(found - angle)) < 0.05
    np.testing.assert_allclose(drawing.to_model_input(drawn, "lines"), render_lines(np.array([found]))[0])


def test_a_diagonal_stroke_anywhere_points_away_from_the_centre():
    drawn = canvas()
    for step in range(100):  # from near the centre towards the top right corner
        paint(drawn, slice(130 - step, 136 - step), slice(150 + step, 156 + step))
    assert drawing.stroke_angle(drawn) == pytest.approx(math.pi / 4, abs=0.05)
