"""Train: configure, start/pause/step a model in this browser session and watch it learn.

Training runs in a background thread (explorer.live); this page only draws the run's state while it
trains: the numbers every second, the charts and pictures every PICTURES_SECONDS."""

from __future__ import annotations

import dataclasses
import tempfile

import streamlit as st

from acai import checkpoints, interpolation, models
from acai.config import Config, default_config
from acai.data import DatasetError
from acai.driver import TrainingRun
from acai.training import Trainer
from explorer import charts, resources, session, state, widgets
from explorer.live import LiveRun

EVAL_EVERY = 200  # steps between the live evaluations charted on the page
# While training runs, the numbers redraw every second and the charts and pictures every 5 s (each of
# their redraws costs training time; docs/BENCHMARKS.md).
NUMBERS_SECONDS = 1.0
PICTURES_SECONDS = 5.0


def _model_choices(architecture: str) -> list[str]:
    """The registered models (and aliases such as the authors' VQ-VAE) that train this architecture: ACAI
    first (the default), then the plain autoencoder and the others in the paper's Table 1 order."""
    order = ["acai"] + [{"baseline": "ae"}.get(row.kind, row.kind) for row in models.table_rows()]
    names = sorted((*models.names(), *models.aliases()),
                   key=lambda name: (name.endswith("-published"), order.index(name) if name in order else len(order),
                                     name))
    return [name for name in names
            if architecture in models.get(models.aliases().get(name, (name,))[0]).architectures]


def _model_label(name: str) -> str:
    if name in models.aliases():
        model = models.aliases()[name][0]
        return {"ae": "plain autoencoder (ACAI at lambda 0)"}.get(name, f"{models.get(model).title}: {name}")
    return models.get(name).title


def _own_settings(config: Config) -> Config:
    """One input per setting of the chosen model (its Settings dataclass: defaults and checks)."""
    settings = dict(config.settings)
    fields = dataclasses.fields(models.get(config.model).Settings)
    if not fields:
        return config
    columns = st.columns(min(len(fields), 4))
    for position, field in enumerate(fields):
        value = settings[field.name]
        key = f"train_setting/{config.model}/{field.name}"
        with columns[position % len(columns)]:
            if isinstance(field.default, int):
                settings[field.name] = int(st.number_input(field.name.replace("_", " "), value=int(value), step=1,
                                                           key=key))
            else:
                settings[field.name] = float(st.number_input(field.name.replace("_", " "), value=float(value),
                                                             format="%g", key=key))
    try:
        return config.replace(settings=settings)
    except ValueError as error:
        st.warning(f"{error}; training with the model's defaults instead.")
        return config


def _settings() -> tuple[Config, state.ModelEntry | None]:
    """The controls; returns the config they describe and the pretrained model to start from."""
    left, middle, right = st.columns(3)
    with left:
        options = widgets.dataset_options()
        dataset = st.selectbox("Dataset", options, key="train_dataset", format_func=resources.dataset_label,
                               index=options.index(widgets.opening_dataset(options[0])))
        architecture = st.segmented_control("Architecture", ["conv", "mlp"], default="conv", key="train_arch") or "conv"
        choices = _model_choices(architecture)
        model = st.selectbox("Model", choices, key=f"train_model/{architecture}", format_func=_model_label,
                             help="ACAI or one of the autoencoders of the paper's Table 1, with its authors' "
                                  "settings; its own settings appear below")
    data, _ = session.dataset(dataset)
    base = default_config(dataset, architecture).replace(channels=data.channels)  # channels come from the data
    with middle:
        sizes = [32, 64, 256] if architecture == "conv" else [32, 64, 128]
        if dataset == "lines" and architecture == "conv":
            sizes = [64, 256]
        latent = st.selectbox("Latent size", sizes, key=f"train_latent/{dataset}/{architecture}")
        lr = st.select_slider("Learning rate", [3e-5, 1e-4, 3e-4, 1e-3], value=1e-4, key="train_lr",
                              format_func=lambda v: f"{v:g}")
    config = models.model_config(base.replace(latent_size=latent), model)
    if config.latent_size != latent:
        st.caption(f"The {_model_label(model)} uses the authors' latent for this dataset: {config.latent_size} "
                   f"({config.latent_width}x{config.latent_width} map).")
    config = _own_settings(config)
    with right:
        batch = st.select_slider("Batch size", [16, 32, 64, 128, 256], value=64, key="train_batch")
        candidates = [entry for entry in resources.pretrained_entries() if entry.config.same_model_as(config)]
        start = st.selectbox("Start from", [None] + candidates,
                             key=f"train_start/{dataset}/{architecture}/{latent}/{model}",
                             format_func=lambda e: "scratch (random weights)" if e is None else f"pretrained: {e.label}")
    config = config.replace(learning_rate=lr, batch_size=batch)
    return config, start


