"""Facts about the machine that every timing is printed beside: the CPU, usable cores, and the
float32 matmul rate (machines here differ about 3x; a timing means little without it)."""

from __future__ import annotations

import functools
import os
import platform
import sys
import time
import warnings


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


def thread_defaults(cores: int | None = None) -> dict[str, str]:
    """TensorFlow's process-wide thread pools for this machine: inter-op threads = the usable cores,
    intra-op threads = half of them (at least one).

    With one thread per op on a 2-core machine, the ops of an ACAI step that do not depend on each other (its
    two decodes, its two critic passes, their gradients) and a race's two models run side by side, one per
    core, instead of every small convolution being split over both cores and waiting for its slower half.
    Measured on 2 cores (docs/BENCHMARKS.md): a race trains 18% faster, one model as fast (lines32) or 16%
    faster (demo-lines). Not measured on more cores.
    """
    cores = cores or usable_cores()
    return {"TF_NUM_INTEROP_THREADS": str(cores), "TF_NUM_INTRAOP_THREADS": str(max(1, cores // 2))}


def configure_tensorflow(log_level: str = "3") -> dict[str, str]:
    """Set up TensorFlow for this machine; every entry point (CLI, app, benches, scripts, tests) calls it
    first, before anything loads TensorFlow. Importing acai changes nothing; this call does, explicitly:

    - the thread pools of thread_defaults(), unless the environment sets them already (a user's own setting
      wins);
    - TensorFlow's C++ log level (TF_CPP_MIN_LOG_LEVEL; "3": errors only), unless the environment sets it.

    TensorFlow reads both when it loads and starts its runtime. Called later (TensorFlow already imported),
    the pools are set through tf.config.threading where the runtime has not started yet; where it has, a
    RuntimeWarning says the call came too late. Returns the settings in force.
    """
    global _configured
    wanted = {**thread_defaults(), "TF_CPP_MIN_LOG_LEVEL": log_level}
    for name, value in wanted.items():
        os.environ.setdefault(name, value)
    settings = {name: os.environ[name] for name in wanted}
    if not _configured and "tensorflow" in sys.modules:
        import tensorflow as tf

        try:
            tf.config.threading.set_inter_op_parallelism_threads(int(settings["TF_NUM_INTEROP_THREADS"]))
            tf.config.threading.set_intra_op_parallelism_threads(int(settings["TF_NUM_INTRAOP_THREADS"]))
        except (RuntimeError, ValueError):
            warnings.warn("configure_tensorflow() came after TensorFlow started its runtime: its thread pools "
                          "keep their sizes; call it before TensorFlow runs anything", RuntimeWarning, stacklevel=2)
    _configured = True
    return settings


_configured = False  # configure_tensorflow() ran in this process (later calls only re-read the environment)


def machine_description() -> str:
    """The CPU, and how many of its cores this process may use (fewer when pinned with taskset)."""
    total = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else total
    cores = f"{total} CPU cores" if usable == total else f"{usable} of {total} CPU cores (pinned)"
    return f"{platform.processor() or platform.machine()}, {cores}, {platform.system()}"


def matmul_rate(sizes: tuple[int, ...] = (512, 1024, 2048), repeats: int = 2, seconds: float = 0.3) -> float:
    """The machine's practical float32 peak in FLOP/s, all usable cores together: the best rate of a compiled
    square matmul over several sizes and repeats (one size and one run understate it when the cache or a
    neighbour disturbs that run). Each call runs as many independent matmuls as it takes to fill the usable
    cores with TensorFlow's intra-op threads (thread_defaults gives each op one thread on 2 cores), so the
    rate is the whole machine's whatever that setting."""
    import tensorflow as tf

    cores = usable_cores()
    setting = os.environ.get("TF_NUM_INTRAOP_THREADS", "")
    threads_per_op = int(setting) if setting.isdigit() and int(setting) > 0 else cores
    copies = max(1, cores // threads_per_op)
    multiply = tf.function(lambda xs, ys: [tf.matmul(x, y)[0, 0] for x, y in zip(xs, ys)])
    best = 0.0
    for size in sizes:
        xs = [tf.random.normal([size, size]) for _ in range(copies)]
        ys = [tf.random.normal([size, size]) for _ in range(copies)]
        [value.numpy() for value in multiply(xs, ys)]  # compile and warm up
        for _ in range(repeats):
            count, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                [value.numpy() for value in multiply(xs, ys)]
                count += 1
            best = max(best, 2 * size**3 * copies * count / (time.perf_counter() - started))
    return best


@functools.cache
def process_matmul_rate() -> float:
    """matmul_rate(), measured once for this process: what a command prints beside its timings and labels its
    recording with. A measurement takes about 3 s; a race that records measured it twice before."""
    return matmul_rate()


def compute_device() -> str:
    """Where TensorFlow trains: the first GPU's name (and how many more there are), else the CPU."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return f"CPU ({machine_description()})"
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", gpus[0].name)
    return f"GPU: {name}" + (f" and {len(gpus) - 1} more" if len(gpus) > 1 else "")
