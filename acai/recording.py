"""A recorded race: what the audience sees of a whole race, compact enough to ship and replay in a browser.

At about 100 training steps (denser early, where things change: `schedule`), the decoded frames of a few fixed
test pairs for both sides, the critic's estimate of alpha under every frame, and both sides' evaluation curves.
One file, an .npz without pickle: a JSON header (format, version, what was raced, on what machine, how long it
took) and fixed-shape uint8 / float32 arrays. `read` checks everything before it hands anything out, so a
truncated, foreign or hostile file gets a message, not a traceback or a huge allocation.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

FORMAT = "acai-race-recording"
VERSION = 1
SIDES = ("acai", "baseline")
MAX_BYTES = 50 << 20  # a recording file; the shipped one is a few MB
MAX_POINTS = 1000  # recorded steps, pairs x frames, and evaluation points are each bounded by this


class RecordingError(ValueError):
    """A file that is not a usable recording; the message says why."""


@dataclasses.dataclass(frozen=True)
class Recording:
    """steps (K,) int64: the training steps recorded, increasing. frames[side]: (K, P, F, 32, 32, C) uint8
    display pixels of P test pairs at F alphas; critic[side]: (K, P, F) float32, NaN for a side without a
    critic. endpoints: (P, 2, 32, 32, C) uint8. alphas: (F,). curves[side]: {metric: (E, 2) float64 of (step,
    value)}. meta: the JSON header (what raced, where, how long)."""

    steps: np.ndarray
    frames: dict[str, np.ndarray]
    critic: dict[str, np.ndarray]
    endpoints: np.ndarray
    alphas: np.ndarray
    curves: dict[str, dict[str, np.ndarray]]
    meta: dict


def schedule(total: int, count: int = 100) -> np.ndarray:
    """About `count` steps from 0 to `total`, denser early (quadratically spaced: step total * (i / (count - 1))^2;
    for 20,000 steps and 100 points the gaps grow from 2 to 400), each a whole step, unique."""
    if total < 1 or count < 2:
        raise ValueError("a schedule needs total >= 1 and count >= 2")
    return np.unique(np.round(total * np.linspace(0.0, 1.0, count) ** 2).astype(np.int64))


def to_bytes(recording: Recording) -> bytes:
    arrays = {"steps": recording.steps.astype(np.int64), "endpoints": recording.endpoints.astype(np.uint8),
              "alphas": recording.alphas.astype(np.float32),
              "header": np.frombuffer(json.dumps({"format": FORMAT, "version": VERSION, **recording.meta}).encode(),
                                      dtype=np.uint8)}
    for side in SIDES:
        arrays[f"frames_{side}"] = recording.frames[side].astype(np.uint8)
        arrays[f"critic_{side}"] = recording.critic[side].astype(np.float32)
        for metric, points in recording.curves[side].items():
            arrays[f"curve_{side}_{metric}"] = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def write(path: str | Path, recording: Recording) -> None:
    """Write atomically (a reader sees the old file or the new one, never half)."""
    from acai.checkpoints import write_atomic

    write_atomic(path, to_bytes(recording))


def read(source: str | Path | bytes) -> Recording:
    """A recording from a path or its bytes; RecordingError with a reason for anything else."""
    data = source if isinstance(source, bytes) else _read_file(Path(source))
    if len(data) > MAX_BYTES:
        raise RecordingError(f"the file is {len(data) >> 20} MiB; a recording is at most {MAX_BYTES >> 20} MiB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = {name[:-4] for name in archive.namelist() if name.endswith(".npy")}
            if "header" not in names:
                raise RecordingError("it is an .npz, but not a race recording (no header)")
            stated = sum(info.file_size for info in archive.infolist())
            if stated > 8 * MAX_BYTES:
                raise RecordingError("its arrays unpack to more than a recording can hold")
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in names}
    except RecordingError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as error:
        raise RecordingError(f"not a readable race recording ({type(error).__name__}: the file is damaged, "
                             "truncated or of another kind)") from None
    return _checked(arrays)


def _read_file(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise RecordingError(f"{path.name} is {path.stat().st_size >> 20} MiB; a recording is at most "
                                 f"{MAX_BYTES >> 20} MiB")
        return path.read_bytes()
    except OSError as error:
        raise RecordingError(f"cannot read {path}: {error.strerror or error}") from None


def _checked(arrays: dict[str, np.ndarray]) -> Recording:
    try:
        meta = json.loads(arrays["header"].astype(np.uint8).tobytes().decode())
    except (ValueError, UnicodeDecodeError):
        raise RecordingError("its header is not readable JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise RecordingError("it is an .npz, but not a race recording")
    if meta.get("version") != VERSION:
        raise RecordingError(f"it is a recording of format version {meta.get('version')!r}; this app reads "
                             f"version {VERSION}")
    need = ["steps", "endpoints", "alphas"] + [f"{kind}_{side}" for side in SIDES for kind in ("frames", "critic")]
    missing = [name for name in need if name not in arrays]
    if missing:
        raise RecordingError(f"the recording lacks {', '.join(missing)} (truncated or damaged)")
    steps, endpoints, alphas = arrays["steps"], arrays["endpoints"], arrays["alphas"]
    if steps.ndim != 1 or not 1 <= len(steps) <= MAX_POINTS or steps.dtype.kind not in "iu" \
            or np.any(np.diff(steps) <= 0) or steps[0] < 0:
        raise RecordingError("its steps are not an increasing list of training steps")
    if alphas.ndim != 1 or not 2 <= len(alphas) <= MAX_POINTS or not np.all(np.isfinite(alphas)):
        raise RecordingError("its alphas are not a list of numbers")
    if endpoints.dtype != np.uint8 or endpoints.ndim != 5 or endpoints.shape[1:4] != (2, 32, 32) \
            or endpoints.shape[4] not in (1, 3) or not 1 <= endpoints.shape[0] <= MAX_POINTS:
        raise RecordingError(f"its endpoints have shape {endpoints.shape}; expected (pairs, 2, 32, 32, 1 or 3)")
    pairs, channels = endpoints.shape[0], endpoints.shape[4]
    frames, critic, curves = {}, {}, {}
    for side in SIDES:
        shape = (len(steps), pairs, len(alphas), 32, 32, channels)
        if arrays[f"frames_{side}"].shape != shape or arrays[f"frames_{side}"].dtype != np.uint8:
            raise RecordingError(f"its {side} frames have shape {arrays[f'frames_{side}'].shape}; expected {shape}")
        if arrays[f"critic_{side}"].shape != shape[:3]:
            raise RecordingError(f"its {side} critic estimates have shape {arrays[f'critic_{side}'].shape}; "
                                 f"expected {shape[:3]}")
        frames[side], critic[side] = arrays[f"frames_{side}"], arrays[f"critic_{side}"].astype(np.float32)
        prefix = f"curve_{side}_"
        curves[side] = {}
        for name in sorted(arrays):
            if name.startswith(prefix):
                points = arrays[name]
                if points.ndim != 2 or points.shape[1] != 2 or len(points) > MAX_POINTS * 100 \
                        or points.dtype.kind != "f":
                    raise RecordingError(f"its curve {name[len(prefix):]!r} of {side} is not (step, value) pairs")
                curves[side][name[len(prefix):]] = points
    meta = {key: value for key, value in meta.items() if key not in ("format", "version")}
    return Recording(steps.astype(np.int64), frames, critic, endpoints, alphas.astype(np.float32), curves, meta)


def record_race(race, total_steps: int, *, pairs: int = 4, frames: int = 9, count: int = 100, seed: int = 3,
                progress: Callable[[int, int], None] | None = None, partial: Recording | None = None,
                save: Callable[[Recording], None] | None = None, save_every: float = 600.0) -> Recording:
    """Train `race` (an acai.race.Race) to `total_steps`, recording both sides at `schedule(total_steps, count)`:
    the frames of `pairs` fixed test pairs at `frames` alphas, the critic's estimates, and the evaluation curves.

    A long recording survives interruptions: every `save_every` seconds of wall time (and at the end) `save` is
    handed the recording so far (meta "partial": True), for the caller to keep beside the race's checkpoints; a
    race restored from those checkpoints continues it when given that `partial`.
    `progress(step, total_steps)` after each recorded step."""
    import time

    from acai.data import to_display
    from acai.machine import machine_description, process_matmul_rate

    where = {"machine": machine_description(), "matmul_gflops": round(process_matmul_rate() / 1e9)}  # measured once
    data = race.trainer("acai").dataset
    if partial is None:
        if race.step != 0:
            raise ValueError("a recording starts at step 0 (or continues a partial recording)")
        index = np.random.default_rng(seed).choice(len(data.x_test), size=2 * pairs, replace=False)
        alphas = np.linspace(0.0, 1.0, frames, dtype=np.float32)
        shots, estimates, done, spent = {side: [] for side in SIDES}, {side: [] for side in SIDES}, [], 0.0
    else:
        _check_continues(partial, race, total_steps, count)
        index, alphas = np.asarray(partial.meta["test_images"]), partial.alphas
        shots = {side: list(partial.frames[side]) for side in SIDES}
        estimates = {side: list(partial.critic[side]) for side in SIDES}
        done, spent = partial.steps.tolist(), float(partial.meta.get("wall_seconds", 0.0))
    first, second = data.x_test[index[0::2]], data.x_test[index[1::2]]
    endpoints = np.stack([to_display(first), to_display(second)], axis=1)
    begun = last_save = time.perf_counter()

    def so_far(complete: bool) -> Recording:
        return _assemble(race, done, shots, estimates, endpoints, alphas, index, total_steps, count, where,
                         wall=spent + time.perf_counter() - begun, complete=complete)

    for step in schedule(total_steps, count):
        if done and step <= done[-1]:
            continue
        if step > race.step:
            reports = race.advance(int(step - race.step))
            diverged = [report.diverged for report in reports.values() if report.diverged]
            if diverged:
                raise RuntimeError(f"the race diverged at step {race.step}: {diverged[0]}")
        for side in SIDES:
            frame, estimate = _shoot(race.trainer(side).networks, first, second, alphas)
            shots[side].append(frame)
            estimates[side].append(estimate)
        done.append(int(step))
        if progress is not None:
            progress(int(step), total_steps)
        if save is not None and step < total_steps and time.perf_counter() - last_save >= save_every:
            save(so_far(complete=False))
            last_save = time.perf_counter()
    return so_far(complete=True)


def _shoot(networks, first: np.ndarray, second: np.ndarray, alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One side's frames (P, F, 32, 32, C) uint8 of the pairs at the alphas, and the critic's estimates (P, F)."""
    from acai import interpolation
    from acai.data import to_display

    strips = [interpolation.interpolate(networks, a, b, alphas) for a, b in zip(first, second)]
    return (np.stack([to_display(strip.frames) for strip in strips]),
            np.stack([strip.critic for strip in strips]).astype(np.float32))


