"""Image I/O for people: fit an uploaded picture to the model's 32x32 input, tile frames, and
encode strips as PNG or animated GIF."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from acai import user_images
from acai.data import to_display, to_model_range
from acai.drawing import DrawingError, to_model_input

MAX_UPLOAD_SIDE = 10_000  # pixels; longer sides are refused before decoding
MAX_UPLOAD_PIXELS = 40_000_000  # refuse decompression bombs before decoding them
WORKING_SIDE = 280  # a picture is shrunk to at most this side first (ten times the 28-pixel field)
INK_DATASETS = ("mnist", "fashion_mnist", "digits", "lines")  # light drawn on dark: framed like a drawing
LIMITS = f"at most {MAX_UPLOAD_SIDE:,} pixels a side and {MAX_UPLOAD_PIXELS // 1_000_000} megapixels"


class ImageError(ValueError):
    """An upload that is not a usable image; the message says why."""


def fit_upload(data: bytes, dataset: str = "mnist", channels: int = 1) -> np.ndarray:
    """Any PNG or JPEG -> one (32, 32, channels) float32 image in [-1, 1], framed as `dataset`'s images were.

    Photographs (the colour datasets and the user's own images) are framed as their images were: the centred
    square, resized to 32x32 (acai.user_images.decode), grey or colour as the dataset is. What follows is the
    framing of the white-on-black datasets.

    The picture is checked against LIMITS before it is decoded, shrunk to at most WORKING_SIDE pixels a side
    (JPEGs are decoded at that reduced scale), made grayscale (16-bit pictures keep their grey levels;
    transparent parts count as white paper), inverted when its background is light (the datasets draw light
    on dark), and then framed by the same recipe as a drawing (acai.drawing.to_model_input: the ink's box
    scaled to 20 pixels and centred by mass in 28x28, as MNIST's digits were; a line for `lines`).
    """
    if channels == 3 or dataset not in INK_DATASETS:
        return _fit_photo(data, channels)
    try:
        with Image.open(io.BytesIO(data)) as picture:
            if picture.format not in ("PNG", "JPEG"):
                raise ImageError(f"{picture.format or 'this'} files are not supported; upload a PNG or JPEG")
            width, height = picture.size
            if max(width, height) > MAX_UPLOAD_SIDE or width * height > MAX_UPLOAD_PIXELS:
                raise ImageError(f"the image is {width:,}x{height:,} pixels; {LIMITS} please")
            picture.draft("L", (WORKING_SIDE, WORKING_SIDE))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
            grey = _small_grey(ImageOps.exif_transpose(picture))
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ImageError("that file is not a readable PNG or JPEG image") from None
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > 127:
        grey = 255 - grey
    try:
        return to_model_input(grey, dataset)
    except DrawingError:
        raise ImageError("nothing in that picture stands out from its background (or it is only a dot)") from None


def _fit_photo(data: bytes, channels: int) -> np.ndarray:
    if len(data) > user_images.Limits().file_bytes:
        raise ImageError(f"the file is over {user_images.Limits().file_bytes >> 20} MiB")
    result = user_images.decode(data, user_images.Limits(image_pixels=MAX_UPLOAD_PIXELS))
    if isinstance(result, str):
        raise ImageError(f"that file is {result}; upload a PNG, JPEG, WebP or BMP image")
    pixels = result[0]
    if pixels.shape[-1] != channels:
        pixels = (np.repeat(pixels, 3, axis=-1) if channels == 3
                  else np.asarray(Image.fromarray(pixels).convert("L"))[..., None])
    return to_model_range(pixels)


def _small_grey(picture: Image.Image) -> np.ndarray:
    """A decoded picture -> (H, W) uint8 grey levels, at most WORKING_SIDE a side (shrunk before converting
    where the mode allows, so that memory follows the small picture, not the large one)."""
    if picture.mode.startswith("I"):  # 16-bit grey (PNG): scale its 0..65535 levels, never clip them
        levels = np.asarray(picture, dtype=np.float32) / (65535.0 if picture.mode != "I;8" else 255.0)
        small = Image.fromarray(levels, mode="F")
        small.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.LANCZOS)
        return np.clip(np.round(np.asarray(small) * 255.0), 0, 255).astype(np.uint8)
    picture.thumbnail((WORKING_SIDE, WORKING_SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
        paper = Image.new("RGBA", picture.size, "white")
        picture = Image.alpha_composite(paper, picture.convert("RGBA"))
    return np.asarray(picture.convert("L"), dtype=np.uint8)


def _pixels(images: np.ndarray) -> np.ndarray:
    """[-1, 1] images (..., 32, 32, C) -> uint8 (..., 32, 32) for grey, (..., 32, 32, 3) for colour."""
    pixels = to_display(images)
    return pixels[..., 0] if pixels.shape[-1] == 1 else pixels


def enlarge(image: np.ndarray, scale: int = 8) -> Image.Image:
    """One [-1, 1] image (32, 32, 1 or 3) -> a crisp PIL image `scale` times larger (nearest neighbour)."""
    pixels = _pixels(image)
    return Image.fromarray(pixels).resize((pixels.shape[1] * scale, pixels.shape[0] * scale), Image.Resampling.NEAREST)


def enlarged_png(image: np.ndarray, scale: int = 8) -> bytes:
    """enlarge(image, scale) as PNG bytes (what st.image would encode from the PIL image, done once to cache)."""
    buffer = io.BytesIO()
    enlarge(image, scale).save(buffer, format="PNG")
    return buffer.getvalue()


def tile(frames: np.ndarray, gap: int = 2) -> np.ndarray:
    """Frames (rows, columns, 32, 32, C) or (columns, 32, 32, C) in [-1, 1] -> one uint8 mosaic, (H, W) for
    grey frames and (H, W, 3) for colour, on white."""
    frames = np.asarray(frames)
    if frames.ndim == 4:
        frames = frames[None]
    rows, columns, height, width = frames.shape[:4]
    pixels = _pixels(frames)
    mosaic = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap, *pixels.shape[4:]), 255,
                     dtype=np.uint8)
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
