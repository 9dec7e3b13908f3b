"""Evaluate: the paper's benchmarks for the loaded models, beside the published figures."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from acai import evaluation
from explorer import session, widgets

EXPLANATIONS = """
- **Mean Distance** (lines only, lower is better): decode 16 frames between 256 pairs of random lines and
  measure how far each frame is (cosine distance) from the nearest real line. A cross-fade of two lines scores
  high; the paper reports it x 10^-3.
- **Smoothness** (lines only, lower is better): along each path, the largest single jump in angle as a
  fraction of the whole turn, minus the jump of perfectly even steps (1/15). 0 means the angle changes evenly.
- **Linear probe** (higher is better): accuracy of a linear softmax classifier trained on the latent codes.
  It tells whether the classes are linearly separable in latent space.
- **Clustering** (higher is better): K-means (K = 10) on whitened latent codes, scored by the best
  matching of clusters to labels. It tells whether the classes form separate groups without any labels.
- **Reconstruction RMSE**: root mean squared error on the test set, in 0..255 pixel units.
"""


@st.cache_data(max_entries=32, show_spinner="Measuring (this can take a minute)…")
def _measure(model_key: str, _networks, dataset_name: str, _data, quick: bool) -> dict:
    return evaluation.evaluate(_networks, _data, quick=quick)


def render() -> None:
    st.title("Evaluate")
    st.caption("The paper's benchmarks for every model of a dataset, beside the figures the paper published.")
    data = widgets.dataset_picker(key="eval_dataset")
    entries = session.require_entries(data)
    quick = st.toggle("Quick (smaller samples: seconds, not minutes)", value=True, key="eval_quick")
    rows = []
    for entry in entries:
        row = {"model": entry.label, "kind": entry.kind, "latent": entry.config.latent_size}
        row.update({f"card {name}": value for name, value in entry.metrics if name != "step"})
        rows.append(row)
    if st.button("Measure here", key="eval_run", type="primary"):
        session.current().eval_results = {
            entry.key: _measure(entry.key, session.networks_for(entry), data.name, data, quick) for entry in entries}
    measured = session.current().eval_results
    for row, entry in zip(rows, entries):
        row.update({f"measured {name}": value for name, value in measured.get(entry.key, {}).items()})
        row.update({f"paper {name}": value for name, value in evaluation.paper_figures(entry.config).items()})
    table = pd.DataFrame(rows)
    st.dataframe(table, hide_index=True, key="eval_table")
    st.caption("'card' columns were measured when the model was exported (full protocol); 'measured' columns "
               "come from the button above" + (" (quick samples)" if quick else "") + ".")
    st.markdown(EXPLANATIONS)
