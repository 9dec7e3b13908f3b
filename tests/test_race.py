import math

import numpy as np
import pytest

from acai import checkpoints
from acai.race import Race, Standing

pytestmark = pytest.mark.slow  # trainings, subprocesses or app runs: CI runs them, `-m "not slow"` skips


def test_sides_start_equal_see_the_same_data_and_differ_only_by_lambda(tiny_config, lines_dataset):
    race = Race(tiny_config.replace(lam=0.0), lines_dataset, eval_every=0)
    acai, baseline = race.trainer("acai"), race.trainer("baseline")
    for x, y in zip(acai.networks.get_weights(), baseline.networks.get_weights()):
        np.testing.assert_array_equal(x, y)  # encoder, decoder, critic and probe
    assert acai.networks is not baseline.networks
    np.testing.assert_array_equal(acai.sampler.batch(3)[0], baseline.sampler.batch(3)[0])
    np.testing.assert_array_equal(acai.draw("uniform", (32,), 0, 3).numpy(), baseline.draw("uniform", (32,), 0, 3).numpy())
    race.advance(2)
    assert acai.step == baseline.step == 2
    for x, y in zip(acai.networks.get_weights(), baseline.networks.get_weights()):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)  # lambda 0 on both: the same training
    np.testing.assert_allclose(acai.history.as_array(), baseline.history.as_array(), rtol=1e-6)


def test_a_race_against_the_vae_shares_what_the_two_have_alike(tiny_config, lines_dataset):
    from acai.models import model_config

    race = Race(tiny_config, lines_dataset, opponent=model_config(tiny_config, "vae"), eval_every=0)
    acai, vae = race.trainer("acai"), race.trainer("baseline")
    assert vae.config.model == "vae" and "decoder" in race.shared and "critic" not in race.shared
    for name in race.shared:
        for x, y in zip(getattr(acai.networks, name).get_weights(), getattr(vae.networks, name).get_weights()):
            np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(acai.sampler.batch(3)[0], vae.sampler.batch(3)[0])  # the same batches
    race.advance(2)
    assert acai.step == vae.step == 2 and "kl" in " ".join(vae.history.columns)
    with pytest.raises(ValueError, match="same dataset"):
        Race(tiny_config, lines_dataset, opponent=model_config(tiny_config, "vae").replace(batch_size=16))


def test_changing_one_sides_lambda_leaves_the_other_alone(tiny_config, lines_dataset):
    race = Race(tiny_config, lines_dataset, eval_every=0)
    race.trainer("baseline").set_regularization(lam=0.3, gamma=0.6)
    race.advance(1)
    assert race.trainer("acai").config.lam == 0.5 and race.trainer("acai").config.gamma == pytest.approx(0.2)
    np.testing.assert_allclose(race.trainer("baseline").history.column("lam"), [0.3], rtol=1e-6)
    np.testing.assert_allclose(race.trainer("acai").history.column("lam"), [0.5])
    assert not all(np.array_equal(x, y) for x, y in zip(race.trainer("acai").networks.get_weights(),
                                                          race.trainer("baseline").networks.get_weights()))


def test_standings_are_recorded_at_common_evaluations(tiny_config, lines_dataset):
    race = Race(tiny_config, lines_dataset, eval_every=2,
                evaluator=lambda networks: {"mean_distance": 1.0, "smoothness": 0.0})
    race.advance(3)
    race.advance(1)
    assert [standing.step for standing in race.standings] == [2, 4]
    assert race.standings[0].seconds <= race.standings[1].seconds <= race.seconds
    assert race.standings[-1].ratio == 1.0


def _standing(step, acai, baseline):
    return Standing(seconds=float(step), step=step, acai={"mean_distance": acai}, baseline={"mean_distance": baseline},
                    metric="mean_distance")


def test_separation_is_the_first_standing_from_which_the_lead_holds(tiny_config, lines_dataset):
    race = Race(tiny_config, lines_dataset, eval_every=0)
    race.standings = [_standing(1, 1.0, 2.0), _standing(2, 1.0, 3.5), _standing(3, 1.0, 2.9),
                      _standing(4, 1.0, 3.0), _standing(5, 0.5, 4.0)]
    assert race.separated_at().step == 4  # step 2's lead did not hold at step 3
    race.standings.append(_standing(6, 1.0, 1.0))
    assert race.separated_at() is None
    assert math.isnan(_standing(7, 0.0, 1.0).ratio)


