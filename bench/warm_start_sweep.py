"""The sweep behind the shipped warm start (docs/DEMO_PRESETS.md, "A warm start"; its output in
docs/results/warm-start-sweep.txt): train demo-lines plain-autoencoder starts, or race demo-lines from one with a
chosen learning rate and lambda, printing both sides' Mean Distance (x 1e-3, 64 pairs) and the ratio as it goes.

    python bench/warm_start_sweep.py --make-start 500 1000 2000 3000 --folder /tmp/warm   # FOLDER/start-N
    python bench/warm_start_sweep.py --start /tmp/warm/start-1000 [--lr 1e-3] [--lam 1.0] [--seconds 300]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from acai.machine import configure_tensorflow  # noqa: E402

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads

from acai import checkpoints  # noqa: E402
from acai.config import PRESETS  # noqa: E402
from acai.data import load_dataset  # noqa: E402
from acai.driver import TrainingRun, live_evaluator  # noqa: E402
from acai.machine import matmul_rate  # noqa: E402
from acai.race import Race  # noqa: E402
from acai.training import Trainer  # noqa: E402


def make_starts(steps: list[int], folder: Path, data) -> None:
    """The plain autoencoder (lambda 0) of demo-lines, saved without Adam's moments at each of `steps`."""
    run = TrainingRun(Trainer(PRESETS["demo-lines"].replace(lam=0.0), data), eval_every=500)
    begun = time.perf_counter()
    for target in steps:
        run.advance(target - run.step)
        print(f"start {target}: {time.perf_counter() - begun:.0f} s {run.evaluations[-1]}", flush=True)
        run.save(folder / f"start-{target}", optimizer=False)


def race_from(start: Path | None, changes: dict, seed: int, seconds: float, data) -> dict:
    """A demo-lines race from `start` for `seconds` of race time: the standing at every other evaluation."""
    config = PRESETS["demo-lines"].replace(seed=seed, **changes)
    race = Race(config, data, eval_every=50, start=checkpoints.load_checkpoint(start) if start else None,
                evaluator=live_evaluator(data))
    rows = []
    while race.seconds < seconds:
        race.advance(race.eval_every)
        s = race.standings[-1]
        rows.append((round(s.seconds, 1), s.step, round(s.acai["mean_distance"] * 1e3, 2),
                     round(s.baseline["mean_distance"] * 1e3, 2), round(s.ratio, 2)))
    separated = race.separated_at()
    return {"start": str(start), "lr": config.learning_rate, "lam": config.lam, "seed": seed,
            "separated": None if separated is None else [round(separated.seconds, 1), separated.step],
            "rows": rows[::2]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--make-start", type=int, nargs="*", default=[], metavar="STEPS")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/warm"))
    parser.add_argument("--start", type=Path)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--lam", type=float)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--seconds", type=float, default=150.0)
    args = parser.parse_args()
    data = load_dataset("lines")
    print(f"matmul {matmul_rate() / 1e9:.0f} GFLOP/s", flush=True)
    if args.make_start:
        make_starts(sorted(args.make_start), args.folder, data)
        return
    changes = {key: value for key, value in (("learning_rate", args.lr), ("lam", args.lam)) if value is not None}
    for seed in args.seeds:
        print(json.dumps(race_from(args.start, changes, seed, args.seconds, data)), flush=True)


if __name__ == "__main__":
    main()
