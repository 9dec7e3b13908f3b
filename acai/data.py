"""Datasets behind one interface: float32 images in [-1, 1] of shape (N, 32, 32, C), int labels.

- lines: the paper's synthetic benchmark; training is an endless stream of fresh lines.
- mnist, fashion_mnist: a local Keras-layout .npz (found through $ACAI_DATA_DIR or an explicit
  folder) or, failing that, keras.datasets' download; padded with -1 from 28 to 32 as in the paper.
- digits: scikit-learn's bundled 8x8 digits, resized to 28x28 and padded like MNIST; always offline.
- cifar10: a local cifar10.npz (Keras layout) or the official binary version (cifar-10-binary.tar.gz or its
  folder cifar-10-batches-bin), else keras.datasets' download. Colour, 32x32 already.
- svhn: the official train_32x32.mat and test_32x32.mat in a local folder (nothing downloads it).
- a path: the user's own images, a folder, .zip or .npz (acai.user_images).
"""

from __future__ import annotations

import dataclasses
import os
import tarfile
import zipfile
from pathlib import Path

import numpy as np

from acai import lines
from acai.config import DATASETS, is_image_source

DATA_DIR_VARIABLE = "ACAI_DATA_DIR"
LINES_TEST_SIZE = 5_000  # the authors' fixed lines test set size
LINES_TRAIN_SAMPLE = 20_000  # a fixed sample of the stream, for probes and latent plots
_KERAS_LOADERS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist", "cifar10": "cifar10"}
CLASS_NAMES = {
    "lines": [f"{36 * k}-{36 * (k + 1)} deg" for k in range(10)],
    "mnist": [str(k) for k in range(10)],
    "digits": [str(k) for k in range(10)],
    "fashion_mnist": ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
    "svhn": [str(k) for k in range(10)],
}
CIFAR_RECORD = 1 + 32 * 32 * 3  # the official binary version: a label byte, then 1,024 R, G and B bytes
CIFAR_FILE_LIMIT = 64 << 20  # a batch file of the binary version is 10,000 records, 29.3 MiB
SVHN_FILES = {"train": "train_32x32.mat", "test": "test_32x32.mat"}


class DatasetError(ValueError):
    """A dataset cannot be had; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Images (N, 32, 32, C) float32 in [-1, 1] and labels (N,) int64 for train and test.

    For lines, x_train is a fixed sample of the stream; training draws fresh lines instead. The user's images
    carry their class names (sub-folders) or none (`labelled` False: every label is 0, and the probe and the
    clustering have nothing to measure), and `source`: where they came from, what was skipped, their digest.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int = 10
    classes: tuple[str, ...] = ()  # class names where the name does not fix them (the user's images)
    labelled: bool = True
    source: dict | None = None

    @property
    def is_stream(self) -> bool:
        return self.name == "lines"

    @property
    def channels(self) -> int:
        return int(self.x_test.shape[-1])

    @property
    def class_names(self) -> list[str]:
        return list(self.classes) if self.classes else CLASS_NAMES[self.name]

    @property
    def title(self) -> str:
        """The name a person reads: the named dataset, or the folder or file the images came from."""
        return Path(self.name).name if is_image_source(self.name) else self.name

    def batch_sampler(self, batch_size: int, seed: int) -> BatchSampler:
        return BatchSampler(self, batch_size, seed)


class BatchSampler:
    """Training batches addressed by step number, so a resumed run sees exactly the same data.

    Image datasets go through shuffled epochs (the remainder dropped); epoch e's order comes from
    the seed and e alone. lines draws fresh lines from a generator seeded by (seed, step).
    """

    def __init__(self, dataset: Dataset, batch_size: int, seed: int, shuffle: bool = True):
        """`shuffle` False: every epoch in the dataset's own order (tests that need to know which images a
        step gets)."""
        usable = len(dataset.x_train) - len(dataset.x_train) % batch_size
        if dataset.source is not None and len(dataset.x_train) < 2 * batch_size:
            raise DatasetError(
                f"{dataset.title} has {len(dataset.x_train)} training images (after its 10% test split), fewer than "
                f"two batches of {batch_size}: add images, or train with a batch size of at most "
                f"{max(2, len(dataset.x_train) // 2 // 2 * 2)}")
        if not dataset.is_stream and usable == 0:
            raise DatasetError(
                f"batch size {batch_size} exceeds the {len(dataset.x_train)} training images of {dataset.title}"
            )
        self.dataset = dataset
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self._batches_per_epoch = usable // batch_size
        self._epoch = -1
        self._order = np.empty(0, dtype=np.int64)

    def batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Images (B, 32, 32, 1) float32 and labels (B,) int64 for training step `step`."""
        if self.dataset.is_stream:
            return lines.sample_lines(self.batch_size, np.random.default_rng([self.seed, 2, step]))
        epoch, index = divmod(step, self._batches_per_epoch)
        if epoch != self._epoch:
            count = len(self.dataset.x_train)
            self._order = (np.random.default_rng([self.seed, 3, epoch]).permutation(count) if self.shuffle
                           else np.arange(count))
            self._epoch = epoch
        chosen = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.dataset.x_train[chosen], self.dataset.y_train[chosen]


