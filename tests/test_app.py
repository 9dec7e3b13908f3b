"""Streamlit AppTest: every page, driven through its widgets by key."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.slow  # trainings, subprocesses or app runs: CI runs them, `-m "not slow"` skips

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
PAGES = {"app_pages/interpolate.py": "Interpolate", "app_pages/train.py": "Train", "app_pages/race.py": "Race",
         "app_pages/latent.py": "Latent space", "app_pages/evaluate.py": "Evaluate"}


def start(page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180).run()
    if page is not None:
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def mix_image(app: AppTest):
    (image,) = [element for element in app.get("image") if "at alpha" in element.proto.imgs[0].caption]
    return image.proto.imgs[0]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(page):
    app = start(page)
    assert app.title[0].value == PAGES[page]


def test_interpolate_opens_first_and_alpha_changes_the_mix():
    app = start()
    assert app.title[0].value == "Interpolate"
    before = mix_image(app)
    assert "alpha 0.50" in before.caption
    app.slider(key="alpha").set_value(0.1).run()
    after = mix_image(app)
    assert "alpha 0.10" in after.caption and after.url != before.url  # new pixels, not just a new label
    assert len([b for b in app.get("download_button")]) == 2  # PNG and GIF


TABLE_1_LINEUP = ["lines-baseline", "lines-dropout", "lines-denoising", "lines-vae", "lines-aae", "lines-vqvae",
                  "lines-acai"]


def test_all_models_view_stacks_one_strip_per_table_1_kind():
    app = AppTest.from_file(APP, default_timeout=300)
    for name, value in {"page": "interpolate", "dataset": "lines", "model": "lines-acai", "compare": "all"}.items():
        app.query_params[name] = value
    app.run()
    assert not app.exception and not app.warning, [e.value for e in app.exception]
    assert app.selectbox(key="interp_compare/lines").value == "all"
    titles = [text.value for text in app.markdown if "Mean Distance" in text.value]
    assert [title.split("**")[1] for title in titles] == TABLE_1_LINEUP  # the paper's order, seven strips
    assert all("× 10⁻³ · Smoothness" in title for title in titles)
    strips = [image for image in app.get("image") if image.proto.imgs[0].caption.startswith("t=0.00")]
    assert len(strips) == len(TABLE_1_LINEUP) + 1  # and the pixel cross-fade
    app.toggle(key="play").set_value(True).run()  # Play alpha: every model in step, in one player
    assert not app.exception
    compare = app.query_params["compare"]
    assert (compare if isinstance(compare, str) else compare[-1]) == "all"  # the address says so


def test_random_pair_and_gallery_pick_change_the_endpoints():
    app = start()
    dataset = app.selectbox(key="interp_dataset").value
    app.button(key="pick_a_5").click().run()
    assert app.session_state["acai"].endpoints[dataset][0] == ("test", 5)
    before = list(app.session_state["acai"].endpoints[dataset])
    app.button(key="random_pair").click().run()
    assert app.session_state["acai"].endpoints[dataset] != before and not app.exception


def test_every_visitor_opens_the_same_grid_until_asking_for_new_corners():
    """The 2-D grid's first corners are shared (one decode and one PNG for a whole room); new ones on request."""
    first, second = start(), start()
    dataset = first.selectbox(key="interp_dataset").value
    corners = first.session_state["acai"].grid_corners[dataset]
    assert second.session_state["acai"].grid_corners[dataset] == corners
    first.button(key="grid_reroll").click().run()
    assert first.session_state["acai"].grid_corners[dataset] != corners and not first.exception
    assert second.session_state["acai"].grid_corners[dataset] == corners


