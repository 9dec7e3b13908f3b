"""Shared, cached resources (datasets, pretrained models) and the typed per-session state.

Read-only things are cached once per process. Everything a browser session changes lives in one
SessionState object in st.session_state (widget values aside, which Streamlit keeps by key), so two
tabs never share a training run, a model or an endpoint."""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from acai import checkpoints, machine
from acai.config import Config
from acai.data import Dataset, DatasetError, load_dataset
from explorer import runtime

if TYPE_CHECKING:  # TensorFlow: the Interpolate page draws its controls before it is loaded
    from acai.networks import ACAINetworks
    from explorer.live import LiveRun
    from explorer.views import Notices


def pretrained_dir() -> Path:
    """pretrained/ beside the app, or $ACAI_PRETRAINED_DIR."""
    return Path(os.environ.get("ACAI_PRETRAINED_DIR", Path(__file__).resolve().parents[1] / "pretrained"))

FALLBACK_DATASET = "lines"  # rendered on the fly: always there
DATASET_LABELS = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "lines": "Lines (synthetic)",
                  "digits": "Digits (8x8 upscaled)"}


@dataclasses.dataclass(frozen=True, eq=False)
class ModelEntry:
    """A model the app can use: pretrained (folder) or made in this session (session key).

    Two entries are the same model when their keys are equal (the pickers compare entries from different
    scans of pretrained/; a card's NaN metric, e.g. an undefined Smoothness, would make a field-by-field
    comparison say a model differs from itself)."""

    key: str
    label: str
    config: Config
    folder: str | None = None
    metrics: tuple = ()  # (name, value) pairs from the model card

    def __eq__(self, other) -> bool:
        return isinstance(other, ModelEntry) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def kind(self) -> str:
        return self.config.kind


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


@st.cache_resource(show_spinner="Loading the model (and TensorFlow, on the app's first visit)…", max_entries=16)
def _load_pretrained(folder: str, modified: float):
    del modified  # part of the cache key: a re-exported model is loaded afresh
    networks = checkpoints.load_checkpoint(folder).networks
    runtime.settle_heap()  # cached for the life of the process: no full collection need walk it again
    return networks


Endpoint = tuple  # ("test", index into the test set) or ("upload", image (32, 32, 1))


@dataclasses.dataclass
class SessionState:
    """What one browser session owns."""

    training: LiveRun | None = None  # the Train page's model
    race: LiveRun | None = None  # the Race page's pair
    models: dict[str, tuple[ModelEntry, ACAINetworks]] = dataclasses.field(default_factory=dict)  # saved here
    endpoints: dict[str, list[Endpoint]] = dataclasses.field(default_factory=dict)  # dataset -> [A, B]
    gallery_page: dict[str, int] = dataclasses.field(default_factory=dict)  # dataset -> page
    grid_corners: dict[str, list[int]] = dataclasses.field(default_factory=dict)  # dataset -> [C, D]
    warned: set[str] = dataclasses.field(default_factory=set)  # messages said once already
    weights_download: bytes | None = None
    eval_results: dict[str, dict] = dataclasses.field(default_factory=dict)  # model key -> metrics
    previews: dict[str, tuple[int, float]] = dataclasses.field(default_factory=dict)  # page -> (step, when)
    opening_params: dict[str, str] | None = None  # the query string the session was opened with
    views_restored: set[str] = dataclasses.field(default_factory=set)  # pages whose view it has set
    routed: bool = False  # the opening address's `page` has been honoured
    notices: Notices | None = None  # the opening address's bad values, said once


def session() -> SessionState:
    """This browser session's state."""
    if "acai" not in st.session_state:
        st.session_state["acai"] = SessionState()
    return st.session_state["acai"]


PREVIEW_SECONDS = 2.0  # while training, image previews are decoded again at most this often


def preview_step(page: str, live: LiveRun) -> int:
    """The step whose image previews `page` draws: the current step, except that while training runs a
    new one is taken at most every PREVIEW_SECONDS (decoding previews costs training time)."""
    step, when = session().previews.get(page, (0, -1.0))
    if not live.running or time.monotonic() - when > PREVIEW_SECONDS:
        step, when = live.step, time.monotonic()
        session().previews[page] = (step, when)
    return step


@st.cache_resource(show_spinner=False)
def compute_device() -> str:
    """Where this process trains (acai.machine.compute_device), looked up once."""
    return machine.compute_device()


def entries_for(dataset_name: str) -> list[ModelEntry]:
    own = [entry for entry, _ in session().models.values()]
    return [entry for entry in pretrained_entries() + own if entry.config.dataset == dataset_name]


def require_entries(data: Dataset) -> list[ModelEntry]:
    """The models for this dataset; with none, says where to get one and stops the page."""
    entries = entries_for(data.name)
    if not entries:
        st.info(f"No model for {DATASET_LABELS[data.name]} yet: train one on the **Train** or **Race** page, "
                "or pick another dataset.")
        st.stop()
    return entries


def networks_for(entry: ModelEntry):
    """The entry's networks; a broken checkpoint shows its message and stops this page's run."""
    if entry.folder is None:
        return session().models[entry.key][1]
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


def add_session_model(label: str, config: Config, networks: ACAINetworks) -> ModelEntry:
    """Keep `networks` among this session's models (pass a copy if training goes on)."""
    # Cached results are shared by every session (st.cache_data), so the key must be unique across
    # sessions, not just within this one.
    key = f"session/{uuid.uuid4().hex}"
    entry = ModelEntry(key, f"{label} (this session)", config)
    session().models[key] = (entry, networks)
    return entry


def endpoint_image(data: Dataset, endpoint: Endpoint) -> np.ndarray:
    kind, value = endpoint
    return data.x_test[value] if kind == "test" else value


def endpoints(data: Dataset) -> list[Endpoint]:
    """The interpolation's endpoints A and B on this dataset (Interpolate and Latent space share them)."""
    return session().endpoints.setdefault(data.name, [("test", 0), ("test", 1)])


def set_endpoint(data: Dataset, which: int, endpoint: Endpoint) -> None:
    endpoints(data)[which] = endpoint
