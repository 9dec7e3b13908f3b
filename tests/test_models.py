"""The other autoencoders of Table 1: their loss terms by hand, one real step of each, checkpoints, VAE means."""

import math
from pathlib import Path

import numpy as np
import pytest

from acai import checkpoints, interpolation, losses, models
from acai.config import PRESETS, Config
from acai.driver import TrainingRun
from acai.models import model_config
from acai.models.vqvae import CodebookAverages
from acai.networks import ACAINetworks
from acai.training import Trainer

OTHERS = [model for model in models.names() if model != "acai"]
APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


# The codebook tests' 4x4 map: the by-hand tests' 32-number code vectors (2 per image), and the map on which the
# authors' averages were seen to collapse to one code at 40, 60 and 80 steps for seeds 0-2 (on a 16x16 map seed
# 2 kept two codes).
BY_HAND = {"latent_width": 4, "latent_size": 32}


def tiny(model: str) -> Config:
    """tests' tiny lines network; the VQ-VAE with a 64-entry codebook and 2 vectors."""
    return Config(dataset="lines", depth=8, latent_width=16, latent_size=256, batch_size=32, model=model,
                  settings={"codebook_bits": 6, "code_vectors": 2} if model == "vqvae" else {})


def test_dropout_zeroes_dropped_units_and_scales_the_kept():
    latents = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    keep = np.array([[True, False], [False, True]])
    np.testing.assert_allclose(losses.drop_units(latents, keep, 0.5), [[2.0, 0.0], [0.0, 8.0]])


def test_bernoulli_negative_log_likelihood_by_hand():
    images = np.array([[1.0, -1.0]], np.float32)  # targets 1 and 0
    # logits 0: -log(1/2) per pixel -> 2 log 2 for the image
    assert float(losses.bernoulli_negative_log_likelihood(images, np.zeros((1, 2), np.float32))) == pytest.approx(
        2 * math.log(2), rel=1e-6)
    # -log sigmoid(2) - log(1 - sigmoid(-3)) = log(1 + e^-2) + log(1 + e^-3); per image, then the batch mean
    expected = math.log1p(math.exp(-2)) + math.log1p(math.exp(-3))
    value = losses.bernoulli_negative_log_likelihood(np.repeat(images, 2, 0), np.array([[2.0, -3.0]] * 2, np.float32))
    assert float(value) == pytest.approx(expected, rel=1e-6)
    # stable at extreme logits: a confident right answer costs nothing, a confident wrong one its logit
    assert float(losses.bernoulli_negative_log_likelihood(images, np.array([[200.0, -200.0]], np.float32))) == 0.0
    assert float(losses.bernoulli_negative_log_likelihood(images, np.array([[-200.0, 0.0]], np.float32))) == \
        pytest.approx(200 + math.log(2), rel=1e-6)


def test_gaussian_kl_and_the_elbo_by_hand():
    mean = np.array([[1.0, 0.0]], np.float32)
    log_variance = np.array([[0.0, math.log(2.0)]], np.float32)
    # 0.5 * [(1 + 1 - 1 - 0) + (2 + 0 - 1 - log 2)]
    assert float(losses.gaussian_kl(mean, log_variance)) == pytest.approx(0.5 * (2 - math.log(2)), rel=1e-6)
    assert float(losses.gaussian_kl(np.zeros((3, 4), np.float32), np.zeros((3, 4), np.float32))) == 0.0
    assert float(losses.negative_elbo(3.0, 2.0, 0.5)) == pytest.approx(4.0)


def test_sigmoid_cross_entropy_by_hand():
    logits = np.array([0.0, 2.0], np.float32)
    assert float(losses.sigmoid_cross_entropy(logits, 1.0)) == pytest.approx(
        (math.log(2) + math.log1p(math.exp(-2))) / 2, rel=1e-6)
    assert float(losses.sigmoid_cross_entropy(logits, 0.0)) == pytest.approx(
        (math.log(2) + 2 + math.log1p(math.exp(-2))) / 2, rel=1e-6)


