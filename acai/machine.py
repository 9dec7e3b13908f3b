"""Facts about the machine that every timing is printed beside: the CPU, usable cores, and the
float32 matmul rate (machines here differ about 3x; a timing means little without it)."""

from __future__ import annotations

import os
import platform
import time


def usable_cores(cgroup_cpu_max: str = "/sys/fs/cgroup/cpu.max") -> int:
    """The cores this process may really use: its affinity mask (taskset), capped by a cgroup v2 CPU quota
    (a container limited to 2 CPUs on a 64-core host: TensorFlow alone would size its pools for 64)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        with open(cgroup_cpu_max) as limit:
            quota, period = limit.read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) / int(period) + 0.5)))
    except (OSError, ValueError):
        pass
    return cores


def machine_description() -> str:
    """The CPU, and how many of its cores this process may use (fewer when pinned with taskset)."""
    total = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else total
    cores = f"{total} CPU cores" if usable == total else f"{usable} of {total} CPU cores (pinned)"
    return f"{platform.processor() or platform.machine()}, {cores}, {platform.system()}"


def matmul_rate(sizes: tuple[int, ...] = (512, 1024, 2048), repeats: int = 3, seconds: float = 0.5) -> float:
    """The machine's practical float32 peak in FLOP/s: the best rate of a compiled square matmul over
    several sizes and repeats (one size and one run understate it when the cache or a neighbour
    disturbs that run)."""
    import tensorflow as tf

    multiply = tf.function(lambda x, y: tf.matmul(x, y))
    best = 0.0
    for size in sizes:
        a, b = tf.random.normal([size, size]), tf.random.normal([size, size])
        multiply(a, b).numpy()  # compile and warm up
        for _ in range(repeats):
            count, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                multiply(a, b).numpy()
                count += 1
            best = max(best, 2 * size**3 * count / (time.perf_counter() - started))
    return best


def compute_device() -> str:
    """Where TensorFlow trains: the first GPU's name (and how many more there are), else the CPU."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return f"CPU ({machine_description()})"
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
    return f"GPU: {name}" + (f" and {len(gpus) - 1} more" if len(gpus) > 1 else "")