def test_race_command_prints_the_table_and_writes_two_loadable_checkpoints(tmp_path, capsys):
    from acai.cli import main

    # In this process (main(), as `python -m acai` calls it): a process of its own would load TensorFlow again, and
    # test_cli.py already runs the CLI as a user does.
    assert main(["race", "--preset", "demo-lines", "--seconds", "1", "--eval-every", "4",
                 "--out", str(tmp_path / "race")]) == 0
    printed = capsys.readouterr().out
    assert "GFLOP/s" in printed and "ratio" in printed
    assert "separated after" in printed or "not separated within" in printed
    steps = []
    for side in ("acai", "baseline"):
        loaded = checkpoints.load_checkpoint(tmp_path / "race" / side)
        steps.append(loaded.step)
        assert loaded.config.lam == (0.5 if side == "acai" else 0.0) and loaded.evaluations
    assert steps[0] == steps[1] > 0
    with pytest.raises(SystemExit) as again:
        main(["race", "--seconds", "1", "--out", str(tmp_path / "race")])
    assert again.value.code == 2 and "already holds a checkpoint" in capsys.readouterr().err  # nothing overwritten


def test_an_image_race_compares_the_mid_path_greyness(tiny_config):
    from acai.data import load_dataset

    digits = load_dataset("digits")
    race = Race(tiny_config.replace(dataset="digits"), digits, eval_every=2)
    race.advance(2)
    (standing,) = race.standings
    assert race.metric == "midpoint_grey" and 0 <= standing.acai["midpoint_grey"] <= 1
    assert standing.ratio == pytest.approx(standing.baseline["midpoint_grey"] / standing.acai["midpoint_grey"])


def test_the_live_race_reports_pair_steps_per_wall_clock_second(tiny_config, lines_dataset, monkeypatch):
    """Both sides train at once: summing their times would halve the speed the Race page shows. The page's
    clock is replaced by one that advances exactly 2 s per reading, so the rate is known exactly."""
    import time

    from explorer import live as live_module

    class Clock:
        now = 0.0

        def perf_counter(self):
            self.now += 2.0
            return self.now

        def __getattr__(self, name):
            return getattr(time, name)

    monkeypatch.setattr(live_module, "time", Clock())
    live = live_module.LiveRun(Race(tiny_config, lines_dataset, eval_every=0))
    live.step_once(8)
    assert live.step == 8
    assert live.steps_per_second == pytest.approx(8 / 2.0)  # pair steps per second of the (fake) wall clock


def test_the_speed_shown_is_over_the_last_ten_seconds_not_the_last_chunk():
    import collections

    from explorer.live import recent_rate

    chunks = collections.deque([(0.0, 5, 0.5), (0.5, 5, 0.5), (1.0, 1, 2.5)])  # the last chunk held an evaluation
    assert recent_rate(chunks) == pytest.approx(11 / 3.5)  # not 1 / 2.5 = 0.4
    chunks.append((12.0, 5, 0.5))  # the first three are now over ten seconds old
    assert recent_rate(chunks) == pytest.approx(10.0) and len(chunks) == 1
    assert recent_rate(collections.deque([(0.0, 3, 0.0)])) > 0  # an instant chunk divides by no zero


