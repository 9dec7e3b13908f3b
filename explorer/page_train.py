"""Train: configure, start/pause/step a model in this browser session and watch it learn."""

from __future__ import annotations

import tempfile
import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from acai import checkpoints, evaluation, interpolation
from acai.config import DATASETS, Config, default_config
from acai.networks import ACAINetworks
from acai.training import Trainer
from explorer import state, widgets

CHUNK_SECONDS = 0.3  # each live update trains about this long, so controls answer within a second
PREVIEW_SECONDS = 1.5  # image previews refresh at most this often while training runs
LINES_EVAL_EVERY = 200
LOSS_COLOURS = {"reconstruction": "#1f77b4", "adversarial": "#d62728", "critic_alpha": "#2ca02c", "critic_real": "#9467bd"}


def _session() -> dict:
    return st.session_state.setdefault("train", {"trainer": None, "running": False, "error": None, "chunk": 2})


def _settings() -> tuple[Config, state.ModelEntry | None]:
    """The controls; returns the config they describe and the pretrained model to start from."""
    left, middle, right = st.columns(3)
    with left:
        dataset = st.selectbox("Dataset", DATASETS, key="train_dataset", format_func=widgets.DATASET_LABELS.get)
        architecture = st.segmented_control("Architecture", ["conv", "mlp"], default="conv", key="train_arch") or "conv"
    base = default_config(dataset, architecture)
    with middle:
        sizes = [32, 64, 256] if architecture == "conv" else [32, 64, 128]
        if dataset == "lines" and architecture == "conv":
            sizes = [64, 256]
        latent = st.selectbox("Latent size", sizes, key=f"train_latent/{dataset}/{architecture}")
        lr = st.select_slider("Learning rate", [3e-5, 1e-4, 3e-4, 1e-3], value=1e-4, key="train_lr",
                              format_func=lambda v: f"{v:g}")
    with right:
        batch = st.select_slider("Batch size", [16, 32, 64, 128, 256], value=64, key="train_batch")
        candidates = [entry for entry in state.pretrained_entries()
                      if entry.config.replace(lam=0, gamma=0) == base.replace(latent_size=latent, lam=0, gamma=0)]
        start = st.selectbox("Start from", [None] + candidates, key=f"train_start/{dataset}/{architecture}/{latent}",
                             format_func=lambda e: "scratch (random weights)" if e is None else f"pretrained: {e.label}")
    config = base.replace(latent_size=latent, learning_rate=lr, batch_size=batch)
    return config, start


def _regularisers(trainer: Trainer | None) -> tuple[float, float]:
    left, right = st.columns(2)
    lam = left.slider("lambda (adversarial weight; 0 = plain autoencoder)", 0.0, 2.0, 0.5, 0.05, key="train_lam")
    gamma = right.slider("gamma (critic regulariser)", 0.0, 1.0, 0.2, 0.05, key="train_gamma")
    if trainer is not None:
        trainer.set_regularization(lam, gamma)  # a variable assignment: the next step uses it, no retrace
    return lam, gamma


def _new_trainer(config: Config, start: state.ModelEntry | None) -> Trainer:
    data, problem = state.available_dataset(config.dataset)
    if problem:
        st.warning(problem)
        config = default_config(data.name, config.architecture).replace(
            lam=config.lam, gamma=config.gamma, learning_rate=config.learning_rate, batch_size=config.batch_size)
    networks = ACAINetworks(config, data.num_classes)
    if start is not None:  # copy: the cached pretrained model is shared and must stay as it is
        networks.set_weights(state.networks_for(start).get_weights())
    return Trainer(config, data, networks=networks)


