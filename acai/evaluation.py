"""The paper's evaluations run on a model: the lines benchmark protocol and representation quality.

The metric formulas live in acai.metrics (pure functions); this module only produces the inputs.
"""

from __future__ import annotations

import numpy as np

from acai import interpolation, lines, metrics, models
from acai.config import Config
from acai.data import Dataset

# The paper's published figures shown beside ours (docs/METHOD.md and docs/RESULTS.md say where each comes
# from): Table 1's lines rows (Mean Distance, Smoothness), which each model's module declares, and ACAI's MNIST
# linear probe in section 5. Keyed by Config.kind.
TABLE_1 = {row.kind: (row.mean_distance, row.smoothness) for row in models.table_rows()}  # x 10^-3, Smoothness
PAPER = {
    "lines": {kind: {"mean_distance": distance * 1e-3, "smoothness": smoothness}
              for kind, (distance, smoothness) in TABLE_1.items()},
    "mnist": {"acai": {32: {"linear_probe": 0.983}, 256: {"linear_probe": 0.990}}},
}


def paper_figures(config: Config) -> dict[str, float]:
    """The paper's published figures for a model like this one (dataset, model kind, latent size)."""
    figures = PAPER.get(config.dataset, {}).get(config.kind, {})
    return figures.get(config.latent_size, {}) if config.dataset == "mnist" else figures


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


def midpoint_realism(networks, dataset: Dataset, pairs: int = 64, seed: int = 1) -> dict[str, float]:
    """How real the middle of an interpolation looks on an image dataset (this project's measure; the paper
    has none for MNIST): `pairs` random pairs of test images are decoded at alpha = 0.5, and the share of
    mid-grey pixels in those frames is averaged (metrics.grey_fraction). Real digits are nearly black
    and white; a blurry double exposure of two digits is grey. It measures crispness, not shape: a crisp
    frame of the wrong shape scores as well as a real one.

    Returns:
        {"midpoint_grey": mean share of mid-grey pixels at alpha 0.5}.
    """
    pairs = min(pairs, len(dataset.x_test) // 2)  # a small test split (the user's images) gives fewer
    index = np.random.default_rng([seed, 5]).choice(len(dataset.x_test), size=2 * pairs, replace=False)
    latents = interpolation.encode(networks, dataset.x_test[index])
    middles = interpolation.decode(networks, 0.5 * latents[:pairs] + 0.5 * latents[pairs:])
    return {"midpoint_grey": float(metrics.grey_fraction(middles).mean())}


def representation(networks, dataset: Dataset, max_train: int = 60_000, max_test: int | None = None,
                   restarts: int = 10, probe_iterations: int = 500, seed: int = 0) -> dict[str, float]:
    """Linear-probe and K-means clustering accuracy on the latents (K = the number of classes; labelled data
    only), and test reconstruction error; on every test image, or on `max_test` of them drawn at random."""
    index = np.random.default_rng(seed).permutation(len(dataset.x_train))[:max_train]
    test_index = np.sort(np.random.default_rng([seed, 1]).permutation(len(dataset.x_test))[:max_test])
    x_test = dataset.x_test[test_index]
    train = interpolation.encode(networks, dataset.x_train[index])
    test = interpolation.encode(networks, x_test)
    reconstructions = interpolation.decode(networks, test)
    result = {}
    if dataset.labelled:  # the user's images without sub-folders have no labels to probe or cluster by
        y_test = dataset.y_test[test_index]
        result["linear_probe"] = metrics.linear_probe_accuracy(
            train, dataset.y_train[index], test, y_test, max_iter=probe_iterations)
        result["clustering"] = metrics.clustering_accuracy(train, test, y_test, clusters=dataset.num_classes,
                                                           restarts=restarts, seed=seed)
    result.update({f"reconstruction_{k}": v for k, v in metrics.reconstruction_error(x_test, reconstructions).items()})
    return result


def evaluate(networks, dataset: Dataset, quick: bool = False) -> dict[str, float]:
    """Every benchmark that applies to the dataset. `quick` (tests, the Evaluate page's default, `eval --quick`)
    shrinks the samples: 64 line pairs drawn once; 2,000 training and 2,000 test images for the probe (200
    iterations), the clustering (2 restarts) and the reconstruction error."""
    results = {}
    if dataset.name == "lines":
        results.update(lines_benchmark(networks, pairs=64) if quick else lines_benchmark_draws(networks))
    elif not dataset.labelled:  # nothing to probe or cluster by: how real the middle of a path looks instead
        results.update(midpoint_realism(networks, dataset))
    results.update(representation(
        networks, dataset, max_train=2_000 if quick else 60_000, max_test=2_000 if quick else None,
        restarts=2 if quick else 10, probe_iterations=200 if quick else 500))
    return results
