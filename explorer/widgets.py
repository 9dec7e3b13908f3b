"""UI helpers that return values; shared by the pages."""

from __future__ import annotations

import numpy as np
import streamlit as st

from acai import images
from acai.config import DATASETS
from explorer import state

DATASET_LABELS = state.DATASET_LABELS


def dataset_picker(key: str = "dataset"):
    """A dataset selector; returns the loaded Dataset (falling back, with a message, if needed)."""
    default, reason = state.default_dataset()
    warned = state.session().warned
    if reason and "default" not in warned:
        warned.add("default")  # said once per session
        st.info(f"{reason} Opening with {DATASET_LABELS[default]} instead.")
    choice = st.selectbox("Dataset", DATASETS, key=key, format_func=DATASET_LABELS.get,
                          index=DATASETS.index(default))
    data, problem = state.available_dataset(choice)
    if problem and choice not in warned:
        warned.add(choice)
        st.warning(problem)
    elif problem:
        st.caption(f"{DATASET_LABELS[choice]} is unavailable here; showing {DATASET_LABELS[data.name]}.")
    return data


def model_picker(entries, label: str, key: str, kind: str | None = None, allow_none: bool = False):
    """Pick one of `entries` (preferring `kind`: 'acai' or 'baseline'); returns a ModelEntry or None."""
    options = list(entries)
    if kind is not None:  # the preferred kind first; then the official conv architecture, smallest latent
        options.sort(key=lambda entry: (entry.kind != kind, entry.config.architecture != "conv",
                                        entry.config.latent_size))
    if allow_none:
        options = options + [None]
    if not options:
        return None
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]  # the list changed (another dataset): start from the default
    return st.selectbox(label, options, key=key, format_func=lambda e: "— none —" if e is None else e.label)


def frame(image: np.ndarray, caption: str | None = None, scale: int = 4) -> None:
    st.image(images.enlarge(image, scale), caption=caption, width="stretch", output_format="PNG")


def frames_row(frames: np.ndarray, captions: list[str] | None = None, scale: int = 3) -> None:
    """A row of frames, each with an optional caption under it."""
    for index, column in enumerate(st.columns(len(frames), gap="small")):
        with column:
            frame(frames[index], captions[index] if captions else None, scale)


def keep_images_bright() -> None:
    """Streamlit fades every element of a fragment while it reruns; a page that redraws every few seconds
    while training would show its pictures washed out most of the time. Keep them at full opacity."""
    st.html("<style>[data-testid='stElementContainer'][data-stale='true'], [data-stale='true'] * "
            "{opacity: 1 !important; transition: none !important;}</style>")
