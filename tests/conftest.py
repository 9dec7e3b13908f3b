import os
from pathlib import Path

import pytest

from acai.machine import configure_tensorflow

configure_tensorflow()  # before any test loads TensorFlow, as every entry point does
os.environ.setdefault("ACAI_DEBUG", "1")  # the app's page boundary lets errors through to AppTest
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if "ACAI_DATA_DIR" not in os.environ and (SHARED_DATA / "mnist.npz").exists():
    os.environ["ACAI_DATA_DIR"] = str(SHARED_DATA)


def pytest_xdist_auto_num_workers(config):
    """`-n auto` (pyproject.toml): one worker per core this process may use (its affinity and a container's CPU
    quota, which xdist's own count ignores), at most four: each worker holds its own TensorFlow."""
    from acai.machine import usable_cores

    return min(usable_cores(), 4)


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives headless Chromium against `streamlit run`")
    config.addinivalue_line("markers", "slow: subprocesses, trainings longer than a few seconds, the browser "
                                       "(`pytest -m 'not slow'` for day-to-day work; CI runs everything)")


@pytest.fixture(scope="session")
def tiny_config():
    """The official conv architecture, narrowed so that tests train in seconds: a 16x16 latent map, so one
    scale of convolutions and pooling. Fewer layers, fewer variables for the four Adams: a new trainer's first
    step (tracing included) takes about 5 s instead of 8-10 s with a 4x4 map's three scales
    (bench/trainer_startup.py; docs/NOTEBOOK.md)."""
    from acai.config import Config

    return Config(dataset="lines", depth=8, latent_width=16, latent_size=256, batch_size=32)


@pytest.fixture(scope="session")
def lines_dataset():
    from acai.data import load_dataset

    return load_dataset("lines")


@pytest.fixture(scope="session")
def mnist_available():
    data_dir = os.environ.get("ACAI_DATA_DIR")
    if not data_dir or not (Path(data_dir) / "mnist.npz").exists():
        pytest.skip("set ACAI_DATA_DIR to a folder with mnist.npz")
    return Path(data_dir)


def _colour_zip(count: int, folder: str = "shapes", seed: int = 0) -> bytes:
    """A .zip of `count` colour pictures of several sizes in two sub-folders (labels), PNG and JPEG, and a text
    file that is skipped."""
    import io
    import zipfile

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for k in range(count):
            colour = (230, 40, 40) if k % 2 else (40, 90, 230)
            picture = Image.new("RGB", (int(rng.integers(40, 120)), int(rng.integers(40, 120))), colour)
            picture.paste((250, 220, 40), (10, 10, 10 + k % 25, 30))
            file = io.BytesIO()
            picture.save(file, format="PNG" if k % 2 else "JPEG")
            archive.writestr(f"{folder}/{'red' if k % 2 else 'blue'}/{k:03d}.{'png' if k % 2 else 'jpg'}",
                             file.getvalue())
        archive.writestr(f"{folder}/notes.txt", "not a picture")
    return buffer.getvalue()


@pytest.fixture
def colour_zip():
    """colour_zip(count) -> the bytes of a .zip of generated colour pictures (the app and browser tests' uploads)."""
    return _colour_zip