def test_train_step_advances_and_lambda_takes_effect_without_retrace():
    app = start("app_pages/train.py")
    app.selectbox(key="train_dataset").set_value("lines").run()
    app.button(key="train_step").click().run()
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["step"] == "1" and metrics["lambda in force"] == "0.5"
    app.slider(key="train_lam").set_value(0.0).run()
    app.button(key="train_step").click().run()
    trainer = app.session_state["acai"].training.live.target.trainer
    assert trainer.step == 2 and len(trainer.history) == 2
    np.testing.assert_allclose(trainer.history.column("lam"), [0.5, 0.0])
    assert trainer.compiled_step.experimental_get_tracing_count() == 1
    assert {m.label: m.value for m in app.metric}["lambda in force"] == "0"
    assert any(len(chart.proto.spec) for chart in app.get("plotly_chart"))  # the live loss chart
    assert any(caption.value.startswith("Trains on CPU (") for caption in app.caption)  # no GPU here
    (csv_button,) = [b for b in app.get("download_button") if "loss history" in b.proto.label]
    assert not csv_button.proto.disabled


def test_train_page_trains_any_model_with_its_own_settings():
    app = start("app_pages/train.py")
    app.selectbox(key="train_dataset").set_value("lines").run()
    app.selectbox(key="train_model/conv").set_value("ae").run()  # the plain autoencoder: lambda stays 0
    assert "train_lam" not in [slider.key for slider in app.slider]
    app.button(key="train_step").click().run()
    assert app.session_state["acai"].training.live.target.trainer.config.lam == 0.0
    app.button(key="train_reset").click().run()
    options = set(app.selectbox(key="train_model/conv").options)  # as shown
    assert {"ACAI", "plain autoencoder (ACAI at lambda 0)", "VAE", "AAE", "VQ-VAE", "VQ-VAE: vqvae-published"} <= options
    app.selectbox(key="train_model/conv").set_value("vqvae").run()
    assert not app.slider  or "train_lam" not in [s.key for s in app.slider]  # lambda and gamma are ACAI's
    app.number_input(key="train_setting/vqvae/codebook_bits").set_value(6).run()  # its own settings
    app.number_input(key="train_setting/vqvae/restart_after").set_value(2).run()
    for _ in range(3):
        app.button(key="train_step").click().run()
    assert not app.exception, [e.value for e in app.exception]
    trainer = app.session_state["acai"].training.live.target.trainer
    assert trainer.config.model == "vqvae" and trainer.step == 3
    assert trainer.config.model_settings.codebook_bits == 6 and trainer.config.model_settings.restart_after == 2
    assert {m.label for m in app.metric} >= {"step", "reconstruction", "commitment", "codes used"}
    spec = app.get("plotly_chart")[0].proto.spec
    assert '"name":"commitment"' in spec and '"name":"critic_alpha"' not in spec


def test_broken_pretrained_model_shows_its_message(monkeypatch, tmp_path):
    source = next(p for p in (Path(APP).parent / "pretrained").iterdir() if (p / "config.json").exists())
    broken = shutil.copytree(source, tmp_path / "broken")
    (broken / "networks.weights.h5").write_bytes(b"not an HDF5 file")
    monkeypatch.setenv("ACAI_PRETRAINED_DIR", str(tmp_path))
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.selectbox(key="interp_dataset").set_value(json.loads((broken / "config.json").read_text())["config"]["dataset"]).run()
    assert not app.exception
    assert any("cannot be used" in error.value and "corrupt" in error.value for error in app.error)


def test_unavailable_dataset_falls_back_with_one_message(monkeypatch, tmp_path):
    from explorer import resources

    monkeypatch.setenv("ACAI_DATA_DIR", str(tmp_path))  # no archives here
    resources.available_dataset.clear()
    try:
        app = start("app_pages/latent.py")
        app.selectbox(key="latent_dataset").set_value("fashion_mnist").run()
        assert not app.exception
        assert any("does not exist" in warning.value and "'lines'" in warning.value for warning in app.warning)
        app.run()
        assert not app.warning  # said once
    finally:
        resources.available_dataset.clear()


