"""Multi-worker training on localhost: TF_CONFIG checks, two real worker processes, and a missing worker."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from acai import multiworker

pytestmark = pytest.mark.slow  # trainings, subprocesses or app runs: CI runs them, `-m "not slow"` skips

TINY = ["--dataset", "lines", "--depth", "8", "--latent-width", "16", "--latent-size", "256", "--batch", "64",
        "--seed", "5", "--steps", "4", "--checkpoint-every", "100"]


def test_the_cluster_spec_is_read_and_checked():
    task = multiworker.read_task(json.dumps({"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]},
                                             "task": {"type": "worker", "index": 1}}))
    assert (task.kind, task.index, task.addresses, task.is_chief) == ("worker", 1, ("127.0.0.1:1", "127.0.0.1:2"), False)
    assert multiworker.read_task(json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 0}})).is_chief
    with_chief = {"cluster": {"chief": ["a:1"], "worker": ["b:2"]}}
    assert multiworker.read_task(json.dumps({**with_chief, "task": {"type": "chief", "index": 0}})).is_chief
    assert not multiworker.read_task(json.dumps({**with_chief, "task": {"type": "worker", "index": 0}})).is_chief
    for bad, why in [(None, "needs TF_CONFIG"), ("{not json", "not valid JSON"), ("[]", "\"cluster\" and a \"task\""),
                     ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "worker", "index": 0}}', "not ps"),
                     ('{"cluster": {"worker": ["nohost"]}, "task": {"type": "worker", "index": 0}}', "host:port"),
                     ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}', "not in the cluster"),
                     ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "evaluator", "index": 0}}', "task must be")]:
        with pytest.raises(multiworker.ClusterError, match=why):
            multiworker.read_task(bad)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def _worker(index: int, ports: list[int], out, *extra) -> subprocess.Popen:
    spec = {"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]}, "task": {"type": "worker", "index": index}}
    env = {**os.environ, "TF_CONFIG": json.dumps(spec), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-m", "acai", "train", *TINY, "--distribute", "multiworker",
                             "--out", str(out), *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(processes, seconds: float = 240) -> list[tuple[int, str, str]]:
    results = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=seconds)
            results.append((process.returncode, out, err))
    finally:
        for process in processes:  # always cleaned up, whatever happened above
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


def test_two_workers_on_localhost_train_as_one_mirrored_process_does(tmp_path):
    from acai import checkpoints

    ports = _free_ports(2)
    workers = [_worker(index, ports, tmp_path / "multi") for index in range(2)]
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    mirrored = subprocess.Popen([sys.executable, "-m", "acai", "train", *TINY, "--distribute", "mirrored",
                                 "--cpu-replicas", "2", "--out", str(tmp_path / "mirrored")], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = _finish([*workers, mirrored])
    for code, _, err in results:
        assert code == 0, err[-3000:]
    assert "on 2 replica(s)" in results[0][1] and "the chief saved" in results[1][1]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mirrored", "multi"]  # worker 1 left nothing
    multi, single = (checkpoints.load_checkpoint(tmp_path / name) for name in ("multi", "mirrored"))
    assert multi.step == single.step == 4
    for a, b in zip(multi.networks.weights, single.networks.weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


def test_a_worker_that_never_appears_ends_the_run_with_a_message(tmp_path):
    ports = _free_ports(2)
    ((code, _, err),) = _finish([_worker(0, ports, tmp_path / "alone", "--worker-timeout", "10")], seconds=120)
    assert code != 0 and "did not start within 10 s" in err and f"127.0.0.1:{ports[1]}" in err
    assert not (tmp_path / "alone" / "config.json").exists()


def test_a_missing_tf_config_is_answered_at_once(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    result = subprocess.run([sys.executable, "-m", "acai", "train", *TINY, "--distribute", "multiworker",
                             "--out", str(tmp_path / "x")], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "needs TF_CONFIG" in result.stderr
