"""`python -m acai reproduce {lines,mnist}`: train (or continue) the paper's pairs of models with the
project's own trainer, evaluate them with the paper's protocol, and write the evidence:
<report>/<experiment>.json, <experiment>.md (a table beside the paper), an interpolation
comparison PNG and a training curve PNG per model. Checkpoints stay resumable in <runs>/."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from acai import checkpoints, evaluation, lines, reports
from acai.cli import command_line, config_from_flags, train_and_checkpoint
from acai.config import Config
from acai.data import load_dataset
from acai.driver import TrainingRun
from acai.shipped import LINES_EVAL_EVERY, SHIPPED
from acai.training import Trainer

EXPERIMENTS: dict[str, dict[str, Config]] = {  # the paper's pairs, as the shipped models train them
    experiment: {name: config_from_flags(SHIPPED[name].flags) for name in names} for experiment, names in (
        ("lines", ("lines-acai", "lines-baseline")),
        ("mnist", ("mnist32-acai", "mnist32-baseline", "mnist256-acai", "mnist256-baseline")))
}


def _training_run(folder: Path, config: Config, data_dir, eval_every: int) -> TrainingRun:
    dataset = load_dataset(config.dataset, data_dir=data_dir, seed=config.seed)
    if (folder / checkpoints.CONFIG_FILE).exists():
        run = TrainingRun.restore(folder, dataset, eval_every=eval_every)
        if not run.trainer.config.same_model_as(config) or run.trainer.config.lam != config.lam:
            raise ValueError(f"{folder} holds a different model than {config}; move it away or pick --runs")
        return run
    checkpoints.check_output_folder(folder)  # a folder of someone else's files is refused before training
    return TrainingRun(Trainer(config, dataset), eval_every=eval_every)



def reproduce(experiment: str, steps: int, runs: Path, report: Path, data_dir=None, quick: bool = False) -> dict:
    """Train every model of the experiment up to `steps` total steps, evaluate, write the report."""
    report.mkdir(parents=True, exist_ok=True)
    results, networks = {}, {}
    for name, config in EXPERIMENTS[experiment].items():
        folder = runs / name
        run = _training_run(folder, config, data_dir, eval_every=LINES_EVAL_EVERY if experiment == "lines" else 0)
        remaining = max(0, steps - run.step)
        if remaining:
            outcome = train_and_checkpoint(
                run, folder, remaining, card=checkpoints.read_manifest(folder)["card"] if folder.exists() else {},
                command=command_line())
            if outcome.diverged:
                raise RuntimeError(outcome.diverged)
            if outcome.interrupted:
                raise KeyboardInterrupt  # saved; `reproduce` again continues from here
        trainer = run.trainer
        metrics = evaluation.evaluate(trainer.networks, trainer.dataset, quick=quick)
        results[name] = {"step": trainer.step, "training_images": trainer.step * config.batch_size,
                         "metrics": metrics, "paper": evaluation.paper_figures(config)}
        networks[name] = trainer.networks
        checkpoints.write_atomic(report / f"{name}-training.png", reports.training_curve_png(
            trainer.history.as_array(), trainer.history.columns, run.evaluations, name))
        print(f"{name} at step {trainer.step}: {json.dumps(metrics)}", flush=True)
    rng = np.random.default_rng(7)
    if experiment == "lines":
        first, _ = lines.sample_lines(4, rng)
        second, _ = lines.sample_lines(4, rng)
        groups = [("lines", ["lines-acai", "lines-baseline"])]
    else:
        data = load_dataset("mnist", data_dir=data_dir)
        index = rng.choice(len(data.x_test), size=8, replace=False)
        first, second = data.x_test[index[:4]], data.x_test[index[4:]]
        groups = [(f"mnist{size}", [f"mnist{size}-acai", f"mnist{size}-baseline"]) for size in (32, 256)]
    for label, names in groups:
        checkpoints.write_atomic(report / f"{label}-interpolations.png",
                                 reports.comparison_png([(n, networks[n]) for n in names], first, second))
    checkpoints.write_atomic(report / f"{experiment}.json", json.dumps(results, indent=2) + "\n")
    checkpoints.write_atomic(report / f"{experiment}.md", _table(results) + "\n")
    _record_progress(report / f"{experiment}-progress.json", results)
    return results


def _record_progress(path: Path, results: dict) -> None:
    """Keep every evaluation ever made of each model, one entry per step, so the report can show how
    the metrics move with training length (the checkpoints themselves are overwritten as they train)."""
    progress = json.loads(path.read_text()) if path.exists() else {}
    for name, row in results.items():
        entries = {entry["step"]: entry for entry in progress.get(name, [])}
        entries[row["step"]] = {"step": row["step"], "metrics": row["metrics"]}
        progress[name] = [entries[step] for step in sorted(entries)]
    checkpoints.write_atomic(path, json.dumps(progress, indent=2) + "\n")


def _table(results: dict) -> str:
    names = sorted({key for row in results.values() for key in row["metrics"]})
    header = "| model | steps | " + " | ".join(names) + " |"
    lines_ = [header, "|" + "---|" * (len(names) + 2)]
    for model, row in results.items():
        cells = []
        for key in names:
            paper = row["paper"].get(key)
            cells.append(f"{row['metrics'][key]:.4g}" + (f" (paper {paper:g})" if paper is not None else ""))
        lines_.append(f"| {model} | {row['step']:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines_)
