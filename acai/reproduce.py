"""`python -m acai reproduce {lines,mnist}`: train (or continue) the paper's pairs of models with the
project's own trainer, evaluate them with the paper's protocol, and write the evidence:
<report>/<experiment>.json, <experiment>.md (a table beside the paper), an interpolation
comparison PNG and a training curve PNG per model. Checkpoints stay resumable in <runs>/."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from acai import checkpoints, evaluation, lines, reports, runner
from acai.config import PRESETS, Config
from acai.data import load_dataset
from acai.training import Trainer

EXPERIMENTS: dict[str, dict[str, Config]] = {
    "lines": {"lines-acai": PRESETS["lines32"], "lines-baseline": PRESETS["lines32"].replace(lam=0.0)},
    "mnist": {"mnist32-acai": PRESETS["mnist32"], "mnist32-baseline": PRESETS["mnist32"].replace(lam=0.0),
              "mnist256-acai": PRESETS["mnist256"], "mnist256-baseline": PRESETS["mnist256"].replace(lam=0.0)},
}


def _trainer(folder: Path, config: Config, data_dir) -> Trainer:
    dataset = load_dataset(config.dataset, data_dir=data_dir, seed=config.seed)
    if (folder / checkpoints.CONFIG_FILE).exists():
        trainer = checkpoints.restore_trainer(folder, dataset)
        if trainer.config.replace(lam=0, gamma=0) != config.replace(lam=0, gamma=0) or trainer.config.lam != config.lam:
            raise ValueError(f"{folder} holds a different model than {config}; move it away or pick --runs")
        return trainer
    return Trainer(config, dataset)


def _paper(name: str, config: Config) -> dict:
    kind = "baseline" if config.is_baseline else "acai"
    paper = evaluation.PAPER.get(config.dataset, {}).get(kind, {})
    return paper.get(config.latent_size, {}) if config.dataset == "mnist" else paper


def reproduce(experiment: str, steps: int, runs: Path, report: Path, data_dir=None, quick: bool = False) -> dict:
    """Train every model of the experiment up to `steps` total steps, evaluate, write the report."""
    report.mkdir(parents=True, exist_ok=True)
    results, networks = {}, {}
    for name, config in EXPERIMENTS[experiment].items():
        folder = runs / name
        trainer = _trainer(folder, config, data_dir)
        remaining = max(0, steps - trainer.step)
        if remaining:
            diverged = runner.train_and_checkpoint(
                trainer, folder, remaining, card=checkpoints.read_manifest(folder)["card"] if folder.exists() else {},
                eval_every=500 if experiment == "lines" else 0, command=runner.command_line())
            if diverged:
                raise RuntimeError(diverged)
        metrics = evaluation.evaluate(trainer.networks, trainer.dataset, quick=quick)
        results[name] = {"step": trainer.step, "training_images": trainer.step * config.batch_size,
                         "metrics": metrics, "paper": _paper(name, config)}
        networks[name] = trainer.networks
        checkpoints.write_atomic(report / f"{name}-training.png", reports.training_curve_png(
            trainer.history.as_array(), trainer.history.columns, trainer.evaluations, name))
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
