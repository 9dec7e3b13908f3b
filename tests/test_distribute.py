"""The tf.distribute path, on two logical CPU devices (a subprocess: devices are fixed at TF start)."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # trainings, subprocesses or app runs: CI runs them, `-m "not slow"` skips


def test_mirrored_training_on_two_cpu_replicas_then_resume_without(tmp_path):
    folder = tmp_path / "mirrored"
    common = ["--dataset", "lines", "--depth", "8", "--latent-width", "16", "--latent-size", "256", "--batch", "32"]
    result = subprocess.run([sys.executable, "-m", "acai", "train", *common, "--steps", "40", "--distribute",
                             "mirrored", "--cpu-replicas", "2", "--out", str(folder)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "on 2 replica(s)" in result.stdout
    manifest = json.loads((folder / "config.json").read_text())
    assert manifest["step"] == 40
    import numpy as np

    with np.load(folder / "history.npz") as history:
        reconstruction = history["history"][:, 1]
    assert np.isfinite(reconstruction).all() and reconstruction[-5:].mean() < reconstruction[:5].mean()
    # The checkpoint is ordinary: it resumes on one device.
    result = subprocess.run([sys.executable, "-m", "acai", "train", "--out", str(folder), "--resume", "--steps", "5"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "on 1 replica(s)" in result.stdout


def test_a_batch_that_does_not_split_is_refused(tmp_path):
    result = subprocess.run([sys.executable, "-m", "acai", "train", "--dataset", "lines", "--batch", "34",
                             "--distribute", "mirrored", "--cpu-replicas", "2", "--steps", "1",
                             "--out", str(tmp_path / "x")], capture_output=True, text=True)
    assert result.returncode == 2 and "must split into even batches over 2 replicas" in result.stderr
