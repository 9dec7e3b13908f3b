import numpy as np
import pytest

from acai.checkpoints import restore_trainer, save_trainer
from acai.data import Dataset
from acai.training import HISTORY_COLUMNS, Trainer


def test_short_run_on_lines_lowers_the_reconstruction_loss(tiny_config, lines_dataset):
    trainer = Trainer(tiny_config, lines_dataset)
    report = trainer.run(300)
    assert report.steps == 300 and trainer.step == 300 and report.images_per_second > 0
    reconstruction = trainer.history.column("reconstruction")
    assert reconstruction[-20:].mean() < 0.6 * reconstruction[:20].mean()
    history = trainer.history.as_array()
    assert history.shape == (300, len(HISTORY_COLUMNS)) and np.isfinite(history).all()
    np.testing.assert_array_equal(trainer.history.column("step"), np.arange(1, 301))


def test_lambda_change_takes_effect_without_retracing(tiny_config, lines_dataset):
    trainer = Trainer(tiny_config, lines_dataset)
    trainer.run(2)
    traces = trainer.train_step.experimental_get_tracing_count()
    trainer.set_regularization(lam=0.0, gamma=0.7)
    trainer.run(2)
    assert trainer.train_step.experimental_get_tracing_count() == traces
    np.testing.assert_allclose(trainer.history.column("lam"), [0.5, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(trainer.history.column("gamma"), [0.2, 0.2, 0.7, 0.7], rtol=1e-6)
    assert trainer.config.lam == 0.0 and trainer.config.gamma == pytest.approx(0.7)
    with pytest.raises(ValueError, match="gamma"):
        trainer.set_regularization(gamma=2.0)


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


def test_nan_stops_training_and_keeps_the_last_good_weights(tiny_config, lines_dataset):
    poisoned_x = lines_dataset.x_train[:64].copy()
    poisoned_x[40] = np.nan  # the second batch of 32 holds a NaN image
    data = Dataset("lines", poisoned_x, lines_dataset.y_train[:64], lines_dataset.x_test, lines_dataset.y_test)
    trainer = Trainer(tiny_config, data)
    trainer.sampler = type(trainer.sampler)(  # ordered batches from the poisoned set, not the stream
        Dataset("mnist", poisoned_x, data.y_train, data.x_test, data.y_test), 32, 0)
    trainer.sampler._order = np.arange(64)
    trainer.sampler._epoch = 0
    trainer.run(1)
    good = [w.copy() for w in trainer.networks.get_weights()]
    report = trainer.run(5)
    assert report.diverged and "NaN" in report.diverged and "step 1" in report.diverged
    assert trainer.step == 1 and report.steps == 0
    for before, after in zip(good, trainer.networks.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_resume_is_exact(tiny_config, lines_dataset, tmp_path):
    trainer = Trainer(tiny_config, lines_dataset)
    trainer.run(5)
    save_trainer(tmp_path / "run", trainer)
    trainer.run(4)
    resumed = restore_trainer(tmp_path / "run", lines_dataset)
    assert resumed.step == 5 and len(resumed.history) == 5
    resumed.run(4)
    for x, y in zip(trainer.networks.get_weights(), resumed.networks.get_weights()):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(trainer.history.as_array(), resumed.history.as_array())


def test_stop_from_another_thread(tiny_config, lines_dataset):
    import threading

    trainer = Trainer(tiny_config, lines_dataset)
    trainer.run(1)  # compile first
    timer = threading.Timer(0.5, trainer.stop)
    timer.start()
    report = trainer.run(100_000)
    timer.join()
    assert report.stopped and 0 < report.steps < 100_000