def _buttons(session: dict, config: Config, start: state.ModelEntry | None, lam: float, gamma: float) -> None:
    trainer = session["trainer"]
    columns = st.columns(5)
    if columns[0].button("Start", key="train_start", type="primary", width="stretch",
                         help="a new model with these settings (replaces the current one)"):
        session["trainer"] = _new_trainer(config.replace(lam=lam, gamma=gamma), start)
        session.update(running=True, error=None, previews=None)
        st.rerun()
    if columns[1].button("Pause", key="train_pause", width="stretch", disabled=not session["running"]):
        session["running"] = False
        st.rerun()
    if columns[2].button("Resume", key="train_resume", width="stretch",
                         disabled=trainer is None or session["running"]):
        session.update(running=True, error=None)
        st.rerun()
    if columns[3].button("Step", key="train_step", width="stretch", help="one training step",
                         disabled=session["running"]):
        if session["trainer"] is None:
            session["trainer"] = _new_trainer(config.replace(lam=lam, gamma=gamma), start)
        _advance(session, steps=1)
    if columns[4].button("Reset", key="train_reset", width="stretch", disabled=trainer is None):
        session.update(trainer=None, running=False, error=None, previews=None)
        st.rerun()


def _advance(session: dict, steps: int | None = None) -> None:
    """Train one chunk: `steps`, or as many as fit in CHUNK_SECONDS (adapted to the measured speed)."""
    trainer: Trainer = session["trainer"]
    count = steps or session["chunk"]
    report = trainer.run(count)
    if steps is None and report.steps:
        per_step = report.seconds / report.steps
        session["chunk"] = int(np.clip(CHUNK_SECONDS / max(per_step, 1e-4), 1, 200))
    session["speed"] = report.images_per_second
    if report.diverged:
        session.update(running=False, error=report.diverged)
    if trainer.dataset.is_stream and trainer.step // LINES_EVAL_EVERY > len(trainer.evaluations):
        trainer.evaluations.append({"step": trainer.step, **evaluation.lines_benchmark(trainer.networks, pairs=32)})


def loss_figure(history: np.ndarray, columns: tuple[str, ...], max_points: int = 1500) -> go.Figure:
    """The four loss terms against step (log scale), averaged into at most `max_points` buckets."""
    figure = go.Figure()
    if len(history):
        bucket = max(1, int(np.ceil(len(history) / max_points)))
        usable = len(history) // bucket * bucket or len(history)
        averaged = history[:usable].reshape(-1, min(bucket, usable), history.shape[1]).mean(axis=1)
        for name, colour in LOSS_COLOURS.items():
            figure.add_trace(go.Scatter(x=averaged[:, columns.index("step")], y=averaged[:, columns.index(name)],
                                        name=name, mode="lines", line={"color": colour}))
    figure.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), yaxis_type="log",
                         xaxis_title="step", legend=dict(orientation="h", y=1.12), title="losses")
    return figure


def _benchmark_figure(evaluations: list[dict]) -> go.Figure:
    steps = [row["step"] for row in evaluations]
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=steps, y=[row["mean_distance"] for row in evaluations], name="Mean Distance",
                                mode="lines+markers"))
    figure.add_trace(go.Scatter(x=steps, y=[row["smoothness"] for row in evaluations], name="Smoothness",
                                mode="lines+markers", yaxis="y2"))
    figure.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10), title="lines benchmark (32 pairs)",
                         yaxis=dict(title="Mean Distance", type="log"), legend=dict(orientation="h", y=1.15),
                         yaxis2=dict(title="Smoothness", overlaying="y", side="right"))
    return figure


