"""Race: ACAI against the plain autoencoder (or another autoencoder of Table 1), trained side by side in this
browser session.

Both models see identical batches and alphas (acai.race); against the plain autoencoder they start from
identical weights and the only difference is lambda. Training runs in a background thread (explorer.live);
this page draws it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import streamlit as st

from acai import interpolation, models
from acai.checkpoints import CheckpointError
from acai.config import PRESETS
from acai.data import DatasetError
from acai.race import SEPARATION_RATIO, Race, describe_start, eval_every_for
from explorer import charts, replay, resources, session, widgets
from explorer.live import LiveRun

RACE_PRESETS = ("demo-lines", "demo-mnist", "demo-fashion", "lines32")
# While a race runs, the numbers redraw every second and the pictures and charts every 4 s: each picture
# redraw costs the server and the browser CPU that training then lacks (bench/race.py measured 51% of the
# CLI's speed with everything redrawn every second, docs/BENCHMARKS.md).
NUMBERS_SECONDS = 1.0
PICTURES_SECONDS = 4.0
PAIRS = 2  # interpolation pairs shown for both models
FRAMES = 8
OPPONENT_DEFAULT = "ae"  # the plain autoencoder: ACAI at lambda 0


def opponents() -> list[str]:
    """What ACAI can race: the plain autoencoder and every other registered model."""
    return [OPPONENT_DEFAULT] + [name for name in models.names() if not models.get(name).has_critic]


def opponent_label(name: str) -> str:
    return "Plain autoencoder" if name == OPPONENT_DEFAULT else models.get(name).title


def side_label(side: str, opponent: str) -> str:
    return "ACAI" if side == "acai" else opponent_label(opponent)


def race_label(race: Race, side: str) -> str:
    """A running race's side, named by what it trains."""
    config = race.trainer(side).config
    return side_label(side, OPPONENT_DEFAULT if config.has_critic else config.model)

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
    return f"{name} ({kind}; {resources.dataset_label(config.dataset)}, {config.architecture})"


def _new_race(preset: str, opponent: str, images: str | None = None, start: Path | None = None) -> LiveRun | None:
    """A race of the preset's networks, on the preset's dataset or on `images` (the visitor's own); both sides
    from the warm start in the folder `start`, if given."""
    config = PRESETS[preset].replace(**({"dataset": images} if images else {}))
    data, problem = session.dataset(config.dataset)
    if problem:
        st.warning(f"{problem.reason} Race the lines preset instead.")
        return None
    config = config.replace(channels=data.channels)  # the networks' channels come from the data
    other = None if opponent == OPPONENT_DEFAULT else models.model_config(config, opponent).replace(
        learning_rate=config.learning_rate, batch_size=config.batch_size)
    if other is not None and config.architecture not in models.get(opponent).architectures:
        st.warning(f"The {opponent_label(opponent)} has no {config.architecture} network: pick a conv preset.")
        return None
    try:
        warm = None if start is None else resources.load_start(str(start), (start / "config.json").stat().st_mtime)
        race = Race(config, data, opponent=other, eval_every=eval_every_for(preset), start=warm)
    except (DatasetError, CheckpointError, ValueError) as error:  # too few images; a damaged or foreign start
        st.warning(f"{error}.")
        return None
    return LiveRun(race)


def _regularisers(live: LiveRun | None, opponent: str) -> dict[str, tuple[float, float]]:
    """lambda and gamma of each side that has a critic (side -> (lambda, gamma)); they apply at the next step."""
    sides = ("acai", "baseline") if opponent == OPPONENT_DEFAULT else ("acai",)
    columns = st.columns(4)
    settings = {}
    for offset, side in enumerate(sides):
        default = 0.5 if side == "acai" else 0.0
        label = side_label(side, opponent)
        lam = columns[2 * offset].slider(f"{label}: lambda", 0.0, 2.0, default, 0.05, key=f"race_lam_{side}")
        gamma = columns[2 * offset + 1].slider(f"{label}: gamma", 0.0, 1.0, 0.2, 0.05, key=f"race_gamma_{side}")
        settings[side] = (lam, gamma)
    if live is not None:
        _apply(live, settings)
    return settings