def test_commitment_loss_by_hand_and_only_the_vectors_get_its_gradient():
    import tensorflow as tf

    vectors, quantized = tf.Variable([[1.0, 2.0]]), tf.Variable([[0.0, 0.0]])
    with tf.GradientTape() as tape:
        value = losses.commitment_loss(vectors, quantized)
    assert float(value) == pytest.approx(2.5)  # (1 + 4) / 2
    to_vectors, to_codes = tape.gradient(value, [vectors, quantized])
    np.testing.assert_allclose(to_vectors.numpy(), [[1.0, 2.0]])  # 2 (v - q) / 2
    assert to_codes is None


def test_quantizer_picks_the_nearest_code_and_passes_gradients_straight_through():
    import tensorflow as tf

    networks = ACAINetworks(tiny("vqvae").replace(**BY_HAND))
    quantizer = networks.quantizer
    book = np.zeros((64, 32), np.float32)
    book[1, :2], book[2, :2] = [1.0, 1.0], [-2.0, 0.0]
    book[3:] = 50.0  # far away
    quantizer.codebook.assign(book)
    vectors = np.zeros((1, 2, 32), np.float32)
    vectors[0, 0, :2], vectors[0, 1, :2] = [0.9, 0.8], [-1.5, 0.2]
    np.testing.assert_array_equal(quantizer.nearest(vectors), [[1, 2]])
    variable = tf.Variable(vectors)
    with tf.GradientTape() as tape:
        out = quantizer(variable)
        total = tf.reduce_sum(out * 3.0)
    np.testing.assert_allclose(out.numpy()[0, :, :2], [[1.0, 1.0], [-2.0, 0.0]])
    np.testing.assert_allclose(tape.gradient(total, variable).numpy(), np.full_like(vectors, 3.0))


def _codebook_case(**settings):
    """A 64-entry codebook whose entries 0 and 1 start at (-5, -5) and (1, 1), the rest far away; three vectors
    of one image choose codes 1, 1 and 0. Decay 0.5, no smoothing."""
    config = tiny("vqvae").replace(**BY_HAND, settings={"codebook_bits": 6, "code_vectors": 2, **settings})
    networks = ACAINetworks(config)
    quantizer = networks.quantizer
    book = np.full((64, 32), 100.0, np.float32)
    book[0, :2], book[1, :2] = [-5.0, -5.0], [1.0, 1.0]
    book[0, 2:], book[1, 2:] = 0.0, 0.0
    quantizer.codebook.assign(book)
    averages = CodebookAverages(quantizer, config.model_settings)
    averages.decay, averages.epsilon = 0.5, 0.0
    vectors = np.zeros((1, 3, 32), np.float32)
    vectors[0, :, :2] = [[1.0, 1.0], [1.0, 3.0], [-4.0, -6.0]]
    return quantizer, averages, book, vectors, np.array([[1, 1, 0]])


def test_the_authors_codebook_averages_by_hand():
    quantizer, averages, book, vectors, codes = _codebook_case(debiased=0, restart_after=0)
    averages.update(quantizer, vectors, codes, np.zeros(64, np.float32))
    # counts: 0.5 * 0 + 0.5 * [1 (code 0), 2 (code 1)]; sums: 0.5 * old + 0.5 * the sum of the assigned vectors
    np.testing.assert_allclose(averages.counts.numpy()[:2], [0.5, 1.0])
    np.testing.assert_allclose(quantizer.codebook.numpy()[0, :2], [-9.0, -11.0])  # [-4.5, -5.5] / 0.5
    np.testing.assert_allclose(quantizer.codebook.numpy()[1, :2], [1.5, 2.5])  # ([0.5, 0.5] + [1, 2]) / 1
    # An unused entry: its sum 0.5 * 100 over a count of 0 (no smoothing here): it leaves the codebook's scale.
    assert not np.all(np.isfinite(quantizer.codebook.numpy()[2])) or np.abs(quantizer.codebook.numpy()[2]).min() > 1e3


def test_debiased_codebook_averages_by_hand():
    """After one step a used entry is the mean of its vectors and an unused one keeps its value."""
    quantizer, averages, book, vectors, codes = _codebook_case(debiased=1, restart_after=0)
    averages.update(quantizer, vectors, codes, np.zeros(64, np.float32))
    np.testing.assert_allclose(quantizer.codebook.numpy()[0, :2], [-4.0, -6.0])  # its one vector
    np.testing.assert_allclose(quantizer.codebook.numpy()[1, :2], [1.0, 2.0])  # the mean of (1, 1) and (1, 3)
    np.testing.assert_array_equal(quantizer.codebook.numpy()[2:], book[2:])  # unused: unchanged
    # Step 2, the same vectors: the debiased averages stay the means (decay cancels in the ratio).
    averages.update(quantizer, vectors, codes, np.zeros(64, np.float32))
    np.testing.assert_allclose(quantizer.codebook.numpy()[1, :2], [1.0, 2.0], rtol=1e-6)


