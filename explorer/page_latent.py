"""Latent space: a Plotly scatter of encoded test images; click or lasso points to pick endpoints."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from acai import interpolation, projection
from explorer import compute, hover, session, widgets

SAMPLE = 2000  # test images encoded and projected


def _figure(points: np.ndarray, labels: np.ndarray, indices: np.ndarray, class_names, path, chosen) -> go.Figure:
    figure = go.Figure()
    for label in np.unique(labels):
        mask = labels == label
        figure.add_trace(go.Scattergl(
            x=points[mask, 0], y=points[mask, 1], mode="markers", name=class_names[label],
            marker=dict(size=5, opacity=0.75),
            customdata=np.stack([indices[mask], labels[mask], np.flatnonzero(mask)], axis=1),  # the 3rd: its thumbnail
            hovertemplate="test image #%{customdata[0]}<br>" + class_names[label] + "<extra></extra>"))
    if path is not None:
        figure.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers", name="A → B path",
                                    line=dict(color="black", width=2), marker=dict(size=4, color="black"),
                                    hoverinfo="skip"))
    if chosen is not None:
        figure.add_trace(go.Scatter(x=chosen[:, 0], y=chosen[:, 1], mode="markers+text", text=["A", "B"],
                                    textposition="top center", name="endpoints", hoverinfo="skip",
                                    marker=dict(size=14, color="black", symbol="star")))
    figure.update_layout(height=560, margin=dict(l=10, r=10, t=10, b=10), dragmode="lasso",
                         legend=dict(itemsizing="constant"))
    return figure


def render() -> None:
    st.title("Latent space")
    st.caption("Each point is a test image's latent code, projected to 2-D; point at one to see its image. Click a "
               "point, or lasso/box-select several: the first two become the endpoints A and B of the interpolation.")
    data = widgets.dataset_picker(key="latent_dataset")
    entries = session.require_entries(data)
    left, right, perplexity_column = st.columns([3, 2, 2])
    with left:
        entry = widgets.model_picker(entries, "Model", key=f"latent_model/{data.name}", kind="acai")
    with right:
        method = st.segmented_control("Projection", ["PCA", "t-SNE"], default="PCA", key="latent_method") or "PCA"
    with perplexity_column:
        perplexity = st.slider("t-SNE perplexity", 5, 50, 30, 5, key="perplexity", disabled=method != "t-SNE")
    networks = session.networks_for(entry)
    indices = projection.subsample(len(data.x_test), SAMPLE)
    codes = compute.latents(entry.key, networks, data.name, data.x_test, indices)
    labels = data.y_test[indices]

    first_endpoint, second_endpoint = session.endpoints(data)
    ends = [session.endpoint_image(data, e) for e in (first_endpoint, second_endpoint)]
    path_codes = interpolation.lerp(*interpolation.encode(networks, np.stack(ends)), np.linspace(0, 1, 16))
    path_codes = path_codes.reshape(16, -1)
    if method == "PCA":
        points, components, mean = compute.pca(entry.key, data.name, codes)
        path = (path_codes - mean) @ components.T  # the A -> B line, projected like the points
        chosen = path[[0, -1]]
    else:
        points = compute.tsne(entry.key, data.name, codes, float(perplexity))
        # t-SNE cannot place new points; mark the endpoints when they are in the sample.
        where = {int(index): position for position, index in enumerate(indices)}
        spots = [where.get(value) if kind == "test" else None for kind, value in (first_endpoint, second_endpoint)]
        path = None
        chosen = points[spots] if None not in spots else None
        if chosen is None:
            st.caption("t-SNE has no place for endpoints outside the plotted sample; pick them here to see them.")

    plot, side = st.columns([3, 1])
    with plot:
        hover.thumbnails_on_hover(data.name, data.x_test, indices, data.class_names, key="latent_hover")
        event = st.plotly_chart(_figure(points, labels, indices, data.class_names, path, chosen),
                                key=f"latent_chart/{entry.key}/{method}", on_select="rerun",
                                selection_mode=("points", "box", "lasso"))
    picked = [int(point["customdata"][0]) for point in (event.selection.points if event else [])
              if point.get("customdata") is not None]
    if picked:
        session.set_endpoint(data, 0, ("test", picked[0]))
        if len(picked) > 1:
            session.set_endpoint(data, 1, ("test", picked[1]))
    with side:
        first_endpoint, second_endpoint = session.endpoints(data)
        for name, endpoint in (("A", first_endpoint), ("B", second_endpoint)):
            caption = f"{name}: test #{endpoint[1]}" if endpoint[0] == "test" else f"{name}: your upload"
            widgets.frame(session.endpoint_image(data, endpoint), caption, scale=3)
        if len(picked) > 2:
            st.caption(f"{len(picked)} points selected; the first two are A and B.")
        st.page_link("app_pages/interpolate.py", label="Interpolate A → B", icon=":material/arrow_forward:")
