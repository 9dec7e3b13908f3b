"""Train a race's warm start: the preset's plain autoencoder (lambda 0; its critic trains too, as in every race's
baseline) for --steps steps, saved with its Adam moments (both sides of a race continue them, sparing fresh Adam's
first jolt) into race-starts/PRESET-plain, which the Race page offers and `python -m acai race --start` takes.

Usage: ACAI_DATA_DIR=../shared/data python scripts/make_race_start.py --preset demo-lines --steps 1300
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from acai.machine import configure_tensorflow  # noqa: E402

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads

from acai.config import PRESETS  # noqa: E402
from acai.data import load_dataset  # noqa: E402
from acai.driver import TrainingRun  # noqa: E402
from acai.machine import machine_description, matmul_rate  # noqa: E402
from acai.training import Trainer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="demo-lines")
    parser.add_argument("--steps", type=int, default=1300)
    parser.add_argument("--learning-rate", type=float, help="default: the preset's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="default: race-starts/PRESET-plain")
    args = parser.parse_args()
    config = PRESETS[args.preset].replace(lam=0.0, seed=args.seed)
    if args.learning_rate:
        config = config.replace(learning_rate=args.learning_rate)
    out = args.out or ROOT / "race-starts" / f"{args.preset}-plain"
    rate = matmul_rate() / 1e9
    print(f"{machine_description()}; float32 matmul {rate:.0f} GFLOP/s", flush=True)
    run = TrainingRun(Trainer(config, load_dataset(config.dataset, seed=config.seed)), eval_every=args.steps)
    begun = time.perf_counter()
    run.advance(args.steps)
    seconds = time.perf_counter() - begun
    scores = run.evaluations[-1]
    print(f"{args.steps:,} steps in {seconds:.0f} s; " + ", ".join(f"{key} {value:.4g}" for key, value in scores.items()
                                                                   if key not in ("step", "seconds")))
    run.save(out, card={"machine": machine_description(), "matmul_gflops": round(rate),
                                         "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
                                         "purpose": "a race's warm start"})
    print(f"saved {out}")


if __name__ == "__main__":
    main()
