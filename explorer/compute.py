"""Cached calls into the acai package, keyed by model key and inputs, so that a rerun repeats no work."""

from __future__ import annotations

import numpy as np
import streamlit as st

from acai import images, interpolation, metrics, projection


@st.cache_data(max_entries=512, show_spinner=False)
def mix(model_key: str, _networks, first: np.ndarray, second: np.ndarray, alpha: float, method: str):
    """The decoded mix at one alpha: (frame (32, 32, 1), critic estimate)."""
    result = interpolation.interpolate(_networks, first, second, [alpha], method)
    return result.frames[0], float(result.critic[0])


@st.cache_data(max_entries=512, show_spinner=False)
def mix_png(model_key: str, _networks, first: np.ndarray, second: np.ndarray, alpha: float, method: str,
            scale: int) -> tuple[bytes, float]:
    """The big mix as PNG bytes `scale` times enlarged, and the critic's estimate. Encoding it was 1.8 ms of
    the 13-15 ms a move costs the server (docs/BENCHMARKS.md, "The room"); cached, a room on the same pair
    encodes each alpha once, and the bytes go to st.image as they are."""
    frame, critic = mix(model_key, _networks, first, second, alpha, method)
    return images.enlarged_png(frame, scale), critic


@st.cache_data(max_entries=256, show_spinner=False)
def strip(model_key: str, _networks, first: np.ndarray, second: np.ndarray, steps: int, method: str):
    """(frames (steps, 32, 32, 1), critic estimates (steps,))."""
    result = interpolation.strip(_networks, first, second, steps, method)
    return result.frames, result.critic


@st.cache_data(max_entries=64, show_spinner=False)
def drawn(model_key: str, _networks, dataset_name: str, _test_images: np.ndarray, image: np.ndarray):
    """A drawn endpoint's (reconstruction (32, 32, 1), indices of its 6 nearest test images)."""
    reconstruction = interpolation.decode(_networks, interpolation.encode(_networks, image[None]))[0]
    return reconstruction, metrics.nearest_images(image, _test_images, 6)


@st.cache_data(max_entries=64, show_spinner=False)
def grid(model_key: str, _networks, corners: np.ndarray, size: int) -> np.ndarray:
    return interpolation.grid(_networks, corners, size)


@st.cache_data(max_entries=16, show_spinner="Encoding test images…")
def latents(model_key: str, _networks, dataset_name: str, _images: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Latents (N, D) of the test images at `indices` (the dataset name and indices are the key)."""
    return interpolation.encode(_networks, _images[indices]).reshape(len(indices), -1)


@st.cache_data(max_entries=16, show_spinner=False)
def pca(model_key: str, dataset_name: str, codes: np.ndarray):
    points, fitted = projection.pca_2d(codes)
    return points, fitted.components_, fitted.mean_


@st.cache_data(max_entries=16, show_spinner="Running t-SNE (once per model and perplexity)…")
def tsne(model_key: str, dataset_name: str, codes: np.ndarray, perplexity: float) -> np.ndarray:
    return projection.tsne_2d(codes, perplexity=perplexity)


@st.cache_data(max_entries=64, show_spinner=False)
def downloads(rows: np.ndarray, strip_frames: np.ndarray) -> tuple[bytes, bytes]:
    """(PNG of the strips' mosaic, animated GIF of one strip), encoded once per content."""
    return images.png_bytes(images.tile(rows)), images.gif_bytes(strip_frames)
