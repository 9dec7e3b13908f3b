"""What the whole server process shares, loaded once: datasets, the scan of pretrained/, pretrained networks
and the device. Read-only for the sessions; nothing here belongs to one browser session."""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import streamlit as st

from acai import checkpoints, machine
from acai.config import Config
from acai.data import Dataset, DatasetError, load_dataset
from explorer import runtime
from explorer.state import ModelEntry

log = logging.getLogger(__name__)

FALLBACK_DATASET = "lines"  # rendered on the fly: always there
DATASET_LABELS = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "lines": "Lines (synthetic)",
                  "digits": "Digits (8x8 upscaled)", "cifar10": "CIFAR-10", "svhn": "SVHN"}


def dataset_label(name: str) -> str:
    """What a person reads for a dataset name: "MNIST", or "fruit.zip (yours)" for the visitor's own images."""
    return DATASET_LABELS.get(name) or f"{Path(name).name} (yours)"
PREFERRED_DATASETS = ("mnist", "fashion_mnist", "lines", "digits")


def pretrained_dir() -> Path:
    """pretrained/ beside the app, or $ACAI_PRETRAINED_DIR."""
    return Path(os.environ.get("ACAI_PRETRAINED_DIR", Path(__file__).resolve().parents[1] / "pretrained"))


@dataclasses.dataclass(frozen=True)
class Unavailable:
    """Why a dataset could not be loaded (`reason`, the loader's own words) and what is shown instead."""

    reason: str
    fallback: str

    @property
    def message(self) -> str:
        return f"{self.reason} Showing the {self.fallback!r} dataset instead."


@st.cache_resource(show_spinner="Loading dataset…")
def available_dataset(name: str) -> tuple[Dataset, Unavailable | None]:
    """The dataset, or the always-there fallback and why.

    Cached either way, so an offline machine does not retry the download on every rerun.
    """
    try:
        return load_dataset(name), None
    except DatasetError as error:
        return available_dataset(FALLBACK_DATASET)[0], Unavailable(str(error), FALLBACK_DATASET)


def pretrained_entries() -> list[ModelEntry]:
    """Every valid checkpoint folder under pretrained/ (checked cheaply: its config.json)."""
    return _scan(str(pretrained_dir()))


@st.cache_data(ttl=60, show_spinner=False)
def _scan(root: str) -> list[ModelEntry]:
    entries, root = [], Path(root)
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            if not (folder / checkpoints.CONFIG_FILE).is_file():
                continue
            try:
                manifest = checkpoints.read_manifest(folder)
                config = Config.from_dict(manifest["config"])
            except (checkpoints.CheckpointError, ValueError, TypeError) as error:
                log.warning("skipping %s: %s", folder, error)  # one bad folder must not hide the others
                continue
            metrics = tuple((k, v) for k, v in manifest["metrics"].items()
                            if isinstance(v, (int, float)) and not isinstance(v, bool))
            key = f"pretrained/{folder.name}@{manifest['step']}"  # a re-export is a new key
            entries.append(ModelEntry(key, folder.name, config, str(folder), metrics))
    return entries


@st.cache_resource(show_spinner="Loading the model (and TensorFlow, on the app's first visit)…", max_entries=16)
def load_pretrained(folder: str, modified: float):
    del modified  # part of the cache key: a re-exported model is loaded afresh
    networks = checkpoints.load_checkpoint(folder).networks
    runtime.settle_heap()  # cached for the life of the process: no full collection need walk it again
    return networks


def race_start(preset: str) -> Path | None:
    """The shipped warm start of a race preset (race-starts/PRESET-plain: a plain autoencoder that already
    reconstructs), or None."""
    folder = Path(__file__).resolve().parents[1] / "race-starts" / f"{preset}-plain"
    return folder if (folder / checkpoints.CONFIG_FILE).is_file() else None


@st.cache_resource(show_spinner="Loading the warm start…", max_entries=4)
def load_start(folder: str, modified: float) -> checkpoints.Checkpoint:
    """A warm start's checkpoint, loaded once (a race copies its networks; this one is never trained)."""
    del modified  # part of the cache key
    return checkpoints.load_checkpoint(folder)


@st.cache_resource(show_spinner=False)
def compute_device() -> str:
    """Where this process trains (acai.machine.compute_device), looked up once."""
    return machine.compute_device()


def default_dataset() -> tuple[str, Unavailable | None]:
    """The first dataset, in order of preference, that has a pretrained model and can be loaded, and why the
    preferred one could not be used (None if it could)."""
    with_models = {entry.config.dataset for entry in pretrained_entries()}
    reason = None
    for name in PREFERRED_DATASETS:
        if name in with_models:
            problem = available_dataset(name)[1]
            if problem is None:
                return name, reason
            reason = reason or problem
    return FALLBACK_DATASET, reason
