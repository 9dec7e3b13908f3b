import os
from pathlib import Path

import pytest

from acai.machine import configure_tensorflow

configure_tensorflow()  # before any test loads TensorFlow, as every entry point does
os.environ.setdefault("ACAI_DEBUG", "1")  # the app's page boundary lets errors through to AppTest
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if "ACAI_DATA_DIR" not in os.environ and (SHARED_DATA / "mnist.npz").exists():
    os.environ["ACAI_DATA_DIR"] = str(SHARED_DATA)


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives headless Chromium against `streamlit run`")
    config.addinivalue_line("markers", "slow: subprocesses, trainings longer than a few seconds, the browser "
                                       "(`pytest -m 'not slow'` for day-to-day work; CI runs everything)")


@pytest.fixture(scope="session")
def tiny_config():
    """The official conv architecture, narrowed so that tests train in seconds."""
    from acai.config import Config

    return Config(dataset="lines", depth=8, latent_width=4, latent_size=32, batch_size=32)


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
