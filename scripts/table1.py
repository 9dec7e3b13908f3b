"""The paper's Table 1 from the shipped lines models: docs/results/table1.md (the table beside the paper's figures,
and which of the paper's orderings hold) and docs/results/table1-interpolations.png (the same pairs, every model).

Every figure comes from the model cards in pretrained/lines-*/config.json, which scripts/export_pretrained.py
measured with the paper's protocol (5 draws of 256 pairs: median ± standard deviation across draws). The table
compares the seven folders of FOLDERS, trained for the same number of steps; any other shipped lines model (ACAI
trained further) is listed below it, apart.

Usage: python scripts/table1.py [--models pretrained] [--report docs/results]
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from acai.machine import configure_tensorflow  # noqa: E402

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads

from acai import checkpoints, lines, reports  # noqa: E402
from acai import models as registry  # noqa: E402
from acai.config import Config  # noqa: E402
from acai.evaluation import TABLE_1  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ORDER = tuple(row.kind for row in registry.table_rows())  # the paper's row order
NAMES = {row.kind: row.title for row in registry.table_rows()}
FOLDERS = {kind: f"lines-{kind}" for kind in ORDER}  # the matched-compute set


def shipped(models: Path) -> dict[str, tuple[Path, dict]]:
    """kind -> (folder, manifest) of the table's shipped lines models."""
    found = {}
    for kind, name in FOLDERS.items():
        if (models / name).is_dir():
            manifest = checkpoints.read_manifest(models / name)
            if Config.from_dict(manifest["config"]).kind != kind:
                raise SystemExit(f"{models / name} holds a {Config.from_dict(manifest['config']).kind} model, not {kind}")
            found[kind] = (models / name, manifest)
    return found


def trained_further(models: Path) -> list[tuple[Path, dict]]:
    """The other shipped lines models (for example ACAI trained beyond the table's budget)."""
    table = set(FOLDERS.values())
    return [(folder, checkpoints.read_manifest(folder)) for folder in sorted(models.glob("lines-*"))
            if folder.name not in table and (folder / checkpoints.CONFIG_FILE).is_file()]


def _cell(metrics: dict, key: str, scale: float, digits: int) -> str:
    value = metrics.get(key, float("nan"))
    if value is None or not np.isfinite(value):
        return "NaN"
    spread = metrics.get(f"{key}_sd")
    return f"{value * scale:.{digits}f}" + (f" ± {spread * scale:.{digits}f}" if spread is not None else "")


def orderings(ours: dict[str, float], paper: dict[str, float]) -> tuple[list[str], list[str]]:
    """Every pair of models the paper ranks on a metric (lower is better): (pairs that keep the paper's order,
    pairs that do not). A tie in the paper, or a NaN of ours, is neither."""
    held, broken = [], []
    for first, second in itertools.combinations([kind for kind in ORDER if kind in ours], 2):
        if paper[first] == paper[second] or not (np.isfinite(ours[first]) and np.isfinite(ours[second])):
            continue
        better, worse = (first, second) if paper[first] < paper[second] else (second, first)
        (held if ours[better] < ours[worse] else broken).append(f"{NAMES[better]} < {NAMES[worse]}")
    return held, broken


