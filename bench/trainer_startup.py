"""What a new trainer costs before its first step (building, tracing the compiled step, its first run), side by
side for the tests' tiny networks and the demo preset, each in a fresh process so that no cache from an earlier
trainer helps. Most of the test suite's time is this cost, paid once per trainer; it grows with the number of
layers (the latent map's scales), not with their width.

    python bench/trainer_startup.py [--repeats 2]

Prints, per network: its scales of convolutions, the graph's operations, the seconds to build the trainer, to
trace and run its first step (and that step's ratio to the reference, the 4x4 latent map the tests used
before), the same for a second trainer in the same process, and ten steps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from acai.machine import configure_tensorflow

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads

NETWORKS = {  # name -> Config keywords
    "tiny, 4x4 latent map (the tests' until 2026-11-30)": dict(depth=8, latent_width=4, latent_size=32),
    "tiny, 8x8 latent map": dict(depth=8, latent_width=8, latent_size=64),
    "tiny, 16x16 latent map (the tests' now)": dict(depth=8, latent_width=16, latent_size=256),
    "demo-lines preset": "demo-lines",
}

CHILD = """
import json, sys, time
from acai.machine import configure_tensorflow
configure_tensorflow()
import tensorflow as tf
from acai.config import PRESETS, Config
from acai.data import load_dataset
from acai.training import Trainer
spec = json.loads(sys.argv[1])
config = PRESETS[spec] if isinstance(spec, str) else Config(dataset="lines", batch_size=32, **spec)
dataset = load_dataset("lines")
begun = time.perf_counter(); trainer = Trainer(config, dataset); built = time.perf_counter() - begun
begun = time.perf_counter(); trainer.run(1); first = time.perf_counter() - begun
begun = time.perf_counter(); trainer.run(10); ten = time.perf_counter() - begun
again = Trainer(config, dataset)  # as most tests do: another trainer in a process that traced one already
begun = time.perf_counter(); again.run(1); second = time.perf_counter() - begun
images, labels = trainer.sampler.batch(0)  # the arguments run() passes: the concrete function already traced
step = trainer.compiled_step.get_concrete_function(tf.constant(images), tf.constant(labels), tf.constant(0, tf.int64))
print(json.dumps({"scales": config.encoder_scales, "ops": len(step.graph.get_operations()), "build": built,
                  "first": first, "second": second, "ten": ten}))
"""


def measure(spec) -> dict:
    result = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="fresh processes per network (median shown)")
    args = parser.parse_args()
    from acai.machine import machine_description, matmul_rate

    print(f"{machine_description()}; float32 matmul {matmul_rate() / 1e9:.0f} GFLOP/s")
    rows = {}
    for _ in range(args.repeats):  # interleaved, so that a slow minute falls on every network alike
        for name, spec in NETWORKS.items():
            rows.setdefault(name, []).append(measure(spec))
    reference = statistics.median(run["first"] for run in next(iter(rows.values())))
    print(f"{'network':52} {'scales':>6} {'ops':>6} {'build s':>8} {'first step s':>13} {'/ ref':>6} "
          f"{'next trainer s':>15} {'10 steps s':>11}")
    for name, runs in rows.items():
        middle = {key: statistics.median(run[key] for run in runs) for key in ("build", "first", "second", "ten")}
        print(f"{name:52} {runs[0]['scales']:>6} {runs[0]['ops']:>6} {middle['build']:>8.2f} "
              f"{middle['first']:>13.2f} {middle['first'] / reference:>6.2f} {middle['second']:>15.2f} "
              f"{middle['ten']:>11.2f}")


if __name__ == "__main__":
    main()