def test_an_entry_unused_for_restart_after_steps_moves_to_a_vector_of_the_batch():
    quantizer, averages, book, vectors, codes = _codebook_case(debiased=1, restart_after=2)
    picks = np.full(64, 0.5, np.float32)  # every restarted entry: vector floor(0.5 * 3) = 1, i.e. (1, 3)
    averages.update(quantizer, vectors, codes, picks)
    np.testing.assert_array_equal(quantizer.codebook.numpy()[2:], book[2:])  # unused once: not yet
    averages.update(quantizer, vectors, codes, picks)
    np.testing.assert_allclose(quantizer.codebook.numpy()[2:, :2], np.tile([1.0, 3.0], (62, 1)))
    np.testing.assert_allclose(quantizer.codebook.numpy()[1, :2], [1.0, 2.0], rtol=1e-6)  # used ones stay
    assert averages.counts.numpy()[2:].max() == 0.0 and averages.unused.numpy().max() == 0.0  # start afresh


@pytest.mark.slow
def test_vq_vae_codes_depend_on_the_image_and_the_authors_averages_collapse(lines_dataset):
    """A short tiny run: with the debiased averages and restarts, more than one code is in use and the codes
    differ across images; with the authors' averages one code serves every vector of every image."""
    def codes_after(steps, **settings):
        config = tiny("vqvae").replace(**BY_HAND, settings={"codebook_bits": 6, "code_vectors": 2, **settings})
        trainer = Trainer(config, lines_dataset)
        trainer.run(steps)
        networks = trainer.networks
        return networks.quantizer.nearest(networks.to_vectors(networks.encoder(lines_dataset.x_test[:64]))).numpy()

    working = codes_after(60, restart_after=20)
    assert len(np.unique(working)) > 1
    assert all(len(np.unique(working[:, slot])) > 1 for slot in range(working.shape[1]))  # per image, not per slot
    published = codes_after(60, debiased=0, restart_after=0)
    assert len(np.unique(published)) == 1


@pytest.mark.slow
def test_aae_warms_up_on_reconstruction_alone_then_weighs_the_adversary(lines_dataset):
    """Before `warmup` steps the autoencoder learns exactly as with no adversary's term; from then on, with it."""
    warming = Trainer(tiny("aae").replace(settings={"warmup": 3, "fooling_weight": 0.5}), lines_dataset)
    unweighted = Trainer(tiny("aae").replace(settings={"warmup": 0, "fooling_weight": 0.0}), lines_dataset)

    def autoencoder_after(trainer, steps):
        trainer.run(steps - trainer.step)
        return [variable.numpy() for variable in trainer.networks.autoencoder_variables]

    for a, b in zip(autoencoder_after(warming, 3), autoencoder_after(unweighted, 3)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    after = autoencoder_after(warming, 4)
    assert not all(np.allclose(a, b) for a, b in zip(after, autoencoder_after(unweighted, 4)))


@pytest.mark.slow
def test_aae_codes_stay_within_a_few_times_the_priors_scale(lines_dataset):
    """A short tiny run of the default AAE (its warm-up shortened to fit): the codes' norm stays within 5 times
    a prior sample's (the authors' variant reaches about 50 times on the paper's lines network by step 250)."""
    trainer = Trainer(tiny("aae").replace(settings={"warmup": 100}), lines_dataset)
    trainer.run(300)
    codes = trainer.networks.encoder(lines_dataset.x_test[:64]).numpy().reshape(64, -1)
    ratio = np.linalg.norm(codes, axis=1).mean() / np.sqrt(codes.shape[1])  # a N(0, I) sample's norm
    assert 0.1 < ratio < 5, ratio


@pytest.mark.slow
@pytest.mark.parametrize("model", OTHERS)
def test_one_training_step_of_each_on_lines(model, lines_dataset):
    config = tiny(model)
    trainer = Trainer(config, lines_dataset)
    before = [v.numpy().copy() for v in trainer.networks.autoencoder_variables]
    report = trainer.run(2)
    assert report.steps == 2 and not report.diverged
    history = trainer.history.as_array()
    assert trainer.history.columns == ("step", *models.get(config.model).loss_names, "lam", "gamma")
    assert history.shape == (2, len(trainer.history.columns)) and np.isfinite(history).all()
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(before, trainer.networks.autoencoder_variables))
    assert trainer.networks.critic is None
    strip = interpolation.strip(trainer.networks, *lines_dataset.x_test[:2], steps=4)
    assert strip.frames.shape == (4, 32, 32, 1) and np.isnan(strip.critic).all()  # no critic: no estimate