def test_offline_start_says_once_that_mnist_is_missing(monkeypatch, tmp_path):
    from explorer import resources

    monkeypatch.setenv("ACAI_DATA_DIR", str(tmp_path))  # no archives: as offline without a download
    resources.available_dataset.clear()
    try:
        app = start()
        assert any("mnist.npz does not exist" in info.value and "Opening with" in info.value for info in app.info)
        assert mix_image(app)  # a working interpolation all the same
        app.slider(key="alpha").set_value(0.3).run()
        assert not [info for info in app.info if "Opening with" in info.value]  # said once
    finally:
        resources.available_dataset.clear()


def test_evaluate_measures_beside_the_paper(monkeypatch, tmp_path):
    for name in ("lines-acai", "lines-baseline"):  # two of the seven lines models: measuring all takes 4x longer
        (tmp_path / name).symlink_to(Path(APP).parent / "pretrained" / name)
    monkeypatch.setenv("ACAI_PRETRAINED_DIR", str(tmp_path))
    app = start("app_pages/evaluate.py")
    app.selectbox(key="eval_dataset").set_value("lines").run()
    app.button(key="eval_run").click().run()
    assert not app.exception
    table = app.table[0].value.set_index("Model")
    assert list(table.index) == ["lines-baseline", "lines-acai"]  # the paper's row order
    assert table.loc["lines-acai", "Mean Distance × 10⁻³ (paper)"] == "0.24"
    assert table.loc["lines-baseline", "Smoothness (paper)"] == "0.44"
    assert (table["Mean Distance × 10⁻³"].astype(float) > 0).all()
    assert not (table == "None").any().any() and "nan" not in table.to_string().lower()
    quick = "Measured here (quick samples: 64 line pairs; 2,000 training and 2,000 test images)"
    assert any(f"{quick}: lines-acai, lines-baseline" in c.value for c in app.caption)
    chart = app.get("plotly_chart")[0].proto.spec  # ours as bars, the paper's as markers, per model
    assert '"type":"bar"' in chart and '"symbol":"diamond"' in chart and "lines-baseline" in chart


def test_latent_space_draws_the_scatter():
    app = start("app_pages/latent.py")
    charts = app.get("plotly_chart")
    assert charts and "customdata" in charts[0].proto.spec  # global indices travel with the points


def test_two_sessions_keep_separate_models_and_cache_keys():
    apps = [start("app_pages/train.py") for _ in range(2)]
    for app in apps:
        app.selectbox(key="train_dataset").set_value("lines").run()
        app.button(key="train_step").click().run()
        app.button(key="save_model").click().run()
        assert not app.exception
    (first,), (second,) = (list(app.session_state["acai"].models) for app in apps)
    assert first != second  # cached strips are shared process-wide: keys must never collide
    trainers = [app.session_state["acai"].training.live.target.trainer for app in apps]
    assert trainers[0] is not trainers[1] and all(t.step == 1 for t in trainers)


def test_race_controls_step_both_models_and_each_lambda_is_its_own():
    app = start("app_pages/race.py")
    app.selectbox(key="race_preset").set_value("demo-lines").run()
    app.button(key="race_step").click().run()
    assert not app.exception
    race = app.session_state["acai"].race.live.target
    assert race.trainer("acai").step == race.trainer("baseline").step == 1
    assert {m.label: m.value for m in app.metric}["step (each model)"] == "1"
    app.slider(key="race_lam_baseline").set_value(0.25).run()
    app.button(key="race_step").click().run()
    np.testing.assert_allclose(race.trainer("baseline").history.column("lam"), [0.0, 0.25])
    np.testing.assert_allclose(race.trainer("acai").history.column("lam"), [0.5, 0.5])
    assert race.trainer("acai").compiled_step.experimental_get_tracing_count() == 1
    frames = [picture for image in app.get("image") for picture in image.proto.imgs]
    assert len(frames) >= 2 * 2 * 8  # both models' strips of both pairs
    app.button(key="race_save_acai").click().run()
    assert [entry.label for entry, _ in app.session_state["acai"].models.values()] == ["race-acai (this session)"]
    app.button(key="race_reset").click().run()
    assert app.session_state["acai"].race.live is None and not app.exception


