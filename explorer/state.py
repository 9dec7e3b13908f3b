"""Shared, cached resources (datasets, pretrained models) and per-session state (own models,
endpoints, trainer). Read-only things are cached once per process; everything a session changes
lives in st.session_state, so two browser tabs never share a trainer or a history."""

from __future__ import annotations

import dataclasses
import os
import uuid
from pathlib import Path

import numpy as np
import streamlit as st

from acai import checkpoints
from acai.config import Config
from acai.data import Dataset, DatasetError, load_dataset


def pretrained_dir() -> Path:
    """pretrained/ beside the app, or $ACAI_PRETRAINED_DIR."""
    return Path(os.environ.get("ACAI_PRETRAINED_DIR", Path(__file__).resolve().parents[1] / "pretrained"))

FALLBACK_DATASET = "lines"  # rendered on the fly: always there


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A model the app can use: pretrained (folder) or made in this session (session key)."""

    key: str
    label: str
    config: Config
    folder: str | None = None
    metrics: tuple = ()  # (name, value) pairs from the model card

    @property
    def kind(self) -> str:
        return "baseline" if self.config.is_baseline else "acai"


@st.cache_resource(show_spinner="Loading dataset…")
def available_dataset(name: str) -> tuple[Dataset, str | None]:
    """The dataset, or the always-there fallback with a message saying why.

    Cached either way, so an offline machine does not retry the download on every rerun.
    """
    try:
        return load_dataset(name), None
    except DatasetError as error:
        return available_dataset(FALLBACK_DATASET)[0], f"{error} Showing the {FALLBACK_DATASET!r} dataset instead."


def pretrained_entries() -> list[ModelEntry]:
    """Every valid checkpoint folder under pretrained/ (checked cheaply: its config.json)."""
    return _scan(str(pretrained_dir()))


@st.cache_data(ttl=60, show_spinner=False)
def _scan(root: str) -> list[ModelEntry]:
    entries, root = [], Path(root)
    if root.is_dir():
        for folder in sorted(root.iterdir()):
            try:
                manifest = checkpoints.read_manifest(folder)
                config = Config.from_dict(manifest["config"])
            except (checkpoints.CheckpointError, ValueError, TypeError):
                continue
            metrics = tuple((k, v) for k, v in manifest["metrics"].items() if isinstance(v, (int, float)))
            key = f"pretrained/{folder.name}@{manifest['step']}"  # a re-export is a new key
            entries.append(ModelEntry(key, folder.name, config, str(folder), metrics))
    return entries


@st.cache_resource(show_spinner="Loading model…", max_entries=16)
def _load_pretrained(folder: str, modified: float):
    del modified  # part of the cache key: a re-exported model is loaded afresh
    return checkpoints.load_checkpoint(folder).networks


def session_models() -> dict[str, tuple[ModelEntry, object]]:
    """Models saved or uploaded in this browser session: key -> (entry, networks)."""
    return st.session_state.setdefault("session_models", {})


def entries_for(dataset_name: str) -> list[ModelEntry]:
    own = [entry for entry, _ in session_models().values()]
    return [entry for entry in pretrained_entries() + own if entry.config.dataset == dataset_name]


def networks_for(entry: ModelEntry):
    """The entry's networks; a broken checkpoint shows its message and stops this page's run."""
    if entry.folder is None:
        return session_models()[entry.key][1]
    try:
        return _load_pretrained(entry.folder, (Path(entry.folder) / checkpoints.CONFIG_FILE).stat().st_mtime)
    except (checkpoints.CheckpointError, OSError) as error:
        st.error(f"The model {entry.label!r} cannot be used: {error}")
        st.stop()


PREFERRED_DATASETS = ("mnist", "fashion_mnist", "lines", "digits")


def default_dataset() -> tuple[str, str | None]:
    """The first dataset, in order of preference, that has a pretrained model and can be loaded,
    and why the preferred one could not be used (None if it could)."""
    with_models = {entry.config.dataset for entry in pretrained_entries()}
    reason = None
    for name in PREFERRED_DATASETS:
        if name in with_models:
            problem = available_dataset(name)[1]
            if problem is None:
                return name, reason
            reason = reason or problem.split(" Showing the ")[0]
    return FALLBACK_DATASET, reason


def add_session_model(label: str, config: Config, networks) -> ModelEntry:
    models = session_models()
    # Cached results are shared by every session (st.cache_data), so the key must be unique across
    # sessions, not just within this one.
    key = f"session/{uuid.uuid4().hex}"
    entry = ModelEntry(key, f"{label} (this session)", config)
    models[key] = (entry, networks)
    return entry


# Endpoints of the interpolation, shared by the Interpolate and Latent space pages.
# Each is ("test", index) into the dataset's test set, or ("upload", image array).
def endpoint_image(data: Dataset, endpoint) -> np.ndarray:
    kind, value = endpoint
    return data.x_test[value] if kind == "test" else value


def endpoints(data: Dataset) -> tuple:
    key = f"endpoints/{data.name}"
    if key not in st.session_state:
        st.session_state[key] = [("test", 0), ("test", 1)]
    return st.session_state[key]


def set_endpoint(data: Dataset, which: int, endpoint) -> None:
    pair = list(endpoints(data))
    pair[which] = endpoint
    st.session_state[f"endpoints/{data.name}"] = pair
