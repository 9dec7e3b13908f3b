"""2-D projections of latent codes for plots: PCA at once, t-SNE on demand, both on a subsample."""

from __future__ import annotations

import numpy as np


def subsample(count: int, limit: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most `limit` of `count` items, fixed by the seed."""
    if count <= limit:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=limit, replace=False))


def pca_2d(latents: np.ndarray) -> tuple[np.ndarray, object]:
    """PCA onto 2 components. Returns the points (N, 2) and the fitted PCA (to project paths)."""
    from sklearn.decomposition import PCA

    flat = np.asarray(latents, np.float64).reshape(len(latents), -1)
    pca = PCA(n_components=2, random_state=0).fit(flat)
    return pca.transform(flat), pca


def tsne_2d(latents: np.ndarray, perplexity: float = 30.0, seed: int = 0) -> np.ndarray:
    """t-SNE onto 2 dimensions (PCA initialisation). Returns (N, 2)."""
    from sklearn.manifold import TSNE

    flat = np.asarray(latents, np.float64).reshape(len(latents), -1)
    if not 1 <= perplexity < len(flat):
        raise ValueError(f"perplexity must lie in [1, {len(flat)}) for {len(flat)} points, got {perplexity}")
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(flat)
