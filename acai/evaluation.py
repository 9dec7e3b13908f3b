"""The paper's evaluations run on a model: the lines benchmark protocol and representation quality.

The metric formulas live in acai.metrics (pure functions); this module only produces the inputs.
"""

from __future__ import annotations

import numpy as np

from acai import interpolation, lines, metrics
from acai.data import Dataset

# The paper's published figures shown beside ours: only those this project has from a checked source
# (REFERENCE.md and the issues: Table 1, and ACAI's MNIST linear probe in section 5).
PAPER = {
    "lines": {"acai": {"mean_distance": 0.24e-3, "smoothness": 0.10},
              "baseline": {"mean_distance": 6.88e-3, "smoothness": 0.44}},
    "mnist": {"acai": {32: {"linear_probe": 0.983}, 256: {"linear_probe": 0.990}}},
}


def lines_benchmark(networks, pairs: int = 256, steps: int = 16, seed: int = 1) -> dict[str, float]:
    """The paper's protocol: `pairs` pairs of fresh test lines, each decoded at `steps` alphas from
    0 to 1 inclusive (the endpoints are reconstructions), scored with Mean Distance and Smoothness."""
    rng = np.random.default_rng([seed, 4])
    first, _ = lines.sample_lines(pairs, rng)
    second, _ = lines.sample_lines(pairs, rng)
    return metrics.lines_benchmark(interpolation.interpolate_pairs(networks, first, second, steps))


def lines_benchmark_draws(networks, draws: int = 5, pairs: int = 256) -> dict[str, float]:
    """The lines benchmark on `draws` independent sets of `pairs` fresh test pairs: the median per metric
    (as the paper reports the median of its last 20 evaluations) and the standard deviation across draws,
    which is the noise to expect when someone else re-measures the same model on their own lines."""
    runs = [lines_benchmark(networks, pairs=pairs, seed=seed) for seed in range(1, draws + 1)]
    result = {}
    for key in ("mean_distance", "smoothness"):
        values = np.array([run[key] for run in runs])
        result[key] = float(np.median(values))
        result[f"{key}_sd"] = float(np.std(values, ddof=1)) if draws > 1 else 0.0
    return result


def representation(networks, dataset: Dataset, max_train: int = 60_000, restarts: int = 10,
                   probe_iterations: int = 500, seed: int = 0) -> dict[str, float]:
    """Linear-probe and K-means clustering accuracy on the latents, and test reconstruction error."""
    index = np.random.default_rng(seed).permutation(len(dataset.x_train))[:max_train]
    train = interpolation.encode(networks, dataset.x_train[index])
    test = interpolation.encode(networks, dataset.x_test)
    reconstructions = interpolation.decode(networks, test)
    result = {
        "linear_probe": metrics.linear_probe_accuracy(
            train, dataset.y_train[index], test, dataset.y_test, max_iter=probe_iterations),
        "clustering": metrics.clustering_accuracy(train, test, dataset.y_test, restarts=restarts, seed=seed),
    }
    result.update({f"reconstruction_{k}": v for k, v in metrics.reconstruction_error(dataset.x_test, reconstructions).items()})
    return result


def evaluate(networks, dataset: Dataset, quick: bool = False) -> dict[str, float]:
    """Every benchmark that applies to the dataset. `quick` shrinks the sizes for tests and live views."""
    results = {}
    if dataset.name == "lines":
        results.update(lines_benchmark(networks, pairs=64) if quick else lines_benchmark_draws(networks))
    results.update(representation(
        networks, dataset, max_train=2_000 if quick else 60_000, restarts=2 if quick else 10,
        probe_iterations=200 if quick else 500))
    return results
