"""UI helpers that return values; shared by the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from acai import user_images
from acai.config import DATASETS
from acai.data import DatasetError, dataset_from_upload
from explorer import address, compute, resources, session, state

if TYPE_CHECKING:
    from explorer.live import LiveRun

DATASET_LABELS = resources.DATASET_LABELS
WAITING_SECONDS = 3.0  # a queued run's page looks for its turn this often (each redraw costs the trainers time)


DATASET_KEYS = ("interp_dataset", "latent_dataset", "eval_dataset", "train_dataset")  # every page's picker
UPLOAD_LIMITS = user_images.Limits(archive_bytes=200 << 20, images=50_000)  # per upload; the server's cap is 200 MB


def dataset_options() -> list[str]:
    """The named datasets, then this session's own images."""
    return list(DATASETS) + list(session.current().datasets)


def dataset_picker(key: str = "dataset"):
    """A dataset selector; returns the loaded Dataset (falling back, with a message, if needed)."""
    default, reason = resources.default_dataset()
    warned = session.current().warned
    if reason and "default" not in warned:
        warned.add("default")  # said once per session
        st.info(f"{reason.reason} Opening with {resources.dataset_label(default)} instead.")
    options = dataset_options()
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]  # an upload of another session (a shared address): start from the default
    choice = st.selectbox("Dataset", options, key=key, format_func=resources.dataset_label,
                          index=options.index(opening_dataset(default)))
    data, problem = session.dataset(choice)
    if problem and choice not in warned:
        warned.add(choice)
        st.warning(problem.message)
    elif problem:
        st.caption(f"{resources.dataset_label(choice)} is unavailable here; showing "
                   f"{resources.dataset_label(data.name)}.")
    if data.source is not None:
        st.caption(f"{data.title}: {user_images.summary(data.source)}.")
    return data


def opening_dataset(default: str) -> str:
    """The dataset a picker opens on: the visitor's latest upload, else `default`. (Streamlit forgets a page's
    widgets while another page shows, so every page opens on the visitor's own images once there are some.)"""
    own = list(session.current().datasets)
    return own[-1] if own else default


def images_upload() -> None:
    """The sidebar's "Your images": a .zip of a folder of pictures or a Keras-layout .npz becomes a dataset of
    this session on every page (decoded in memory, with a progress bar; bad files are answered in words)."""
    with st.sidebar.expander("Your images", icon=":material/add_photo_alternate:"):
        st.caption("A .zip of a folder of PNG, JPEG, WebP or BMP pictures (sub-folders become labels) or an .npz "
                   "with x_train (and x_test, y_train, y_test). Each picture is centre-cropped to a square and "
                   f"resized to 32x32; {UPLOAD_LIMITS.describe()}.")
        upload = st.file_uploader("Upload .zip or .npz", type=["zip", "npz"], key="images_upload")
        if upload is None:
            return
        done = session.current().uploads
        if upload.file_id not in done:
            bar = st.progress(0.0, text=f"Decoding {upload.name}…")
            try:
                def progress(done_images: int, total: int) -> None:
                    if done_images == total or done_images % max(1, total // 50) == 0:  # 50 updates, not 10,000
                        bar.progress(done_images / max(total, 1), text=f"Decoding {done_images:,} / {total:,} pictures")

                data = dataset_from_upload(upload.name, upload.getvalue(), limits=UPLOAD_LIMITS, progress=progress)
            except DatasetError as error:
                bar.empty()
                done[upload.file_id] = str(error)
            else:
                bar.empty()
                session.add_dataset(data)
                done[upload.file_id] = data.name
                for key in DATASET_KEYS:  # the page on show switches to the new images (the others open on them)
                    st.session_state[key] = data.name
        outcome = done[upload.file_id]
        if outcome in session.current().datasets:
            st.success(f"{resources.dataset_label(outcome)}: {user_images.summary(session.current().datasets[outcome].source)}")
        else:
            st.error(outcome)


ALL_MODELS = address.ALL_MODELS  # the Compare picker's "All models" choice (its address value too)


def model_picker(entries, label: str, key: str, kind: str | None = None, allow_none: bool = False,
                 allow_all: bool = False):
    """Pick one of `entries` (preferring `kind`: 'acai' or 'baseline'); returns a ModelEntry, None ("none")
    or ALL_MODELS ("All models", when allow_all)."""
    options = list(entries)
    if kind is not None:  # the preferred kind first; then the official conv architecture, smallest latent
        options.sort(key=lambda entry: (entry.kind != kind, entry.config.architecture != "conv",
                                        entry.config.latent_size))
    if allow_all:
        options = options + [ALL_MODELS]
    if allow_none:
        options = options + [None]
    if not options:
        return None
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]  # the list changed (another dataset): start from the default
    return st.selectbox(label, options, key=key, format_func=_option_label)


def _option_label(option) -> str:
    if option is None:
        return "— none —"
    return "All models (Table 1)" if option == ALL_MODELS else option.label


def frame(image: np.ndarray | str, caption: str | None = None, scale: int = 4) -> None:
    """One frame, `scale` times enlarged; or a picture already enlarged (compute.mix_picture), shown as it is."""
    picture = image if isinstance(image, str) else compute.picture(image, scale)
    st.image(picture, caption=caption, width="stretch")