@pytest.mark.slow
@pytest.mark.parametrize("model", ["vae", "vqvae"])
def test_checkpoints_resume_exactly(model, lines_dataset, tmp_path):
    """Random draws (the VAE's samples) and the codebook averages (VQ-VAE) come back with the checkpoint:
    2 + 2 steps equal 4. (Every model's draws come from the same stateless generator.)"""
    config = tiny(model)
    straight = Trainer(config, lines_dataset)
    straight.run(4)
    first = TrainingRun(Trainer(config, lines_dataset))
    first.advance(2)
    first.save(tmp_path / model)
    checkpoint = checkpoints.load_checkpoint(tmp_path / model)
    assert checkpoint.config.same_model_as(config) and checkpoint.config.model == model
    resumed = TrainingRun.restore(tmp_path / model, lines_dataset)
    resumed.advance(2)
    for a, b in zip(straight.networks.get_weights(), resumed.trainer.networks.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(straight.history.as_array(), resumed.trainer.history.as_array(), rtol=1e-5)


@pytest.mark.slow
def test_vae_interpolates_between_the_means(lines_dataset):
    networks = ACAINetworks(tiny("vae"), seed=0)
    images = lines_dataset.x_test[:4]
    mean, log_variance = (part.numpy() for part in networks.posterior(images))
    codes = interpolation.encode(networks, images)
    np.testing.assert_allclose(codes, mean, rtol=1e-5, atol=1e-6)  # the mean, not a sample
    np.testing.assert_array_equal(codes, interpolation.encode(networks, images))  # so the same every time
    assert not np.allclose(log_variance, 0.0)  # a real second head, not the mean again
    frames = interpolation.decode(networks, codes)
    assert frames.min() >= -1.0 and frames.max() <= 1.0  # 2 sigmoid - 1


def test_authors_settings_per_model():
    lines = PRESETS["lines32"]
    assert model_config(lines, "ae") == lines.replace(lam=0.0) and model_config(lines, "ae").kind == "baseline"
    vq = model_config(lines, "vqvae")
    settings = vq.model_settings
    assert (vq.latent_width, vq.latent_size, settings.codebook_bits, settings.commitment, settings.code_vectors) \
        == (4, 256, 14, 10.0, 10)
    assert model_config(lines, "vae").model_settings.kl_weight == 1.0
    assert model_config(lines, "dropout").model_settings.keep_probability == 0.5
    assert model_config(lines, "denoising").model_settings.noise_std == 1.0
    assert model_config(lines, "aae").latent_size == 64
    with pytest.raises(ValueError, match="unknown model"):
        lines.replace(model="gan")
    with pytest.raises(ValueError, match="conv architecture only"):
        PRESETS["mnist_mlp"].replace(model="vae")
    with pytest.raises(ValueError, match="keep_probability"):
        lines.replace(model="dropout", settings={"keep_probability": 0.0})
    with pytest.raises(ValueError, match="the vae model has no setting keep_probability"):
        lines.replace(model="vae", settings={"keep_probability": 0.5})


@pytest.fixture(scope="module")
def other_models_folder(tmp_path_factory):
    """A pretrained folder with one (untrained) lines model of each kind but ACAI."""
    root = tmp_path_factory.mktemp("pretrained")
    for model in OTHERS:
        checkpoints.save_checkpoint(root / f"lines-{model}", ACAINetworks(tiny(model), seed=0), tiny(model), 0)
    return root


@pytest.mark.slow
def test_every_model_appears_in_the_pages_of_the_app(other_models_folder, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ACAI_PRETRAINED_DIR", str(other_models_folder))
    app = AppTest.from_file(APP, default_timeout=180)
    for name, value in {"page": "interpolate", "dataset": "lines", "model": "lines-vae", "compare": "lines-aae"}.items():
        app.query_params[name] = value
    app.run()
    assert not app.exception and not app.warning, [e.value for e in app.exception]
    assert app.selectbox(key="interp_model/lines").value.label == "lines-vae"
    assert app.selectbox(key="interp_compare/lines").value.label == "lines-aae"
    options = app.selectbox(key="interp_model/lines").options
    assert {f"lines-{model}" for model in OTHERS} <= set(options), options
    captions = [img.caption for image in app.get("image") for img in image.proto.imgs]
    assert any(caption.startswith("t=0.00") for caption in captions)
    assert not any("d=" in caption for caption in captions)  # neither model has a critic to show
    app.switch_page("app_pages/latent.py").run()
    app.selectbox(key="latent_dataset").set_value("lines").run()
    assert not app.exception
    app.switch_page("app_pages/evaluate.py").run()
    app.selectbox(key="eval_dataset").set_value("lines").run()
    app.button(key="eval_run").click().run()
    assert not app.exception
    table = app.table[0].value.set_index("Model")
    assert set(table.index) == {f"lines-{model}" for model in OTHERS}
    assert table.loc["lines-vae", "Mean Distance × 10⁻³ (paper)"] == "1.21"
    assert table.loc["lines-vqvae", "Smoothness (paper)"] == "0.77"
    assert (table["Mean Distance × 10⁻³"].astype(float) > 0).all()


@pytest.mark.slow
def test_bfloat16_steps_keep_float32_weights_and_outputs(lines_dataset, tmp_path):
    config = tiny("acai").replace(precision="bfloat16")
    run = TrainingRun(Trainer(config, lines_dataset))
    report = run.advance(3)
    assert report.steps == 3 and np.isfinite(run.trainer.history.as_array()).all()
    networks = run.trainer.networks
    assert {str(v.dtype) for v in networks.weights} == {"float32"}
    assert networks.encoder.layers[2].compute_dtype == "bfloat16"  # the inner convs compute in bfloat16
    images = lines_dataset.x_test[:2]
    assert {part(images).dtype.name for part in (networks.encoder, networks.critic, networks)} == {"float32"}
    run.save(tmp_path / "bf16")
    as_float32 = checkpoints.load_checkpoint(tmp_path / "bf16", precision="float32")
    assert as_float32.config.precision == "float32"
    for a, b in zip(networks.get_weights(), as_float32.networks.get_weights()):
        np.testing.assert_array_equal(a, b)
    # the same weights in either arithmetic decode nearly the same images
    np.testing.assert_allclose(as_float32.networks(images).numpy(), networks(images).numpy(), atol=0.05)


def test_a_model_with_an_undefined_metric_is_still_itself_in_the_pickers():
    """A collapsed model's card has Smoothness NaN; the pickers must still find it after a rescan."""
    import dataclasses

    from explorer.state import ModelEntry

    entry = ModelEntry("pretrained/lines-vqvae@11500", "lines-vqvae", tiny("vqvae"), "pretrained/lines-vqvae",
                       (("smoothness", float("nan")),))
    rescanned = dataclasses.replace(entry)  # an equal entry from a later scan: another object
    assert rescanned == entry and rescanned in [entry] and len({entry, rescanned}) == 1
    assert entry != dataclasses.replace(entry, key="pretrained/lines-vqvae@12000")  # a re-export is another model


@pytest.mark.slow
def test_a_resumed_run_counts_its_wall_time_on(lines_dataset, tmp_path):
    """A resume's card carries the old wall time; the saved card must hold the total, not that."""
    run = TrainingRun(Trainer(tiny("dropout"), lines_dataset), wall_seconds=100.0)
    run.advance(1)
    run.save(tmp_path / "run", card={"wall_seconds": 100.0, "command": "x"})
    card = checkpoints.read_manifest(tmp_path / "run")["card"]
    assert card["wall_seconds"] > 100.0 and card["command"] == "x"
