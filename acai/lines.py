"""The paper's synthetic lines benchmark: 32x32 images of a line from the centre.

A line is a rectangle of length 15 and width 2 that starts at the image centre (16, 16),
angle 0 pointing right and pi/2 pointing up. Each pixel's value is -1 + 2 * (exact area of the
pixel covered by the rectangle), clipped to [-1, 1].

The exact area comes from Green's theorem: area(R n P) = closed integral of (x - x_P) dy along
the boundary of R n P, which is the parts of R's four edges inside the pixel plus the parts of
the pixel's two vertical edges inside R (horizontal edges add nothing to an integral of dy).
Every piece is a clipped straight segment, so the whole render is a few broadcast NumPy
operations: 10,000 lines take well under a second.
"""

from __future__ import annotations

import functools

import numpy as np

SIZE = 32
LENGTH = SIZE / 2 - 1  # 15 px
WIDTH = 2.0
NUM_CLASSES = 10
NUM_REFERENCE = 10_000
# Pixel edges lie on integer coordinates, and so do the edges of an axis-aligned line. Where
# both coincide, Green's theorem would count the shared edge twice; moving the centre by 1e-9 px
# removes every such tie and changes no pixel by more than ~1e-8.
_CENTRE = (SIZE / 2 + 1e-9 * np.sqrt(2.0), SIZE / 2 + 1e-9 * np.sqrt(3.0))
_CHUNK = 1024
_WINDOW = 18


def _corners(angles: np.ndarray) -> np.ndarray:
    """Rectangle corners in counter-clockwise order, x right and y up: (N, 4, 2)."""
    along = np.stack([np.cos(angles), np.sin(angles)], axis=-1)  # (N, 2)
    across = np.stack([-np.sin(angles), np.cos(angles)], axis=-1)
    half = WIDTH / 2
    offsets = [(0.0, -half), (LENGTH, -half), (LENGTH, half), (0.0, half)]
    centre = np.asarray(_CENTRE)
    return np.stack([centre + s * along + t * across for s, t in offsets], axis=1)


def _interval_where(start: np.ndarray, delta: np.ndarray, low: np.ndarray, high: float):
    """Parameters tau with low <= start + tau * delta <= low + high, as a (lo, hi) pair.

    Shapes broadcast; a zero delta gives everything or nothing.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        first = (low - start) / delta
        second = (low + high - start) / delta
    lo = np.minimum(first, second)
    hi = np.maximum(first, second)
    flat = delta == 0
    inside = (start >= low) & (start <= low + high)
    lo = np.where(flat, np.where(inside, -np.inf, np.inf), lo)
    hi = np.where(flat, np.where(inside, np.inf, -np.inf), hi)
    return lo, hi


def _coverage(angles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covered area of the pixels in each line's window, indexed [line, y, x] with y up.

    A line spans at most ~15.2 px in x and in y, so only an 18x18 window of pixels around it is
    computed. Returns the areas (N, 18, 18) and the window's first pixel column and row (N,).
    """
    corners = _corners(angles)  # (N, 4, 2)
    origin = np.clip(np.floor(corners.min(axis=1)), 0, SIZE - _WINDOW).astype(np.int64)  # (N, 2)
    corners = corners - origin[:, None, :]  # window coordinates: pixel (i, j) is [i, i+1] x [j, j+1]
    start = corners[:, :, None, :]  # (N, 4, 1, 2)
    delta = (np.roll(corners, -1, axis=1) - corners)[:, :, None, :]
    grid = np.arange(_WINDOW, dtype=np.float64)  # pixel lower edges

    # Part 1: the rectangle's edges clipped to each pixel, integral of (x - x_pixel) dy.
    col_lo, col_hi = _interval_where(start[..., 0], delta[..., 0], grid, 1.0)  # (N, 4, W)
    row_lo, row_hi = _interval_where(start[..., 1], delta[..., 1], grid, 1.0)
    tau0 = np.maximum(row_lo[..., :, None], col_lo[..., None, :])  # (N, 4, y, x)
    tau1 = np.minimum(row_hi[..., :, None], col_hi[..., None, :])
    tau0 = np.clip(tau0, 0.0, 1.0)
    tau1 = np.clip(tau1, tau0, 1.0)  # an empty piece has tau1 == tau0
    x_start = start[..., 0][..., None] - grid  # (N, 4, 1, x): x relative to each pixel's left edge
    dx = delta[..., 0][..., None]
    dy = delta[..., 1][..., None]
    edge_part = dy * ((tau1 - tau0) * x_start + dx * (tau1 - tau0) * (tau1 + tau0) / 2)
    area = edge_part.sum(axis=1)  # (N, y, x)

    # Part 2: each pixel's right edge (going up, at relative x = 1) inside the rectangle; the
    # left edge sits at relative x = 0 and adds nothing.
    cos = np.cos(angles)[:, None]
    sin = np.sin(angles)[:, None]
    centre = np.asarray(_CENTRE) - origin  # (N, 2)
    rel_x = (grid + 1)[None, :] - centre[:, :1]  # (N, W): right edges relative to the centre
    # On the vertical line x: s = rel_x*cos + (y-cy)*sin in [0, L], t = -rel_x*sin + (y-cy)*cos in [-1, 1]
    s_lo, s_hi = _interval_where(rel_x * cos, sin, np.zeros(1), LENGTH)
    t_lo, t_hi = _interval_where(-rel_x * sin, cos, np.full(1, -WIDTH / 2), WIDTH)
    y_lo = np.maximum(s_lo, t_lo) + centre[:, 1:]  # (N, W)
    y_hi = np.minimum(s_hi, t_hi) + centre[:, 1:]
    overlap = np.minimum(y_hi[:, None, :], grid[None, :, None] + 1) - np.maximum(
        y_lo[:, None, :], grid[None, :, None]
    )
    area += np.maximum(overlap, 0.0)
    return area, origin[:, 0], origin[:, 1]


