"""A drawing (white strokes on black, any size) -> one model input, made the way the dataset was made.

MNIST and Fashion-MNIST (LeCun et al.'s recipe for MNIST): the ink is cropped to its bounding box, scaled
so that its longer side is 20 pixels (aspect kept, anti-aliased), placed in a 28x28 field so that its
centre of mass is at the field's centre, padded to 32x32 with the background, and mapped to [-1, 1].
Lines: the dataset is lines of one length from the image centre, so a stroke becomes the dataset's line
in the stroke's direction: along the ink's principal axis, pointing to the end farther from the centre.
The 8x8 digits dataset gets the MNIST framing too (its images were resized to fill 28x28, so drawings come
out a little smaller than its digits).
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from acai.data import to_padded_model_range
from acai.lines import render_lines

INK_THRESHOLD = 0.2  # a pixel is ink when its brightness is above this share of white
MIN_EXTENT = 0.08  # the ink must span at least this share of the canvas's side (a dot does not)
BOX = 20  # MNIST: the digit's longer side, in pixels
FIELD = 28


class DrawingError(ValueError):
    """The drawing cannot become an input; the message says what to do, in a few words."""


def brightness(canvas: np.ndarray) -> np.ndarray:
    """RGBA or RGB (H, W, C) uint8 or (H, W) -> (H, W) floats in [0, 1]; transparent pixels count as black."""
    canvas = np.asarray(canvas)
    if canvas.ndim == 2:
        return canvas.astype(np.float32) / 255.0
    value = canvas[..., :3].astype(np.float32).mean(axis=-1) / 255.0
    if canvas.shape[-1] == 4:
        value *= canvas[..., 3].astype(np.float32) / 255.0
    return value


def ink_box(value: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the ink, bottom and right exclusive; DrawingError when there is too
    little of it to be a drawing."""
    rows, columns = np.nonzero(value > INK_THRESHOLD)
    if rows.size == 0:
        raise DrawingError("the canvas is empty: draw something first")
    top, bottom, left, right = rows.min(), rows.max() + 1, columns.min(), columns.max() + 1
    if max(bottom - top, right - left) < MIN_EXTENT * max(value.shape):
        raise DrawingError("that is only a dot: draw a stroke")
    return int(top), int(bottom), int(left), int(right)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of an image's brightness-weighted centre, in pixel-centre coordinates."""
    total = image.sum()
    rows, columns = np.indices(image.shape)
    return float((rows * image).sum() / total), float((columns * image).sum() / total)


def to_mnist_input(canvas: np.ndarray) -> np.ndarray:
    """A drawing -> (32, 32, 1) float32 in [-1, 1], framed as MNIST's digits are."""
    value = brightness(canvas)
    top, bottom, left, right = ink_box(value)
    crop = value[top:bottom, left:right]
    scale = BOX / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))  # (width, height)
    digit = np.asarray(Image.fromarray(np.round(crop * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS),
                       dtype=np.float32)
    field = np.zeros((FIELD, FIELD), np.float32)
    row, column = centre_of_mass(digit)
    # Shift so that the centre of mass lands on the field's centre (13.5, 13.5 in pixel-centre coordinates),
    # clamped so that the box stays inside the field.
    top = int(np.clip(round(13.5 - row), 0, FIELD - digit.shape[0]))
    left = int(np.clip(round(13.5 - column), 0, FIELD - digit.shape[1]))
    field[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return to_padded_model_range(np.clip(np.round(field), 0, 255).astype(np.uint8)[None])[0]


def stroke_angle(canvas: np.ndarray) -> float:
    """The direction of a stroke, in the lines dataset's convention (0 = right, pi/2 = up), in [0, 2 pi)."""
    value = brightness(canvas)
    ink_box(value)  # raises for an empty canvas or a dot
    rows, columns = np.nonzero(value > INK_THRESHOLD)
    weights = value[rows, columns]
    centre_y, centre_x = (value.shape[0] - 1) / 2, (value.shape[1] - 1) / 2
    x, y = columns - centre_x, centre_y - rows  # y up
    mean_x, mean_y = np.average(x, weights=weights), np.average(y, weights=weights)
    covariance = np.cov(np.stack([x - mean_x, y - mean_y]), aweights=weights)
    axis = np.linalg.eigh(covariance)[1][:, -1]  # the principal direction, up to its sign
    along = x * axis[0] + y * axis[1]
    if abs(along.min()) > abs(along.max()):  # point to the end farther from the centre
        axis = -axis
    return math.atan2(axis[1], axis[0]) % (2 * math.pi)


def to_lines_input(canvas: np.ndarray) -> np.ndarray:
    """A stroke -> the lines dataset's image of a line from the centre in the stroke's direction."""
    return render_lines(np.array([stroke_angle(canvas)]))[0]


def to_model_input(canvas: np.ndarray, dataset: str) -> np.ndarray:
    """A drawing -> (32, 32, 1) in [-1, 1] for `dataset` (lines, or an image dataset framed like MNIST)."""
    return to_lines_input(canvas) if dataset == "lines" else to_mnist_input(canvas)