def to_model_range(images_uint8: np.ndarray) -> np.ndarray:
    """uint8 0..255 -> float32 in [-1, 1] (x * 2/255 - 1), as the authors scale them."""
    return images_uint8.astype(np.float32) * (2.0 / 255.0) - 1.0


def to_display(images: np.ndarray) -> np.ndarray:
    """[-1, 1] floats -> uint8: clip(round(127.5 + 127.5 x), 0, 255)."""
    return np.clip(np.round(127.5 + 127.5 * np.asarray(images, dtype=np.float32)), 0, 255).astype(np.uint8)


def pad_to_32(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) in [-1, 1] -> (N, 32, 32, 1), padded with the background value -1."""
    return np.pad(images, ((0, 0), (2, 2), (2, 2)), constant_values=-1.0)[..., None]


def to_padded_model_range(images_uint8: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> (N, 32, 32, 1) float32: pad_to_32(to_model_range(images)), the same numbers,
    written into one array instead of four temporaries (MNIST's 70,000 images: 0.97 s -> 0.63 s in the
    app's first run, most of what is left being fresh memory touched; docs/BENCHMARKS.md)."""
    out = np.full((len(images_uint8), 32, 32, 1), -1.0, dtype=np.float32)
    inner = out[:, 2:30, 2:30, 0]
    np.multiply(images_uint8, np.float32(2.0 / 255.0), out=inner, dtype=np.float32)
    inner -= np.float32(1.0)
    return out


def _load_npz(path: Path, name: str, image_shape: tuple[int, ...] = (28, 28)) -> tuple[np.ndarray, ...]:
    """Read a Keras-layout archive without pickle, checking keys, shapes and dtype."""
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in keys if key not in archive.files]
            if missing:
                raise DatasetError(
                    f"{path} is not a Keras-layout {name} archive: it lacks {', '.join(missing)}. "
                    "Expected the keys x_train, y_train, x_test, y_test."
                )
            arrays = tuple(archive[key] for key in keys)
    except DatasetError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise DatasetError(
            f"{path} could not be read as a .npz archive ({error}). Delete it and download "
            f"{name}.npz again, or point ${DATA_DIR_VARIABLE} at a folder with a good copy."
        ) from None
    x_train, y_train, x_test, y_test = arrays
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.shape[1:] != image_shape or len(x) != len(y) or len(x) == 0:
            raise DatasetError(
                f"{path}: x_{split} has shape {x.shape} and y_{split} {y.shape}; "
                f"{name} needs (N, {', '.join(map(str, image_shape))}) images with N matching labels."
            )
        if x.dtype != np.uint8:
            raise DatasetError(f"{path}: x_{split} is {x.dtype}; {name} needs uint8 pixels 0..255.")
    return x_train, y_train, x_test, y_test


def _find_local(name: str, data_dir: str | os.PathLike | None) -> Path | None:
    folder = data_dir if data_dir is not None else os.environ.get(DATA_DIR_VARIABLE)
    if not folder:
        return None
    path = Path(folder).expanduser() / f"{name}.npz"
    if not path.exists():
        raise DatasetError(
            f"{path} does not exist. Put a Keras-layout {name}.npz in {Path(folder).expanduser()} "
            f"or unset ${DATA_DIR_VARIABLE} to download it through keras.datasets."
        )
    return path


def _keras_download(name: str):
    """keras.datasets' own download (and cache) of a named dataset; offline, a message that says what to do."""
    import keras  # deferred: importing keras is slow and only this path needs it

    loader = getattr(keras.datasets, _KERAS_LOADERS[name])
    try:
        return loader.load_data()
    except Exception as error:  # the download raises many types; all mean the same here
        raise DatasetError(
            f"could not download {name} through keras.datasets ({type(error).__name__}: "
            f"{str(error)[:160]}). Offline? Set ${DATA_DIR_VARIABLE} to a folder holding "
            f"{name}.npz (Keras layout), or use the 'digits' or 'lines' dataset."
        ) from None


