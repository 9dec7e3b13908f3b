"""The app's shared picture caches (explorer/compute.py): every session that shows the same frame gets the same
PNG bytes, encoded once, and a different frame never gets another's picture."""

import io

import numpy as np
from PIL import Image

from acai import images
from explorer import compute


def test_a_frame_is_encoded_once_for_every_equal_frame_and_never_confused_with_another():
    rng = np.random.default_rng(0)
    frame = rng.uniform(-1, 1, size=(32, 32, 1)).astype(np.float32)
    first = compute.png(frame, 3)
    assert compute.png(frame.copy(), 3) is first  # an equal array from another session: the same bytes object
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(first))), np.asarray(images.enlarge(frame, 3)))
    changed = frame.copy()
    changed[5, 7, 0] = -changed[5, 7, 0]
    assert compute.png(changed, 3) != first
    assert Image.open(io.BytesIO(compute.png(frame, 2))).size == (64, 64)  # the scale is in the key
    colour = np.repeat(frame, 3, axis=2)  # same values, another shape: its own picture
    assert Image.open(io.BytesIO(compute.png(colour, 3))).mode == "RGB"


def test_a_mosaic_is_encoded_once_and_is_the_same_picture_as_before():
    mosaic = images.tile(np.random.default_rng(1).uniform(-1, 1, size=(2, 3, 32, 32, 1)))
    encoded = compute.mosaic_png(mosaic, 3)
    assert compute.mosaic_png(mosaic.copy(), 3) is encoded
    assert encoded == images.png_bytes(mosaic, 3)
