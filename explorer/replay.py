"""Replay a recorded race (acai.recording) in the browser, as Play alpha plays a path: the server sends each
side's frames once, as one sprite sheet (rows: recorded step x pair; columns: frames), with the critic's
estimates and both curves; the browser draws the strips for the step under the scrubber, plays through the
steps at a chosen speed, and moves a marker over the curves. No server round trip per frame or per step.
"""

from __future__ import annotations

import base64
import math

import numpy as np
import streamlit as st

from acai import images
from acai.recording import SIDES, Recording

SCALE = 2  # on-screen pixels per image pixel

_HTML = """
<div class="acai-replay" data-step="0" data-index="0" data-playing="0" data-drawn="0">
  <div class="label"></div>
  <div class="sides"></div>
  <svg class="chart" viewBox="0 0 600 160" preserveAspectRatio="none"></svg>
  <div class="bar">
    <button class="toggle" type="button">Play</button>
    <input class="scrubber" type="range" min="0" value="0" step="1" aria-label="training step">
    <span class="where"></span>
    <select class="speed" aria-label="speed">
      <option value="0.5">0.5x</option><option value="1" selected>1x</option><option value="2">2x</option>
      <option value="4">4x</option>
    </select>
  </div>
</div>
"""
_CSS = """
.acai-replay { font-family: var(--st-font, sans-serif); color: var(--st-text-color, #1c1b22); }
.acai-replay .label { font-size: 0.9em; opacity: 0.8; margin-bottom: 0.5rem; }
.acai-replay .sides { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem; }
.acai-replay h4 { margin: 0 0 0.25rem 0; font-size: 1em; }
.acai-replay canvas { display: block; image-rendering: pixelated; background: #000; max-width: 100%;
                      margin-bottom: 2px; }
.acai-replay .chart { width: 100%; height: 160px; margin-top: 0.75rem; background: #faf9fd; border-radius: 0.25rem; }
.acai-replay .bar { display: flex; align-items: center; gap: 0.75rem; margin-top: 0.5rem; }
.acai-replay .scrubber { flex: 1; }
.acai-replay .where { font-variant-numeric: tabular-nums; min-width: 9rem; }
.acai-replay button, .acai-replay select { font: inherit; padding: 0.2rem 0.8rem; border-radius: 0.5rem;
  border: 1px solid var(--st-primary-color, #5b3cc4); background: transparent; color: var(--st-primary-color, #5b3cc4); }
"""
_JS = """
export default function(component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector(".acai-replay");
  if (root._stop) root._stop();
  const sidesBox = root.querySelector(".sides"), chart = root.querySelector(".chart");
  const scrubber = root.querySelector(".scrubber"), where = root.querySelector(".where");
  const toggle = root.querySelector(".toggle"), speed = root.querySelector(".speed");
  root.querySelector(".label").textContent = data.label;
  const K = data.steps.length, P = data.pairs, F = data.frames, s = data.scale;
  scrubber.max = String(K - 1);
  sidesBox.replaceChildren();
  const sides = data.sides.map((side) => {
    const box = document.createElement("div");
    const title = document.createElement("h4");
    title.textContent = side.title;
    title.style.color = side.colour;  // the curve's colour: the titles are the chart's legend
    box.append(title);
    const canvases = [];
    for (let p = 0; p < P; p++) {
      const canvas = document.createElement("canvas");
      canvas.width = F * 32 * s; canvas.height = 32 * s + 14;
      box.append(canvas);
      canvases.push(canvas.getContext("2d"));
    }
    sidesBox.append(box);
    const sprite = new Image();
    sprite.src = "data:image/png;base64," + side.sprite;
    return { side, canvases, sprite };
  });
  // The curves: log scale, both sides, with a marker at the current step.
  const ns = "http://www.w3.org/2000/svg";
  const all = data.sides.flatMap((side) => side.curve.map((point) => point[1])).filter((v) => v > 0);
  const lo = Math.log10(Math.min(...all)), hi = Math.log10(Math.max(...all));
  const last = data.steps[K - 1] || 1;
  const x = (step) => 40 + 550 * step / last;
  const y = (value) => 10 + 130 * (hi - Math.log10(value)) / Math.max(hi - lo, 1e-6);
  chart.replaceChildren();
  data.sides.forEach((side) => {
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", side.curve.filter((p) => p[1] > 0).map((p) => x(p[0]) + "," + y(p[1])).join(" "));
    line.setAttribute("fill", "none"); line.setAttribute("stroke", side.colour); line.setAttribute("stroke-width", "2");
    chart.append(line);
  });
  const caption = document.createElementNS(ns, "text");
  caption.setAttribute("x", "44"); caption.setAttribute("y", "154"); caption.setAttribute("font-size", "11");
  caption.textContent = data.metric + " (log scale) over training steps";
  chart.append(caption);
  const marker = document.createElementNS(ns, "line");
  marker.setAttribute("y1", "5"); marker.setAttribute("y2", "145"); marker.setAttribute("stroke", "#1c1b22");
  chart.append(marker);
  const draw = (k) => {
    for (const { side, canvases, sprite } of sides) {
      if (!sprite.complete) return false;
      canvases.forEach((context, p) => {
        context.imageSmoothingEnabled = false;
        context.clearRect(0, 0, F * 32 * s, 32 * s + 14);
        context.drawImage(sprite, 0, (k * P + p) * 32, F * 32, 32, 0, 0, F * 32 * s, 32 * s);
        context.fillStyle = "#ffffff"; context.font = "10px sans-serif"; context.textAlign = "center";
        for (let f = 0; f < F; f++) {
          const estimate = side.critic[k][p][f];
          if (estimate !== null) context.fillText(estimate.toFixed(2), (f + 0.5) * 32 * s, 32 * s + 11);
        }
      });
    }
    const step = data.steps[k];
    where.textContent = "step " + step.toLocaleString() + " of " + last.toLocaleString();
    marker.setAttribute("x1", x(step)); marker.setAttribute("x2", x(step));
    scrubber.value = String(k);
    root.dataset.index = String(k); root.dataset.step = String(step);
    root.dataset.drawn = String(Number(root.dataset.drawn) + 1);
    return true;
  };
  let playing = false, position = 0, frame = null, previous = performance.now(), shown = -1;
  const tick = (now) => {
    if (playing) {
      position = Math.min(K - 1, position + (now - previous) / 1000 * (K / data.seconds) * Number(speed.value));
      if (position >= K - 1) setPlaying(false);
    }
    previous = now;
    const k = Math.floor(position);
    if (k !== shown && draw(k)) shown = k;
    frame = requestAnimationFrame(tick);
  };
  const setPlaying = (value) => {
    playing = value;
    if (value && position >= K - 1) position = 0;
    root.dataset.playing = value ? "1" : "0";
    toggle.textContent = value ? "Pause" : "Play";
  };
  toggle.onclick = () => setPlaying(!playing);
  scrubber.oninput = () => { position = Number(scrubber.value); setPlaying(false); };
  setPlaying(false);
  frame = requestAnimationFrame(tick);
  root._stop = () => cancelAnimationFrame(frame);
  return root._stop;
}
"""
_replay = st.components.v2.component("acai_race_replay", html=_HTML, css=_CSS, js=_JS)
COLOURS = {"acai": "#5b3cc4", "baseline": "#e07b00"}