def _regularisers(live: LiveRun | None, config: Config) -> tuple[float, float]:
    if not config.has_critic:  # lambda and gamma are ACAI's
        return config.lam, config.gamma
    left, right = st.columns(2)
    if config.is_baseline:  # the plain autoencoder: lambda stays 0 (its critic still trains, as a monitor)
        lam = 0.0
        left.caption("lambda 0: the plain autoencoder (pick ACAI to set lambda)")
    else:
        lam = left.slider("lambda (adversarial weight; 0 = plain autoencoder)", 0.0, 2.0, 0.5, 0.05, key="train_lam")
    gamma = right.slider("gamma (critic regulariser)", 0.0, 1.0, 0.2, 0.05, key="train_gamma")
    if live is not None and live.target.trainer.config.has_critic:  # a variable assignment: no retrace
        live.target.trainer.set_regularization(lam, gamma)
    return lam, gamma


def _new_run(config: Config, start: state.ModelEntry | None) -> LiveRun | None:
    data, problem = session.dataset(config.dataset)
    if problem:
        st.warning(problem.message)
        config = models.model_config(default_config(data.name, config.architecture), config.model).replace(
            lam=config.lam, gamma=config.gamma, learning_rate=config.learning_rate, batch_size=config.batch_size,
            settings=config.settings, channels=data.channels)
    # A copy of a pretrained model: the cached one is shared by every visitor and must stay as it is.
    networks = session.networks_for(start).copy() if start is not None else None
    try:
        trainer = Trainer(config, data, networks=networks)
    except DatasetError as error:  # e.g. the visitor's images are fewer than two batches
        st.warning(f"{error}.")
        return None
    return LiveRun(TrainingRun(trainer, eval_every=EVAL_EVERY))


@st.cache_data(max_entries=64, show_spinner=False)
def _previews(run_key: str, step: int, _run: TrainingRun):
    """(inputs (8, ...), reconstructions (8, ...), Strip) of the run at `step`."""
    networks, sample = _run.trainer.networks, _run.trainer.dataset.x_test[:8]
    strip = interpolation.strip(networks, sample[0], sample[1], 8)
    return sample, interpolation.decode(networks, interpolation.encode(networks, sample)), strip


def _numbers(live: LiveRun | None) -> None:
    if not widgets.live_status(live, "Choose settings and press **Start** (a new model; it replaces the current "
                               "one) or **Step** (one step). Training runs in the background, so every control "
                               "stays live; lambda and gamma apply at the next step."):
        return
    trainer = live.target.trainer
    last = trainer.history.last()
    metrics = st.columns(5)
    metrics[0].metric("step", f"{trainer.step:,}")
    metrics[1].metric("images / s", f"{live.steps_per_second * trainer.config.batch_size:,.0f}")
    metrics[2].metric("reconstruction", f"{last.get('reconstruction', float('nan')):.4f}")
    if trainer.config.has_critic:
        metrics[3].metric("critic alpha loss", f"{last.get('critic_alpha', float('nan')):.4f}")
        metrics[4].metric("lambda in force", f"{trainer.config.lam:g}")
        return
    own = [name for name in trainer.history.columns if name not in charts.NOT_LOSSES + ("reconstruction",)]
    for column, name in zip(metrics[3:], own + ["codes_used"] * ("codes_used" in trainer.history.columns)):
        column.metric(name.replace("_", " "), f"{last.get(name, float('nan')):.4g}")


