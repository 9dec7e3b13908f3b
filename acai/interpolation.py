"""Interpolation in latent space: lerp and slerp, strips between two images, a 2-D grid between
four, the pixel-space cross-fade for contrast, and the critic's estimate of alpha per frame.

Convention: t = 0 is the first endpoint and t = 1 the second. The critic was trained to output
the distance to the nearest endpoint, min(t, 1 - t), in [0, 0.5] (0 = looks real).
"""

from __future__ import annotations

import dataclasses

import numpy as np

_BATCH = 512


def lerp(start: np.ndarray, end: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """(1 - t) * start + t * end for each t.

    Args:
        start, end: latents of any shape S.
        alphas: (T,) mixing coefficients.
    Returns:
        (T, *S) latents.
    """
    t = np.asarray(alphas, dtype=np.float32).reshape((-1,) + (1,) * np.ndim(start))
    return (1.0 - t) * start[None] + t * end[None]


def slerp(start: np.ndarray, end: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Spherical interpolation on the flattened latents; falls back to lerp for (anti)parallel ones.

    The norm moves geometrically-smoothly between the endpoints' norms (equal norms are kept).
    """
    a = np.asarray(start, dtype=np.float64).reshape(-1)
    b = np.asarray(end, dtype=np.float64).reshape(-1)
    t = np.asarray(alphas, dtype=np.float64).reshape(-1, 1)
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a < 1e-12 or norm_b < 1e-12:
        return lerp(start, end, alphas)
    cosine = np.clip(a @ b / (norm_a * norm_b), -1.0, 1.0)
    omega = np.arccos(cosine)
    if np.sin(omega) < 1e-6:
        return lerp(start, end, alphas)
    direction = (np.sin((1 - t) * omega) * (a / norm_a) + np.sin(t * omega) * (b / norm_b)) / np.sin(omega)
    norm = norm_a * (1 - t) + norm_b * t
    return (direction * norm).astype(np.float32).reshape((-1,) + np.shape(start))


def _batched(model, inputs: np.ndarray) -> np.ndarray:
    """Compiled inference (Keras' predict function: 3-12x faster than eager calls) in batches."""
    inputs = np.asarray(inputs, dtype=np.float32)
    outputs = [model.predict_on_batch(inputs[i : i + _BATCH]) for i in range(0, len(inputs), _BATCH)]
    return np.concatenate(outputs) if outputs else np.zeros((0,) + tuple(model.output_shape[1:]), np.float32)


def encode(networks, images: np.ndarray) -> np.ndarray:
    """Images (N, 32, 32, C) -> latents (N, *latent_shape)."""
    return _batched(networks.encoder, images)


def decode(networks, latents: np.ndarray) -> np.ndarray:
    """Latents (N, *latent_shape) -> images (N, 32, 32, C), unclipped."""
    return _batched(networks.decoder, latents)


def critic_alpha(networks, images: np.ndarray) -> np.ndarray:
    """The critic's estimate of alpha for each image: (N,); NaN for a model without a critic (not ACAI)."""
    if networks.critic is None:
        return np.full(len(images), np.nan, np.float32)
    return _batched(networks.critic, images)


def pixel_crossfade(first: np.ndarray, second: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Blend in pixel space, the naive interpolation: (T, 32, 32, C)."""
    return lerp(np.asarray(first, np.float32), np.asarray(second, np.float32), alphas)


@dataclasses.dataclass(frozen=True)
class Strip:
    """A decoded interpolation: frames (T, 32, 32, C), alphas (T,), critic estimates (T,)."""

    frames: np.ndarray
    alphas: np.ndarray
    critic: np.ndarray


def interpolate(networks, first: np.ndarray, second: np.ndarray, alphas, method: str = "lerp") -> Strip:
    """Decode the latent path between two images at the given alphas (t = 0 is `first`)."""
    if method not in ("lerp", "slerp"):
        raise ValueError(f"unknown interpolation method {method!r}; use 'lerp' or 'slerp'")
    alphas = np.asarray(alphas, dtype=np.float32).reshape(-1)
    latents = encode(networks, np.stack([first, second]))
    path = (lerp if method == "lerp" else slerp)(latents[0], latents[1], alphas)
    frames = decode(networks, path)
    return Strip(frames=frames, alphas=alphas, critic=critic_alpha(networks, frames))


def strip(networks, first: np.ndarray, second: np.ndarray, steps: int, method: str = "lerp") -> Strip:
    """`steps` evenly spaced frames from t = 0 to t = 1 inclusive (the ends are reconstructions)."""
    if steps < 2:
        raise ValueError(f"a strip needs at least 2 steps, got {steps}")
    return interpolate(networks, first, second, np.linspace(0.0, 1.0, steps), method)


def interpolate_pairs(networks, first: np.ndarray, second: np.ndarray, steps: int) -> np.ndarray:
    """Linear interpolations for many pairs at once, as the lines benchmark needs.

    Args:
        first, second: (P, 32, 32, C) endpoint images.
    Returns:
        (P, steps, 32, 32, C) decoded frames, t from 0 to 1 inclusive.
    """
    latents = encode(networks, np.concatenate([first, second]))
    start, end = latents[: len(first)], latents[len(first):]
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32).reshape((1, steps) + (1,) * (latents.ndim - 1))
    path = (1.0 - t) * start[:, None] + t * end[:, None]  # (P, steps, *latent_shape)
    frames = decode(networks, path.reshape((-1,) + latents.shape[1:]))
    return frames.reshape((len(first), steps) + frames.shape[1:])


def grid(networks, corners: np.ndarray, size: int) -> np.ndarray:
    """Bilinear interpolation between four images in latent space.

    Args:
        corners: (4, 32, 32, C): top-left, top-right, bottom-left, bottom-right.
        size: frames per side.
    Returns:
        (size, size, 32, 32, C) decoded frames; the corners are reconstructions.
    """
    if len(corners) != 4 or size < 2:
        raise ValueError("a grid needs 4 corner images and at least 2 frames per side")
    z = encode(networks, corners)
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)
    u = t.reshape((size, 1) + (1,) * (z.ndim - 1))  # rows
    v = t.reshape((1, size) + (1,) * (z.ndim - 1))  # columns
    latents = (1 - u) * ((1 - v) * z[0] + v * z[1]) + u * ((1 - v) * z[2] + v * z[3])
    frames = decode(networks, latents.reshape((-1,) + z.shape[1:]))
    return frames.reshape((size, size) + frames.shape[1:])
