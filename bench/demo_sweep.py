"""The sweep behind the `demo-*` presets: which network size, learning rate and batch let ACAI's
lines Mean Distance fall to a third of the plain autoencoder's soonest, counted from pressing Start?

    python bench/demo_sweep.py --seconds 150 --eval-every 50 --out docs/results/demo-sweep.json
    python bench/demo_sweep.py --candidates conv-d8-w4-l64-lr2e-3-b32 --seeds 0 1 2 --seconds 180
    python bench/demo_sweep.py --table          # the Markdown table of docs/DEMO_PRESETS.md
    python bench/demo_sweep.py --speed --candidates conv-d16-w2-l64-lr1e-4 conv-d16-w2-l64-lr1e-4-p4

(one trial at a time, with nothing else running: a trial's seconds are the point, and both models of a
race train in two threads over both cores, as in the app and the CLI.)

Every candidate is raced (acai.race: identical start, batches and alphas; lambda 0.5 vs 0) for at most
--seconds of race time, evaluated every --eval-every steps on 64 pairs. "Separated" is the first
evaluation from which the ratio baseline / ACAI stays >= 3 until the end. The JSON keeps every
standing, so the table can be rebuilt; timings are printed beside this machine's matmul rate.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from acai.machine import configure_tensorflow

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads

from acai import checkpoints  # noqa: E402
from acai.config import Config  # noqa: E402
from acai.data import load_dataset  # noqa: E402
from acai.machine import machine_description, matmul_rate  # noqa: E402
from acai.race import Race  # noqa: E402


def candidate(name: str) -> Config:
    """Parse a candidate name: conv-d{depth}-w{latent_width}-l{latent}-lr{lr}[-b{batch}][-p{patch}][-q{decoder
    patch}] or
    mlp-w{width}-l{latent}-lr{lr}[-b{batch}]."""
    parts = name.replace("e-", "e_").split("-")  # 1e-3 holds a dash
    values = {}
    for part in parts[1:]:
        for prefix in ("lr", "d", "w", "l", "b", "p", "q"):
            if part.startswith(prefix):
                text = part[len(prefix):].replace("e_", "e-")
                values[prefix] = float(text) if prefix == "lr" else int(text)
                break
    base = {"dataset": "lines", "learning_rate": values["lr"], "batch_size": values.get("b", 64),
            "latent_size": values["l"]}
    if parts[0] == "mlp":
        return Config(architecture="mlp", mlp_width=values["w"], **base)
    return Config(architecture="conv", depth=values["d"], latent_width=values["w"], patch=values.get("p", 1),
                  decoder_patch=values.get("q", 1), **base)


# The candidates of docs/DEMO_PRESETS.md, in the order they were tried (two rounds; the second
# around the first round's best).
COARSE = [
    "conv-d8-w2-l64-lr1e-3",  # the paper's 2x2 latent, half its width, 10x its learning rate
    "conv-d8-w4-l64-lr2e-3-b32", "conv-d8-w4-l16-lr1e-3-b32", "conv-d8-w8-l64-lr1e-3-b32",
    "conv-d4-w4-l64-lr2e-3-b32", "conv-d8-w4-l32-lr1e-3-b32", "conv-d8-w4-l64-lr1e-3",
    "conv-d16-w4-l64-lr1e-3-b32", "conv-d4-w4-l32-lr3e-3-b32", "conv-d8-w4-l64-lr3e-3-b32",
    # second round
    "conv-d8-w4-l64-lr2e-3-b16", "conv-d8-w4-l128-lr2e-3-b32", "conv-d4-w4-l64-lr2e-3-b16",
    "conv-d4-w4-l128-lr2e-3-b32", "conv-d16-w4-l64-lr2e-3-b32", "conv-d8-w4-l64-lr1.5e-3-b32",
    # third round: networks that fold pixel blocks into channels (patch 2, 4, 8) and never see the 32x32 map
    "conv-d16-w2-l64-lr3e-4-p4-q4", "conv-d16-w2-l64-lr1e-4-p4-q4", "conv-d16-w2-l64-lr3e-4-p8-q8",
    "conv-d16-w2-l64-lr1e-3-p4-q4", "conv-d16-w2-l64-lr3e-4-p2-q2", "conv-d8-w4-l64-lr2e-3-b32-p2-q2",
    "conv-d16-w2-l64-lr1e-3-p2-q2",
]


def race_once(config: Config, dataset, seconds: float, eval_every: int) -> dict:
    race = Race(config, dataset, eval_every=eval_every)
    while race.seconds < seconds:
        reports = race.advance(eval_every)
        if any(report.diverged for report in reports.values()):
            break
    separated = race.separated_at()
    return {
        "seconds_to_separation": separated.seconds if separated else None,
        "step_at_separation": separated.step if separated else None,
        "steps": race.step, "race_seconds": round(race.seconds, 2),
        "standings": [{"seconds": s.seconds, "step": s.step, "ratio": round(s.ratio, 3),
                       "acai_md": s.acai["mean_distance"], "baseline_md": s.baseline["mean_distance"]}
                      for s in race.standings],
    }


def pair_step_gflop(config: Config) -> float:
    """About the FLOPs of one race step, both models (bench/train_throughput.py counts them per image)."""
    from train_throughput import step_flops_per_image

    return step_flops_per_image(config) * config.batch_size * 2 / 1e9


def pair_steps_per_second(config: Config, dataset, steps: int = 200) -> float:
    """Race steps per second of both models, without evaluations, past compilation (the first 20 steps)."""
    race = Race(config, dataset, eval_every=10**9)
    race.advance(20)
    started = time.perf_counter()
    race.advance(steps)
    return steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", nargs="*", default=COARSE)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="race time per trial")
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("docs/results/demo-sweep.json"))
    parser.add_argument("--table", action="store_true", help="only print the table of --out")
    parser.add_argument("--speed", action="store_true", help="only print each candidate's pair steps/s (no race)")
    args = parser.parse_args()
    if args.table:
        print(markdown_table(json.loads(args.out.read_text())))
        return
    rate = matmul_rate()
    print(f"{machine_description()}; float32 matmul {rate / 1e9:.0f} GFLOP/s", flush=True)
    dataset = load_dataset("lines")
    if args.speed:
        for name in args.candidates:
            speed, gflop = pair_steps_per_second(candidate(name), dataset), pair_step_gflop(candidate(name))
            print(f"{name:<34} {speed:6.1f} pair steps/s; about {gflop:5.1f} GFLOP per pair step, "
                  f"{speed * gflop:4.0f} GFLOP/s ({speed * gflop / (rate / 1e9):.0%} of the matmul rate)", flush=True)
        return
    results = json.loads(args.out.read_text()) if args.out.exists() else {"trials": []}
    for name in args.candidates:
        for seed in args.seeds:
            config = candidate(name).replace(seed=seed)
            started = time.perf_counter()
            trial = race_once(config, dataset, args.seconds, args.eval_every)
            trial.update(candidate=name, seed=seed, config=config.to_dict(), matmul_gflops=round(rate / 1e9, 1),
                         machine=machine_description())
            results["trials"] = [t for t in results["trials"] if (t["candidate"], t["seed"]) != (name, seed)]
            results["trials"].append(trial)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            checkpoints.write_atomic(args.out, json.dumps(results, indent=1) + "\n")
            last = trial["standings"][-1] if trial["standings"] else {}
            print(f"{name:<28} seed {seed}: separated at {trial['seconds_to_separation']} s "
                  f"(step {trial['step_at_separation']}); {trial['steps']} steps in {trial['race_seconds']} s; "
                  f"last ratio {last.get('ratio')} ({time.perf_counter() - started:.0f} s)", flush=True)
    print(markdown_table(results))


def markdown_table(results: dict) -> str:
    """One row per candidate, medians over its seeds: the table of docs/DEMO_PRESETS.md."""
    by_candidate: dict[str, list] = {}
    for trial in results["trials"]:
        by_candidate.setdefault(trial["candidate"], []).append(trial)
    lines = ["| candidate | seeds | s to separation (median) | pair steps/s | steps | best ratio (at step) | last ratio |",
             "|---|---|---|---|---|---|---|"]
    for name, trials in by_candidate.items():
        times = [t["seconds_to_separation"] if t["seconds_to_separation"] is not None else np.inf for t in trials]
        median = np.median(times)
        pair_rate = np.median([t["steps"] / t["race_seconds"] for t in trials])
        best = max((s for t in trials for s in t["standings"]), key=lambda s: s["ratio"])
        last = np.median([t["standings"][-1]["ratio"] for t in trials if t["standings"]])
        shown = f"{median:.0f}" if np.isfinite(median) else f"not within {max(t['race_seconds'] for t in trials):.0f} s"
        lines.append(f"| {name} | {len(trials)} | {shown} | {pair_rate:.1f} | {int(np.median([t['steps'] for t in trials]))} "
                     f"| {best['ratio']:.2f} ({best['step']}) | {last:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