def _apply(live: LiveRun, settings: dict[str, tuple[float, float]]) -> None:
    for side, (lam, gamma) in settings.items():  # variables: no retrace, the other side is untouched
        if live.target.trainer(side).config.has_critic:
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
        other = race_label(race, "baseline")
        st.markdown(f"<div style='font-size:3.2rem;font-weight:700;line-height:1.1' data-testid='race-ratio'>"
                    f"{text}</div><div>the {other[0].lower() + other[1:]}'s {label} over ACAI's "
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
        config = race.trainer(side).config
        st.markdown(f"*{race_label(race, side)}* " + (f"(lambda {config.lam:g})" if config.has_critic
                                                     else f"({models.get(config.model).describe(config)})"))
        with st.container():  # one full-width row per pair: frames large enough to see from a distance
            for strip in strips[side]:  # the critic's estimate under each frame (a model without one: none)
                widgets.frames_row(strip.frames, [f"{value:.2f}" for value in strip.critic] if config.has_critic
                                   else None, scale=3)
    if race.standings:
        x = st.segmented_control("x axis", ["seconds", "step"], default="seconds", key="race_x") or "seconds"
        st.plotly_chart(charts.race_figure(race.standings, race.metric, x=x), key="race_chart")
    left, right = st.columns(2)
    for column, side in ((left, "acai"), (right, "baseline")):
        trainer = race.trainer(side)
        with column:
            st.plotly_chart(charts.loss_figure(trainer.history.as_array(), trainer.history.columns,
                                               f"{race_label(race, side)}: losses"), key=f"race_loss_{side}")


def _save(live: LiveRun | None, opponent: str) -> None:
    columns = st.columns(2)
    for column, side in zip(columns, ("acai", "baseline")):
        label = race_label(live.target, side) if live is not None else side_label(side, opponent)
        if column.button(f"Save {label} to my models", key=f"race_save_{side}", disabled=live is None):
            trainer = live.target.trainer(side)
            entry = session.add_session_model(f"race-{side}", trainer.config, trainer.networks.copy())
            column.success(f"Saved {entry.label} at step {trainer.step}; pick it on the Interpolate page.")
        history = live.target.trainer(side).history if live is not None else None
        column.download_button(f"Download {label}'s loss history (.csv)",
                               history.to_csv if history is not None else "", f"race_{side}_losses.csv",
                               mime="text/csv", key=f"race_losses_{side}", disabled=history is None)


def render() -> None:
    st.title("Race")
    st.caption("ACAI against the plain autoencoder (or another autoencoder of the paper's Table 1), trained side "
               "by side from the same start: watch the critic make the in-between frames look real.")
    widgets.keep_images_bright()
    visitor = session.current()
    left, right = st.columns(2)
    preset = left.selectbox("Preset", RACE_PRESETS, key="race_preset", format_func=_preset_label)
    opponent = right.selectbox("Against", opponents(), key="race_opponent", format_func=opponent_label,
                               help="The plain autoencoder starts from ACAI's very weights (lambda is the only "
                                    "difference); another model shares the networks it has alike")
    images = None
    if visitor.datasets:  # the visitor's own images: raced with the preset's networks
        images = st.selectbox("Data", [None, *visitor.datasets], key="race_images",
                              format_func=lambda name: "the preset's" if name is None else resources.dataset_label(name),
                              help="Race on your own images (uploaded in the sidebar) with the preset's networks")
    start = resources.race_start(preset) if opponent == OPPONENT_DEFAULT and images is None else None
    if start is not None and not st.toggle(
            "Warm start", value=True, key="race_warm",
            help="Both sides begin from the same plain autoencoder, shipped with the app, that already reconstructs "
                 "lines: what the race then shows is only what the critic adds. Off: both from fresh weights"):
        start = None
    settings = _regularisers(visitor.race.live, opponent)
    widgets.run_controls(visitor.race, "race", lambda: _new_race(preset, opponent, images, start),
                         lambda live: _apply(live, settings))
    live = visitor.race.live
    if live is not None and live.target.start is not None:
        st.caption(f"Both sides started from the same warm start, {describe_start(live.target.start)} "
                   f"(`{Path(live.target.start.path).name}`, shipped with the app): the only difference since is "
                   "lambda.")
    if live is not None and live.target.trainer("baseline").config.model != "acai":
        race = live.target
        st.caption(f"Against the {race_label(race, 'baseline')}: the same batches; shared start: "
                   + (", ".join(race.shared) or "none (its networks differ in shape)") + ".")
    st.caption(f"Trains on {resources.compute_device()}.")
    widgets.live_fragments(visitor.race, _numbers, _pictures, NUMBERS_SECONDS, PICTURES_SECONDS)
    _save(visitor.race.live, opponent)
    session.say_evicted()
    with st.expander("Replay a recorded race", expanded=False, icon=":material/replay:"):
        replay.replay_section(replay.recordings_dir())
    with st.expander("What the numbers mean", expanded=False):
        st.markdown(EXPLANATION)
