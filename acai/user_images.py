"""A dataset from the user's own images: a folder, a .zip of one, or a Keras-layout .npz.

Every image is centre-cropped to a square and resized to 32x32 (the paper's size). Grey images stay one channel;
if any image is in colour, the whole dataset is RGB and the grey ones are converted (said once, in the report).
Labels come from sub-folder names when every image sits in exactly one sub-folder (a single top folder, as zips
often have, is looked through). Without a test split of its own, 10% of the images (at least one) are held out
by a seeded permutation.

Hostile input is answered with a message, never with lost memory or files: an archive is read member by member
with bounded reads (a zip bomb stops at the limit, whatever sizes its directory claims), names that point
outside the archive refuse it, an image's pixel count is checked from its header before it is decoded, and
nothing is ever extracted to disk. Non-images and corrupt files are skipped, counted and named.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import hashlib
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

SIZE = 32
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
FORMATS = {"PNG", "JPEG", "MPO", "WEBP", "BMP"}  # what Pillow reports for those files (MPO: a camera's JPEG)
GREY_MODES = {"1", "L", "LA", "I", "I;16", "F"}
GREY_TOLERANCE = 4  # levels of 255
TEST_FRACTION = 0.1
MAX_LABELS = 1000  # sub-folders taken as labels at most (a checkpoint's probe has at most this many outputs)
SKIPPED_NAMES_SHOWN = 5
RESIZE_NOTE = "centre-cropped to a square and resized to 32x32"

Progress = Callable[[int, int], None]  # (done, total)


class ImagesError(ValueError):
    """The user's images cannot make a dataset; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one dataset may cost. An archive is refused at the first limit it reaches, before its bytes are in
    memory: sizes are counted as members are read, not taken from the archive's own directory."""

    archive_bytes: int = 1 << 30  # the .zip or .npz file itself (1 GiB)
    unpacked_bytes: int = 2 << 30  # everything read out of an archive (2 GiB)
    file_bytes: int = 64 << 20  # one image file (64 MiB)
    image_pixels: int = 40_000_000  # one image's width x height, from its header (40 megapixels)
    images: int = 100_000  # images in one dataset (100,000 RGB images at 32x32: 1.2 GB as float32)

    def describe(self) -> str:
        return (f"at most {self.images:,} images, {self.image_pixels / 1e6:g} megapixels and "
                f"{self.file_bytes >> 20} MiB per image, an archive of at most {self.archive_bytes >> 20} MiB "
                f"that unpacks to at most {self.unpacked_bytes >> 20} MiB")


@dataclasses.dataclass(frozen=True)
class Images:
    """Decoded images, uint8 (N, 32, 32, C), with what happened on the way: its train/test split, labels
    (class indices into `class_names`) or None, what was skipped and why, and notes for the reader."""

    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray | None
    y_test: np.ndarray | None
    class_names: tuple[str, ...] | None
    source: dict

    @property
    def channels(self) -> int:
        return int(self.x_train.shape[-1])


