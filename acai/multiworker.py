"""Data-parallel training over several processes or machines with TensorFlow's own engine,
tf.distribute.MultiWorkerMirroredStrategy, configured by the standard TF_CONFIG cluster spec:

    TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}'

Every worker runs the same command. Worker 0 (or the task of type "chief", when the cluster names one) is
the chief: it writes the checkpoint folder; the others train into a temporary folder that they remove
when done. Each worker draws the same global batch (batches are addressed by seed and step) and trains
on its replicas' slices of it; the strategy averages the gradients across all replicas.

This module only reads and checks the spec (no TensorFlow), so that a missing or malformed TF_CONFIG is
answered at once with a message; and it keeps a watchdog, so that a worker that never appears ends the
run with a message instead of a hang.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

VARIABLE = "TF_CONFIG"


class ClusterError(ValueError):
    """TF_CONFIG is missing or malformed; the message says what is wrong and what it should look like."""


EXAMPLE = ('{"cluster": {"worker": ["127.0.0.1:12345", "127.0.0.1:12346"]}, '
           '"task": {"type": "worker", "index": 0}}')


@dataclasses.dataclass(frozen=True)
class Task:
    """This process's place in the cluster."""

    kind: str  # "worker" or "chief"
    index: int
    addresses: tuple[str, ...]  # every task's host:port (the chief's first, when there is one)
    has_chief: bool = False

    @property
    def is_chief(self) -> bool:
        """The task that writes the checkpoint: the chief, or worker 0 when the cluster names no chief."""
        return self.kind == "chief" or (self.index == 0 and not self.has_chief)


def read_task(text: str | None) -> Task:
    """Parse and check a TF_CONFIG value (ClusterError with a plain message when it will not do)."""
    if not text:
        raise ClusterError(f"--distribute multiworker needs {VARIABLE} in the environment, e.g. {VARIABLE}='{EXAMPLE}'")
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as error:
        raise ClusterError(f"{VARIABLE} is not valid JSON ({error.msg} at character {error.pos}); e.g. {EXAMPLE}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("cluster"), dict) or not isinstance(spec.get("task"), dict):
        raise ClusterError(f"{VARIABLE} must have a \"cluster\" and a \"task\" object; e.g. {EXAMPLE}")
    cluster, task = spec["cluster"], spec["task"]
    unknown = sorted(set(cluster) - {"worker", "chief"})
    if unknown:
        raise ClusterError(f"{VARIABLE}: this trainer uses only \"worker\" (and optionally one \"chief\") tasks, "
                           f"not {', '.join(unknown)}")
    chiefs, workers = cluster.get("chief", []), cluster.get("worker", [])
    for name, addresses in (("chief", chiefs), ("worker", workers)):
        if not isinstance(addresses, list) or not all(isinstance(a, str) and a.rpartition(":")[2].isdigit()
                                                      for a in addresses):
            raise ClusterError(f"{VARIABLE}: cluster.{name} must be a list of \"host:port\" strings")
    if len(chiefs) > 1:
        raise ClusterError(f"{VARIABLE}: at most one chief")
    if not workers and not chiefs:
        raise ClusterError(f"{VARIABLE}: the cluster lists no workers")
    kind, index = task.get("type"), task.get("index")
    if kind not in ("worker", "chief") or not isinstance(index, int) or isinstance(index, bool):
        raise ClusterError(f"{VARIABLE}: task must be {{\"type\": \"worker\" or \"chief\", \"index\": N}}, not {task}")
    listed = chiefs if kind == "chief" else workers
    if not 0 <= index < len(listed):
        raise ClusterError(f"{VARIABLE}: task {kind} {index} is not in the cluster ({len(listed)} {kind} task(s))")
    return Task(kind, index, tuple(chiefs + workers), has_chief=bool(chiefs))


_WATCHDOG = """
import os, signal, sys, time
parent, seconds, message = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    time.sleep(0.2)
    try:
        os.kill(parent, 0)
    except OSError:  # the run ended by itself
        sys.exit(0)
print("error: " + message, file=sys.stderr, flush=True)
os.kill(parent, signal.SIGKILL)
"""


class Watchdog:
    """Ends this process with `message` on stderr unless `cancel()` is called within `seconds`.

    A separate little process, not a thread: while TensorFlow waits for a missing worker it may hold
    Python's GIL, and then no thread of this process would ever run (measured: a threading.Timer never
    fired). It sends SIGKILL: TensorFlow's multi-worker runtime catches SIGTERM (measured: `timeout` could not
    stop a waiting worker with it).
    """

    def __init__(self, seconds: float, message: str):
        self._process = subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(seconds), message])

    def cancel(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
        self._process.wait()


def start_watchdog(task: Task | None, seconds: float) -> Watchdog | None:
    """With a cluster, a Watchdog that ends the run with a message unless every worker joins within `seconds`
    (cancelled by first_step); None without one. Start it before the strategy, which may wait for the others."""
    if task is None:
        return None
    return Watchdog(seconds, f"the cluster did not start within {seconds:g} s (--worker-timeout): is every worker "
                             f"of TF_CONFIG running ({', '.join(task.addresses)}), and can each reach the others' ports?")


def first_step(run, steps: int, watchdog: Watchdog | None) -> None:
    """Under a watchdog: take the first of `steps` steps (it returns once every worker has joined), then
    cancel the watchdog. Without one, nothing."""
    if watchdog is None:
        return
    if steps:
        run.advance(1)
    watchdog.cancel()


@contextlib.contextmanager
def checkpoint_target(task: Task | None, folder: Path) -> Iterator[Path]:
    """Where this process saves: `folder` without a cluster and on the chief. The other workers run the same
    loop (every step is a collective one) and save into a temporary folder, removed when they are done."""
    if task is None or task.is_chief:
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="acai-worker-") as scratch:
        yield Path(scratch) / "checkpoint"

