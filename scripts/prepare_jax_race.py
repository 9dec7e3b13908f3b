"""Prepare a race for scripts/jax_race.py (the JAX port that records on a GPU machine), and check the port.

    python scripts/prepare_jax_race.py prepare FOLDER [--preset lines32 --steps 20000 --eval-every 50]
    python scripts/prepare_jax_race.py reference FOLDER --check-steps 5     # TensorFlow's own steps
    python scripts/prepare_jax_race.py compare FOLDER JAX_CHECK.npz        # the port against them
    python scripts/prepare_jax_race.py finish RECORDING.npz WEIGHTS_FOLDER OUT_RACE_FOLDER

`prepare` writes what the port needs of this project's TensorFlow side, so that both sides of the race start,
draw and evaluate exactly as `python -m acai race --preset lines32 --record` would: the initial weights (the race's
networks, built from the config's seed), every step's alphas (the trainer's stateless draws), the test pairs of the
live evaluation and of the frames, and the recording's header. `reference` trains the same race on the
TensorFlow trainer for a few steps; `compare` reads the port's --check output beside it. `finish` loads the port's
final weights into ordinary checkpoints (so `python -m acai eval` re-measures them) and checks the recording.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acai import machine  # noqa: E402

machine.configure_tensorflow()


from acai import evaluation, lines, losses, recording  # noqa: E402
from acai.config import PRESETS, Config  # noqa: E402
from acai.data import load_dataset, to_display  # noqa: E402
from acai.race import Race, eval_every_for  # noqa: E402
from acai.training import Trainer  # noqa: E402

PARTS = ("encoder", "decoder", "critic")


def load_weights(networks, path: Path) -> None:
    """Encoder, decoder and critic from an .npz of PART_INDEX arrays (prepare's weights.npz, the port's output)."""
    with np.load(path) as archive:
        for part in PARTS:
            network = getattr(networks, part)
            network.set_weights([archive[f"{part}_{i}"] for i in range(len(network.get_weights()))])


def prepare(folder: Path, preset: str, steps: int, eval_every: int, count: int, pairs: int, frames: int) -> None:
    config = PRESETS[preset]
    dataset = load_dataset(config.dataset, seed=config.seed)
    folder.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(config, dataset)  # the race's acai side; its lambda-0 twin copies these weights
    np.savez(folder / "weights.npz", **{f"{part}_{i}": w for part in PARTS
                                        for i, w in enumerate(getattr(trainer.networks, part).get_weights())})
    draws = [losses.fold_alpha(trainer.draw("uniform", (config.batch_size,), 0, step)).numpy() for step in range(steps)]
    np.save(folder / "alphas.npy", np.stack(draws).astype(np.float32))
    rng = np.random.default_rng([1, 4])  # acai.evaluation.lines_benchmark(seed=1): the live evaluation's pairs
    eval_first, _ = lines.sample_lines(64, rng)
    eval_second, _ = lines.sample_lines(64, rng)
    index = np.random.default_rng(3).choice(len(dataset.x_test), size=2 * pairs, replace=False)  # record_race's
    first, second = dataset.x_test[index[0::2]], dataset.x_test[index[1::2]]
    np.savez(folder / "pairs.npz", eval_first=eval_first, eval_second=eval_second, frame_first=first,
             frame_second=second, endpoints=np.stack([to_display(first), to_display(second)], axis=1))
    race_like = {"config": config.to_dict(), "opponent": config.replace(lam=0.0).to_dict()}
    spec = {"config": config.to_dict(), "total_steps": steps, "count": count, "eval_every": eval_every,
            "frame_alphas": np.linspace(0.0, 1.0, frames).tolist(),
            "meta": {"count": count, "eval_every": eval_every, "dataset": config.dataset, **race_like,
                     "metric": "mean_distance", "test_images": [int(i) for i in index], "preset": preset,
                     "command": f"python scripts/jax_race.py (prepared by: python scripts/prepare_jax_race.py prepare "
                                f"--preset {preset} --steps {steps} --eval-every {eval_every})"}}
    (folder / "spec.json").write_text(json.dumps(spec, indent=1))
    print(f"prepared {folder}: {steps:,} steps of {preset}, evaluated every {eval_every}")


def reference(folder: Path, steps: int) -> None:
    """The TensorFlow race itself for `steps` steps from the prepared weights: both sides' weights and losses."""
    spec = json.loads((folder / "spec.json").read_text())
    config = Config.from_dict(spec["config"])
    dataset = load_dataset(config.dataset, seed=config.seed)
    race = Race(config, dataset, eval_every=0, parallel=False)
    load_weights(race.trainer("acai").networks, folder / "weights.npz")
    race.trainer("baseline").networks.set_weights(race.trainer("acai").networks.get_weights())
    race.advance(steps)
    arrays = {}
    for side in ("acai", "baseline"):
        trainer = race.trainer(side)
        history = trainer.history
        arrays[f"losses_{side}"] = np.stack([history.column(name) for name in
                                             ("reconstruction", "adversarial", "critic_alpha", "critic_real")], 1)
        for part in PARTS:
            for i, w in enumerate(getattr(trainer.networks, part).get_weights()):
                arrays[f"{side}/{part}_{i}"] = w
    np.savez(folder / "tf_check.npz", **arrays)
    print(f"wrote {folder / 'tf_check.npz'} ({steps} steps of both sides)")


