"""Datasets behind one interface: float32 images in [-1, 1] of shape (N, 32, 32, 1), int labels.

- lines: the paper's synthetic benchmark; training is an endless stream of fresh lines.
- mnist, fashion_mnist: a local Keras-layout .npz (found through $ACAI_DATA_DIR or an explicit
  folder) or, failing that, keras.datasets' download; padded with -1 from 28 to 32 as in the paper.
- digits: scikit-learn's bundled 8x8 digits, resized to 28x28 and padded like MNIST; always offline.
"""

from __future__ import annotations

import dataclasses
import os
import zipfile
from pathlib import Path

import numpy as np

from acai import lines
from acai.config import DATASETS

DATA_DIR_VARIABLE = "ACAI_DATA_DIR"
LINES_TEST_SIZE = 5_000  # the authors' fixed lines test set size
LINES_TRAIN_SAMPLE = 20_000  # a fixed sample of the stream, for probes and latent plots
_KERAS_LOADERS = {"mnist": "mnist", "fashion_mnist": "fashion_mnist"}
CLASS_NAMES = {
    "lines": [f"{36 * k}-{36 * (k + 1)} deg" for k in range(10)],
    "mnist": [str(k) for k in range(10)],
    "digits": [str(k) for k in range(10)],
    "fashion_mnist": ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
}


class DatasetError(ValueError):
    """A dataset cannot be had; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Images (N, 32, 32, 1) float32 in [-1, 1] and labels (N,) int64 for train and test.

    For lines, x_train is a fixed sample of the stream; training draws fresh lines instead.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int = 10

    @property
    def is_stream(self) -> bool:
        return self.name == "lines"

    @property
    def class_names(self) -> list[str]:
        return CLASS_NAMES[self.name]

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
        if not dataset.is_stream and usable == 0:
            raise DatasetError(
                f"batch size {batch_size} exceeds the {len(dataset.x_train)} training images of {dataset.name}"
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


def _load_npz(path: Path, name: str) -> tuple[np.ndarray, ...]:
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
        if x.ndim != 3 or x.shape[1:] != (28, 28) or len(x) != len(y) or len(x) == 0:
            raise DatasetError(
                f"{path}: x_{split} has shape {x.shape} and y_{split} {y.shape}; "
                f"{name} needs (N, 28, 28) images with N matching labels."
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


def _load_keras_layout(name: str, data_dir: str | os.PathLike | None) -> Dataset:
    path = _find_local(name, data_dir)
    if path is not None:
        x_train, y_train, x_test, y_test = _load_npz(path, name)
    else:
        import keras  # deferred: importing keras is slow and only this path needs it

        loader = getattr(keras.datasets, _KERAS_LOADERS[name])
        try:
            (x_train, y_train), (x_test, y_test) = loader.load_data()
        except Exception as error:  # the download raises many types; all mean the same here
            raise DatasetError(
                f"could not download {name} through keras.datasets ({type(error).__name__}: "
                f"{str(error)[:160]}). Offline? Set ${DATA_DIR_VARIABLE} to a folder holding "
                f"{name}.npz (Keras layout), or use the 'digits' or 'lines' dataset."
            ) from None
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


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, seed: int = 0) -> Dataset:
    """Load a dataset by name.

    Args:
        name: one of lines, mnist, fashion_mnist, digits.
        data_dir: folder with Keras-layout archives; defaults to $ACAI_DATA_DIR, then download.
        seed: seed of the lines test set and sample (other datasets are fixed).
    Raises:
        DatasetError: with a message that says what to do.
    """
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if name == "lines":
        return _load_lines(seed)
    if name == "digits":
        return _load_digits()
    return _load_keras_layout(name, data_dir)
