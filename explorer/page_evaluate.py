"""Evaluate: the paper's benchmarks for every model of a dataset, as a results page: a table beside the paper's
figures and a chart of the lines benchmark per model."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from acai import evaluation, models
from explorer import session, widgets

EXPLANATIONS = """
- **Mean Distance** (lines only, lower is better): decode 16 frames between 256 pairs of random lines and
  measure how far each frame is (cosine distance) from the nearest real line. A cross-fade of two lines scores
  high; the paper reports it x 10^-3.
- **Smoothness** (lines only, lower is better): along each path, the largest single jump in angle as a
  fraction of the whole turn, minus the jump of perfectly even steps (1/15). 0 means the angle changes evenly.
  Undefined when every frame of every path shows the same line (a model that decodes everything alike).
- **Linear probe** (higher is better): accuracy of a linear softmax classifier trained on the latent codes.
  It tells whether the classes are linearly separable in latent space.
- **Clustering** (higher is better): K-means (K = 10) on whitened latent codes, scored by the best
  matching of clusters to labels. It tells whether the classes form separate groups without any labels.
- **Reconstruction RMSE**: root mean squared error on the test set, in 0..255 pixel units.
- **Mid-path greyness** (your images without labels, lower is better): the share of mid-range pixel values
  (25% to 75% intensity, every colour channel counted) in the frames at alpha 0.5 between 64 pairs of test
  images. A double exposure of two pictures is washed out towards the middle; it measures contrast, not shape.
"""

# (column title, metric name, scale, digits, higher is better); the paper's figure follows where it has one.
COLUMNS = (
    ("Mean Distance × 10⁻³", "mean_distance", 1e3, 2, False),
    ("Smoothness", "smoothness", 1.0, 2, False),
    ("Linear probe %", "linear_probe", 100.0, 1, True),
    ("Clustering %", "clustering", 100.0, 1, True),
    ("Reconstruction RMSE", "reconstruction_rmse_255", 1.0, 1, False),
)
# Shown only where a model has it: the user's images without labels, which have no probe or clustering.
GREYNESS = ("Mid-path greyness %", "midpoint_grey", 100.0, 1, False)
PAPER_SUFFIX = " (paper)"
MISSING = "—"


@st.cache_data(max_entries=32, show_spinner="Measuring (this can take a minute)…")
def _measure(model_key: str, _networks, dataset_name: str, _data, quick: bool) -> dict:
    return evaluation.evaluate(_networks, _data, quick=quick)


def results_frame(entries, measured: dict[str, dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The results table, one row per model in Table 1's order: the display strings, and a frame of the same
    shape marking the cells where ours beats the paper ("better") for the bold type.

    `measured`: model key -> metrics measured in this session; a model without them shows its card's."""
    rows, marks = [], []
    titles = {table_row.kind: table_row.title for table_row in models.table_rows()}
    with_paper = {name for entry in entries for name in evaluation.paper_figures(entry.config)}
    values = [measured.get(entry.key) or dict(entry.metrics) for entry in entries]
    columns = COLUMNS + ((GREYNESS,) if any(GREYNESS[1] in ours for ours in values) else ())
    for entry in sorted(entries, key=lambda entry: (models.table_position(entry.kind), entry.label)):
        ours = measured.get(entry.key) or dict(entry.metrics)
        paper = evaluation.paper_figures(entry.config)
        row = {"Model": entry.label, "Kind": titles.get(entry.kind, models.get(entry.config.model).title),
               "Latent": entry.config.latent_size,
               "Steps": f"{int(ours['step']):,}" if "step" in ours else MISSING}
        mark = dict.fromkeys(row, "")
        for title, name, scale, digits, higher in columns:
            value, published = ours.get(name), paper.get(name)
            row[title] = _number(value, scale, digits)
            mark[title] = "better" if _beats(value, published, higher) else ""
            if name in with_paper:
                row[title + PAPER_SUFFIX] = _number(published, scale, digits)
                mark[title + PAPER_SUFFIX] = ""
        rows.append(row), marks.append(mark)
    table, marked = pd.DataFrame(rows), pd.DataFrame(marks)
    filled = [column for column in table.columns if (table[column] != MISSING).any()]  # drop empty columns
    return table[filled], marked[filled]


