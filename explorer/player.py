"""Play alpha: the decoded path A -> B -> A animated in the browser, with no server round trip per frame.

The server decodes the path once (FRAMES alphas per model) and sends each model's frames as one sprite
sheet, a PNG of 32 x (32 * FRAMES) pixels, with the critic's estimate for every frame. The browser
draws them on canvases, nearest-neighbour enlarged, in step, easing in and out at A and B, and keeps
a count of the frames it drew (`data-drawn`, read by the browser test and the benchmark).
"""

from __future__ import annotations

import base64

import numpy as np
import streamlit as st

from acai import images

FRAMES = 51  # alphas 0, 0.02, ..., 1

_HTML = """
<div class="acai-player" data-drawn="0" data-playing="0">
  <div class="rows"></div>
  <div class="bar">
    <button class="toggle" type="button">Pause</button>
    <span class="alpha"></span>
  </div>
</div>
"""

_CSS = """
.acai-player { font-family: var(--st-font, sans-serif); color: var(--st-text-color, #1c1b22); }
.acai-player .rows { display: grid; gap: 1rem; }
.acai-player figure { margin: 0; text-align: center; }
.acai-player canvas { width: 100%; max-width: var(--size); image-rendering: pixelated; background: #000;
                      border-radius: 0.25rem; }
.acai-player figcaption { font-size: 0.95em; margin-top: 0.25rem; }
.acai-player .bar { display: flex; align-items: center; gap: 1rem; margin-top: 0.5rem; }
.acai-player button { font: inherit; padding: 0.25rem 0.9rem; border-radius: 0.5rem; cursor: pointer;
                      border: 1px solid var(--st-primary-color, #5b3cc4); background: transparent;
                      color: var(--st-primary-color, #5b3cc4); }
.acai-player .alpha { font-variant-numeric: tabular-nums; font-size: 1.1em; }
"""

# Called by Streamlit on every mount with new data: it rebuilds the rows and restarts the clock, and
# returns a clean-up that stops the animation when the element goes away.
_JS = """
export default function(component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector(".acai-player");
  const rowsBox = root.querySelector(".rows");
  const toggle = root.querySelector(".toggle");
  const label = root.querySelector(".alpha");
  if (root._stop) root._stop();
  root.style.setProperty("--size", data.size + "px");
  rowsBox.replaceChildren();
  // Side by side up to four; more (all seven models of Table 1) in two rows.
  const across = data.rows.length <= 4 ? data.rows.length : Math.ceil(data.rows.length / 2);
  rowsBox.style.gridTemplateColumns = `repeat(${across}, minmax(0, ${data.size}px))`;
  const rows = data.rows.map((row) => {
    const figure = document.createElement("figure");
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = data.size;
    const caption = document.createElement("figcaption");
    figure.append(canvas, caption);
    rowsBox.append(figure);
    const sprite = new Image();
    sprite.src = "data:image/png;base64," + row.sprite;
    const context = canvas.getContext("2d");
    context.imageSmoothingEnabled = false;
    return { label: row.label, critic: row.critic, sprite, context, caption };
  });
  const count = data.alphas.length;
  let playing = true, shown = -1, frame = null, phase = 0, last = performance.now();
  const draw = (index) => {
    for (const row of rows) {
      if (!row.sprite.complete) return false;
      row.context.drawImage(row.sprite, index * 32, 0, 32, 32, 0, 0, data.size, data.size);
      const estimate = row.critic[index];
      row.caption.textContent = row.label + (estimate === null ? "" : " · critic " + estimate.toFixed(2));
    }
    label.textContent = "alpha " + data.alphas[index].toFixed(2);
    root.dataset.alpha = data.alphas[index].toFixed(2);
    return true;
  };
  const tick = (now) => {
    if (playing) phase = (phase + (now - last) / (2000 * data.seconds)) % 1;  // one period: A -> B -> A
    last = now;
    const sweep = phase < 0.5 ? 2 * phase : 2 - 2 * phase;
    const index = Math.round((1 - Math.cos(Math.PI * sweep)) / 2 * (count - 1));
    if (index !== shown && draw(index)) {
      shown = index;
      root.dataset.drawn = String(Number(root.dataset.drawn) + 1);
    }
    frame = requestAnimationFrame(tick);
  };
  const setPlaying = (value) => {
    playing = value;
    root.dataset.playing = value ? "1" : "0";
    toggle.textContent = value ? "Pause" : "Play";
  };
  toggle.onclick = () => setPlaying(!playing);
  setPlaying(true);
  frame = requestAnimationFrame(tick);
  root._stop = () => cancelAnimationFrame(frame);
  return root._stop;
}
"""

_player = st.components.v2.component("acai_alpha_player", html=_HTML, css=_CSS, js=_JS)


def sprite_base64(frames: np.ndarray) -> str:
    """Frames (n, 32, 32, 1) in [-1, 1] -> one PNG strip, 32 x 32n, as base64."""
    return base64.b64encode(images.png_bytes(images.tile(frames, gap=0), scale=1)).decode("ascii")


def alpha_player(rows: list[tuple[str, np.ndarray, np.ndarray]], alphas: np.ndarray, seconds: float,
                 size: int, key: str) -> None:
    """Animate each row's frames in step: rows of (label, frames (n, 32, 32, 1), critic (n,)).

    Args:
        seconds: time of one sweep A -> B (the way back takes as long).
        size: the frames' largest width on screen, in CSS pixels.
    """
    data = {
        "rows": [{"label": label, "sprite": sprite_base64(frames),
                  "critic": [None if np.isnan(c) else round(float(c), 3) for c in critic]}  # None: no critic
                 for label, frames, critic in rows],
        "alphas": [round(float(a), 3) for a in alphas],
        "seconds": float(seconds),
        "size": int(size),
    }
    _player(data=data, key=key)
