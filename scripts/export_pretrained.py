"""Export trained runs into pretrained/: weights, config, history and a model card with metrics
measured here with the paper's protocol. The optimizer state stays in runs/ (it would triple the
size); training resumes from runs/, or from pretrained/ with fresh Adam moments.

Usage: ACAI_DATA_DIR=../shared/data python scripts/export_pretrained.py runs/lines-acai [...] [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from acai.machine import configure_tensorflow  # noqa: E402

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads

from acai import checkpoints, evaluation, models, reports  # noqa: E402
from acai.cli import train_arguments  # noqa: E402
from acai.data import load_dataset  # noqa: E402
from acai.shipped import SHIPPED  # noqa: E402
from acai.training import history_columns_for  # noqa: E402

CARD = """# {name}

| | |
|---|---|
| dataset | {dataset} |
| architecture | {architecture} (depth {depth}, latent {latent_size}{latent_shape}) |
| model | {kind} |
{note_row}| optimiser | Adam lr {learning_rate:g}, beta (0.9, 0.999), epsilon 1e-8, batch {batch_size} |
| steps / training images | {steps:,} / {images:,} (the paper: 262,144 / 16,777,216) |
| arithmetic in training | {precision} |
| wall time | {wall} |
| machine | {machine} |
| last training command | `{command}` |
| to train it again | `{from_scratch}` |

## Metrics (measured at export, paper's protocol)

{metrics}
"""


def from_scratch_command(config, steps: int, name: str) -> str:
    """One CLI call that trains the same model from the start (batches are addressed by step, so chunked
    and uninterrupted runs see the same data)."""
    options = train_arguments(config) + ["--steps", str(steps)] + (["--eval-every", "500"] if config.dataset == "lines" else [])
    return " ".join(["python -m acai train", *options, "--out", f"runs/{name}"])


def shipped_recipe(name: str) -> str | None:
    """The commands acai/shipped.py lists for a shipped model, joined for its card."""
    recipe = SHIPPED.get(name)
    if recipe is None:
        return None
    return "; ".join(recipe.commands(name)) + (f" ({recipe.note})" if recipe.note else "")


def _same_training(target: Path, checkpoint) -> bool:
    """Whether `target` already holds this checkpoint: same config and step and the same loss at every
    step (weight files differ byte-wise between saves of identical weights, so they cannot tell)."""
    if not (target / checkpoints.CONFIG_FILE).exists():
        return False
    shipped = checkpoints.load_checkpoint(target)
    return (shipped.config == checkpoint.config and shipped.step == checkpoint.step
            and np.array_equal(shipped.history, checkpoint.history))


def export(run: Path, target: Path, quick: bool, measured: dict, curves: Path | None = None,
           recipe: str | None = None, note: str | None = None) -> None:
    """`recipe`: how to make this model again, where one `train` call from scratch would not (a run resumed
    from a shipped model with fresh Adam moments, or in another precision). `note`: a row of the card for
    what the model row cannot say, such as a setting that changed during training."""
    trained_in = checkpoints.read_manifest(run)["config"].get("precision", "float32")
    checkpoint = checkpoints.load_checkpoint(run, precision="float32")  # shipped models compute as the paper's
    config = checkpoint.config
    started = time.perf_counter()
    known = measured.get(run.name, {})
    if not known and _same_training(target, checkpoint):  # the shipped card measured this very model
        shipped = checkpoints.read_manifest(target)
        known = {"step": shipped["step"], "metrics": {k: v for k, v in shipped["metrics"].items() if k != "step"}}
    if known.get("step") == checkpoint.step:  # `python -m acai reproduce` measured this very checkpoint
        metrics = {"step": checkpoint.step, **known["metrics"]}
    else:
        data = load_dataset(config.dataset, seed=config.seed)
        metrics = {"step": checkpoint.step, **evaluation.evaluate(checkpoint.networks, data, quick=quick)}
    card = {**checkpoint.card, **({"note": note} if note else {})}
    checkpoints.save_checkpoint(
        target, checkpoint.networks, config, checkpoint.step, history=checkpoint.history,
        evaluations=checkpoint.evaluations, metrics=metrics, card=card)
    hours = card.get("wall_seconds", 0) / 3600
    shape = f" = {config.latent_width}x{config.latent_width}x{config.latent_channels}" if config.architecture == "conv" else ""
    folds = [f"{part} {value}" for part, value in (("patch", config.patch), ("decoder_patch", config.decoder_patch))
             if value != 1]  # not the paper's network: docs/METHOD.md, "Patches"
    shape += f"; {', '.join(folds)}" if folds else ""
    table = "\n".join(f"| {name} | {value:.6g} |" for name, value in metrics.items())
    arithmetic = ("float32" if trained_in == "float32" else
                  f"{trained_in} in its last training call (docs/METHOD.md); computes in float32 as shipped")
    (target / "README.md").write_text(CARD.format(
        name=target.name, note_row=f"| note | {note} |\n" if note else "", dataset=config.dataset,
        architecture=config.architecture, depth=config.depth,
        latent_size=config.latent_size, latent_shape=shape, kind=models.get(config.model).describe(config, card),
        learning_rate=config.learning_rate, batch_size=config.batch_size, steps=checkpoint.step,
        images=checkpoint.step * config.batch_size, wall=f"{hours:.2f} h",
        precision=arithmetic, machine=card.get("machine", "?"), command=card.get("command", "?"),
        from_scratch=recipe or shipped_recipe(target.name) or from_scratch_command(config, checkpoint.step, target.name),
        metrics="| metric | value |\n|---|---|\n" + table))
    if curves is not None and checkpoint.history.size:
        curves.mkdir(parents=True, exist_ok=True)
        checkpoints.write_atomic(curves / f"{target.name}-training.png", reports.training_curve_png(
            checkpoint.history, history_columns_for(config), checkpoint.evaluations, target.name))
    print(f"{run} -> {target}: {json.dumps(metrics)} ({time.perf_counter() - started:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--into", type=Path, default=Path(__file__).resolve().parents[1] / "pretrained")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--measured", type=Path, nargs="*", default=[],
                        help="reproduce's JSON results: metrics of the same checkpoint step are reused")
    parser.add_argument("--curves", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "results",
                        help="where each model's training-curve PNG goes")
    parser.add_argument("--recipe", help="the commands that make this one run again, for its card (default: one "
                        "`train` call from scratch, which is exact for runs trained in chunks with --resume)")
    parser.add_argument("--note", help="one more row for its card: what differs from the paper's settings and why")
    args = parser.parse_args()
    if (args.recipe or args.note) and len(args.runs) != 1:
        parser.error("--recipe and --note describe one run: export one at a time")
    measured = {}
    for path in args.measured:
        measured.update(json.loads(path.read_text()))
    for run in args.runs:
        export(run, args.into / run.name, args.quick, measured, args.curves, args.recipe, args.note)


if __name__ == "__main__":
    main()