def decode(data: bytes, limits: Limits = Limits()) -> tuple[np.ndarray, bool] | str:
    """One image file's bytes -> (32x32 uint8 pixels, (32, 32, 3) or (32, 32, 1), whether it is in colour), or
    the reason it is skipped. A colour picture whose channels differ by at most GREY_TOLERANCE levels anywhere
    counts as grey (lossy formats leave a level or two between the channels of a grey picture). Pillow's draft
    mode lets a JPEG decode at 1/2 to 1/8 scale when that still leaves at least 64 pixels a side; `reducing_gap`
    resizes the rest in two cheap passes."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            if picture.format not in FORMATS:
                return f"not a PNG, JPEG, WebP or BMP ({picture.format})"
            width, height = picture.size
            if width * height > limits.image_pixels:
                return f"{width}x{height} is over {limits.image_pixels / 1e6:g} megapixels"
            colour = picture.mode not in GREY_MODES
            side = min(width, height)
            picture.draft("RGB" if colour else "L", (max(2 * SIZE, width * 2 * SIZE // side),
                                                     max(2 * SIZE, height * 2 * SIZE // side)))
            picture = picture.convert("RGB" if colour else "L")
            pixels = np.asarray(_square(picture), dtype=np.uint8)
    except Image.DecompressionBombError:
        return "over Pillow's decompression-bomb limit"
    except (OSError, ValueError, SyntaxError, EOFError, Image.UnidentifiedImageError) as error:
        return f"not a readable image ({type(error).__name__})"
    if colour and _nearly_grey(pixels):
        # Stored in colour, grey in fact (a grey WebP, which has no grey mode; a grey JPEG saved as RGB).
        return np.asarray(Image.fromarray(pixels).convert("L"))[..., None], False
    return (pixels if colour else pixels[..., None]), colour


def _nearly_grey(pixels: np.ndarray) -> bool:
    levels = pixels.astype(np.int16)
    return bool(np.abs(levels[..., 0] - levels[..., 1]).max() <= GREY_TOLERANCE
                and np.abs(levels[..., 1] - levels[..., 2]).max() <= GREY_TOLERANCE)


def _square(picture: Image.Image) -> Image.Image:
    """The centred square of a picture, resized to 32x32 (bilinear; `reducing_gap` first shrinks a large picture
    by whole factors, cheaply)."""
    width, height = picture.size
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    return picture.resize((SIZE, SIZE), Image.Resampling.BILINEAR, box=(left, top, left + side, top + side),
                          reducing_gap=2.0)


@dataclasses.dataclass
class _Member:
    name: str  # the path inside the folder or archive, with "/"
    read: Callable[[], bytes]


def _hidden(parts: tuple[str, ...]) -> bool:
    """Files a system adds (.DS_Store, macOS's __MACOSX/ forks in zips): ignored without a word."""
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def _folder_members(folder: Path, limits: Limits) -> list[_Member]:
    members = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or _hidden(relative.parts):
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(folder.resolve()):
            raise ImagesError(f"{path} links outside {folder}; refusing to follow it")
        members.append(_Member(relative.as_posix(), lambda path=path: _read_file(path, limits)))
    return members


def _read_file(path: Path, limits: Limits) -> bytes:
    """The file's bytes, at most file_bytes (asking for no more than the file holds: a read sized by the limit
    would allocate 64 MiB per picture)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limits.file_bytes:
            raise _TooLarge(f"over {limits.file_bytes >> 20} MiB")
        data = handle.read(size + 1)
    if len(data) > limits.file_bytes:  # it grew while being read
        raise _TooLarge(f"over {limits.file_bytes >> 20} MiB")
    return data


class _TooLarge(Exception):
    pass


def _zip_members(archive: zipfile.ZipFile, path: Path, limits: Limits) -> list[_Member]:
    members, unsafe = [], []
    for info in archive.infolist():
        name = PurePosixPath(info.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts or (name.parts and name.parts[0].endswith(":")):
            unsafe.append(info.filename)
        elif not info.is_dir() and not _hidden(name.parts):
            members.append(_Member(name.as_posix(), lambda info=info: _read_member(archive, info, limits)))
    if unsafe:
        raise ImagesError(f"{path.name}: {len(unsafe)} name(s) point outside the archive ({', '.join(unsafe[:3])}); "
                          "refusing the whole archive")
    if len(members) > 4 * limits.images:
        raise ImagesError(f"{path.name} lists {len(members):,} files; the limit is {limits.images:,} images")
    return sorted(members, key=lambda member: member.name)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> bytes:
    """One member's bytes: at most its stated size and at most file_bytes, plus one byte to catch a member
    that unpacks to more than either (a bomb stops here, whatever its header claims)."""
    with archive.open(info) as handle:
        data = handle.read(min(info.file_size, limits.file_bytes) + 1)
    if len(data) > limits.file_bytes:
        raise _TooLarge(f"unpacks to over {limits.file_bytes >> 20} MiB")
    if len(data) > info.file_size:
        raise _TooLarge(f"unpacks to more than the {info.file_size:,} bytes its archive states")
    return data


def _labels(names: list[str]) -> tuple[tuple[str, ...] | None, list[str] | None]:
    """Sub-folder labels: (class names, each image's class) when every image sits in exactly one sub-folder
    below the common top folders, and there are from two to MAX_LABELS of them; else (None, None)."""
    parts = [PurePosixPath(name).parts for name in names]
    while parts and all(len(p) > 2 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]  # a single top folder (a zipped folder) is looked through
    if not parts or any(len(p) != 2 for p in parts):
        return None, None
    classes = tuple(sorted({p[0] for p in parts}))
    return (classes, [p[0] for p in parts]) if 2 <= len(classes) <= MAX_LABELS else (None, None)


def _decode_all(members: list[_Member], limits: Limits, progress: Progress | None, workers: int):
    """Decode every member; a thread pool overlaps Pillow's decoding (which releases the GIL) on the cores."""
    kept, colour_flags, skipped = [], [], []
    unpacked = 0

    def work(member: _Member):
        try:
            data = member.read()
        except _TooLarge as error:
            return member, str(error), limits.file_bytes + 1
        except (OSError, zipfile.BadZipFile, EOFError, RuntimeError) as error:  # a damaged archive member
            return member, f"unreadable ({type(error).__name__})", 0
        if not member.name.lower().endswith(IMAGE_SUFFIXES):
            return member, "not an image file", len(data)
        return member, decode(data, limits), len(data)

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
    with pool or contextlib.nullcontext():
        results = pool.map(work, members) if pool else map(work, members)  # one core: no hand-offs
        for done, (member, result, size) in enumerate(results, start=1):
            unpacked += size
            if unpacked > limits.unpacked_bytes:
                raise ImagesError(f"the images unpack to over {limits.unpacked_bytes >> 20} MiB; the limit is "
                                  f"{limits.describe()}")
            if isinstance(result, str):
                skipped.append((member.name, result))
            else:
                kept.append((member.name, result[0]))
                colour_flags.append(result[1])
                if len(kept) > limits.images:
                    raise ImagesError(f"more than {limits.images:,} images; the limit is {limits.describe()}")
            if progress is not None:
                progress(done, len(members))
    return kept, colour_flags, skipped


def _as_dataset_arrays(kept, colour_flags, notes: list[str]) -> np.ndarray:
    if any(colour_flags) and not all(colour_flags):
        notes.append(f"{colour_flags.count(False):,} grey images converted to colour (the others are in colour)")
    if any(colour_flags):
        return np.stack([np.repeat(pixels, 3, axis=-1) if pixels.shape[-1] == 1 else pixels for _, pixels in kept])
    return np.stack([pixels for _, pixels in kept])


def split(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices): 10% (at least one) held out by a permutation seeded by `seed`."""
    order = np.random.default_rng([seed, 4]).permutation(count)
    held = max(1, int(round(TEST_FRACTION * count)))
    return np.sort(order[held:]), np.sort(order[:held])


def _skipped_summary(skipped: list[tuple[str, str]]) -> str:
    shown = "; ".join(f"{name} ({why})" for name, why in skipped[:SKIPPED_NAMES_SHOWN])
    more = f"; and {len(skipped) - SKIPPED_NAMES_SHOWN:,} more" if len(skipped) > SKIPPED_NAMES_SHOWN else ""
    return f"{len(skipped):,} skipped: {shown}{more}" if skipped else "none skipped"


def _from_members(members: list[_Member], path: Path, kind: str, seed: int, limits: Limits,
                  progress: Progress | None, workers: int) -> Images:
    kept, colour_flags, skipped = _decode_all(members, limits, progress, workers)
    if len(kept) < 2:
        raise ImagesError(f"{path.name}: {len(kept)} usable image(s) ({_skipped_summary(skipped)}); a dataset needs "
                          "at least two, as PNG, JPEG, WebP or BMP files")
    notes = [RESIZE_NOTE]
    pixels = _as_dataset_arrays(kept, colour_flags, notes)
    class_names, label_names = _labels([name for name, _ in kept])
    labels = (np.array([class_names.index(name) for name in label_names], dtype=np.int64)
              if class_names is not None else None)
    train, test = split(len(pixels), seed)
    return _finish(pixels[train], pixels[test], None if labels is None else labels[train],
                   None if labels is None else labels[test], class_names, path, kind, skipped, notes)


def _finish(x_train, x_test, y_train, y_test, class_names, path: Path, kind: str, skipped, notes) -> Images:
    digest = hashlib.sha256()
    for array in (x_train, x_test):
        digest.update(np.ascontiguousarray(array).tobytes())
    source = {
        "kind": kind,
        "path": str(path),
        "images": int(len(x_train) + len(x_test)),
        "train": int(len(x_train)),
        "test": int(len(x_test)),
        "shape": [SIZE, SIZE, int(x_train.shape[-1])],
        "class_names": list(class_names) if class_names is not None else None,
        "skipped": len(skipped),
        "skipped_names": [f"{name} ({why})" for name, why in skipped[:SKIPPED_NAMES_SHOWN]],
        "notes": notes,
        "sha256": digest.hexdigest(),
    }
    return Images(x_train, x_test, y_train, y_test, class_names, source)


def summary(source: dict) -> str:
    """One line for a person: '312 images (281 train, 31 test), 32x32 RGB, 3 classes; 4 skipped: ...'."""
    colour = "RGB" if source["shape"][-1] == 3 else "grey"
    classes = f", {len(source['class_names'])} classes" if source.get("class_names") else ", no labels"
    skipped = (f"; {source['skipped']:,} skipped: " + "; ".join(source["skipped_names"])
               + (" ..." if source["skipped"] > len(source["skipped_names"]) else "")) if source["skipped"] else ""
    notes = "".join(f"; {note}" for note in source["notes"])
    return (f"{source['images']:,} images ({source['train']:,} train, {source['test']:,} test), 32x32 {colour}"
            f"{classes}{skipped}{notes}")


# --- .npz in the Keras layout -------------------------------------------------------------------------------

def _npz_header(archive: zipfile.ZipFile, key: str, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """An array's shape and dtype from its .npy header, before any of its data is read."""
    with archive.open(f"{key}.npy") as handle:
        version = np.lib.format.read_magic(handle)
        reader = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if reader is None:
            raise ImagesError(f"{path.name}: {key} is stored in .npy version {version}, which is not read here")
        shape, _, dtype = reader(handle)
    return shape, dtype


def _npz_images(source, path: Path, seed: int, limits: Limits, kind: str) -> Images:
    """`source`: the file's path or its bytes (io.BytesIO); `path` names it in messages."""
    try:
        with zipfile.ZipFile(source) as archive:
            stored = {name[:-4] for name in archive.namelist() if name.endswith(".npy")}
            if "x_train" not in stored:
                raise ImagesError(f"{path.name} has no x_train array (it has {', '.join(sorted(stored)) or 'none'}); "
                                  "the Keras layout is x_train and optionally x_test, y_train, y_test")
            keys = [key for key in ("x_train", "y_train", "x_test", "y_test") if key in stored]
            headers = {key: _npz_header(archive, key, path) for key in keys}
    except zipfile.BadZipFile:
        raise ImagesError(f"{path.name} is not a readable .npz (zip) archive") from None
    for key in ("x_train", "x_test"):
        if key in headers:
            shape, dtype = headers[key]
            if len(shape) not in (3, 4) or (len(shape) == 4 and shape[-1] not in (1, 3)) or shape[0] == 0:
                raise ImagesError(f"{path.name}: {key} has shape {shape}; images must be (N, H, W) grey or "
                                  "(N, H, W, 1 or 3)")
            if dtype != np.uint8:
                raise ImagesError(f"{path.name}: {key} is {dtype}; images must be uint8 pixels 0..255")
            if shape[0] > limits.images or shape[1] * shape[2] > limits.image_pixels:
                raise ImagesError(f"{path.name}: {key} has shape {shape}; the limit is {limits.describe()}")
            if int(np.prod(shape)) > limits.unpacked_bytes:
                raise ImagesError(f"{path.name}: {key} is over {limits.unpacked_bytes >> 20} MiB")
    for key in ("y_train", "y_test"):
        if key in headers:
            shape, dtype = headers[key]
            images = headers["x" + key[1:]][0][0] if "x" + key[1:] in headers else None
            if shape not in ((images,), (images, 1)) or dtype.kind not in "iu":
                raise ImagesError(f"{path.name}: {key} has shape {shape} and dtype {dtype}; labels must be integers, "
                                  f"one per image of x{key[1:]}")
    if "x_test" in headers and ("y_train" in headers) != ("y_test" in headers):
        raise ImagesError(f"{path.name}: give labels for both splits or for neither")
    if "x_test" not in headers and "y_test" in headers:
        raise ImagesError(f"{path.name}: y_test without x_test")
    if isinstance(source, io.BytesIO):
        source.seek(0)
    with np.load(source, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in keys}
    notes = [RESIZE_NOTE] if arrays["x_train"].shape[1:3] != (SIZE, SIZE) else []
    x_train = _resize_array(arrays["x_train"])
    y_train = arrays["y_train"].reshape(-1).astype(np.int64) if "y_train" in arrays else None
    if "x_test" in arrays:
        x_test = _resize_array(arrays["x_test"])
        y_test = arrays["y_test"].reshape(-1).astype(np.int64) if "y_test" in arrays else None
    else:
        train, test = split(len(x_train), seed)
        x_train, x_test = x_train[train], x_train[test]
        y_train, y_test = (None, None) if y_train is None else (y_train[train], y_train[test])
    if x_train.shape[-1] != x_test.shape[-1]:
        notes.append("grey images converted to colour (the other split is in colour)")
        x_train, x_test = (np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x for x in (x_train, x_test))
    class_names = None
    if y_train is not None:
        if min(y_train.min(), y_test.min()) < 0:
            raise ImagesError(f"{path.name}: labels must be 0 or more")
        class_names = tuple(str(k) for k in range(int(max(y_train.max(), y_test.max())) + 1))
    return _finish(x_train, x_test, y_train, y_test, class_names, path, kind, [], notes)


def _resize_array(images: np.ndarray) -> np.ndarray:
    """(N, H, W[, C]) uint8 -> (N, 32, 32, C): unchanged at 32x32, else each centre-cropped and resized."""
    if images.ndim == 3:
        images = images[..., None]
    if images.shape[1:3] == (SIZE, SIZE):
        return np.ascontiguousarray(images)
    grey = images.shape[-1] == 1
    resized = [np.asarray(_square(Image.fromarray(image[..., 0] if grey else image))) for image in images]
    return np.stack(resized).reshape(len(images), SIZE, SIZE, images.shape[-1])


# --- entry point ----------------------------------------------------------------------------------------------

def load_images(path: str | os.PathLike, seed: int = 0, limits: Limits = Limits(), progress: Progress | None = None,
                workers: int | None = None, content: bytes | None = None) -> Images:
    """The user's images from a folder, a .zip of one, or a Keras-layout .npz.

    Args:
        path: the folder, .zip or .npz; with `content`, only its name (the suffix says which it is).
        seed: seeds the 10% test split when the data has none.
        limits: what one dataset may cost (Limits' defaults say them).
        progress: called with (done, total) as images are decoded.
        workers: decoding threads (default: the cores this process may use).
        content: the bytes of a .zip or .npz already in memory (an upload): nothing is read from or written to disk.
    Raises:
        ImagesError: with a message that says what is wrong and what to do.
    """
    path = Path(path).expanduser()
    workers = workers or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())
    if content is None and path.is_dir():
        return _from_members(_folder_members(path, limits), path, "folder", seed, limits, progress, workers)
    if content is None and not path.is_file():
        raise ImagesError(f"{path} does not exist; give a folder of images, a .zip of one, or a Keras-layout .npz")
    size = len(content) if content is not None else path.stat().st_size
    if size > limits.archive_bytes:
        raise ImagesError(f"{path.name} is {size >> 20} MiB; the limit is {limits.describe()}")
    source = io.BytesIO(content) if content is not None else path
    kind = "upload" if content is not None else None
    if path.suffix.lower() == ".npz":
        return _npz_images(source, path, seed, limits, kind or "npz")
    if path.suffix.lower() != ".zip":
        raise ImagesError(f"{path.name}: give a folder of images, a .zip of one, or a Keras-layout .npz")
    try:
        with zipfile.ZipFile(source) as archive:
            members = _zip_members(archive, path, limits)
            return _from_members(members, path, kind or "zip", seed, limits, progress, workers)
    except zipfile.BadZipFile:
        raise ImagesError(f"{path.name} is not a readable .zip archive") from None
