"""Figures for results pages: interpolation comparisons and training curves, as PNG bytes."""

from __future__ import annotations

import io

import numpy as np

from acai import images, interpolation


def comparison_png(models: list[tuple[str, object]], first: np.ndarray, second: np.ndarray, steps: int = 10) -> bytes:
    """For each pair (first[i], second[i]): one row per model, then the pixel cross-fade.

    Args:
        models: (label, networks) pairs, in row order.
        first, second: (P, 32, 32, 1) endpoints.
    """
    rows = []
    alphas = np.linspace(0, 1, steps)
    for a, b in zip(first, second):
        for _, networks in models:
            rows.append(interpolation.strip(networks, a, b, steps).frames)
        rows.append(interpolation.pixel_crossfade(a, b, alphas))
    return images.png_bytes(images.tile(np.stack(rows)), scale=3)


def training_curve_png(history: np.ndarray, columns: tuple[str, ...], evaluations: list[dict], title: str) -> bytes:
    """Loss terms against step (log scale) and, when present, the lines benchmark over training."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 2 if evaluations else 1
    figure, axes = plt.subplots(1, panels, figsize=(6 * panels, 3.6), squeeze=False)
    steps = history[:, columns.index("step")]
    window = max(1, len(steps) // 200)
    kernel = np.ones(window) / window
    for name in [c for c in columns if c not in ("step", "lam", "gamma", "probe", "probe_accuracy", "codes_used")]:
        values = np.convolve(history[:, columns.index(name)], kernel, mode="valid")
        axes[0, 0].plot(steps[window - 1:], np.maximum(values, 1e-12), label=name)
    axes[0, 0].set(yscale="log", xlabel="step", title=f"{title}: losses (moving average of {window})")
    axes[0, 0].legend(fontsize=8)
    if evaluations:
        eval_steps = [row["step"] for row in evaluations]
        axes[0, 1].plot(eval_steps, [row["mean_distance"] for row in evaluations], "o-", label="Mean Distance")
        axes[0, 1].set(yscale="log", xlabel="step", ylabel="Mean Distance", title=f"{title}: lines benchmark (64 pairs)")
        twin = axes[0, 1].twinx()
        twin.plot(eval_steps, [row["smoothness"] for row in evaluations], "s-", color="tab:orange", label="Smoothness")
        twin.set_ylabel("Smoothness")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()
