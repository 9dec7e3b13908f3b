"""Uploaded pictures: bounded in size and memory before decoding, grey levels kept, and framed by the same
recipe as a drawing."""

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from acai import drawing, images


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("width, height", [(40_000, 1_000), (100_000, 400), (10_000, 4_001)])
def test_pictures_over_the_limits_are_refused_before_decoding(width, height):
    header = io.BytesIO()  # a small file that declares a huge picture: only its header is read
    Image.new("1", (width, height)).save(header, format="PNG")
    with pytest.raises(images.ImageError, match="at most 10,000 pixels a side and 40 megapixels"):
        images.fit_upload(header.getvalue())


def test_a_long_thin_picture_within_the_limits_fits_in_bounded_memory():
    """10,000 x 1,000 (the longest side allowed): the peak memory of decoding and fitting it, measured in a
    fresh process, stays far below what padding it to a 10,000-pixel square would take (100 MB per byte)."""
    code = """
import io, resource, sys
import numpy as np
from PIL import Image
from acai import images
picture = np.full((1_000, 10_000), 255, np.uint8)
picture[300:700, 500:9_500] = 0
buffer = io.BytesIO()
Image.fromarray(picture).save(buffer, format="PNG")
data = buffer.getvalue()
del picture, buffer
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
image = images.fit_upload(data)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) / 1024, float(image.max()))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    grown_mb, brightest = map(float, done.stdout.split())
    assert grown_mb < 60, f"fitting took {grown_mb:.0f} MB more"
    assert brightest > 0.5  # the bar is there, as light-on-dark ink


def test_a_16_bit_picture_keeps_its_grey_levels():
    picture = np.zeros((64, 64), np.uint16)
    picture[16:48, 20:28] = 20_000  # a darker and a brighter bar: three levels in all
    picture[16:48, 36:44] = 60_000
    image = images.fit_upload(_png(picture))[..., 0]
    levels = image[image > -0.9]
    assert levels.min() < -0.1 < 0.6 < levels.max()  # the darker bar stays grey, the brighter bright
    assert len(np.unique(np.round(image, 1))) > 3


def test_an_upload_is_framed_exactly_as_the_same_drawing():
    canvas = np.zeros((200, 160), np.uint8)
    canvas[40:160, 70:90] = 255  # a light stroke on dark, as drawn
    canvas[40:60, 40:90] = 255
    for dataset in ("mnist", "lines"):
        np.testing.assert_array_equal(images.fit_upload(_png(canvas), dataset),
                                      drawing.to_model_input(canvas, dataset))
    paper = 255 - canvas  # the same, dark ink on white paper: inverted first
    np.testing.assert_array_equal(images.fit_upload(_png(paper)), drawing.to_model_input(canvas, "mnist"))


def test_a_blank_picture_says_so():
    with pytest.raises(images.ImageError, match="stands out"):
        images.fit_upload(_png(np.full((50, 50), 255, np.uint8)))


@pytest.mark.parametrize("channels", [1, 3])
def test_the_cached_png_of_a_frame_is_the_enlarged_frame(channels):
    frame = np.random.default_rng(0).uniform(-1, 1, size=(32, 32, channels)).astype(np.float32)
    decoded = Image.open(io.BytesIO(images.enlarged_png(frame, scale=8)))
    assert decoded.format == "PNG" and decoded.size == (256, 256)
    np.testing.assert_array_equal(np.asarray(decoded), np.asarray(images.enlarge(frame, 8)))
    assert np.asarray(decoded)[8 * 5, 8 * 7 + 3].tolist() == np.asarray(images.enlarge(frame, 1))[5, 7].tolist()
