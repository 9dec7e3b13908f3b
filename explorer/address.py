"""The address bar: the page and the Interpolate view live in its query string, so views can be bookmarked.

Opening an address restores its view once, when the browser session starts; from then on every run
writes the view back, so the address always shows what is on screen. Names:

    page      interpolate | train | race | latent | evaluate
    present   1: presentation mode (larger frames, fewer controls)
    dataset   mnist | fashion_mnist | lines | digits
    model, compare    a model's name as listed in the pickers (a folder of pretrained/); compare also takes
              "none" and "all" (every model of the dataset, one per kind, stacked)
    a, b      test:INDEX, an image of the test set
    alpha     0 to 1
    path      lerp | slerp
    frames    5 to 12 (frames per strip)

A value that is bad or stale (an unknown model, an index out of range, alpha 7) is replaced by the
page's default, and the page says so once, in one short notice that shows the values as code (never as
markdown: an address is anyone's to write).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import streamlit as st

from acai.config import DATASETS
from explorer.session import current
from explorer.state import Endpoint, Notices

PAGES = ("interpolate", "train", "race", "latent", "evaluate")
DEFAULT_PAGE = "interpolate"
PATHS = ("lerp", "slerp")
FRAMES_RANGE = (5, 12)
NO_MODEL = "none"
ALL_MODELS = "all"


class BadValue(ValueError):
    """A query-string value that cannot be used; its message says why, in a few words."""


def parse_alpha(text: str) -> float:
    try:
        alpha = float(text)
    except ValueError:
        raise BadValue("not a number") from None
    if not (math.isfinite(alpha) and 0.0 <= alpha <= 1.0):
        raise BadValue("must be between 0 and 1")
    return round(alpha, 2)  # the slider's resolution


def parse_frames(text: str) -> int:
    try:
        frames = int(text)
    except ValueError:
        raise BadValue("not a whole number") from None
    low, high = FRAMES_RANGE
    if not low <= frames <= high:
        raise BadValue(f"must be {low} to {high}")
    return frames


def parse_choice(text: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if text not in choices:
        raise BadValue("one of " + ", ".join(choices))
    return text


MAX_INDEX_DIGITS = 7  # no test set has ten million images


def parse_test_image(text: str, test_size: int) -> int:
    """`test:INDEX` -> INDEX, checked against the test set's size (ASCII digits only, of bounded length:
    str.isdigit() accepts superscripts that int() refuses, and int() of 10,000 digits raises)."""
    kind, _, index = text.partition(":")
    if kind != "test" or not index or len(index) > MAX_INDEX_DIGITS or not (index.isascii() and index.isdigit()):
        raise BadValue("expected test:INDEX")
    if int(index) >= test_size:
        raise BadValue(f"the test set has {test_size} images (0 to {test_size - 1})")
    return int(index)


def format_endpoint(endpoint: Endpoint) -> str | None:
    """An endpoint as a query value; None for one that cannot be written there (an upload)."""
    kind, value = endpoint
    return f"test:{value}" if kind == "test" else None


def show_notices(notices: Notices) -> None:
    """Say the opening address's bad values, once, each value as code (never rendered as markdown)."""
    if notices.problems:
        st.warning("Some of this address could not be used, so defaults are shown for: "
                   + "; ".join(f"{name}={as_code(value)} ({why})" for name, value, why in notices.problems) + ".",
                   icon=":material/link_off:")
        notices.problems.clear()


def as_code(text: str) -> str:
    """`text` as inline code in Streamlit's markdown, whatever backticks it holds (so a value such as
    [a link](//elsewhere) shows as typed, never as a link)."""
    runs = re.findall("`+", text)
    if not runs:
        return f"`{text}`"
    fence = "`" * (max(len(run) for run in runs) + 1)
    return f"{fence} {text} {fence}"


def notices() -> Notices:
    """This session's collector: the app and the page add to it; whoever draws first shows it."""
    return current().notices


def opening_params() -> dict[str, str]:
    """The query string this browser session was opened with (captured on its first run)."""
    state = current()
    if state.opening_params is None:
        state.opening_params = {name: st.query_params.get(name, "") for name in st.query_params}
    return state.opening_params


def requested_page(notices: Notices) -> str | None:
    """The page the opening address names, or None (no `page`, or a bad one, noted)."""
    value = opening_params().get("page")
    if not value:
        return None
    try:
        return parse_choice(value.lower(), PAGES)
    except BadValue as error:
        notices.add("page", value, str(error))
        return None


def take_request(page: str) -> dict[str, str]:
    """The opening address's values for `page`, handed out once per session (later runs get {}), so
    that they set the view when it opens and never fight the controls afterwards."""
    params = opening_params()
    state = current()
    named = params.get("page", DEFAULT_PAGE).lower()
    opened = named if named in PAGES else DEFAULT_PAGE  # a bad `page` opens the default one
    if page in state.views_restored or opened != page:
        return {}
    state.views_restored.add(page)
    return dict(params)


def preset_widget(key: str, value) -> None:
    """Give a widget its value from the address before the widget is drawn (Streamlit 1.67 logs, once per
    process, that the widget also has a default: harmless, the value set here wins)."""
    st.session_state[key] = value


def restore_dataset(request: Mapping[str, str], key: str, notices: Notices) -> None:
    if "dataset" in request:
        try:
            preset_widget(key, parse_choice(request["dataset"], DATASETS))
        except BadValue as error:
            notices.add("dataset", request["dataset"], str(error))


def restore_model(request: Mapping[str, str], name: str, entries, key: str, notices: Notices,
                  allow_none: bool = False) -> None:
    """Select the model whose label is `request[name]` in the picker `key`."""
    if name not in request:
        return
    wanted = request[name]
    if allow_none and wanted in (NO_MODEL, ALL_MODELS):
        preset_widget(key, None if wanted == NO_MODEL else ALL_MODELS)
        return
    matches = [entry for entry in entries if entry.label == wanted]
    if matches:
        preset_widget(key, matches[0])
    else:
        notices.add(name, wanted, "no such model for this dataset")


def publish(params: Mapping[str, object]) -> None:
    """Make the address show `params` (and presentation mode, when on); written only when it changed,
    so an unchanged view sends the browser nothing."""
    wanted = {name: str(value) for name, value in params.items() if value is not None}
    if st.session_state.get("present"):
        wanted["present"] = "1"
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
