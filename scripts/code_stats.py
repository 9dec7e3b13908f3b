"""What a lines checkpoint's codes look like, on 256 test images: the reconstruction error, and for a VQ-VAE the
codes in use (over all images and per slot), for any other model the codes' mean norm against a N(0, I) sample's
and their spread across images (mean distance from their mean). docs/METHOD.md and NOTEBOOK.md quote it.

Usage: ACAI_DATA_DIR=../shared/data python scripts/code_stats.py runs/lines-vqvae pretrained/lines-aae [...]
"""

from __future__ import annotations

import sys

import numpy as np

from acai.machine import configure_tensorflow  # noqa: E402

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads

from acai.checkpoints import load_checkpoint  # noqa: E402
from acai.data import load_dataset  # noqa: E402

IMAGES = 256


def describe(folder: str, test: np.ndarray) -> str:
    checkpoint = load_checkpoint(folder)
    networks = checkpoint.networks
    latents = networks.encoder(test).numpy()
    error = float(np.mean((networks.decoder(latents).numpy() - test) ** 2))
    line = f"{folder} step {checkpoint.step}: reconstruction MSE {error:.4f}"
    if checkpoint.config.model == "vqvae":
        codes = networks.quantizer.nearest(networks.to_vectors(latents)).numpy()
        per_slot = [len(np.unique(codes[:, slot])) for slot in range(codes.shape[1])]
        return line + (f", {len(np.unique(codes))} distinct codes over {len(test)} images, "
                       f"{min(per_slot)}-{max(per_slot)} per slot")
    flat = latents.reshape(len(test), -1)
    return line + (f", code norm {np.linalg.norm(flat, axis=1).mean():.2f} (a N(0, I) sample's: "
                   f"{np.sqrt(flat.shape[1]):.1f}), spread {np.linalg.norm(flat - flat.mean(0), axis=1).mean():.2f}")


def main(folders: list[str]) -> int:
    if not folders:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    test = load_dataset("lines").x_test[:IMAGES]
    for folder in folders:
        print(describe(folder, test), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
