"""Cached calls into the acai package, keyed by model key and inputs, so that a rerun repeats no work."""

from __future__ import annotations

import base64
import hashlib
import threading

import cachetools
import numpy as np
import streamlit as st

from acai import images, interpolation, metrics, projection


def _digest(array: np.ndarray) -> tuple:
    """An array's identity for a cache key: dtype, shape and a 128-bit hash of its bytes. A key holding the bytes
    themselves would keep 4 KB (grey) to 12 KB (colour) per entry alive, ten times the PNG it names (a grey frame
    at scale 3 is 0.2-0.6 KB), so 4,096 entries would hold 20-50 MB instead of a few MB."""
    return array.dtype.str, array.shape, hashlib.blake2b(np.ascontiguousarray(array).data, digest_size=16).digest()


def _array_key(image: np.ndarray, *rest) -> tuple:
    return (*_digest(image), *rest)


def data_url(png: bytes) -> str:
    """PNG bytes as a data: URL, which st.image hands to the page as it is, in the element's own message."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@cachetools.cached(cachetools.LRUCache(maxsize=4096), key=_array_key, lock=threading.Lock())
def picture(image: np.ndarray, scale: int) -> str:
    """One [-1, 1] frame `scale` times enlarged, as a PNG data: URL for st.image; encoded once for every session.

    Once: every picture a page shows (the endpoints, the strips, the gallery) is the same for everyone who opens
    it, and handing st.image an array makes Streamlit encode a PNG on every run (about a third of the server's
    CPU in a first run of Interpolate). Inline, not through Streamlit's media endpoint: at the end of every run,
    fragments included, Streamlit walks every file that every open session holds, so each picture a page keeps
    there costs every other visitor's every move; with 200 visitors on Interpolate (about 40 pictures each)
    that walk was an eighth of the server's CPU per move, and each new image cost one more HTTP request
    (docs/BENCHMARKS.md, "The room"). A frame is 0.2-1 KB of PNG (grey), up to about 6 KB (colour)."""
    return data_url(images.enlarged_png(image, scale))


@st.cache_data(max_entries=512, show_spinner=False)
def mix(model_key: str, _networks, first: np.ndarray, second: np.ndarray, alpha: float, method: str):
    """The decoded mix at one alpha: (frame (32, 32, 1), critic estimate)."""
    result = interpolation.interpolate(_networks, first, second, [alpha], method)
    return result.frames[0], float(result.critic[0])


def _mix_key(model_key, _networks, first, second, alpha, method, scale):
    """The networks stay out of the key, as the model key names them (as in st.cache_data's `_networks`)."""
    return (model_key, *_digest(first), *_digest(second), alpha, method, scale)


@cachetools.cached(cachetools.LRUCache(maxsize=512), key=_mix_key, lock=threading.Lock())
def mix_picture(model_key: str, _networks, first: np.ndarray, second: np.ndarray, alpha: float, method: str,
                scale: int) -> tuple[str, float]:
    """The big mix `scale` times enlarged as a PNG data: URL (see `picture`), and the critic's estimate: what
    each move of alpha on Interpolate asks for, so what a room of viewers asks for dozens of times a second
    (docs/BENCHMARKS.md, "The room"). Encoded once per model, endpoints and alpha, for every session. A plain
    in-process LRU keyed by the arguments' hashes, not st.cache_data: Streamlit's hashing of the same arguments
    (signature inspection, its generic hasher) cost about a tenth of the server's CPU per move in a profile."""
    frame, critic = mix(model_key, _networks, first, second, alpha, method)
    return data_url(images.enlarged_png(frame, scale)), critic


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


@cachetools.cached(cachetools.LRUCache(maxsize=64), key=_array_key, lock=threading.Lock())
def mosaic_png(mosaic: np.ndarray, scale: int) -> bytes:
    """A uint8 mosaic (images.tile) `scale` times enlarged, as PNG bytes, encoded once (see `picture`). Served
    through Streamlit's media endpoint: one picture of tens of KB, in a folded expander."""
    return images.png_bytes(mosaic, scale)


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