def render_lines(angles: np.ndarray) -> np.ndarray:
    """Render lines at the given angles (radians).

    Args:
        angles: (N,) angles; 0 points right, pi/2 points up.
    Returns:
        (N, 32, 32, 1) float32 images in [-1, 1], background -1.
    """
    angles = np.asarray(angles, dtype=np.float64).reshape(-1)
    images = np.full((len(angles), SIZE, SIZE, 1), -1.0, dtype=np.float32)
    offsets = np.arange(_WINDOW)
    for begin in range(0, len(angles), _CHUNK):
        area, first_x, first_y = _coverage(angles[begin : begin + _CHUNK])
        index = np.arange(begin, begin + len(area))[:, None, None]
        rows = (SIZE - 1 - (first_y[:, None] + offsets))[:, :, None]  # y up -> rows down
        cols = (first_x[:, None] + offsets)[:, None, :]
        images[index, rows, cols, 0] = np.clip(-1.0 + 2.0 * area, -1.0, 1.0)
    return images


def angle_labels(angles: np.ndarray) -> np.ndarray:
    """The angle's bin among 10 equal bins of [0, 2 pi): (N,) int64."""
    wrapped = np.mod(np.asarray(angles, dtype=np.float64), 2 * np.pi)
    return np.minimum((wrapped / (2 * np.pi) * NUM_CLASSES).astype(np.int64), NUM_CLASSES - 1)


def sample_lines(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Fresh lines with angles ~ U[0, 2 pi): images (N, 32, 32, 1) and labels (N,)."""
    angles = rng.uniform(0.0, 2 * np.pi, size=count)
    return render_lines(angles), angle_labels(angles)


@functools.lru_cache(maxsize=1)
def reference_set() -> tuple[np.ndarray, np.ndarray]:
    """The benchmark's 10,000 reference lines, flattened and L2-normalised, with their angles.

    Returns:
        unit vectors (10000, 1024) float64 and angles (10000,) float64.
    """
    angles = np.linspace(0.0, 2 * np.pi, NUM_REFERENCE, endpoint=False)
    flat = render_lines(angles).reshape(NUM_REFERENCE, -1).astype(np.float64)
    unit = flat / np.linalg.norm(flat, axis=1, keepdims=True)
    unit.setflags(write=False)
    angles.setflags(write=False)
    return unit, angles