def test_the_demo_race_starts_warm_from_the_shipped_plain_autoencoder_or_cold_when_asked():
    from acai import checkpoints

    app = start("app_pages/race.py")
    app.selectbox(key="race_preset").set_value("demo-lines").run()
    assert app.toggle(key="race_warm").value  # on by default where a start is shipped
    app.button(key="race_step").click().run()
    assert not app.exception, [e.value for e in app.exception]
    race = app.session_state["acai"].race.live.target
    shipped = checkpoints.load_checkpoint("race-starts/demo-lines-plain")
    assert race.start is not None and race.step == 1
    assert any("Both sides started from the same warm start, the plain autoencoder (lambda 0) trained" in c.value
               for c in app.caption)
    race.trainer("acai").networks.decoder.get_weights()  # built
    # One step from the start: both sides are near the shipped weights, far from a fresh initialisation.
    moved = [np.abs(a - b).max() for a, b in zip(race.trainer("baseline").networks.decoder.get_weights(),
                                                 shipped.networks.decoder.get_weights())]
    assert max(moved) < 0.05
    app.button(key="race_reset").click().run()
    app.toggle(key="race_warm").set_value(False).run()
    app.button(key="race_step").click().run()
    assert app.session_state["acai"].race.live.target.start is None and not app.exception
    app.selectbox(key="race_opponent").set_value("vae").run()
    assert not [toggle for toggle in app.toggle if toggle.key == "race_warm"]  # only against lambda 0


def test_race_acai_against_the_vae():
    app = start("app_pages/race.py")
    app.selectbox(key="race_preset").set_value("demo-lines").run()
    assert "VQ-VAE" in app.selectbox(key="race_opponent").options
    app.selectbox(key="race_opponent").set_value("vae").run()
    assert "race_lam_baseline" not in [slider.key for slider in app.slider]  # the VAE has no lambda
    app.button(key="race_step").click().run()
    assert not app.exception, [e.value for e in app.exception]
    race = app.session_state["acai"].race.live.target
    assert race.trainer("baseline").config.model == "vae" and race.trainer("baseline").step == 1
    assert any("Against the VAE: the same batches; shared start: decoder" in c.value for c in app.caption)
    assert any(text.value.startswith("*VAE* (VAE, KL weight") for text in app.markdown)
    assert any("VAE: losses" in chart.proto.spec for chart in app.get("plotly_chart"))


def test_race_start_trains_in_the_background_and_pause_stops_it():
    import time

    app = start("app_pages/race.py")
    app.selectbox(key="race_preset").set_value("demo-lines").run()
    app.button(key="race_start").click().run()
    live = app.session_state["acai"].race.live
    deadline = time.monotonic() + 60
    while live.step < 5 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert live.running and live.step >= 5
    app.run()
    app.button(key="race_pause").click().run()
    paused_at = live.step
    time.sleep(1.0)
    assert not live.running and live.step == paused_at
    assert live.target.trainer("acai").step == live.target.trainer("baseline").step