def _check_continues(partial: Recording, race, total_steps: int, count: int) -> None:
    """A partial recording continues only the race it was made of, at the step where it stopped."""
    meta = partial.meta
    if not meta.get("partial"):
        raise ValueError("that recording is complete; there is nothing to continue")
    if meta.get("total_steps") != total_steps or meta.get("count") != count:
        raise ValueError(f"the partial recording is of {meta.get('total_steps')} steps at {meta.get('count')} "
                         f"points, not {total_steps} at {count}")
    if int(partial.steps[-1]) != race.step:
        raise ValueError(f"the partial recording stops at step {int(partial.steps[-1])} but the race's checkpoints "
                         f"are at step {race.step}; they were not saved together")
    if meta.get("config") != race.trainer("acai").config.to_dict():
        raise ValueError("the partial recording was made of another race (its config differs)")


def _assemble(race, steps: list[int], shots: dict, estimates: dict, endpoints: np.ndarray, alphas: np.ndarray,
              index: np.ndarray, total_steps: int, count: int, where: dict, *, wall: float,
              complete: bool) -> Recording:
    config = race.trainer("acai").config
    meta = {**where, "wall_seconds": round(wall, 1), "race_seconds": round(race.seconds, 1), "total_steps": int(total_steps),
            "count": int(count),
            "eval_every": race.eval_every, "dataset": config.dataset, "config": config.to_dict(),
            "opponent": race.trainer("baseline").config.to_dict(), "metric": race.metric,
            "test_images": [int(i) for i in index]}
    if not complete:
        meta["partial"] = True
    return Recording(np.asarray(steps, dtype=np.int64), {side: np.stack(shots[side]) for side in SIDES},
                     {side: np.stack(estimates[side]) for side in SIDES}, endpoints, alphas,
                     {side: _curves(race.runs[side].evaluations) for side in SIDES}, meta)


def _curves(evaluations: list[dict]) -> dict[str, np.ndarray]:
    """{metric: (E, 2) (step, value)} from a run's evaluation rows."""
    names = sorted({key for row in evaluations for key, value in row.items()
                    if key not in ("step", "seconds") and isinstance(value, (int, float))})
    return {name: np.array([(row["step"], row.get(name, np.nan)) for row in evaluations], dtype=np.float64)
            .reshape(-1, 2) for name in names}