def fitting_scale(frames: int, width: int) -> int:
    """The largest enlargement (4, 3 or 2: nearest-neighbour, so whole numbers) at which a row of `frames`
    32-pixel frames fits `width` CSS pixels (the main column of a 1280-pixel-wide window is about 800)."""
    return next((scale for scale in (4, 3) if frames * (32 * scale + 4) <= width), 2)


def frames_row(frames: np.ndarray, captions: list[str] | None = None, scale: int = 3) -> None:
    """A row of frames, `scale` times their size, each with an optional caption under it.

    One element for the whole row (st.image with a list), not a column per frame: every element on a page
    costs the browser time on each rerun (measured in bench/audience.py)."""
    st.image([compute.picture(image, scale) for image in frames], caption=captions, width=32 * scale)


def keep_images_bright() -> None:
    """Streamlit fades every element of a fragment while it reruns; a page that redraws every few seconds
    while training would show its pictures washed out most of the time. Keep them at full opacity."""
    st.html("<style>[data-testid='stElementContainer'][data-stale='true'], [data-stale='true'] * "
            "{opacity: 1 !important; transition: none !important;}</style>")


def run_controls(slot: state.RunSlot, key: str, new_run: Callable[[], LiveRun | None],
                 prepare: Callable[[LiveRun], None] = lambda live: None) -> None:
    """Start, Pause, Resume, Step and Reset for the LiveRun in `slot` (the session's training or race).

    Args:
        key: prefix of the buttons' widget keys ("<key>_start", "<key>_pause", ...).
        new_run: builds a fresh run from the page's settings (None if it cannot, having said why).
        prepare: applies the page's live settings (lambda, gamma) to a run before it trains.
    """
    live = slot.live
    running = live is not None and live.running
    columns = st.columns(5)
    if columns[0].button("Start", key=f"{key}_start", type="primary", width="stretch"):
        if live is not None:
            live.wait_paused()
        fresh = new_run()
        slot.live = fresh
        if fresh is not None:
            prepare(fresh)  # the sliders' values in force from the first step
            fresh.start()
            st.rerun()
    if columns[1].button("Pause", key=f"{key}_pause", width="stretch", disabled=not running):
        live.wait_paused()
        st.rerun()
    if columns[2].button("Resume", key=f"{key}_resume", width="stretch", disabled=live is None or running):
        live.start()
        st.rerun()
    if columns[3].button("Step", key=f"{key}_step", width="stretch", disabled=running):
        if live is None:
            live = new_run()
            slot.live = live
        if live is not None:
            prepare(live)
            live.step_once()
    if columns[4].button("Reset", key=f"{key}_reset", width="stretch", disabled=live is None):
        live.wait_paused()
        slot.live = None
        st.rerun()


def live_status(live: LiveRun | None, hint: str) -> bool:
    """The top of a live page's numbers: `hint` when there is no run yet (returns False), else marks the
    page as seen (so the run keeps training) and shows the error that stopped it, if any."""
    if live is None:
        st.info(hint)
        return False
    live.seen()
    if live.error:
        st.error(live.error)
    place = live.queue_place
    if place:
        training, waiting = live.slots.counts()
        st.warning(f"**Waiting for a training slot: {place} of {waiting} in the queue.** This app trains "
                   f"{live.slots.capacity} model{'s' if live.slots.capacity > 1 else ''} at a time for all its "
                   f"visitors ({training} training now); yours starts when a slot frees, and while others wait "
                   f"each training keeps its slot for at most {live.slots.turn_seconds:.0f} s more.",
                   icon=":material/hourglass_top:")
    return True


def live_fragments(slot: state.RunSlot, numbers: Callable[[LiveRun], None], pictures: Callable[[LiveRun], None],
                   numbers_seconds: float, pictures_seconds: float) -> None:
    """A live page's numbers and pictures, as fragments that redraw themselves while its run trains.

    The numbers redraw every `numbers_seconds` while the run trains, and every WAITING_SECONDS while it
    waits for a slot (they show its place in the queue); the pictures every `pictures_seconds`, but only while it actually trains:
    a queued run's charts and frames do not change, and redrawing them would cost the training sessions
    time. When the run stops by itself (diverged, idle) or starts or stops waiting, the numbers redraw the
    whole page, so that the buttons and the pictures' schedule follow.
    """
    live = slot.live
    was_running = live is not None and live.running
    was_training = was_running and live.queue_place == 0
    if was_running and not was_training:
        numbers_seconds = max(numbers_seconds, WAITING_SECONDS)  # the place in the queue changes rarely

    @st.fragment(run_every=numbers_seconds if was_running else None)
    def numbers_fragment() -> None:
        numbers(slot.live)
        if was_running and slot.live is live and (
                not live.running or (live.queue_place == 0) != was_training):
            st.rerun(scope="app")

    @st.fragment(run_every=pictures_seconds if was_training else None)
    def pictures_fragment() -> None:
        pictures(slot.live)

    numbers_fragment()
    pictures_fragment()
