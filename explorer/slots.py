"""How many trainings the app runs at once, for all its browser sessions together.

Sessions that train side by side share the cores: each gets a fraction of the speed, and none shows the
audience a model learning at the machine's pace. So the process keeps a fixed number of training slots; a
session that asks for more waits in a queue, first come first served, sees its place, and starts when a
slot frees. While anyone waits, a holder keeps its slot for at most TURN_SECONDS more, then goes to the
back of the queue: trainings take turns instead of one starving the rest. A paused, reset or abandoned run
(its tab closed) gives its slot up at once. Four sessions on 2 cores made 82% of one CLI's steps in total
this way, against 73% all at once (over 180 s; docs/BENCHMARKS.md).

The number of slots: ACAI_TRAINING_SLOTS in the environment, else one per two usable cores (one on a 2-core
machine). Not in .streamlit/config.toml: Streamlit logs every option it does not know there as invalid.
A race (two models in lockstep) is one training. docs/BENCHMARKS.md measures the choice.
"""

from __future__ import annotations

import os
import threading
import time

from acai.machine import usable_cores

TURN_SECONDS = 60.0  # the default; ACAI_TRAINING_TURN_SECONDS sets another


def configured_slots() -> int:
    """The number of slots (see the module's docstring); a bad setting raises ValueError saying so."""
    value = os.environ.get("ACAI_TRAINING_SLOTS")
    if value is None:
        return max(1, usable_cores() // 2)
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"ACAI_TRAINING_SLOTS must be a whole number of at least 1, not {value!r}")
    return int(value)


def configured_turn_seconds() -> float:
    """ACAI_TRAINING_TURN_SECONDS, else TURN_SECONDS; a bad setting raises ValueError saying so."""
    value = os.environ.get("ACAI_TRAINING_TURN_SECONDS")
    if value is None:
        return TURN_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"ACAI_TRAINING_TURN_SECONDS must be a number of seconds above 0, not {value!r}")
    return seconds


class TrainingSlots:
    """At most `capacity` holders at once; the rest queue in order, and holders take turns (see above)."""

    def __init__(self, capacity: int, turn_seconds: float = TURN_SECONDS, clock=time.monotonic):
        """`clock`: seconds, monotonic (tests pass their own to check turns without waiting)."""
        self.capacity, self.turn_seconds = capacity, turn_seconds
        self._clock = clock
        self._condition = threading.Condition()
        self._holders: dict[str, float] = {}  # key -> when its turn began
        self._queue: list[str] = []
        self._joined: dict[str, float] = {}  # key in the queue -> when it joined

    def acquire(self, key: str, timeout: float) -> bool:
        """Hold a slot (True), or stay in the queue and return False after `timeout` seconds, so that the
        caller can look at its own controls (pause, idle) between waits."""
        with self._condition:
            if key in self._holders:
                return True
            if key not in self._queue:
                self._queue.append(key)
                self._joined[key] = self._clock()
            granted = self._condition.wait_for(
                lambda: len(self._holders) < self.capacity and self._queue[0] == key, timeout)
            if granted:
                self._queue.pop(0)
                self._joined.pop(key, None)
                self._holders[key] = self._clock()
                self._condition.notify_all()
            return granted

    def take_turns(self, key: str) -> None:
        """Called by a holder between chunks: once the first in the queue has waited TURN_SECONDS (and
        this holder has had as long), go to the back of the queue."""
        with self._condition:
            began = self._holders.get(key)
            if began is None or not self._queue:
                return
            if self._clock() - max(began, self._joined[self._queue[0]]) >= self.turn_seconds:
                del self._holders[key]
                self._queue.append(key)
                self._joined[key] = self._clock()
                self._condition.notify_all()

    def release(self, key: str) -> None:
        """Leave: give up the slot or the place in the queue."""
        with self._condition:
            self._holders.pop(key, None)
            if key in self._queue:
                self._queue.remove(key)
                del self._joined[key]
            self._condition.notify_all()

    def place(self, key: str) -> int | None:
        """0 while holding a slot, 1 for the first in the queue, ...; None when neither."""
        with self._condition:
            if key in self._holders:
                return 0
            return self._queue.index(key) + 1 if key in self._queue else None

    def counts(self) -> tuple[int, int]:
        """(trainings holding a slot, trainings waiting)."""
        with self._condition:
            return len(self._holders), len(self._queue)


_shared: TrainingSlots | None = None
_shared_lock = threading.Lock()


def shared() -> TrainingSlots:
    """The process's slots, made on first use (ValueError for a bad ACAI_TRAINING_SLOTS or
    ACAI_TRAINING_TURN_SECONDS, tried again on the next call)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = TrainingSlots(configured_slots(), configured_turn_seconds())
        return _shared
