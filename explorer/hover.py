"""Thumbnails on hover for the Latent space scatter, as the Embedding Projector shows them: the image under the
pointer, drawn in the browser from one sprite sheet of the plotted test images, with no server round trip.

Plotly's hover labels cannot hold images, so a small component finds the page's Plotly chart and listens to
its plotly_hover / plotly_unhover events; each point carries its place in the sprite sheet (the third column
of its customdata).
"""

from __future__ import annotations

import base64

import numpy as np
import streamlit as st

from acai import images

COLUMNS = 50  # thumbnails per row of the sprite sheet
SCALE = 3  # on-screen size: 96 CSS pixels

_HTML = '<div class="acai-hover" data-shown="-1" hidden><canvas></canvas><div class="caption"></div></div>'
_CSS = """
.acai-hover { position: fixed; z-index: 1000; pointer-events: none; background: #fff; padding: 4px;
              border-radius: 0.4rem; box-shadow: 0 2px 10px rgba(0, 0, 0, 0.25); text-align: center;
              font: 0.8rem var(--st-font, sans-serif); color: #1c1b22; }
.acai-hover canvas { display: block; image-rendering: pixelated; background: #000; }
"""
_JS = """
export default function(component) {
  const { data, parentElement } = component;
  const box = parentElement.querySelector(".acai-hover");
  const canvas = box.querySelector("canvas");
  const caption = box.querySelector(".caption");
  const side = 32 * data.scale;
  canvas.width = canvas.height = side;
  canvas.style.width = canvas.style.height = side + "px";
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = false;
  const sprite = new Image();
  sprite.src = "data:image/png;base64," + data.sprite;
  const hover = (event) => {
    const point = event.points && event.points[0];
    if (!point || !point.customdata || point.customdata.length < 3 || !sprite.complete) return;
    const place = point.customdata[2];
    const x = (place % data.columns) * 32, y = Math.floor(place / data.columns) * 32;
    context.drawImage(sprite, x, y, 32, 32, 0, 0, side, side);
    caption.textContent = "#" + point.customdata[0] + " · " + (data.labels[point.customdata[1]] ?? "");
    const mouse = event.event || {};
    box.style.left = Math.min((mouse.clientX || 0) + 16, window.innerWidth - side - 24) + "px";
    box.style.top = Math.max((mouse.clientY || 0) - side - 56, 8) + "px";  // above Plotly's own label
    box.hidden = false;
    box.dataset.shown = String(point.customdata[0]);
  };
  const unhover = () => { box.hidden = true; box.dataset.shown = "-1"; };
  // The chart may draw after this component, and is drawn anew when its figure changes: look for it, and
  // attach once to each new chart.
  const attach = () => {
    for (const chart of document.querySelectorAll(data.selector)) {
      if (chart._acaiHover === data.token || typeof chart.on !== "function") continue;
      chart._acaiHover = data.token;
      chart.on("plotly_hover", hover);
      chart.on("plotly_unhover", unhover);
    }
  };
  attach();
  const timer = setInterval(attach, 500);
  return () => { clearInterval(timer); unhover(); };
}
"""
_hover = st.components.v2.component("acai_hover_thumbnails", html=_HTML, css=_CSS, js=_JS)


@st.cache_data(max_entries=16, show_spinner=False)
def sprite_sheet(dataset_name: str, indices: np.ndarray, _images: np.ndarray) -> str:
    """The images at `indices` (a dataset's test set) as one PNG grid, COLUMNS across, base64."""
    frames = _images[indices]
    rows = -(-len(frames) // COLUMNS)
    padded = np.concatenate([frames, np.full((rows * COLUMNS - len(frames), *frames.shape[1:]), -1.0, frames.dtype)])
    grid = padded.reshape(rows, COLUMNS, *frames.shape[1:])
    return base64.b64encode(images.png_bytes(images.tile(grid, gap=0), scale=1)).decode("ascii")


def thumbnails_on_hover(dataset_name: str, test_images: np.ndarray, indices: np.ndarray, class_names,
                        key: str) -> None:
    """Show the test image under the pointer on the page's Plotly charts whose points carry (index, label,
    place in `indices`) as customdata."""
    _hover(data={"sprite": sprite_sheet(dataset_name, indices, test_images), "columns": COLUMNS, "scale": SCALE,
                 "labels": list(class_names), "selector": "[data-testid='stPlotlyChart'] .js-plotly-plot",
                 "token": key}, key=key)
