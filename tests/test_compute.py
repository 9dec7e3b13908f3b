"""The app's shared picture caches (explorer/compute.py): every session that shows the same frame gets the same
picture, encoded once, and a different frame never gets another's picture."""

import base64
import io

import numpy as np
from PIL import Image

from acai import images
from explorer import compute


def _decoded(url: str) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert url.startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(url[len(prefix):], validate=True)))


def test_a_frame_is_encoded_once_for_every_equal_frame_and_never_confused_with_another():
    rng = np.random.default_rng(0)
    frame = rng.uniform(-1, 1, size=(32, 32, 1)).astype(np.float32)
    first = compute.picture(frame, 3)
    assert compute.picture(frame.copy(), 3) is first  # an equal array from another session: the same string
    np.testing.assert_array_equal(np.asarray(_decoded(first)), np.asarray(images.enlarge(frame, 3)))
    changed = frame.copy()
    changed[5, 7, 0] = -changed[5, 7, 0]
    assert compute.picture(changed, 3) != first
    assert _decoded(compute.picture(frame, 2)).size == (64, 64)  # the scale is in the key
    colour = np.repeat(frame, 3, axis=2)  # same values, another shape: its own picture
    assert _decoded(compute.picture(colour, 3)).mode == "RGB"


def test_the_mix_is_a_data_url_of_the_decoded_frame_and_its_critic_estimate(tiny_config, lines_dataset):
    from acai.training import Trainer

    trainer = Trainer(tiny_config, lines_dataset)
    first, second = lines_dataset.x_test[0], lines_dataset.x_test[1]
    url, critic = compute.mix_picture("test/mix", trainer.networks, first, second, 0.25, "lerp", 8)
    frame, estimate = compute.mix("test/mix", trainer.networks, first, second, 0.25, "lerp")
    np.testing.assert_array_equal(np.asarray(_decoded(url)), np.asarray(images.enlarge(frame, 8)))
    assert critic == estimate and np.isfinite(critic)
    assert compute.mix_picture("test/mix", trainer.networks, first.copy(), second.copy(), 0.25, "lerp", 8)[0] is url


def test_a_mosaic_is_encoded_once_and_is_the_same_picture_as_before():
    mosaic = images.tile(np.random.default_rng(1).uniform(-1, 1, size=(2, 3, 32, 32, 1)))
    encoded = compute.mosaic_png(mosaic, 3)
    assert compute.mosaic_png(mosaic.copy(), 3) is encoded
    assert encoded == images.png_bytes(mosaic, 3)
