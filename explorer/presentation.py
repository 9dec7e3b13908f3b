"""Presentation mode (`present=1` in the address, or the sidebar's toggle): for a projector.

Larger type everywhere, bigger frames and fewer controls on Interpolate (its settings fold into one
expander; the gallery, the upload, the grid and the downloads go), and no Streamlit toolbar.
"""

from __future__ import annotations

import streamlit as st

from explorer import address, session
from explorer.state import Notices

KEY = "present"
ON_VALUES, OFF_VALUES = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")

_STYLE = """<style>
html { font-size: 20px; }
[data-testid="stToolbar"], [data-testid="stDecoration"] { display: none; }
.block-container, [data-testid="stMainBlockContainer"] { padding-top: 1.5rem; max-width: 100%; }
[data-testid="stImageCaption"], [data-testid="stCaptionContainer"] { font-size: 1rem; color: inherit; }
h1 { font-size: 2.2rem; }
</style>"""


def opened_in_it() -> bool:
    """Whether the opening address asks for presentation mode (the sidebar then starts folded)."""
    return address.opening_params().get(KEY, "").lower() in ON_VALUES


def restore(notices: Notices) -> None:
    """Presentation mode from the opening address (once per session)."""
    value = address.opening_params().get(KEY)
    visitor = session.current()
    if value is None or "present" in visitor.views_restored:
        return
    visitor.views_restored.add("present")
    if value.lower() in ON_VALUES:
        address.preset_widget(KEY, True)
    elif value.lower() not in OFF_VALUES:
        notices.add(KEY, value, "use 1 or 0")


def toggle() -> bool:
    """The sidebar's switch; applies the mode's style when on. Returns whether it is on."""
    on = st.sidebar.toggle("Presentation mode", key=KEY,
                           help="Larger frames and type, fewer controls: for a projector. "
                                "Add present=1 to the address to open in it.")
    if on:
        st.html(_STYLE)
    return on


def is_on() -> bool:
    return bool(st.session_state.get(KEY))