def _load_keras_layout(name: str, data_dir: str | os.PathLike | None) -> Dataset:
    path = _find_local(name, data_dir)
    if path is not None:
        x_train, y_train, x_test, y_test = _load_npz(path, name)
    else:
        (x_train, y_train), (x_test, y_test) = _keras_download(name)
    return Dataset(
        name=name,
        x_train=to_padded_model_range(x_train),
        y_train=y_train.astype(np.int64),
        x_test=to_padded_model_range(x_test),
        y_test=y_test.astype(np.int64),
    )


def _load_digits() -> Dataset:
    from PIL import Image
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)  # (1797, 8, 8), 0..16 -> 0..255
    resized = np.stack(
        [np.asarray(Image.fromarray(image).resize((28, 28), Image.Resampling.BILINEAR)) for image in pixels]
    )
    images = pad_to_32(to_model_range(resized))
    order = np.random.default_rng(0).permutation(len(images))  # fixed split: 1,437 train / 360 test
    train, test = order[:1437], order[1437:]
    labels = bunch.target.astype(np.int64)
    return Dataset("digits", images[train], labels[train], images[test], labels[test])


def _load_lines(seed: int) -> Dataset:
    rng = np.random.default_rng([seed, 1])  # independent of the training stream's generator
    x_test, y_test = lines.sample_lines(LINES_TEST_SIZE, rng)
    x_train, y_train = lines.sample_lines(LINES_TRAIN_SAMPLE, rng)
    return Dataset("lines", x_train, y_train, x_test, y_test)


def _data_folder(data_dir: str | os.PathLike | None) -> Path | None:
    folder = data_dir if data_dir is not None else os.environ.get(DATA_DIR_VARIABLE)
    return Path(folder).expanduser() if folder else None