def _pictures(live: LiveRun | None) -> None:
    if live is None:
        return
    run, trainer = live.target, live.target.trainer
    st.plotly_chart(charts.loss_figure(trainer.history.as_array(), trainer.history.columns), key="loss_chart")
    if run.evaluations:
        st.plotly_chart(charts.evaluation_figure(run.evaluations, f"live evaluation every {run.eval_every} steps"),
                        key="benchmark_chart")
    step = session.preview_step("train", live)
    sample, reconstructions, strip = _previews(live.key, step, run)
    st.markdown(f"**Reconstructions** at step {step:,} (top: input, bottom: output)")
    widgets.frames_row(sample, scale=2)
    widgets.frames_row(reconstructions, scale=2)
    config = trainer.config
    st.markdown("**Interpolation** between test images 0 and 1" + (", with the critic's alpha" if config.has_critic
                                                                   else ""))
    widgets.frames_row(strip.frames, [f"d={value:.2f}" for value in strip.critic] if config.has_critic else None,
                       scale=2)
    st.caption(f"{models.get(config.model).describe(config)}; {config.architecture}, latent {config.latent_size}, "
               f"batch {config.batch_size}, learning rate {config.learning_rate:g}")


def _save_and_load(live: LiveRun | None) -> None:
    visitor = session.current()
    save, download, upload = st.columns(3)
    with save:
        name = st.text_input("Name", value="my-model", key="save_name")
        if st.button("Save to my models", key="save_model", disabled=live is None):
            trainer = live.target.trainer
            entry = session.add_session_model(name, trainer.config, trainer.networks.copy())  # training goes on
            st.success(f"Saved {entry.label} at step {trainer.step}; pick it on the Interpolate page.")
    with download:
        if st.button("Prepare weights download", key="prepare_download", disabled=live is None):
            with tempfile.TemporaryDirectory() as folder, live.paused():
                live.target.save(f"{folder}/model")
                visitor.weights_download = checkpoints.to_zip_bytes(f"{folder}/model")
        if visitor.weights_download:
            st.download_button("Download weights (.zip)", visitor.weights_download, "acai_model.zip",
                               mime="application/zip", key="download_weights")
        history = live.target.trainer.history if live is not None else None
        st.download_button("Download loss history (.csv)", history.to_csv if history is not None else "",
                           "acai_losses.csv", mime="text/csv", key="download_losses", disabled=history is None)
    with upload:
        archive = st.file_uploader("Load weights (.zip saved here)", type=["zip"], key="upload_weights")
        if archive is not None and st.button("Add to my models", key="add_uploaded"):
            try:
                with tempfile.TemporaryDirectory() as folder:
                    loaded = checkpoints.load_checkpoint(checkpoints.extract_zip(archive.getvalue(), folder))
                entry = session.add_session_model(archive.name.removesuffix(".zip"), loaded.config, loaded.networks)
                st.success(f"Added {entry.label} ({loaded.config.dataset}, step {loaded.step}).")
            except checkpoints.CheckpointError as error:
                st.error(f"Could not load {archive.name}: {error}")
    session.say_evicted()


def render() -> None:
    st.title("Train")
    widgets.keep_images_bright()
    visitor = session.current()
    config, start = _settings()
    lam, gamma = _regularisers(visitor.training.live, config)
    widgets.run_controls(visitor.training, "train", lambda: _new_run(config.replace(lam=lam, gamma=gamma), start))
    live = visitor.training.live
    st.caption(f"Trains on {resources.compute_device()}.")
    if live is not None and not live.target.trainer.config.same_model_as(config):
        st.caption("The settings above differ from the running model's; they apply when you press Start.")

    widgets.live_fragments(visitor.training, _numbers, _pictures, NUMBERS_SECONDS, PICTURES_SECONDS)
    with st.expander("Save, download or load weights; loss history as CSV", expanded=False):
        _save_and_load(live)
