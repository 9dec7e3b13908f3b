"""The cost of multi-worker training on this machine: steps/s of `python -m acai train` on `lines` (a small
conv, global batch 64) as one process, as one process over 2 logical CPU devices (`--distribute mirrored
--cpu-replicas 2`), and as two worker processes on 127.0.0.1 (`--distribute multiworker`), side by side.

Each setting runs twice, for SHORT and LONG steps, and the rate is (LONG - SHORT) / (time difference), so
that start-up and compilation cancel out. On 2 cores no speed-up is expected: the two workers share the
same cores and add one gradient exchange per step; the point is to see that cost.

    python bench/multiworker.py
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--dataset", "lines", "--depth", "8", "--latent-width", "4", "--latent-size", "32", "--batch", "64",
        "--checkpoint-every", "100000"]
SHORT, LONG = 20, 120


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for probe in sockets:
        probe.bind(("127.0.0.1", 0))
    ports = [probe.getsockname()[1] for probe in sockets]
    for probe in sockets:
        probe.close()
    return ports


def _seconds(mode: str, steps: int) -> float:
    """Wall seconds of one training command (of all its worker processes together)."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"} | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "acai", "train", *TINY, "--steps", str(steps), "--out", f"{folder}/run"]
        began = time.perf_counter()
        if mode == "multiworker":
            ports = _free_ports(2)
            processes = [subprocess.Popen(command + ["--distribute", "multiworker"], cwd=ROOT, env=env | {
                "TF_CONFIG": json.dumps({"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                                         "task": {"type": "worker", "index": index}})},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for index in range(2)]
        else:
            extra = ["--distribute", "mirrored", "--cpu-replicas", "2"] if mode == "mirrored" else []
            processes = [subprocess.Popen(command + extra, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)]
        try:
            codes = [process.wait(timeout=600) for process in processes]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
        if any(codes):
            raise SystemExit(f"{mode} failed (exit codes {codes})")
        return time.perf_counter() - began


def main() -> None:
    from acai.machine import configure_tensorflow, machine_description, matmul_rate

    configure_tensorflow()  # before matmul_rate loads TensorFlow

    print(f"machine: {machine_description()}, float32 matmul {matmul_rate() / 1e9:.0f} GFLOP/s")
    rates = {}
    for mode, label in (("none", "one process"), ("mirrored", "one process, 2 logical CPU devices"),
                        ("multiworker", "two worker processes on 127.0.0.1")):
        short, long = _seconds(mode, SHORT), _seconds(mode, LONG)
        rates[mode] = (LONG - SHORT) / (long - short)
        print(f"{label}: {rates[mode]:.1f} steps/s (global batch 64; {SHORT} steps in {short:.1f} s, "
              f"{LONG} in {long:.1f} s, start-up included)")
    print(f"two workers / one process: {rates['multiworker'] / rates['none']:.2f}; two workers / mirrored on one "
          f"process: {rates['multiworker'] / rates['mirrored']:.2f}")


if __name__ == "__main__":
    main()
