"""The paper's benchmarks as pure NumPy functions (no model inside): the lines benchmark's Mean
Distance and Smoothness, linear-probe and K-means clustering accuracy, reconstruction error."""

from __future__ import annotations

import numpy as np
import scipy.optimize

from acai import lines

_CHUNK = 2048


def nearest_cosine(images: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each image, the cosine distance (on raw flattened pixels) to its nearest reference image.

    Args:
        images: (M, ...) any shape per image.
        reference: (R, D) flattened reference images; rows of unit norm.
    Returns:
        distances (M,) float64 and the index of the nearest reference (M,) int64.
    """
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    distances = np.empty(len(flat))
    nearest = np.empty(len(flat), dtype=np.int64)
    for begin in range(0, len(flat), _CHUNK):
        block = flat[begin : begin + _CHUNK]
        norms = np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
        similarity = (block / norms) @ reference.T  # (chunk, R) cosine similarities
        index = np.argmax(similarity, axis=1)
        nearest[begin : begin + _CHUNK] = index
        distances[begin : begin + _CHUNK] = 1.0 - similarity[np.arange(len(block)), index]
    return distances, nearest


def nearest_images(image: np.ndarray, images: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` images nearest to `image` by Euclidean distance on raw pixels, nearest first."""
    flat = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    distances = ((flat - np.asarray(image, dtype=np.float32).reshape(1, -1)) ** 2).sum(axis=1)
    nearest = np.argpartition(distances, min(count, len(flat) - 1))[:count]
    return nearest[np.argsort(distances[nearest], kind="stable")]


def nearest_reference_lines(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine distance to, and angle of, the nearest of the 10,000 reference lines.

    Args:
        images: (M, 32, 32, 1) in [-1, 1] (raw, unclipped decoder output is fine).
    Returns:
        distances (M,) float64 and angles (M,) float64.
    """
    reference, angles = lines.reference_set()
    distances, nearest = nearest_cosine(images, reference)
    return distances, angles[nearest]


def smoothness_scores(angles: np.ndarray) -> np.ndarray:
    """Per interpolation: max |step| / |last - first| - 1/(S-1) on unwrapped angles; NaN if no change.

    Args:
        angles: (P, S) angles of the nearest reference line along each path.
    Returns:
        (P,) scores; 0 means perfectly even steps.
    """
    unwrapped = np.unwrap(np.atleast_2d(angles), axis=-1)
    steps = np.abs(np.diff(unwrapped, axis=-1))
    total = np.abs(unwrapped[:, -1] - unwrapped[:, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = steps.max(axis=-1) / total - 1.0 / (unwrapped.shape[1] - 1)
    scores[total < 1e-4] = np.nan
    return scores


def lines_benchmark(interpolations: np.ndarray) -> dict[str, float]:
    """Mean Distance and Smoothness of line interpolations, as in the paper.

    Args:
        interpolations: (P, S, 32, 32, 1) decoded paths.
    Returns:
        {"mean_distance": mean cosine distance to the nearest true line over all P*S images,
         "smoothness": sum of the non-NaN pair scores / P (NaN if every pair is NaN)}.
    """
    pairs, steps = interpolations.shape[:2]
    distances, angles = nearest_reference_lines(interpolations.reshape((pairs * steps,) + interpolations.shape[2:]))
    scores = smoothness_scores(angles.reshape(pairs, steps))
    valid = ~np.isnan(scores)
    smoothness = float(scores[valid].sum() / pairs) if valid.any() else float("nan")
    return {"mean_distance": float(distances.mean()), "smoothness": smoothness}


def grey_fraction(images: np.ndarray, low: float = -0.5, high: float = 0.5) -> np.ndarray:
    """Share of each image's pixels that are mid-grey: strictly between `low` and `high` in [-1, 1] units
    (25% to 75% intensity). Handwritten digits are nearly black and white (MNIST test images: about 4%);
    a double exposure of two digits is largely grey (a pixel cross-fade at alpha 0.5: about 13%).

    Args:
        images: (N, ...) in [-1, 1].
    Returns:
        (N,) fractions in [0, 1].
    """
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    return ((flat > low) & (flat < high)).mean(axis=1)


def hungarian_accuracy(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Accuracy under the best one-to-one matching of cluster ids to labels (Hungarian algorithm)."""
    labels = np.asarray(labels, dtype=np.int64)
    clusters = np.asarray(clusters, dtype=np.int64)
    size = int(max(labels.max(), clusters.max())) + 1
    counts = np.zeros((size, size), dtype=np.int64)
    np.add.at(counts, (clusters, labels), 1)
    rows, columns = scipy.optimize.linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, columns].sum() / len(labels))


def whiten(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Centre on the train mean, project on the train SVD basis, divide by the singular values.

    Directions with (near-)zero singular value are dropped. Inputs are flattened to (N, D).
    """
    train = np.asarray(train, dtype=np.float64).reshape(len(train), -1)
    mean = train.mean(axis=0)
    _, singular, basis = np.linalg.svd(train - mean, full_matrices=False)
    keep = singular > singular.max() * 1e-8
    project = basis[keep].T / singular[keep]
    return [(np.asarray(x, np.float64).reshape(len(x), -1) - mean) @ project for x in (train, *others)]


def clustering_accuracy(train_latents: np.ndarray, test_latents: np.ndarray, test_labels: np.ndarray,
                        clusters: int = 10, restarts: int = 10, seed: int = 0) -> float:
    """K-means on whitened train latents (best of `restarts`), test accuracy under Hungarian matching."""
    from sklearn.cluster import KMeans

    train, test = whiten(train_latents, test_latents)
    kmeans = KMeans(n_clusters=clusters, n_init=restarts, random_state=seed).fit(train)
    return hungarian_accuracy(test_labels, kmeans.predict(test))


def linear_probe_accuracy(train_latents: np.ndarray, train_labels: np.ndarray, test_latents: np.ndarray,
                          test_labels: np.ndarray, max_iter: int = 500) -> float:
    """Test accuracy of a single-layer softmax classifier (multinomial logistic regression)
    fitted on standardised train latents."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    flat = lambda x: np.asarray(x, np.float64).reshape(len(x), -1)  # noqa: E731
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    probe.fit(flat(train_latents), train_labels)
    return float(probe.score(flat(test_latents), test_labels))


def reconstruction_error(images: np.ndarray, reconstructions: np.ndarray) -> dict[str, float]:
    """Mean squared error in [-1, 1] units, and the RMSE in 0..255 pixel units (x 127.5)."""
    mse = float(np.mean(np.square(np.asarray(images, np.float64) - np.asarray(reconstructions, np.float64))))
    return {"mse": mse, "rmse_255": float(np.sqrt(mse) * 127.5)}