def _cifar_records(raw: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """The official binary version's records -> uint8 images (N, 32, 32, 3) and labels (N,)."""
    if len(raw) == 0 or len(raw) % CIFAR_RECORD:
        raise DatasetError(f"{where} is {len(raw):,} bytes, not a whole number of CIFAR-10 records of "
                           f"{CIFAR_RECORD:,} bytes: not the binary version's file, or a damaged one")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, CIFAR_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise DatasetError(f"{where}: labels above 9; not CIFAR-10's binary version")
    return records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _read_cifar_binary(source: Path) -> tuple[np.ndarray, ...]:
    """cifar-10-binary.tar.gz, or its unpacked folder cifar-10-batches-bin: data_batch_1..5.bin, test_batch.bin."""
    names = [f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]
    files: dict[str, bytes] = {}
    try:
        if source.is_dir():
            for name in names:
                if (source / name).is_file():
                    files[name] = (source / name).read_bytes()
        else:
            with tarfile.open(source, "r:gz") as archive:  # read member by member; nothing is extracted
                for member in archive.getmembers():
                    if member.isfile() and Path(member.name).name in names:
                        if member.size > CIFAR_FILE_LIMIT:  # the official batches are 30 MB each
                            raise DatasetError(f"{source}: {member.name} is {member.size >> 20} MiB; not CIFAR-10's")
                        files[Path(member.name).name] = archive.extractfile(member).read()
    except (OSError, tarfile.TarError, EOFError) as error:
        raise DatasetError(f"{source} could not be read as CIFAR-10's binary version ({error})") from None
    missing = [name for name in names if name not in files]
    if missing:
        raise DatasetError(f"{source} lacks {', '.join(missing)} of CIFAR-10's binary version")
    train = [_cifar_records(files[name], f"{source}/{name}") for name in names[:5]]
    x_test, y_test = _cifar_records(files["test_batch.bin"], f"{source}/test_batch.bin")
    return np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_test, y_test


def _load_cifar10(data_dir: str | os.PathLike | None) -> Dataset:
    folder = _data_folder(data_dir)
    if folder is not None:
        candidates = [folder / "cifar10.npz", folder / "cifar-10-binary.tar.gz", folder / "cifar-10-batches-bin"]
        found = next((path for path in candidates if path.exists()), None)
        if found is None:
            raise DatasetError(f"{folder} holds none of cifar10.npz (Keras layout), cifar-10-binary.tar.gz or "
                               f"cifar-10-batches-bin/ (the official binary version). Put one there, or unset "
                               f"${DATA_DIR_VARIABLE} to download CIFAR-10 through keras.datasets.")
        if found.suffix == ".npz":
            x_train, y_train, x_test, y_test = _load_npz(found, "cifar10", image_shape=(32, 32, 3))
        else:
            x_train, y_train, x_test, y_test = _read_cifar_binary(found)
    else:
        (x_train, y_train), (x_test, y_test) = _keras_download("cifar10")
    return Dataset("cifar10", to_model_range(x_train), y_train.reshape(-1).astype(np.int64),
                   to_model_range(x_test), y_test.reshape(-1).astype(np.int64))


def _read_svhn(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One official SVHN file (MATLAB 5: X (32, 32, 3, N) uint8, y (N, 1) with 10 for the digit 0)."""
    from scipy.io import loadmat  # MATLAB 5 files are data only: nothing in them runs

    try:
        arrays = loadmat(path, variable_names=("X", "y"))
    except (OSError, ValueError, TypeError, NotImplementedError) as error:
        raise DatasetError(f"{path} could not be read as an SVHN .mat file ({error})") from None
    x, y = arrays.get("X"), arrays.get("y")
    if x is None or y is None or x.ndim != 4 or x.shape[:3] != (32, 32, 3) or x.dtype != np.uint8 \
            or y.size != x.shape[3]:
        raise DatasetError(f"{path} is not an official SVHN file: it needs X of shape (32, 32, 3, N) uint8 and "
                           f"y with N labels")
    labels = y.reshape(-1).astype(np.int64) % 10  # SVHN writes the digit 0 as 10
    return np.ascontiguousarray(x.transpose(3, 0, 1, 2)), labels


def _load_svhn(data_dir: str | os.PathLike | None) -> Dataset:
    folder = _data_folder(data_dir)
    paths = {split: folder / name for split, name in SVHN_FILES.items()} if folder is not None else {}
    if folder is None or not all(path.is_file() for path in paths.values()):
        where = f"{folder} lacks them" if folder is not None else f"no folder given (--data-dir or ${DATA_DIR_VARIABLE})"
        raise DatasetError(f"SVHN is read from its official files {SVHN_FILES['train']} and {SVHN_FILES['test']} "
                           f"(http://ufldl.stanford.edu/housenumbers/), which acai does not download: {where}.")
    x_train, y_train = _read_svhn(paths["train"])
    x_test, y_test = _read_svhn(paths["test"])
    return Dataset("svhn", to_model_range(x_train), y_train, to_model_range(x_test), y_test)


def _load_user_images(path: str, seed: int, progress=None, content: bytes | None = None, name: str | None = None,
                      limits=None) -> Dataset:
    from acai.user_images import ImagesError, Limits, load_images

    try:
        images = load_images(path, seed=seed, progress=progress, content=content, limits=limits or Limits())
    except ImagesError as error:
        raise DatasetError(str(error)) from None
    labelled = images.class_names is not None
    zeros = (np.zeros(len(images.x_train), np.int64), np.zeros(len(images.x_test), np.int64))
    return Dataset(
        name=name or path,
        x_train=to_model_range(images.x_train),
        y_train=images.y_train if labelled else zeros[0],
        x_test=to_model_range(images.x_test),
        y_test=images.y_test if labelled else zeros[1],
        num_classes=len(images.class_names) if labelled else 1,
        classes=images.class_names if labelled else ("all",),
        labelled=labelled,
        source=images.source,
    )


def dataset_from_upload(filename: str, content: bytes, seed: int = 0, progress=None, limits=None) -> Dataset:
    """The user's images from an uploaded .zip or .npz, decoded in memory (nothing touches the disk). Its name,
    "upload/<digest>/<file name>", is the same for the same bytes and differs for others, so that caches keyed
    by dataset name never mix two uploads."""
    import hashlib

    digest = hashlib.sha256(content).hexdigest()[:12]
    return _load_user_images(Path(filename).name, seed, progress, content=content,
                             name=f"upload/{digest}/{Path(filename).name}", limits=limits)


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, seed: int = 0, progress=None) -> Dataset:
    """Load a dataset by name, or the user's images by path.

    Args:
        name: one of lines, mnist, fashion_mnist, digits, cifar10, svhn; or the path of a folder of images, a
            .zip of one, or a Keras-layout .npz.
        data_dir: folder with local copies (Keras-layout archives, CIFAR-10's binary version, SVHN's .mat
            files); defaults to $ACAI_DATA_DIR, then download where keras.datasets can.
        seed: seed of the lines test set and sample, and of the held-out split of the user's images.
        progress: called with (done, total) while the user's images decode.
    Raises:
        DatasetError: with a message that says what to do.
    """
    if name in DATASETS:
        if name == "lines":
            return _load_lines(seed)
        if name == "digits":
            return _load_digits()
        if name == "cifar10":
            return _load_cifar10(data_dir)
        if name == "svhn":
            return _load_svhn(data_dir)
        return _load_keras_layout(name, data_dir)
    if is_image_source(name):
        return _load_user_images(name, seed, progress)
    raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}, or give the path of your "
                       "own images: a folder, a .zip of one, or a .npz (e.g. ./photos)")