def test_an_uploaded_zip_becomes_a_colour_dataset_on_every_page(colour_zip):
    app = start("app_pages/train.py")
    app.file_uploader(key="images_upload").set_value(("shapes.zip", colour_zip(160), "application/zip")).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("160 images (144 train, 16 test), 32x32 RGB, 2 classes; 1 skipped" in s.value for s in app.success)
    (name,) = app.session_state["acai"].datasets
    assert app.selectbox(key="train_dataset").value == name  # the pages open on the new images
    app.select_slider(key="train_batch").set_value(16).run()
    for _ in range(2):
        app.button(key="train_step").click().run()
    trainer = app.session_state["acai"].training.live.target.trainer
    assert trainer.step == 2 and trainer.config.channels == 3 and trainer.config.dataset == name
    app.button(key="save_model").click().run()
    for page in ("app_pages/interpolate.py", "app_pages/latent.py", "app_pages/evaluate.py", "app_pages/race.py"):
        app.switch_page(page).run()
        assert not app.exception, (page, [e.value for e in app.exception])
    app.switch_page("app_pages/interpolate.py").run()
    assert app.selectbox(key="interp_dataset").value == name
    assert "at alpha 0.50" in mix_image(app).caption  # the saved model interpolates the uploaded images
    app.switch_page("app_pages/race.py").run()
    app.selectbox(key="race_images").set_value(name).run()
    app.button(key="race_step").click().run()
    race = app.session_state["acai"].race.live.target
    assert race.trainer("acai").config.dataset == name and race.trainer("acai").config.channels == 3


def test_a_hostile_upload_is_answered_in_words_and_the_app_goes_on(colour_zip):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../escape.png", b"x")
    app = start()
    app.file_uploader(key="images_upload").set_value(("escape.zip", buffer.getvalue(), "application/zip")).run()
    assert not app.exception and any("outside the archive" in error.value for error in app.error)
    assert not app.session_state["acai"].datasets
    app.file_uploader(key="images_upload").set_value(("few.zip", colour_zip(20), "application/zip")).run()
    (name,) = app.session_state["acai"].datasets  # 20 pictures load; training them in batches of 64 would not
    app.switch_page("app_pages/train.py").run()
    app.button(key="train_step").click().run()
    assert not app.exception and any("fewer than two batches of 64" in w.value for w in app.warning)


def test_the_race_page_replays_the_shipped_lines32_race_when_asked():
    app = start("app_pages/race.py")
    assert not [e for e in app.get("bidi_component") if "acai_race_replay" in str(e.proto)]  # sent only when asked
    app.toggle(key="replay_shipped").set_value(True).run()
    assert not app.exception and not app.error, [e.value for e in app.exception]
    (player,) = [element for element in app.get("bidi_component") if "acai_race_replay" in str(element.proto)]
    from acai import recording
    from explorer.replay import describe, recordings_dir

    shipped = recording.read(recordings_dir() / "race-lines32.npz")
    assert describe(shipped) in str(player.proto)  # the label that says what, where, how long


def test_the_race_page_replays_an_uploaded_recording_and_refuses_a_foreign_file():
    import io

    from acai import recording

    rng = np.random.default_rng(0)
    shape = (5, 2, 5, 32, 32, 1)
    recorded = recording.Recording(
        np.array([0, 1, 4, 9, 16]), {side: rng.integers(0, 256, shape, dtype=np.uint8) for side in recording.SIDES},
        {"acai": rng.random(shape[:3], dtype=np.float32), "baseline": np.full(shape[:3], np.nan, np.float32)},
        rng.integers(0, 256, (2, 2, 32, 32, 1), dtype=np.uint8), np.linspace(0, 1, 5, dtype=np.float32),
        {side: {"mean_distance": np.array([[0, 0.04], [16, 0.01]])} for side in recording.SIDES},
        {"machine": "a test", "wall_seconds": 12.0, "total_steps": 16, "dataset": "lines", "metric": "mean_distance"})
    app = start("app_pages/race.py")
    app.file_uploader(key="replay_upload").set_value(("race.npz", recording.to_bytes(recorded), "application/zip")).run()
    assert not app.exception and not app.error, [e.value for e in app.exception]
    (player,) = [element for element in app.get("bidi_component") if "acai_race_replay" in str(element.proto)]
    assert "Recorded, not live: 16 steps of lines in 12 s" in str(player.proto)
    foreign = io.BytesIO()
    np.savez(foreign, x_train=np.zeros((2, 28, 28), np.uint8))
    app.file_uploader(key="replay_upload").set_value(("mine.npz", foreign.getvalue(), "application/zip")).run()
    assert not app.exception and any("not a race recording" in error.value for error in app.error)
