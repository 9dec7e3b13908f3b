"""The process-wide training slots: a queue in order, turns while others wait, and live runs that obey."""

from __future__ import annotations

import threading
import time

import pytest

from explorer import slots
from explorer.slots import TrainingSlots


def test_a_second_training_queues_until_the_first_leaves():
    gate = TrainingSlots(capacity=1, turn_seconds=60)
    assert gate.acquire("first", timeout=0)
    assert not gate.acquire("second", timeout=0)
    assert not gate.acquire("third", timeout=0)
    assert (gate.place("first"), gate.place("second"), gate.place("third")) == (0, 1, 2)
    assert gate.counts() == (1, 2)
    gate.release("first")
    assert not gate.acquire("third", timeout=0)  # first come, first served: the second is ahead
    assert gate.acquire("second", timeout=0)
    assert gate.place("first") is None and gate.place("third") == 1


def test_a_waiting_acquire_wakes_when_a_slot_frees():
    gate = TrainingSlots(capacity=1)
    gate.acquire("first", timeout=0)
    got = []
    waiter = threading.Thread(target=lambda: got.append(gate.acquire("second", timeout=10)))
    waiter.start()
    _wait_for(lambda: gate.counts() == (1, 1))  # the second waits in the queue
    gate.release("first")
    waiter.join(5)
    assert got == [True] and gate.place("second") == 0


def test_holders_take_turns_only_while_someone_waits():
    now = [0.0]
    gate = TrainingSlots(capacity=1, turn_seconds=0.2, clock=lambda: now[0])
    gate.acquire("first", timeout=0)
    now[0] += 0.3
    gate.take_turns("first")  # nobody waits: keep training, however long the turn
    assert gate.place("first") == 0
    gate.acquire("second", timeout=0)
    gate.take_turns("first")  # the second has only just joined: the first keeps its slot a while yet
    assert gate.place("first") == 0
    now[0] += 0.25
    gate.take_turns("first")
    assert gate.place("first") == 2  # to the back of the queue, behind the second
    assert gate.acquire("second", timeout=0)


def test_capacity_two_runs_two_at_once():
    gate = TrainingSlots(capacity=2)
    assert gate.acquire("a", timeout=0) and gate.acquire("b", timeout=0)
    assert not gate.acquire("c", timeout=0)


def test_the_number_of_slots_comes_from_the_environment_or_the_cores(monkeypatch):
    monkeypatch.delenv("ACAI_TRAINING_SLOTS", raising=False)
    assert slots.configured_slots() == max(1, slots.usable_cores() // 2)
    monkeypatch.setenv("ACAI_TRAINING_SLOTS", "3")
    assert slots.configured_slots() == 3
    for bad in ("0", "two", "-1", "1.5"):
        monkeypatch.setenv("ACAI_TRAINING_SLOTS", bad)
        with pytest.raises(ValueError, match="ACAI_TRAINING_SLOTS"):
            slots.configured_slots()


def _wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_live_runs_wait_for_a_slot_and_start_when_it_frees(tiny_config, lines_dataset):
    from acai.driver import TrainingRun
    from acai.training import Trainer
    from explorer.live import LiveRun

    gate = TrainingSlots(capacity=1)
    first, second = (LiveRun(TrainingRun(Trainer(tiny_config, lines_dataset), eval_every=0), gate) for _ in range(2))
    try:
        first.start()
        _wait_for(lambda: first.step > 0)
        second.start()
        time.sleep(1.0)
        assert second.queue_place == 1 and second.step == 0
        assert first.queue_place == 0
        first.wait_paused()
        _wait_for(lambda: second.step > 0)
        assert first.queue_place is None and second.queue_place == 0
    finally:
        first.wait_paused()
        second.wait_paused()
    assert gate.counts() == (0, 0)  # paused runs leave no trace


def test_usable_cores_follow_a_containers_cpu_quota(tmp_path):
    from acai.machine import usable_cores

    affinity = usable_cores(str(tmp_path / "absent"))
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert usable_cores(str(tmp_path / "cpu.max")) == affinity
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    assert usable_cores(str(tmp_path / "cpu.max")) == 1
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    assert usable_cores(str(tmp_path / "cpu.max")) == 1  # half a core still needs a thread


def test_the_turn_length_comes_from_the_environment_and_a_bad_one_is_refused(monkeypatch):
    monkeypatch.delenv("ACAI_TRAINING_TURN_SECONDS", raising=False)
    assert slots.configured_turn_seconds() == slots.TURN_SECONDS
    monkeypatch.setenv("ACAI_TRAINING_TURN_SECONDS", "20")
    assert slots.configured_turn_seconds() == 20.0
    for bad in ("0", "-5", "soon", "nan", "inf"):
        monkeypatch.setenv("ACAI_TRAINING_TURN_SECONDS", bad)
        with pytest.raises(ValueError, match="ACAI_TRAINING_TURN_SECONDS"):
            slots.configured_turn_seconds()
