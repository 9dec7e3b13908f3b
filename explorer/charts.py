"""Plotly figures shared by the Train and Race pages. Payloads stay small whatever the run's length:
a figure is sent to the browser in full on every redraw, so long histories are averaged into buckets."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

LOSS_COLOURS = {"reconstruction": "#1f77b4", "adversarial": "#d62728", "critic_alpha": "#2ca02c",
                "critic_real": "#9467bd"}
SIDE_COLOURS = {"acai": "#5b3cc4", "baseline": "#e07b00"}
MAX_POINTS = 300  # per trace


def bucketed(history: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Rows averaged in consecutive buckets so that at most about `max_points` remain: (<= max_points, C)."""
    if len(history) <= max_points:
        return history
    bucket = int(np.ceil(len(history) / max_points))
    usable = len(history) // bucket * bucket
    return history[:usable].reshape(-1, bucket, history.shape[1]).mean(axis=1)


def _layout(figure: go.Figure, title: str, height: int = 300, **layout) -> go.Figure:
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), title=title,
                         legend=dict(orientation="h", y=-0.2, yanchor="top", x=0, xanchor="left"), **layout)
    figure.update_yaxes(exponentformat="e")  # 1e-3, never SI prefixes like "1m"
    return figure


NOT_LOSSES = ("step", "lam", "gamma", "probe", "probe_accuracy", "codes_used")  # history columns not charted


def loss_figure(history: np.ndarray, columns: tuple[str, ...], title: str = "losses") -> go.Figure:
    """The model's loss terms (ACAI's four, or another model's own) against step, log scale."""
    figure = go.Figure()
    rows = bucketed(history)
    for name in [column for column in columns if column not in NOT_LOSSES]:
        figure.add_trace(go.Scatter(x=rows[:, columns.index("step")], y=rows[:, columns.index(name)], name=name,
                                    mode="lines", line={"color": LOSS_COLOURS.get(name)}))
    return _layout(figure, title, yaxis_type="log", xaxis_title="step")


def evaluation_figure(evaluations: list[dict], title: str) -> go.Figure:
    """One model's live evaluations against step: Mean Distance and Smoothness (lines) or the
    mid-path greyness (images)."""
    figure = go.Figure()
    steps = [row["step"] for row in evaluations]
    if evaluations and "mean_distance" in evaluations[0]:
        figure.add_trace(go.Scatter(x=steps, y=[row["mean_distance"] for row in evaluations],
                                    name="Mean Distance", mode="lines+markers"))
        figure.add_trace(go.Scatter(x=steps, y=[row["smoothness"] for row in evaluations], name="Smoothness",
                                    mode="lines+markers", yaxis="y2"))
        return _layout(figure, title, height=260, yaxis=dict(title="Mean Distance", type="log"),
                       yaxis2=dict(title="Smoothness", overlaying="y", side="right"), xaxis_title="step")
    figure.add_trace(go.Scatter(x=steps, y=[row.get("midpoint_grey") for row in evaluations],
                                name="mid-path greyness", mode="lines+markers"))
    return _layout(figure, title, height=260, yaxis=dict(title="mid-path greyness", type="log"), xaxis_title="step")


def race_figure(standings, metric: str, x: str = "step") -> go.Figure:
    """Both sides' headline metric (and Smoothness on lines) against step or race seconds."""
    figure = go.Figure()
    xs = [getattr(standing, x) for standing in standings]
    label = {"mean_distance": "Mean Distance", "midpoint_grey": "mid-path greyness"}[metric]
    for side in ("acai", "baseline"):
        values = [getattr(standing, side) for standing in standings]
        name = "ACAI" if side == "acai" else "baseline (lambda 0)"
        figure.add_trace(go.Scatter(x=xs, y=[value[metric] for value in values], name=f"{name}: {label}",
                                    mode="lines+markers", line=dict(color=SIDE_COLOURS[side])))
        if metric == "mean_distance":
            figure.add_trace(go.Scatter(x=xs, y=[value["smoothness"] for value in values], yaxis="y2",
                                        name=f"{name}: Smoothness", mode="lines",
                                        line=dict(color=SIDE_COLOURS[side], dash="dot")))
    extra = dict(yaxis2=dict(title="Smoothness", overlaying="y", side="right")) if metric == "mean_distance" else {}
    return _layout(figure, f"{label} of both models (lower is better)", height=340,
                   yaxis=dict(title=label, type="log"), xaxis_title="race seconds" if x == "seconds" else "step",
                   **extra)