def test_a_warm_started_race_starts_both_sides_from_the_checkpoint(tiny_config, lines_dataset, tmp_path):
    from acai.driver import TrainingRun
    from acai.race import check_start, describe_start
    from acai.training import Trainer

    plain = TrainingRun(Trainer(tiny_config.replace(lam=0.0), lines_dataset))
    plain.advance(3)
    plain.save(tmp_path / "start", optimizer=False)
    start = checkpoints.load_checkpoint(tmp_path / "start")
    race = Race(tiny_config.replace(learning_rate=3e-4), lines_dataset, eval_every=0, start=start)
    acai, baseline = race.trainer("acai"), race.trainer("baseline")
    assert acai.step == baseline.step == 0 and acai.config.lam == tiny_config.lam and baseline.config.lam == 0.0
    for x, y, z in zip(acai.networks.get_weights(), baseline.networks.get_weights(), start.networks.get_weights()):
        np.testing.assert_array_equal(x, z)  # the warm start's encoder, decoder, critic and probe, on both sides
        np.testing.assert_array_equal(y, z)
    race.advance(2)
    assert any(not np.array_equal(x, z) for x, z in zip(acai.networks.get_weights(), start.networks.get_weights()))
    np.testing.assert_array_equal(start.networks.get_weights()[0], plain.trainer.networks.get_weights()[0])  # untouched
    assert "plain autoencoder (lambda 0) trained 3 steps" in describe_start(start)
    saved = race.save(tmp_path / "race")
    assert checkpoints.read_manifest(saved["acai"])["card"]["warm_start"]["step"] == 3
    Race.restore(tmp_path / "race", lines_dataset, eval_every=0, parallel=False).save(tmp_path / "race")
    assert checkpoints.read_manifest(saved["acai"])["card"]["warm_start"]["step"] == 3  # kept through a resume
    with pytest.raises(ValueError, match="another model: latent_size"):
        check_start(tiny_config.replace(latent_size=2 * tiny_config.latent_size), start.config)
    with pytest.raises(ValueError, match="against lambda 0"):
        from acai.models import model_config

        Race(tiny_config, lines_dataset, opponent=model_config(tiny_config, "vae"), start=start)


def test_a_saved_race_is_restored_where_it_stopped(tiny_config, lines_dataset, tmp_path):
    race = Race(tiny_config, lines_dataset, eval_every=2, parallel=False)
    race.advance(4)
    race.save(tmp_path / "race")
    again = Race.restore(tmp_path / "race", lines_dataset, eval_every=2, parallel=False)
    assert again.step == 4 and [s.step for s in again.standings] == [2, 4]  # every evaluation both sides made
    assert again.seconds == pytest.approx(race.seconds, abs=0.1)
    for side in ("acai", "baseline"):
        for x, y in zip(again.trainer(side).networks.get_weights(), race.trainer(side).networks.get_weights()):
            np.testing.assert_array_equal(x, y)
    race.advance(2), again.advance(2)
    for x, y in zip(again.trainer("acai").networks.get_weights(), race.trainer("acai").networks.get_weights()):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)  # the optimizer's moments came back too


def test_a_warm_start_with_adam_moments_hands_them_to_both_sides_at_the_races_learning_rate(
        tiny_config, lines_dataset, tmp_path):
    from acai.driver import TrainingRun
    from acai.training import Trainer

    plain = TrainingRun(Trainer(tiny_config.replace(lam=0.0, learning_rate=1e-4), lines_dataset))
    plain.advance(3)
    plain.save(tmp_path / "start")
    start = checkpoints.load_checkpoint(tmp_path / "start")
    race = Race(tiny_config.replace(learning_rate=3e-4), lines_dataset, eval_every=0, start=start)
    for side in ("acai", "baseline"):
        trainer = race.trainer(side)
        state = trainer.optimizer_state()
        for key, value in start.optimizer_state.items():
            if not key.endswith("/1"):  # every moment and the step count; not the learning rate (optimizer*/1)
                np.testing.assert_array_equal(state[key], value)
        assert all(float(optimizer.learning_rate) == pytest.approx(3e-4) for optimizer in trainer.optimizers)


def test_race_command_refuses_a_start_of_another_model_and_a_resume_with_nothing_to_continue(tmp_path, capsys):
    from acai.cli import main

    with pytest.raises(SystemExit):  # lines32 reads the image whole; demo-lines' start reads 4x4 blocks
        main(["race", "--preset", "lines32", "--start", "race-starts/demo-lines-plain", "--out", str(tmp_path / "a")])
    assert "the warm start is another model: patch 4 (the race: 1)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["race", "--record", str(tmp_path / "r.npz"), "--out", str(tmp_path / "b"), "--resume"])
    assert "holds no recording to continue" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "r.npz").exists()