def _number(value, scale: float, digits: int) -> str:
    if value is None or not isinstance(value, (int, float)):
        return MISSING
    return f"{value * scale:.{digits}f}" if math.isfinite(value) else "undefined"


def _beats(ours, paper, higher: bool) -> bool:
    if not all(isinstance(value, (int, float)) and math.isfinite(value) for value in (ours, paper)):
        return False
    return ours > paper if higher else ours < paper


def lines_chart(entries, measured: dict[str, dict]) -> go.Figure:
    """Mean Distance (log scale) and Smoothness per model: bars for ours, diamonds for the paper's."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Mean Distance × 10⁻³ (lower is better)",
                                                           "Smoothness (lower is better)"))
    entries = sorted(entries, key=lambda entry: (models.table_position(entry.kind), entry.label))
    labels = [entry.label for entry in entries]
    for column, (name, scale) in enumerate((("mean_distance", 1e3), ("smoothness", 1.0)), start=1):
        ours = [(measured.get(entry.key) or dict(entry.metrics)).get(name) for entry in entries]
        paper = [evaluation.paper_figures(entry.config).get(name) for entry in entries]
        figure.add_trace(go.Bar(x=labels, y=[_scaled(value, scale) for value in ours], name="this project",
                                marker_color="#5b3cc4", showlegend=column == 1), row=1, col=column)
        figure.add_trace(go.Scatter(x=labels, y=[_scaled(value, scale) for value in paper], mode="markers",
                                    name="the paper (as recalled, unverified)", showlegend=column == 1,
                                    marker=dict(symbol="diamond", size=12, color="#e07b00",
                                                line=dict(width=1, color="#1c1b22"))), row=1, col=column)
    ticks = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]
    figure.update_yaxes(type="log", tickvals=ticks, ticktext=[f"{tick:g}" for tick in ticks], row=1, col=1)
    figure.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10), bargap=0.35,
                         legend=dict(orientation="h", y=-0.35, yanchor="top", x=0, xanchor="left"))
    return figure


def _scaled(value, scale: float):
    return value * scale if isinstance(value, (int, float)) and math.isfinite(value) else None


def _quick_samples(dataset_name: str) -> str:
    """What the quick evaluation measured on (acai.evaluation.evaluate)."""
    lines = "64 line pairs; " if dataset_name == "lines" else ""
    return f" (quick samples: {lines}2,000 training and 2,000 test images)"


def render() -> None:
    st.title("Evaluate")
    st.caption("The paper's benchmarks for every model of a dataset, beside the figures the paper published.")
    data = widgets.dataset_picker(key="eval_dataset")
    entries = session.require_entries(data)
    quick = st.toggle("Quick (smaller samples: seconds, not minutes)", value=True, key="eval_quick")
    if st.button("Measure here", key="eval_run", type="primary"):
        session.current().eval_results = {
            entry.key: _measure(entry.key, session.networks_for(entry), data.name, data, quick) for entry in entries}
    measured = session.current().eval_results
    table, marks = results_frame(entries, measured)
    styled = table.style.apply(lambda _: marks.replace({"better": "font-weight: 700", "": ""}), axis=None)
    st.table(styled.hide(axis="index"))
    here = [entry.label for entry in entries if entry.key in measured]
    st.caption(("Measured here" + (_quick_samples(data.name) if quick else "") + f": {', '.join(here)}. " if here else "")
               + "Other rows: the model card, measured when the model was exported (lines: 5 draws of 256 pairs, "
               "median). Bold: better than the paper's figure. The paper's Table 1 figures are as recalled for this "
               "project and not yet checked against the paper's text (docs/RESULTS.md).")
    if data.name == "lines":
        st.plotly_chart(lines_chart(entries, measured), key="eval_chart", config={"displayModeBar": False})
    st.markdown(EXPLANATIONS)
