"""Training throughput of the compiled ACAI step, side by side with (a) the seed notebook's
uncompiled eager GradientTape loop on the same model and (b) this machine's float32 matmul rate.

    python bench/train_throughput.py [--seconds 8]

Prints images/s for each architecture, the compiled/eager ratio (target >= 5x) and, for the MLP at
batch 256, the fraction of the matmul rate its FLOPs would allow (target >= 70%).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from acai.config import Config  # noqa: E402
from acai.data import load_dataset  # noqa: E402
from acai.training import Trainer  # noqa: E402


def matmul_rate(size: int = 2048, seconds: float = 3.0) -> float:
    """float32 FLOP/s of a compiled square matmul (the machine's practical peak)."""
    a = tf.random.normal([size, size])
    b = tf.random.normal([size, size])
    multiply = tf.function(lambda x, y: tf.matmul(x, y))
    multiply(a, b).numpy()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        multiply(a, b).numpy()
        count += 1
    return 2 * size**3 * count / (time.perf_counter() - started)


def images_per_second(step, trainer: Trainer, seconds: float) -> float:
    images, labels = trainer.sampler.batch(0)
    images, labels = tf.constant(images), tf.constant(labels)
    for warm in range(2):
        step(images, labels, tf.constant(warm, tf.int64))[0].numpy()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        step(images, labels, tf.constant(count, tf.int64))[0].numpy()
        count += 1
    return count * images.shape[0] / (time.perf_counter() - started)


def mlp_step_flops(config: Config) -> float:
    """Matmul FLOPs of one MLP training step: forward passes of encoder (x), decoder (z, z_mix) and
    critic (x_mix, blend), times 3 for forward + the two backward matmuls (input and weight grads)."""
    pixels = config.image_shape[0] * config.image_shape[1] * config.channels
    width, latent = config.mlp_width, config.latent_size
    encoder = pixels * width + width * width + width * latent
    decoder = latent * width + width * width + width * pixels
    forward = 2 * config.batch_size * (encoder + 2 * decoder + 2 * encoder)
    return 3 * forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="timing window per measurement")
    args = parser.parse_args()
    data = load_dataset("digits")  # in memory, always available: the data path is not what is timed
    rate = matmul_rate()
    print(f"float32 matmul rate (2048x2048, compiled): {rate / 1e9:.1f} GFLOP/s, {os.cpu_count()} cores\n")
    print(f"{'model':<28}{'compiled img/s':>15}{'eager img/s':>13}{'ratio':>8}")
    setups = [("conv mnist32, batch 64", Config(dataset="digits", latent_size=32, batch_size=64)),
              ("mlp latent 32, batch 64", Config(dataset="digits", architecture="mlp", batch_size=64)),
              ("mlp latent 32, batch 256", Config(dataset="digits", architecture="mlp", batch_size=256))]
    for name, config in setups:
        trainer = Trainer(config, data)
        compiled = images_per_second(trainer.train_step, trainer, args.seconds)
        eager = images_per_second(trainer._train_step, trainer, args.seconds)  # the same step, uncompiled
        print(f"{name:<28}{compiled:>15,.0f}{eager:>13,.0f}{compiled / eager:>7.1f}x")
        if config.architecture == "mlp" and config.batch_size == 256:
            achieved = mlp_step_flops(config) * compiled / config.batch_size
            print(f"\nMLP batch 256: {mlp_step_flops(config) / 1e9:.1f} GFLOP per step -> {achieved / 1e9:.1f} GFLOP/s "
                  f"= {achieved / rate:.0%} of the matmul rate (target >= 70%)")


if __name__ == "__main__":
    main()
