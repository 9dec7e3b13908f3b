"""Decoding the user's images into a dataset: images/s of acai.user_images beside a plain Pillow loop, one run.

    python bench/decode_images.py [--images 10000] [--side 128] [--rounds 2]

Writes --images pictures (half JPEG, a quarter PNG, an eighth each WebP and BMP; photographs' smooth shapes with
noise, --side pixels a side, some wider than tall) to a temporary folder and a .zip of it, then decodes them
alternately with
  plain:    Image.open, convert, ImageOps.fit to 32x32 (full-size decode), one at a time;
  ours x1:  acai.user_images.load_images with one thread (draft mode, box resize with reducing_gap);
  ours:     the same on every usable core (a thread pool: Pillow releases the GIL while it decodes);
  ours zip: the same from the .zip.
Prints each one's images/s (the best of --rounds), the ratios, and the machine's float32 matmul rate.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from acai.machine import configure_tensorflow

configure_tensorflow()

from acai.machine import machine_description, matmul_rate  # noqa: E402
from acai.user_images import load_images  # noqa: E402

SUFFIXES = ("jpg", "png", "jpg", "webp", "jpg", "png", "jpg", "bmp")


def write_pictures(folder: Path, count: int, side: int) -> None:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:side, 0:side * 5 // 4].astype(np.float32) / side
    for k in range(count):
        phase = rng.uniform(0, 6.3, 3)
        smooth = 127 + 100 * np.sin(np.stack([x * 3 + phase[0], y * 4 + phase[1], (x + y) * 2 + phase[2]], -1))
        pixels = np.clip(smooth + rng.normal(0, 12, smooth.shape), 0, 255).astype(np.uint8)
        label = folder / f"class{k % 5}"
        label.mkdir(exist_ok=True)
        Image.fromarray(pixels).save(label / f"{k:05d}.{SUFFIXES[k % len(SUFFIXES)]}", quality=90)


def plain(folder: Path) -> int:
    images = [np.asarray(ImageOps.fit(Image.open(path).convert("RGB"), (32, 32), Image.Resampling.BILINEAR))
              for path in sorted(folder.rglob("*.*"))]
    return len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--side", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"{machine_description()}; float32 matmul {matmul_rate() / 1e9:.0f} GFLOP/s", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="acai-decode-"))
    try:
        folder = workdir / "pictures"
        folder.mkdir()
        started = time.perf_counter()
        write_pictures(folder, args.images, args.side)
        archive = workdir / "pictures.zip"
        with zipfile.ZipFile(archive, "w") as zipped:  # stored: JPEG, PNG and WebP are compressed already
            for path in sorted(folder.rglob("*.*")):
                zipped.write(path, path.relative_to(workdir).as_posix())
        size = sum(path.stat().st_size for path in folder.rglob("*.*")) / 2**20
        print(f"{args.images:,} pictures of {args.side}x{args.side * 5 // 4} ({size:.0f} MiB) written in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        ways = {
            "plain": lambda: plain(folder),
            "ours x1": lambda: load_images(folder, workers=1).source["images"],
            f"ours x{cores}": lambda: load_images(folder).source["images"],
            f"ours zip x{cores}": lambda: load_images(archive).source["images"],
        }
        best = {name: float("inf") for name in ways}
        for _ in range(args.rounds):
            for name, way in ways.items():
                started = time.perf_counter()
                decoded = way()
                best[name] = min(best[name], time.perf_counter() - started)
                assert decoded == args.images, (name, decoded)
        base = args.images / best["plain"]
        for name, seconds in best.items():
            rate = args.images / seconds
            print(f"{name:>12}: {seconds:6.2f} s  {rate:8,.0f} images/s  {rate / base:5.2f}x plain")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
