"""Training throughput of the compiled ACAI step, side by side with (a) the same step run eagerly (as the
TF 2.0 blog-post notebook this project started from trained) and (b) this machine's float32 matmul rate.

    python bench/train_throughput.py [--seconds 8]

Prints, per model, images/s compiled and eager, their ratio, the step's FLOPs per image (counted from the
built layers) and the GFLOP/s that achieves as a share of the machine's best matmul rate.
"""

from __future__ import annotations

import argparse
import time

from acai.machine import configure_tensorflow

configure_tensorflow()  # first: thread pools and log level, before TensorFlow loads

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from acai.config import PRESETS, Config  # noqa: E402
from acai.data import load_dataset  # noqa: E402
from acai.machine import machine_description, matmul_rate  # noqa: E402
from acai.networks import ACAINetworks  # noqa: E402
from acai.training import Trainer  # noqa: E402

# The demo-lines network before the sweep's fourth round (docs/DEMO_PRESETS.md), kept for comparison.
FIRST_DEMO_LINES = Config(dataset="lines", depth=8, latent_width=4, latent_size=64, learning_rate=2e-3, batch_size=32)


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


def forward_flops(model: keras.Model) -> float:
    """Multiply-add FLOPs (2 per MAC) of one image through the model's Conv2D and Dense layers."""
    total = 0.0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kernel_height, kernel_width = layer.kernel_size
            total += 2.0 * height * width * filters * kernel_height * kernel_width * layer.input.shape[-1]
        elif isinstance(layer, keras.layers.Dense):
            total += 2.0 * layer.input.shape[-1] * layer.units
    return total


def step_flops_per_image(config: Config) -> float:
    """One training step per image: encoder once, decoder twice (x_rec, x_mix), critic twice (x_mix,
    blend), and the backward pass about twice the forward: 3x the forward FLOPs."""
    networks = ACAINetworks(config)
    forward = forward_flops(networks.encoder) + 2 * forward_flops(networks.decoder) + 2 * forward_flops(networks.critic)
    return 3 * forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="timing window per measurement")
    args = parser.parse_args()
    rate = matmul_rate()
    print(f"{machine_description()}; float32 matmul rate (best of 512-2048 squares, 3 repeats each): "
          f"{rate / 1e9:.1f} GFLOP/s\n")
    print(f"{'model':<30}{'compiled img/s':>15}{'eager img/s':>13}{'ratio':>7}{'GFLOP/img':>11}"
          f"{'GFLOP/s':>9}{'of matmul':>11}")
    setups = [("conv lines32 (paper), batch 64", PRESETS["lines32"]),
              ("conv mnist32, batch 64", PRESETS["mnist32"]),
              ("demo-lines (lines32, patch 4)", PRESETS["demo-lines"]),
              ("first demo-lines (d8, 4x4), b32", FIRST_DEMO_LINES),
              ("mlp latent 32, batch 64", PRESETS["mnist_mlp"]),
              ("mlp latent 32, batch 256", PRESETS["mnist_mlp"].replace(batch_size=256))]
    datasets = {}
    for name, config in setups:
        if config.dataset not in datasets:  # digits stands in for MNIST: in memory, the same shapes
            datasets[config.dataset] = load_dataset("lines" if config.dataset == "lines" else "digits")
        data = datasets[config.dataset]
        trainer = Trainer(config.replace(dataset=data.name), data)
        compiled = images_per_second(trainer.compiled_step, trainer, args.seconds)
        eager = images_per_second(trainer._distributed_step, trainer, args.seconds)  # the same step, uncompiled
        flops = step_flops_per_image(config)
        achieved = flops * compiled
        print(f"{name:<30}{compiled:>15,.0f}{eager:>13,.0f}{compiled / eager:>6.1f}x{flops / 1e9:>11.3f}"
              f"{achieved / 1e9:>9.1f}{achieved / rate:>11.0%}")


if __name__ == "__main__":
    main()