def _live_view(session: dict) -> None:
    trainer: Trainer | None = session["trainer"]
    if session["running"] and trainer is not None:
        _advance(session)
    if session["error"]:
        st.error(session["error"])
    if trainer is None:
        st.info("Choose settings and press **Start** (or **Step**). Training runs in short chunks, so every "
                "control stays live; lambda and gamma apply at the next step.")
        return
    last = trainer.history.last()
    metrics = st.columns(5)
    metrics[0].metric("step", f"{trainer.step:,}")
    metrics[1].metric("images / s", f"{session.get('speed', 0):,.0f}")
    metrics[2].metric("reconstruction", f"{last.get('reconstruction', float('nan')):.4f}")
    metrics[3].metric("critic alpha loss", f"{last.get('critic_alpha', float('nan')):.4f}")
    metrics[4].metric("lambda in force", f"{trainer.config.lam:g}")
    st.plotly_chart(loss_figure(trainer.history.as_array(), trainer.history.columns), key="loss_chart")
    if trainer.evaluations:
        st.plotly_chart(_benchmark_figure(trainer.evaluations), key="benchmark_chart")
    previews = session.get("previews")
    if previews is None or previews[0] != trainer.step and (
            not session["running"] or time.perf_counter() - previews[1] > PREVIEW_SECONDS):
        sample = trainer.dataset.x_test[:8]
        strip = interpolation.strip(trainer.networks, sample[0], sample[1], 8)
        reconstructions = interpolation.decode(trainer.networks, interpolation.encode(trainer.networks, sample))
        previews = session["previews"] = (trainer.step, time.perf_counter(), sample, reconstructions, strip)
    step, _, sample, reconstructions, strip = previews
    st.markdown(f"**Reconstructions** at step {step:,} (top: input, bottom: output)")
    widgets.frames_row(sample, scale=2)
    widgets.frames_row(reconstructions, scale=2)
    st.markdown("**Interpolation** between test images 0 and 1, with the critic's alpha")
    widgets.frames_row(strip.frames, [f"d={value:.2f}" for value in strip.critic], scale=2)
    st.caption(f"compiled step traced {trainer.train_step.experimental_get_tracing_count()} time(s); "
               f"{trainer.config.architecture}, latent {trainer.config.latent_size}, batch {trainer.config.batch_size}")


def _save_and_load(session: dict) -> None:
    trainer: Trainer | None = session["trainer"]
    save, download, upload = st.columns(3)
    with save:
        name = st.text_input("Name", value="my-model", key="save_name")
        if st.button("Save to my models", key="save_model", disabled=trainer is None):
            snapshot = ACAINetworks(trainer.config, trainer.dataset.num_classes)
            snapshot.set_weights(trainer.networks.get_weights())  # a copy: training goes on without it
            entry = state.add_session_model(name, trainer.config, snapshot)
            st.success(f"Saved {entry.label} at step {trainer.step}; pick it on the Interpolate page.")
    with download:
        if st.button("Prepare weights download", key="prepare_download", disabled=trainer is None):
            with tempfile.TemporaryDirectory() as folder:
                checkpoints.save_trainer(f"{folder}/model", trainer)
                session["download"] = checkpoints.to_zip_bytes(f"{folder}/model")
        if session.get("download"):
            st.download_button("Download weights (.zip)", session["download"], "acai_model.zip",
                               mime="application/zip", key="download_weights")
    with upload:
        archive = st.file_uploader("Load weights (.zip saved here)", type=["zip"], key="upload_weights")
        if archive is not None and st.button("Add to my models", key="add_uploaded"):
            try:
                with tempfile.TemporaryDirectory() as folder:
                    loaded = checkpoints.load_checkpoint(checkpoints.extract_zip(archive.getvalue(), folder))
                entry = state.add_session_model(archive.name.removesuffix(".zip"), loaded.config, loaded.networks)
                st.success(f"Added {entry.label} ({loaded.config.dataset}, step {loaded.step}).")
            except checkpoints.CheckpointError as error:
                st.error(f"Could not load {archive.name}: {error}")


def render() -> None:
    st.title("Train")
    session = _session()
    config, start = _settings()
    lam, gamma = _regularisers(session["trainer"])
    _buttons(session, config, start, lam, gamma)
    trainer = session["trainer"]
    if trainer is not None and trainer.config.replace(lam=0, gamma=0) != config.replace(lam=0, gamma=0):
        st.caption("The settings above differ from the running model's; they apply when you press Start.")

    @st.fragment(run_every=0.1 if session["running"] else None)
    def live() -> None:
        _live_view(session)

    live()
    with st.expander("Save, download or load weights", expanded=False):
        _save_and_load(session)