def _sprite(frames: np.ndarray) -> str:
    """(K, P, F, 32, 32, C) uint8 -> a PNG of K*P rows and F columns of 32x32 tiles, base64."""
    steps, pairs, count = frames.shape[:3]
    tiles = frames.reshape(steps * pairs, count, *frames.shape[3:]).astype(np.float32) / 127.5 - 1.0
    return base64.b64encode(images.png_bytes(images.tile(tiles, gap=0), scale=1)).decode("ascii")


def describe(recorded: Recording) -> str:
    meta = recorded.meta
    wall = meta.get("wall_seconds")
    took = f"{wall / 3600:.1f} h" if isinstance(wall, (int, float)) and wall >= 3600 else f"{wall:.0f} s" \
        if isinstance(wall, (int, float)) else "unknown time"
    rate = f", {meta['matmul_gflops']} GFLOP/s" if "matmul_gflops" in meta else ""
    done, planned = int(recorded.steps[-1]), meta.get("total_steps")
    steps = f"{done:,} steps"
    if meta.get("partial") and isinstance(planned, int) and planned > done:
        steps += f" (stopped before the planned {planned:,}{': ' + meta['stopped'] if meta.get('stopped') else ''})"
    return (f"Recorded, not live: {steps} of {meta.get('dataset', '?')} in {took} of wall time on "
            f"{meta.get('machine', 'an unknown machine')}{rate}.")


