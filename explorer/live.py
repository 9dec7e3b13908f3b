"""Live training for the app: a TrainingRun or a Race advanced in a background thread.

The thread trains in chunks of about CHUNK_SECONDS while `running`; the page only reads the run's
state and redraws (numbers every second, pictures every few seconds), so drawing never holds training
up (the page used to train inside its fragment and lost half the speed to redraws). The thread never calls Streamlit.
It trains only while it holds one of the process's training slots (explorer.slots): with more sessions
training than slots, the others wait their turn.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
import uuid

import numpy as np

from acai.driver import TrainingRun
from acai.race import Race
from explorer import slots

CHUNK_SECONDS = 0.5  # training between two looks at the controls (Pause answers within this)
IDLE_SECONDS = 120.0  # a run whose page has not been drawn for this long pauses itself (tab closed)
RATE_SECONDS = 10.0  # the speed shown is over the chunks of about this many seconds, not the last chunk alone


def recent_rate(chunks: collections.deque, seconds: float = RATE_SECONDS) -> float:
    """Steps per second over the chunks (when, steps, seconds taken) of the last `seconds`, dropping older ones
    from `chunks` (the newest is always kept). A chunk that held a live evaluation is slow: shown alone it made
    a race's speed read 0.4 for a moment after each; over ten seconds it is the race's real pace."""
    newest = chunks[-1][0]
    while len(chunks) > 1 and newest - chunks[0][0] > seconds:
        chunks.popleft()
    return sum(steps for _, steps, _ in chunks) / max(sum(taken for _, _, taken in chunks), 1e-9)


class LiveRun:
    """Advances `target` (a TrainingRun or a Race) in a daemon thread; thread-safe controls."""

    def __init__(self, target: TrainingRun | Race, training_slots: slots.TrainingSlots | None = None):
        self.target = target
        self.slots = training_slots or slots.shared()
        self.key = uuid.uuid4().hex  # names this run in process-wide caches
        self.running = False
        self.error: str | None = None
        self.steps_per_second = 0.0  # over the last RATE_SECONDS of chunks (recent_rate)
        self._chunks: collections.deque = collections.deque()  # (when, steps, seconds) of recent chunks
        self._chunk = 1
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one advance at a time (thread or Step button)
        self._seen = time.monotonic()

    @property
    def queue_place(self) -> int | None:
        """While running: 0 when training, 1, 2, ... while waiting for a slot; None when not running."""
        return self.slots.place(self.key) if self.running else None

    @property
    def step(self) -> int:
        return self.target.step

    def seen(self) -> None:
        """The page was drawn: keep training (see IDLE_SECONDS)."""
        self._seen = time.monotonic()

    def start(self) -> None:
        self.error, self.running = None, True
        self.seen()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="acai-live-training", daemon=True)
            self._thread.start()

    def pause(self) -> None:
        """Stop after the chunk in progress (at most about CHUNK_SECONDS)."""
        self.running = False

    def wait_paused(self, timeout: float = 30.0) -> None:
        """Block until the thread has finished its chunk (used before replacing or saving the run)."""
        self.running = False
        if self._thread is not None:
            self._thread.join(timeout)

    @contextlib.contextmanager
    def paused(self):
        """Hold training (after the chunk in progress) for the block, then go on if it was running."""
        was_running = self.running
        self.wait_paused()
        try:
            with self._lock:
                yield
        finally:
            if was_running:
                self.start()

    def step_once(self, steps: int = 1) -> None:
        """Train `steps` steps now, in the caller's thread (the Step button, while paused). Single steps do
        not queue for a slot: a click is a moment's work, and waiting minutes for it would be absurd."""
        self._advance(steps)

    def _advance(self, steps: int) -> None:
        with self._lock:
            begun = time.perf_counter()
            reports = self.target.advance(steps)
            wall = time.perf_counter() - begun
        if isinstance(reports, dict):  # a race: both sides train at once, so its time is the wall clock's
            seconds, done = wall, min(report.steps for report in reports.values())
        else:  # one model: its training time (a live evaluation's pause is not training speed)
            seconds, done, reports = reports.seconds, reports.steps, {"model": reports}
        if done:
            self._chunks.append((time.monotonic(), done, seconds))
            self.steps_per_second = recent_rate(self._chunks)  # a race's step trains both models
            self._chunk = int(np.clip(CHUNK_SECONDS * done / max(seconds, 1e-9), 1, 500))
        diverged = [report.diverged for report in reports.values() if report.diverged]
        if diverged:
            self.error, self.running = diverged[0], False

    def _loop(self) -> None:
        try:
            while self.running:
                if time.monotonic() - self._seen > IDLE_SECONDS:
                    self.running = False
                    break
                if not self.slots.acquire(self.key, timeout=CHUNK_SECONDS):
                    continue  # still queued: look at the controls again, then wait on
                try:
                    self._advance(self._chunk)
                except Exception as error:  # shown on the page; the thread must not die silently
                    self.error, self.running = f"training stopped: {type(error).__name__}: {error}", False
                self.slots.take_turns(self.key)
        finally:
            self.slots.release(self.key)