def compare(folder: Path, port: Path) -> None:
    with np.load(folder / "tf_check.npz") as ours, np.load(port) as theirs, np.load(folder / "weights.npz") as start:
        jax_losses = theirs["losses"]  # (steps, side, term)
        for s, side in enumerate(("acai", "baseline")):
            tf_losses = ours[f"losses_{side}"]
            steps = len(tf_losses)
            loss_error = np.abs(jax_losses[:steps, s] - tf_losses) / np.maximum(np.abs(tf_losses), 1e-12)
            moved = [np.abs(ours[f"{side}/{name}"] - start[name]).max() for name in start.files]
            gap = [np.abs(ours[f"{side}/{name}"] - theirs[f"{side}/{name}"]).max() for name in start.files]
            print(f"{side}: {steps} steps; losses (reconstruction, adversarial, critic alpha, critic real) relative "
                  f"difference at most {loss_error.max():.2e}; weights moved by up to {max(moved):.2e} from the start, "
                  f"TF and JAX weights differ by at most {max(gap):.2e}")
            print("  TF  losses of the last step:", np.array2string(tf_losses[-1], precision=6))
            print("  JAX losses of the last step:", np.array2string(jax_losses[steps - 1, s], precision=6))


def finish(recorded: Path, weights: Path, out: Path) -> None:
    """The port's final weights as an ordinary race folder (out/acai, out/baseline), re-measured by the full
    lines benchmark here, and the recording checked."""
    result = recording.read(recorded)
    config = Config.from_dict(result.meta["config"])
    dataset = load_dataset(config.dataset, seed=config.seed)
    race = Race(config, dataset, eval_every=0, parallel=False)
    step = int(result.steps[-1])  # where it stopped (a partial recording stops before total_steps)
    for side in ("acai", "baseline"):
        trainer = race.trainer(side)
        load_weights(trainer.networks, weights / f"weights-{side}.npz")
        trainer.step = step
        race.runs[side].evaluations = [{"step": int(s), "mean_distance": float(d)} for s, d in
                                       result.curves[side]["mean_distance"]]
    card = {"recorded_by": result.meta.get("machine"), "note": "trained by scripts/jax_race.py (the JAX port)"}
    for side in ("acai", "baseline"):  # the port keeps no Adam moments: these resume with fresh ones
        race.runs[side].save(out / side, card={"race_side": side, **card}, optimizer=False)
    measured = {side: evaluation.lines_benchmark(race.trainer(side).networks) for side in ("acai", "baseline")}
    for side, row in measured.items():
        print(f"{side}: full lines benchmark (256 pairs) mean distance {row['mean_distance']:.4f}, "
              f"smoothness {row['smoothness']:.3f}")
    print(f"ratio baseline / ACAI: {measured['baseline']['mean_distance'] / measured['acai']['mean_distance']:.2f}; "
          f"saved {out}/acai and {out}/baseline")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare")
    p.add_argument("folder", type=Path)
    p.add_argument("--preset", default="lines32")
    p.add_argument("--steps", type=int, default=20_000)
    p.add_argument("--eval-every", type=int)
    p.add_argument("--count", type=int, default=100)
    r = commands.add_parser("reference")
    r.add_argument("folder", type=Path)
    r.add_argument("--check-steps", type=int, default=5)
    c = commands.add_parser("compare")
    c.add_argument("folder", type=Path)
    c.add_argument("port", type=Path)
    f = commands.add_parser("finish")
    f.add_argument("recording", type=Path)
    f.add_argument("weights", type=Path)
    f.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.folder, args.preset, args.steps, args.eval_every or eval_every_for(args.preset), args.count, 4, 9)
    elif args.command == "reference":
        reference(args.folder, args.check_steps)
    elif args.command == "compare":
        compare(args.folder, args.port)
    else:
        finish(args.recording, args.weights, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
