"""ACAI Explorer: `streamlit run streamlit_app.py`.

Nothing here loads TensorFlow: the Interpolate page draws its controls first and loads TensorFlow and
the model behind a spinner, so the first paint comes seconds sooner (docs/BENCHMARKS.md)."""

import logging
import os

from acai.machine import configure_tensorflow

# First, before anything loads TensorFlow: its thread pools, which are process-wide (every session's training
# shares them, so concurrent trainings add Python threads, not compute threads), sized to the cores this
# process may use (a container's CPU quota included, which TensorFlow would not see), and its log level.
configure_tensorflow()

import streamlit as st  # noqa: E402

from explorer import address, presentation, session, slots, widgets  # noqa: E402
from explorer.runtime import keep_keras_state  # noqa: E402

keep_keras_state()

st.set_page_config(page_title="ACAI Explorer", page_icon=":material/blur_linear:", layout="wide",
                   initial_sidebar_state="collapsed" if presentation.opened_in_it() else "auto")
pages = {
    "interpolate": st.Page("app_pages/interpolate.py", title="Interpolate", icon=":material/linear_scale:",
                           default=True),
    "train": st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    "race": st.Page("app_pages/race.py", title="Race", icon=":material/sprint:"),
    "latent": st.Page("app_pages/latent.py", title="Latent space", icon=":material/scatter_plot:"),
    "evaluate": st.Page("app_pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
}
notices = address.notices()
current = st.navigation(list(pages.values()))
visitor = session.current()
if not visitor.routed:  # an address such as /?page=race&present=1 opens that page, once
    visitor.routed = True
    requested = address.requested_page(notices)
    if requested is not None and pages[requested].title != current.title:
        st.switch_page(pages[requested], query_params=address.opening_params())
try:
    slots.shared()  # a bad ACAI_TRAINING_SLOTS or _TURN_SECONDS is said here, plainly, not at Start
except ValueError as error:
    st.error(f"The app's settings are wrong: {error}.")
    st.stop()
presentation.restore(notices)
presentation.toggle()
widgets.images_upload()  # the visitor's own images, in the sidebar: a dataset of this session on every page
name = next(name for name, page in pages.items() if page.title == current.title)
if name != "interpolate":  # Interpolate restores and writes its whole view itself, and says what it could not use
    address.show_notices(notices)
    address.publish({"page": name})
try:
    current.run()
except Exception:  # a page's boundary (st.stop and st.rerun are not Exceptions: they pass through)
    logging.getLogger("acai.app").exception("the %s page failed", name)
    st.error("Something went wrong on this page, and it stopped. The error is in the server's log; reload the "
             "page, or pick another model or dataset.", icon=":material/error:")
    if os.environ.get("ACAI_DEBUG"):  # developers and the tests see the error itself
        raise
