"""ACAI Explorer: `streamlit run streamlit_app.py`."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads: no C++ log spam

import streamlit as st  # noqa: E402

from explorer.runtime import keep_keras_state  # noqa: E402

keep_keras_state()

st.set_page_config(page_title="ACAI Explorer", page_icon=":material/blur_linear:", layout="wide")
pages = [
    st.Page("app_pages/interpolate.py", title="Interpolate", icon=":material/linear_scale:", default=True),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/race.py", title="Race", icon=":material/sprint:"),
    st.Page("app_pages/latent.py", title="Latent space", icon=":material/scatter_plot:"),
    st.Page("app_pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
]
st.navigation(pages).run()
