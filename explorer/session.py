"""This browser session's state (explorer.state.SessionState) and what the pages do with it: its models, its
endpoints, its previews. Everything here reads or changes the one SessionState of the session that runs."""

from __future__ import annotations

import time
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from acai import checkpoints
from acai.config import Config, is_image_source
from acai.data import Dataset
from explorer import resources
from explorer.state import Endpoint, ModelEntry, SessionState

if TYPE_CHECKING:
    from acai.networks import ACAINetworks
    from explorer.live import LiveRun

MAX_SESSION_MODELS = 6  # saved or loaded models kept per session; the least recently used goes first
PREVIEW_SECONDS = 2.0  # while training, image previews are decoded again at most this often


def current() -> SessionState:
    """This browser session's state."""
    if "acai" not in st.session_state:
        state = SessionState()
        # When Streamlit drops the session (its tab closed, after the server's grace period), its models go with
        # it; its runs, whose threads outlive it, are told to pause now instead of after their idle time.
        weakref.finalize(state, _pause_runs, state.training, state.race)
        st.session_state["acai"] = state
    return st.session_state["acai"]


def _pause_runs(*slots) -> None:
    for slot in slots:
        if slot.live is not None:
            slot.live.pause()


def preview_step(page: str, live: LiveRun) -> int:
    """The step whose image previews `page` draws: the current step, except that while training runs a
    new one is taken at most every PREVIEW_SECONDS (decoding previews costs training time)."""
    step, when = current().previews.get(page, (0, -1.0))
    if not live.running or time.monotonic() - when > PREVIEW_SECONDS:
        step, when = live.step, time.monotonic()
        current().previews[page] = (step, when)
    return step


def dataset(name: str) -> tuple[Dataset, resources.Unavailable | None]:
    """A dataset by name: one of this session's uploads, or a named one (resources.available_dataset)."""
    own = current().datasets
    if name in own:
        return own[name], None
    if is_image_source(name):  # another session's upload, or one this session no longer has (an old address)
        return resources.available_dataset(resources.FALLBACK_DATASET)[0], resources.Unavailable(
            f"{resources.dataset_label(name)} is not among this session's uploads.", resources.FALLBACK_DATASET)
    return resources.available_dataset(name)


def add_dataset(data: Dataset) -> None:
    """Keep an upload's dataset for this session (in memory; it goes when the session ends)."""
    current().datasets[data.name] = data


def entries_for(dataset_name: str) -> list[ModelEntry]:
    own = [entry for entry, _ in current().models.values()]
    return [entry for entry in resources.pretrained_entries() + own if entry.config.dataset == dataset_name]


def require_entries(data: Dataset) -> list[ModelEntry]:
    """The models for this dataset; with none, says where to get one and stops the page."""
    entries = entries_for(data.name)
    if not entries:
        st.info(f"No model for {resources.dataset_label(data.name)} yet: train one on the **Train** or **Race** "
                "page, or pick another dataset.")
        st.stop()
    return entries


def networks_for(entry: ModelEntry):
    """The entry's networks; a broken checkpoint, or a session model dropped for room, shows its message and
    stops this page's run."""
    if entry.folder is None:
        own = current().models
        if entry.key not in own:
            st.warning(f"{entry.label} is no longer kept in this session (at most {MAX_SESSION_MODELS} are); "
                       "pick another model.")
            st.stop()
        own.move_to_end(entry.key)  # recently used
        return own[entry.key][1]
    try:
        return resources.load_pretrained(entry.folder, (Path(entry.folder) / checkpoints.CONFIG_FILE).stat().st_mtime)
    except (checkpoints.CheckpointError, OSError) as error:
        st.error(f"The model {entry.label!r} cannot be used: {error}")
        st.stop()


def add_session_model(label: str, config: Config, networks: ACAINetworks) -> ModelEntry:
    """Keep `networks` among this session's models (pass a copy if training goes on). At most
    MAX_SESSION_MODELS are kept: the least recently used one goes, and the page says so (`evicted`)."""
    # Cached results are shared by every session (st.cache_data), so the key must be unique across
    # sessions, not just within this one.
    key = f"session/{uuid.uuid4().hex}"
    entry = ModelEntry(key, f"{label} (this session)", config)
    own = current().models
    own[key] = (entry, networks)
    while len(own) > MAX_SESSION_MODELS:
        _, (dropped, _) = own.popitem(last=False)
        current().evicted.append(dropped.label)
    return entry


def say_evicted() -> None:
    """Tell the visitor which of their models were dropped to make room (once)."""
    dropped = current().evicted
    if dropped:
        st.info(f"This session keeps at most {MAX_SESSION_MODELS} models of its own, so the least recently used "
                f"went: {', '.join(dropped)}. Download a model's weights on the Train page to keep it.")
        dropped.clear()


def endpoint_image(data: Dataset, endpoint: Endpoint) -> np.ndarray:
    kind, value = endpoint
    return data.x_test[value] if kind == "test" else value


def endpoints(data: Dataset) -> list[Endpoint]:
    """The interpolation's endpoints A and B on this dataset (Interpolate and Latent space share them)."""
    return current().endpoints.setdefault(data.name, [("test", 0), ("test", 1)])


def set_endpoint(data: Dataset, which: int, endpoint: Endpoint) -> None:
    endpoints(data)[which] = endpoint


def choose_endpoints(data: Dataset, *chosen: tuple[int, Endpoint]) -> None:
    """Set endpoints ((which, endpoint) pairs: 0 is A, 1 is B) and rerun the page to show them."""
    for which, endpoint in chosen:
        set_endpoint(data, which, endpoint)
    st.rerun()