def replay_player(recorded: Recording, digest: str, titles: dict[str, str], key: str, seconds: float = 20.0) -> None:
    """Play `recorded` (both sides' strips, the critic's estimates, the curves): `seconds` for all its steps at 1x.
    `digest` (of its file) keys the cache of what is sent, so that a rerun does not encode the sprites again."""
    _replay(data={**_payload(digest, recorded, tuple(titles.items())), "seconds": seconds}, key=key)


@st.cache_data(max_entries=4, show_spinner=False)
def _payload(digest: str, _recorded: Recording, titles: tuple) -> dict:
    """What the browser needs of a recording: each side's sprite sheet, critic estimates and curve (by digest)."""
    recorded, titles = _recorded, dict(titles)
    metric = recorded.meta.get("metric", "mean_distance")
    sides = []
    for side in SIDES:
        critic = np.where(np.isfinite(recorded.critic[side]), np.round(recorded.critic[side], 2), np.nan)
        curve = recorded.curves[side].get(metric, np.zeros((0, 2)))
        sides.append({"title": titles[side], "colour": COLOURS[side], "sprite": _sprite(recorded.frames[side]),
                      "critic": [[[None if math.isnan(v) else float(v) for v in pair_row] for pair_row in step_rows]
                                 for step_rows in critic.tolist()],  # [step][pair][frame]
                      "curve": [[float(a), float(b)] for a, b in curve if math.isfinite(b)]})
    return {"label": describe(recorded), "steps": [int(s) for s in recorded.steps],
            "pairs": int(recorded.endpoints.shape[0]), "frames": int(len(recorded.alphas)), "scale": SCALE,
            "metric": metric.replace("_", " "), "sides": sides}


# In recordings/ beside the app (not pretrained/, which holds weights and stays under 100 MB): the paper's
# lines32 race when one is shipped, else the shorter demo-lines race.
SHIPPED = ("race-lines32.npz", "race-demo-lines.npz")


@st.cache_resource(max_entries=4, show_spinner="Reading the recording…")
def _read(digest: str, _data: bytes) -> Recording | str:
    """The recording in `_data` (cached by its digest), or why it cannot be used."""
    from acai.recording import RecordingError, read

    try:
        return read(_data)
    except RecordingError as error:
        return str(error)


def recordings_dir():
    """recordings/ beside the app."""
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "recordings"


def replay_section(shipped_folder) -> None:
    """The Race page's "Replay a recorded race": the shipped recording, or one the visitor uploads."""
    import hashlib

    upload = st.file_uploader("A recording (.npz, made by `python -m acai race --record FILE`)", type=["npz"],
                              key="replay_upload")
    shipped = next((shipped_folder / name for name in SHIPPED if (shipped_folder / name).is_file()), None)
    if upload is not None:
        data = upload.getvalue()
    elif shipped is not None:
        # Sent to the browser only when asked for: its frames are a few MB, and the page reruns often.
        if not st.toggle(f"Replay the shipped race ({shipped.name})", key="replay_shipped"):
            return
        data = shipped.read_bytes()
    else:
        st.caption("No recording is shipped yet: record one with `python -m acai race --preset lines32 --record "
                   "race.npz --steps 20000 --out runs/race` and upload it here.")
        return
    digest = hashlib.sha256(data).hexdigest()
    recorded = _read(digest, data)
    if isinstance(recorded, str):
        st.error(f"That file cannot be replayed: {recorded}.")
        return
    replay_player(recorded, digest=digest, titles={"acai": "ACAI", "baseline": "the plain autoencoder (lambda 0)"
                             if recorded.meta.get("opponent", {}).get("model", "acai") == "acai"
                             else str(recorded.meta.get("opponent", {}).get("model"))}, key="race_replay")
