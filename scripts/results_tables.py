"""Print the Markdown tables of docs/RESULTS.md from reproduce's JSON files, the lines checkpoints'
evaluation history and the shipped model cards (so every number in the page comes from a file).

Usage: python scripts/results_tables.py [--report docs/results] [--models pretrained]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from acai.config import Config, setting_history

ROOT = Path(__file__).resolve().parents[1]


def _plus_minus(metrics: dict, key: str, scale: float = 1.0, digits: int = 2) -> str:
    """`value ± sd` where the evaluation recorded a spread across draws (lines: 5 x 256 pairs)."""
    text = f"{metrics[key] * scale:.{digits}f}"
    return text + (f" ± {metrics[key + '_sd'] * scale:.{digits}f}" if key + "_sd" in metrics else "")


def _markdown(header: list[str], rows: list[str]) -> str:
    """A Markdown table from its column names and already formatted `| a | b |` rows."""
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *rows])


def lines_table(results: dict) -> str:
    rows = []
    for name, row in results.items():
        m, p = row["metrics"], row["paper"]
        rows.append(f"| {name} | {row['step']:,} ({row['training_images']:,}) | {_plus_minus(m, 'mean_distance', 1e3)} | "
                    f"{_plus_minus(m, 'smoothness', digits=3)} | {p['mean_distance'] * 1e3:.2f} | {p['smoothness']:.2f} |")
    return _markdown(["model", "steps (images)", "Mean Distance (x 10^-3)", "Smoothness", "paper MD (x 10^-3)",
                      "paper Smoothness"], rows)


def mnist_table(results: dict) -> str:
    rows = []
    for name, row in results.items():
        m, paper = row["metrics"], row["paper"].get("linear_probe")
        rows.append(f"| {name} | {row['step']:,} ({row['training_images']:,}) | {m['linear_probe']:.2%} | "
                    f"{'' if paper is None else f'{paper:.1%}'} | {m['clustering']:.2%} | {m['reconstruction_rmse_255']:.1f} |")
    return _markdown(["model", "steps (images)", "linear probe", "paper linear probe", "K-means clustering",
                      "reconstruction RMSE (0..255)"], rows)


def lines_over_training(models: Path) -> str:
    """The lines benchmark recorded during training, from the models' history.npz (shipped or in runs/)."""
    rows, series = [], {}
    for name in ("lines-acai", "lines-baseline"):
        with np.load(models / name / "history.npz") as archive:
            series[name] = {int(s): (d, m) for s, d, m in zip(archive["eval/step"], archive["eval/mean_distance"],
                                                               archive["eval/smoothness"])}
    common = sorted(set(series["lines-acai"]) & set(series["lines-baseline"]))
    for step in [s for s in common if s < 2000 or s % 1000 == 0 or s == common[-1]]:  # every 1,000 after the start
        cells = [f"{series[n][step][0] * 1e3:.2f} | {series[n][step][1]:.3f}" for n in ("lines-acai", "lines-baseline")]
        rows.append(f"| {step:,} | " + " | ".join(cells) + " |")
    return _markdown(["step", *(f"{n} {metric}" for n in ("ACAI", "baseline")
                                for metric in ("MD (x 10^-3)", "Smoothness"))], rows)


def mnist_over_training(progress: dict) -> str:
    """Every evaluation `reproduce mnist` has made, per model and step (from mnist-progress.json)."""
    rows = []
    for name, entries in progress.items():
        for entry in entries:
            m = entry["metrics"]
            rows.append(f"| {name} | {entry['step']:,} | {m['linear_probe']:.2%} | {m['clustering']:.2%} | "
                        f"{m['reconstruction_rmse_255']:.1f} |")
    return _markdown(["model", "step", "linear probe", "K-means clustering", "reconstruction RMSE (0..255)"], rows)


def _model(config: dict, card: dict) -> str:
    """ACAI with its lambda (0: the plain autoencoder; where a resumed run changed it, each value from the
    step it started at), or the name of another Table 1 model."""
    config = Config.from_dict(config)
    if not config.has_critic:  # lambda is ACAI's
        return config.model
    return f"{config.model} ({setting_history('lam', config.lam, card)})"


def cards_table(pretrained: Path) -> str:
    rows = []
    for folder in sorted(pretrained.iterdir()):
        if not (folder / "config.json").exists():
            continue
        manifest = json.loads((folder / "config.json").read_text())
        c, m, card = manifest["config"], manifest["metrics"], manifest["card"]
        md = _plus_minus(m, "mean_distance", 1e3) if "mean_distance" in m else ""
        rows.append(f"| [{folder.name}](../pretrained/{folder.name}/README.md) | {c['dataset']} | {c['architecture']}, "
                    f"{c['latent_size']} | {_model(c, card)} | {manifest['step']:,} | "
                    f"{card.get('wall_seconds', 0) / 60:.0f} min | "
                    f"{m.get('linear_probe', float('nan')):.2%} | {m.get('clustering', float('nan')):.2%} | {md} |")
    return _markdown(["model", "dataset", "arch, latent", "model (lambda)", "steps", "wall time", "linear probe", "clustering",
                      "MD (x 10^-3)"], rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "results")
    parser.add_argument("--models", type=Path, default=ROOT / "pretrained",
                        help="folders holding lines-{acai,baseline}/history.npz (pretrained/ or runs/)")
    args = parser.parse_args()
    print("## lines\n" + lines_table(json.loads((args.report / "lines.json").read_text())))
    print("\n## lines over training (64 pairs per evaluation)\n" + lines_over_training(args.models))
    print("\n## mnist\n" + mnist_table(json.loads((args.report / "mnist.json").read_text())))
    print("\n## mnist over training\n" + mnist_over_training(json.loads((args.report / "mnist-progress.json").read_text())))
    print("\n## shipped models\n" + cards_table(ROOT / "pretrained"))


if __name__ == "__main__":
    main()
