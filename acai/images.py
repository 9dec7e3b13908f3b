"""Image I/O for people: fit an uploaded picture to the model's 32x32 input, tile frames, and
encode strips as PNG or animated GIF."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from acai.data import to_display, to_model_range

MAX_UPLOAD_PIXELS = 40_000_000  # refuse decompression bombs before decoding them


class ImageError(ValueError):
    """An upload that is not a usable image; the message says why."""


def fit_upload(data: bytes) -> np.ndarray:
    """Any PNG or JPEG -> one (32, 32, 1) float32 image in [-1, 1], framed like MNIST.

    Colour becomes grayscale; a light background is inverted to the datasets' light-on-dark;
    the picture is padded to a square, resized to 28x28 and padded with -1 to 32x32.
    """
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ("PNG", "JPEG"):
                raise ImageError(f"{probe.format or 'this'} files are not supported; upload a PNG or JPEG")
            if probe.width * probe.height > MAX_UPLOAD_PIXELS:
                raise ImageError(f"the image is {probe.width}x{probe.height}; at most 40 megapixels please")
            image = ImageOps.exif_transpose(probe).convert("L")
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ImageError("that file is not a readable PNG or JPEG image") from None
    pixels = np.asarray(image, dtype=np.uint8)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    if np.median(border) > 127:
        pixels = 255 - pixels
    height, width = pixels.shape
    side = max(height, width)
    background = int(np.median(np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])))
    square = np.full((side, side), background, dtype=np.uint8)
    square[(side - height) // 2 : (side - height) // 2 + height, (side - width) // 2 : (side - width) // 2 + width] = pixels
    small = np.asarray(Image.fromarray(square).resize((28, 28), Image.Resampling.LANCZOS), dtype=np.uint8)
    return np.pad(to_model_range(small), 2, constant_values=-1.0)[..., None]


def enlarge(image: np.ndarray, scale: int = 8) -> Image.Image:
    """One [-1, 1] image (32, 32, 1) -> a crisp PIL image `scale` times larger (nearest neighbour)."""
    pixels = to_display(image)[..., 0]
    return Image.fromarray(pixels).resize((pixels.shape[1] * scale, pixels.shape[0] * scale), Image.Resampling.NEAREST)


def tile(frames: np.ndarray, gap: int = 2) -> np.ndarray:
    """Frames (rows, columns, 32, 32, 1) or (columns, 32, 32, 1) in [-1, 1] -> one uint8 mosaic."""
    frames = np.asarray(frames)
    if frames.ndim == 4:
        frames = frames[None]
    rows, columns, height, width = frames.shape[:4]
    mosaic = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), 255, dtype=np.uint8)
    pixels = to_display(frames)[..., 0]
    for row in range(rows):
        for column in range(columns):
            top, left = row * (height + gap), column * (width + gap)
            mosaic[top : top + height, left : left + width] = pixels[row, column]
    return mosaic


def png_bytes(mosaic: np.ndarray, scale: int = 4) -> bytes:
    image = Image.fromarray(mosaic)
    image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def gif_bytes(frames: np.ndarray, scale: int = 8, milliseconds: int = 120) -> bytes:
    """An animated GIF that plays the frames forward and back, looping."""
    sequence = list(frames) + list(frames[-2:0:-1])
    images = [enlarge(frame, scale) for frame in sequence]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=milliseconds, loop=0)
    return buffer.getvalue()
