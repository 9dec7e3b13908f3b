"""Race: ACAI against the plain autoencoder, trained side by side in this browser session.

Both models start from identical weights and see identical batches and alphas (acai.race); the only
difference is lambda. Training runs in a background thread (explorer.live); this page draws it."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from acai import interpolation
from acai.config import PRESETS
from acai.race import SEPARATION_RATIO, Race, eval_every_for
from explorer import charts, resources, session, widgets
from explorer.live import LiveRun

RACE_PRESETS = ("demo-lines", "demo-mnist", "demo-fashion", "lines32")
# While a race runs, the numbers redraw every second and the pictures and charts every 4 s: each picture
# redraw costs the server and the browser CPU that training then lacks (bench/race.py measured 51% of the
# CLI's speed with everything redrawn every second, docs/BENCHMARKS.md).
NUMBERS_SECONDS = 1.0
PICTURES_SECONDS = 4.0
PAIRS = 2  # interpolation pairs shown for both models
FRAMES = 8
SIDE_LABELS = {"acai": "ACAI", "baseline": "Plain autoencoder"}

EXPLANATION = """
Both models start from the same weights and see the same batches and the same mixing coefficients; the
only difference is lambda, the weight of the critic's verdict in the autoencoder's loss (0: the plain
autoencoder). **Lines**: the Mean Distance is the average cosine distance of every decoded frame of 64
interpolations (16 frames each) to the nearest true line: how much the in-between frames look like real
lines (lower is better; a pixel cross-fade scores about 7e-3). Smoothness: how evenly the angle turns
along each path (0 is perfectly even). **MNIST / Fashion-MNIST**: the *mid-path greyness* decodes 64 pairs
of test images at alpha 0.5 and measures the share of mid-grey pixels (between 25% and 75% intensity) in those
frames. Real digits are nearly black and white (MNIST test images: about 4% grey); a blurry double exposure
of two digits is grey (a pixel cross-fade: about 13%). It measures crispness, not shape. The ratio is the
plain autoencoder's value over ACAI's: above 1, ACAI's interpolations look more real.
"""


def _preset_label(name: str) -> str:
    config = PRESETS[name]
    kind = "demo: faster, not the paper's" if name.startswith("demo") else "the paper's model"
    return f"{name} ({kind}; {resources.DATASET_LABELS[config.dataset]}, {config.architecture})"


def _new_race(preset: str) -> LiveRun | None:
    config = PRESETS[preset]
    data, problem = resources.available_dataset(config.dataset)
    if problem:
        st.warning(f"{problem.reason} Race the lines preset instead.")
        return None
    return LiveRun(Race(config, data, eval_every=eval_every_for(preset)))


def _regularisers(live: LiveRun | None) -> dict[str, tuple[float, float]]:
    """lambda and gamma of each side (side -> (lambda, gamma)); they apply at the next step of a race."""
    columns = st.columns(4)
    settings = {}
    for offset, side in enumerate(("acai", "baseline")):
        default = 0.5 if side == "acai" else 0.0
        lam = columns[2 * offset].slider(f"{SIDE_LABELS[side]}: lambda", 0.0, 2.0, default, 0.05,
                                         key=f"race_lam_{side}")
        gamma = columns[2 * offset + 1].slider(f"{SIDE_LABELS[side]}: gamma", 0.0, 1.0, 0.2, 0.05,
                                               key=f"race_gamma_{side}")
        settings[side] = (lam, gamma)
    if live is not None:
        _apply(live, settings)
    return settings


def _apply(live: LiveRun, settings: dict[str, tuple[float, float]]) -> None:
    for side, (lam, gamma) in settings.items():  # variables: no retrace, the other side is untouched
        live.target.trainer(side).set_regularization(lam, gamma)


@st.cache_data(max_entries=64, show_spinner=False)
def _strips(race_key: str, step: int, _race: Race) -> dict[str, list]:
    """side -> [Strip per pair]: the same PAIRS pairs of test images decoded by both models."""
    data = _race.trainer("acai").dataset
    index = np.random.default_rng(3).choice(len(data.x_test), size=2 * PAIRS, replace=False)
    return {side: [interpolation.strip(_race.trainer(side).networks, data.x_test[index[2 * p]],
                                       data.x_test[index[2 * p + 1]], FRAMES) for p in range(PAIRS)]
            for side in ("acai", "baseline")}


def _headline(race: Race, live: LiveRun) -> None:
    latest = race.standings[-1] if race.standings else None
    ratio = latest.ratio if latest else math.nan
    label = "Mean Distance" if race.metric == "mean_distance" else "mid-path greyness"
    big, facts = st.columns([2, 3])
    with big:
        text = "—" if math.isnan(ratio) else f"{ratio:.1f}×"
        st.markdown(f"<div style='font-size:3.2rem;font-weight:700;line-height:1.1' data-testid='race-ratio'>"
                    f"{text}</div><div>the plain autoencoder's {label} over ACAI's "
                    f"(above 1: ACAI's in-between frames look more real)</div>", unsafe_allow_html=True)
    with facts:
        columns = st.columns(3)
        columns[0].metric("step (each model)", f"{race.step:,}")
        columns[1].metric("race seconds", f"{race.seconds:,.0f}")
        columns[2].metric("steps / s (both models)", f"{live.steps_per_second:,.1f}")
        separated = race.separated_at() if race.metric == "mean_distance" else None
        if separated is not None:
            st.success(f"Separated after {separated.seconds:.0f} s (step {separated.step}): ACAI's Mean Distance "
                       f"is at least {SEPARATION_RATIO:g}x below the baseline's since then.")


def _numbers(live: LiveRun | None) -> None:
    if widgets.live_status(live, "Pick a preset and press **Start** (a new race; it replaces the current one) or "
                           "**Step** (one step of both models): both train side by side, and their interpolations, "
                           "losses and interpolation quality are drawn as they learn."):
        _headline(live.target, live)


def _pictures(live: LiveRun | None) -> None:
    if live is None:
        return
    race: Race = live.target
    step = session.preview_step("race", live)
    strips = _strips(live.key, step, race)
    st.markdown(f"**The same interpolations, decoded by both models** at step {step:,}; under each frame the "
                "critic's estimate of alpha (0: looks real)")
    for side in ("acai", "baseline"):
        st.markdown(f"*{SIDE_LABELS[side]}* (lambda {race.trainer(side).config.lam:g})")
        with st.container():  # one full-width row per pair: frames large enough to see from a distance
            for strip in strips[side]:
                widgets.frames_row(strip.frames, [f"{value:.2f}" for value in strip.critic], scale=3)
    if race.standings:
        x = st.segmented_control("x axis", ["seconds", "step"], default="seconds", key="race_x") or "seconds"
        st.plotly_chart(charts.race_figure(race.standings, race.metric, x=x), key="race_chart")
    left, right = st.columns(2)
    for column, side in ((left, "acai"), (right, "baseline")):
        trainer = race.trainer(side)
        with column:
            st.plotly_chart(charts.loss_figure(trainer.history.as_array(), trainer.history.columns,
                                               f"{SIDE_LABELS[side]}: losses"), key=f"race_loss_{side}")


def _save(live: LiveRun | None) -> None:
    columns = st.columns(2)
    for column, side in zip(columns, ("acai", "baseline")):
        if column.button(f"Save {SIDE_LABELS[side]} to my models", key=f"race_save_{side}", disabled=live is None):
            trainer = live.target.trainer(side)
            entry = session.add_session_model(f"race-{side}", trainer.config, trainer.networks.copy())
            column.success(f"Saved {entry.label} at step {trainer.step}; pick it on the Interpolate page.")
        history = live.target.trainer(side).history if live is not None else None
        column.download_button(f"Download {SIDE_LABELS[side]}'s loss history (.csv)",
                               history.to_csv if history is not None else "", f"race_{side}_losses.csv",
                               mime="text/csv", key=f"race_losses_{side}", disabled=history is None)


def render() -> None:
    st.title("Race")
    st.caption("ACAI against the plain autoencoder, trained side by side from the same start: watch the "
               "critic make the in-between frames look real.")
    widgets.keep_images_bright()
    visitor = session.current()
    preset = st.selectbox("Preset", RACE_PRESETS, key="race_preset", format_func=_preset_label)
    settings = _regularisers(visitor.race.live)
    widgets.run_controls(visitor.race, "race", lambda: _new_race(preset), lambda live: _apply(live, settings))
    st.caption(f"Trains on {resources.compute_device()}.")
    widgets.live_fragments(visitor.race, _numbers, _pictures, NUMBERS_SECONDS, PICTURES_SECONDS)
    _save(visitor.race.live)
    session.say_evicted()
    with st.expander("What the numbers mean", expanded=False):
        st.markdown(EXPLANATION)
