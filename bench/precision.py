"""bfloat16 against float32 for the ACAI step on this CPU: speed side by side, then whether the metrics hold.

    python bench/precision.py [--seconds 20] [--rounds 3] [--preset lines32] [--from pretrained/lines-acai --steps 1000]

Speed: the ACAI step of a preset (the paper's lines32 by default), float32 and bfloat16 alternately for --rounds rounds of
--seconds each (compilation excluded), steps/s of each and their ratio, beside the matmul rate and whether
the CPU has AVX-512 BF16 / AMX (without them, bfloat16 is emulated and slower).

Metrics (--from): the same checkpoint trained --steps more steps in each precision, on the same batches and
alphas, each then measured with the paper's lines protocol (5 draws of 256 pairs): if bfloat16 keeps the
metrics, its Mean Distance and Smoothness are within the draws' spread of float32's.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from acai.machine import configure_tensorflow

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads

from acai import checkpoints, evaluation  # noqa: E402
from acai.config import PRESETS  # noqa: E402
from acai.data import load_dataset  # noqa: E402
from acai.machine import machine_description, matmul_rate  # noqa: E402
from acai.networks import ACAINetworks  # noqa: E402
from acai.training import Trainer  # noqa: E402


def cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
        flags = set(next(line for line in text.splitlines() if line.startswith("flags")).split())
    except (OSError, StopIteration):
        return "unknown"
    return ", ".join(f"{flag} {'yes' if flag in flags else 'no'}" for flag in ("avx512_bf16", "amx_bf16"))


def speed(seconds: float, rounds: int, preset: str) -> None:
    data = load_dataset(PRESETS[preset].dataset)
    trainers = {precision: Trainer(PRESETS[preset].replace(precision=precision), data)
                for precision in ("float32", "bfloat16")}
    for trainer in trainers.values():
        trainer.run(3)  # compile
    totals = {precision: [0, 0.0] for precision in trainers}
    for round_number in range(rounds):
        for precision, trainer in trainers.items():
            steps, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                steps += trainer.run(5).steps
            elapsed = time.perf_counter() - started
            totals[precision][0] += steps
            totals[precision][1] += elapsed
            print(f"  round {round_number + 1} {precision:>8}: {steps / elapsed:6.2f} steps/s", flush=True)
    rates = {precision: steps / elapsed for precision, (steps, elapsed) in totals.items()}
    print(f"{preset} ACAI step, batch {PRESETS[preset].batch_size}: float32 {rates['float32']:.2f} steps/s, "
          f"bfloat16 {rates['bfloat16']:.2f} steps/s, ratio {rates['bfloat16'] / rates['float32']:.2f}x")


def metrics(folder: Path, steps: int) -> None:
    checkpoint = checkpoints.load_checkpoint(folder)
    data = load_dataset(checkpoint.config.dataset)
    start = evaluation.lines_benchmark_draws(checkpoint.networks)
    print(f"{folder} at step {checkpoint.step}: MD {start['mean_distance'] * 1e3:.3f}e-3 ± "
          f"{start['mean_distance_sd'] * 1e3:.3f}, Smoothness {start['smoothness']:.3f} ± {start['smoothness_sd']:.3f}")
    for precision in ("float32", "bfloat16"):
        config = checkpoint.config.replace(precision=precision)
        networks = ACAINetworks(config, checkpoint.num_classes)
        networks.set_weights(checkpoint.networks.get_weights())
        trainer = Trainer(config, data, networks=networks)  # fresh Adam moments in both
        trainer.step = checkpoint.step  # the same batches and alphas as the run would have seen
        started = time.perf_counter()
        trainer.run(steps)
        elapsed = time.perf_counter() - started
        result = evaluation.lines_benchmark_draws(trainer.networks)
        print(f"  +{steps} steps in {precision:>8} ({steps / elapsed:.2f} steps/s): MD "
              f"{result['mean_distance'] * 1e3:.3f}e-3 ± {result['mean_distance_sd'] * 1e3:.3f}, Smoothness "
              f"{result['smoothness']:.3f} ± {result['smoothness_sd']:.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--from", dest="folder", type=Path, help="a lines checkpoint to continue in both precisions")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--preset", default="lines32", choices=sorted(PRESETS))
    args = parser.parse_args()
    print(f"machine: {machine_description()}; float32 matmul {matmul_rate() / 1e9:.0f} GFLOP/s; {cpu_flags()}", flush=True)
    speed(args.seconds, args.rounds, args.preset)
    if args.folder is not None:
        metrics(args.folder, args.steps)


if __name__ == "__main__":
    main()
