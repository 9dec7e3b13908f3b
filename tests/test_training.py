import io

import numpy as np
import pytest

from acai import losses
from acai.data import Dataset
from acai.driver import TrainingRun
from acai.models.acai import acai_terms
from acai.training import HISTORY_COLUMNS, LOSS_NAMES, Trainer


@pytest.mark.slow
def test_short_run_on_lines_lowers_the_reconstruction_loss(tiny_config, lines_dataset):
    trainer = Trainer(tiny_config, lines_dataset)
    report = trainer.run(100)
    assert report.steps == 100 and trainer.step == 100 and report.images_per_second > 0
    reconstruction = trainer.history.column("reconstruction")
    assert reconstruction[-20:].mean() < 0.6 * reconstruction[:20].mean()
    history = trainer.history.as_array()
    assert history.shape == (100, len(HISTORY_COLUMNS)) and np.isfinite(history).all()
    np.testing.assert_array_equal(trainer.history.column("step"), np.arange(1, 101))


@pytest.mark.slow
def test_lambda_change_takes_effect_without_retracing(tiny_config, lines_dataset):
    trainer = Trainer(tiny_config, lines_dataset)
    trainer.run(2)
    traces = trainer.compiled_step.experimental_get_tracing_count()
    trainer.set_regularization(lam=0.0, gamma=0.7)
    trainer.run(2)
    assert trainer.compiled_step.experimental_get_tracing_count() == traces
    np.testing.assert_allclose(trainer.history.column("lam"), [0.5, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(trainer.history.column("gamma"), [0.2, 0.2, 0.7, 0.7], rtol=1e-6)
    assert trainer.config.lam == 0.0 and trainer.config.gamma == pytest.approx(0.7)
    with pytest.raises(ValueError, match="gamma"):
        trainer.set_regularization(gamma=2.0)


@pytest.mark.slow
def test_baseline_ignores_the_critic(tiny_config, lines_dataset):
    """lambda = 0: the autoencoder's update equals a pure reconstruction update; the critic still trains."""
    baseline = tiny_config.replace(lam=0.0)
    a = Trainer(baseline, lines_dataset)
    b = Trainer(baseline, lines_dataset)
    b.networks.set_weights(a.networks.get_weights())
    for layer in b.networks.critic.layers:  # a different critic must not change the autoencoder
        for weight in layer.weights:
            weight.assign(np.random.default_rng(1).normal(size=weight.shape).astype(np.float32))
    critic_before = [w.copy() for w in a.networks.critic.get_weights()]
    a.run(3)
    b.run(3)
    for x, y in zip(a.networks.encoder.get_weights() + a.networks.decoder.get_weights(),
                    b.networks.encoder.get_weights() + b.networks.decoder.get_weights()):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
    assert any(not np.array_equal(x, y) for x, y in zip(critic_before, a.networks.critic.get_weights()))


@pytest.mark.slow
def test_nan_stops_training_and_keeps_the_last_good_weights(tiny_config, lines_dataset):
    poisoned_x = lines_dataset.x_train[:64].copy()
    poisoned_x[40] = np.nan  # the second batch of 32 holds a NaN image
    data = Dataset("lines", poisoned_x, lines_dataset.y_train[:64], lines_dataset.x_test, lines_dataset.y_test)
    trainer = Trainer(tiny_config, data)
    trainer.sampler = type(trainer.sampler)(  # batches in order from the poisoned set, not the stream
        Dataset("mnist", poisoned_x, data.y_train, data.x_test, data.y_test), 32, 0, shuffle=False)
    trainer.run(1)
    good = [w.copy() for w in trainer.networks.get_weights()]
    report = trainer.run(5)
    assert report.diverged and "NaN" in report.diverged and "step 1" in report.diverged
    assert trainer.step == 1 and report.steps == 0
    for before, after in zip(good, trainer.networks.get_weights()):
        np.testing.assert_array_equal(before, after)


@pytest.mark.slow
def test_resume_is_exact(tiny_config, lines_dataset, tmp_path):
    run = TrainingRun(Trainer(tiny_config, lines_dataset), eval_every=3)
    run.advance(5)
    run.save(tmp_path / "run")
    run.advance(4)
    resumed = TrainingRun.restore(tmp_path / "run", lines_dataset, eval_every=3)
    assert resumed.step == 5 and len(resumed.trainer.history) == 5
    assert [row["step"] for row in resumed.evaluations] == [3]
    resumed.advance(4)
    for x, y in zip(run.trainer.networks.get_weights(), resumed.trainer.networks.get_weights()):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(run.trainer.history.as_array(), resumed.trainer.history.as_array())
    assert [row["step"] for row in resumed.evaluations] == [3, 6, 9]
    assert [row["mean_distance"] for row in resumed.evaluations] == [row["mean_distance"] for row in run.evaluations]


@pytest.mark.slow
def test_evaluations_fall_on_multiples_of_eval_every_whatever_the_chunks(tiny_config, lines_dataset):
    calls = []
    run = TrainingRun(Trainer(tiny_config, lines_dataset), eval_every=4,
                      evaluator=lambda networks: calls.append(1) or {"score": float(len(calls))})
    for chunk in (3, 3, 1, 6, 2):  # steps 3, 6, 7, 13, 15
        run.advance(chunk)
    assert run.step == 15
    assert [row["step"] for row in run.evaluations] == [4, 8, 12]
    assert [row["score"] for row in run.evaluations] == [1.0, 2.0, 3.0]
    seconds = [row["seconds"] for row in run.evaluations]
    assert seconds == sorted(seconds) and 0 < seconds[-1] <= run.wall_seconds


def test_recorded_losses_are_those_of_the_losses_module(tiny_config, lines_dataset):
    """The step's recorded losses equal ACAI's forward pass (and the per-equation functions) on the same batch,
    alphas and weights, evaluated before the update."""
    trainer = Trainer(tiny_config, lines_dataset)
    before = trainer.networks.get_weights()
    images, labels = trainer.sampler.batch(0)
    alpha = losses.fold_alpha(trainer.draw("uniform", (len(images),), 0, 0)).numpy()  # the step's alphas
    trainer.run(1)
    recorded = dict(zip(LOSS_NAMES, trainer.history.as_array()[0, 1:]))
    trainer.networks.set_weights(before)
    terms = acai_terms(trainer.networks, images, labels, alpha, 0.5, 0.2)
    for name in LOSS_NAMES:
        assert recorded[name] == pytest.approx(float(getattr(terms, name)), rel=1e-4), name
    latents = trainer.networks.encoder(images)
    reconstructions = trainer.networks.decoder(latents)
    critic_on_mix = trainer.networks.critic(trainer.networks.decoder(losses.mix_with_reversed(latents, alpha)))
    critic_on_blend = trainer.networks.critic(losses.blend_with_input(images, reconstructions, 0.2))
    assert float(terms.autoencoder) == pytest.approx(
        float(losses.autoencoder_loss(images, reconstructions, critic_on_mix, 0.5)), rel=1e-5)
    assert float(terms.critic) == pytest.approx(
        float(losses.critic_loss(critic_on_mix, alpha, critic_on_blend)), rel=1e-5)
    assert alpha.min() >= 0.0 and alpha.max() <= 0.5


@pytest.mark.slow
def test_loss_history_as_csv_has_a_header_and_every_step(tiny_config, lines_dataset):
    trainer = Trainer(tiny_config, lines_dataset)
    trainer.run(3)
    text = trainer.history.to_csv()
    header, *rows = text.strip().splitlines()
    assert header.split(",") == list(HISTORY_COLUMNS) and len(rows) == 3
    np.testing.assert_allclose(np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1), trainer.history.as_array(),
                               rtol=1e-8)
    assert rows[0].startswith("1,")  # the step, written as an integer


@pytest.mark.slow
def test_stop_from_another_thread(tiny_config, lines_dataset):
    import threading

    trainer = Trainer(tiny_config, lines_dataset)
    trainer.run(1)  # compile first
    timer = threading.Timer(0.5, trainer.stop)
    timer.start()
    report = trainer.run(100_000)
    timer.join()
    assert report.stopped and 0 < report.steps < 100_000