def table(found: dict[str, tuple[Path, dict]]) -> str:
    header = ("| model | folder | steps | Mean Distance (x 10^-3) | Smoothness | paper MD (x 10^-3) | paper Smoothness "
              "| MD rank (ours / paper) | Smoothness rank (ours / paper) |\n|---|---|---|---|---|---|---|---|---|")
    kinds = [kind for kind in ORDER if kind in found]
    ranks = {}
    for index, metric in enumerate(("mean_distance", "smoothness")):
        ours = {kind: found[kind][1]["metrics"].get(metric, float("nan")) for kind in kinds}
        ours = {kind: float("inf") if value is None or not np.isfinite(value) else value for kind, value in ours.items()}
        ranked = sorted(kinds, key=lambda kind: ours[kind])
        paper_ranked = sorted(kinds, key=lambda kind: TABLE_1[kind][index])
        ranks[metric] = {kind: (ranked.index(kind) + 1, paper_ranked.index(kind) + 1) for kind in kinds}
    rows = []
    for kind in kinds:
        folder, manifest = found[kind]
        metrics = manifest["metrics"]
        distance, smoothness = TABLE_1[kind]
        rank_cells = []
        for metric in ("mean_distance", "smoothness"):
            ours, paper = ranks[metric][kind]
            value = metrics.get(metric)
            rank_cells.append(f"{ours if value is not None and np.isfinite(value) else '-'} / {paper}")
        rows.append(f"| {NAMES[kind]} | `{folder.name}` | {manifest['step']:,} | {_cell(metrics, 'mean_distance', 1e3, 2)} "
                    f"| {_cell(metrics, 'smoothness', 1, 3)} | {distance:.2f} | {smoothness:.2f} "
                    f"| {rank_cells[0]} | {rank_cells[1]} |")
    return "\n".join([header, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=ROOT / "pretrained")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "results")
    args = parser.parse_args()
    found = shipped(args.models)
    steps = sorted({manifest["step"] for _, manifest in found.values()})
    text = ["# Table 1 on lines, as shipped", "",
            f"Every model of the table trained {' / '.join(f'{step:,}' for step in steps)} steps.", "", table(found), ""]
    for index, metric in enumerate(("mean_distance", "smoothness")):
        ours = {kind: found[kind][1]["metrics"].get(metric, float("nan")) for kind in found}
        ours = {kind: float("nan") if value is None else value for kind, value in ours.items()}
        held, broken = orderings(ours, {kind: TABLE_1[kind][index] for kind in TABLE_1})
        text += [f"**{metric}**: {len(held)} of the paper's {len(held) + len(broken)} pairwise orderings hold.",
                 f"Hold: {', '.join(held) or 'none'}.", f"Do not hold: {', '.join(broken) or 'none'}.", ""]
    further = trained_further(args.models)
    if further:
        text += ["## Shipped beside the table (more steps than its models)", "",
                 "| folder | model | steps | Mean Distance (x 10^-3) | Smoothness |", "|---|---|---|---|---|"]
        text += [f"| `{folder.name}` | {NAMES[Config.from_dict(manifest['config']).kind]} | {manifest['step']:,} "
                 f"| {_cell(manifest['metrics'], 'mean_distance', 1e3, 2)} | {_cell(manifest['metrics'], 'smoothness', 1, 3)} |"
                 for folder, manifest in further]
        text.append("")
    args.report.mkdir(parents=True, exist_ok=True)
    checkpoints.write_atomic(args.report / "table1.md", "\n".join(text))
    rng = np.random.default_rng([7, 1])  # two fixed pairs of test lines
    first, _ = lines.sample_lines(2, rng)
    second, _ = lines.sample_lines(2, rng)
    kinds = [kind for kind in ORDER if kind in found]
    models = [(NAMES[kind], checkpoints.load_checkpoint(found[kind][0]).networks) for kind in kinds]
    checkpoints.write_atomic(args.report / "table1-interpolations.png", reports.comparison_png(models, first, second))
    (args.report / "table1.json").write_text(json.dumps(
        {kind: {"folder": found[kind][0].name, "step": found[kind][1]["step"], "metrics": found[kind][1]["metrics"],
                "paper": dict(zip(("mean_distance", "smoothness"), (TABLE_1[kind][0] * 1e-3, TABLE_1[kind][1])))}
         for kind in kinds}, indent=2, default=float) + "\n")
    print("\n".join(text))
    print("rows of the figure, per pair:", ", ".join(name for name, _ in models) + ", pixel cross-fade")


if __name__ == "__main__":
    main()
