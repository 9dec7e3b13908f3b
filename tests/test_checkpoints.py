import json

import numpy as np
import pytest

from acai import checkpoints
from acai.checkpoints import CheckpointError, load_checkpoint
from acai.driver import TrainingRun
from acai.training import Trainer


@pytest.fixture(scope="module")
def saved(tiny_config, lines_dataset, tmp_path_factory):
    run = TrainingRun(Trainer(tiny_config, lines_dataset))
    run.advance(3)
    folder = run.save(tmp_path_factory.mktemp("ckpt") / "model", metrics={"x": 1.0})
    return run, folder


def test_round_trip_is_bit_exact(saved):
    run, folder = saved
    trainer = run.trainer
    loaded = load_checkpoint(folder)
    assert loaded.config == trainer.config and loaded.step == 3 and loaded.metrics == {"x": 1.0}
    for x, y in zip(trainer.networks.get_weights(), loaded.networks.get_weights()):
        np.testing.assert_array_equal(x, y)
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_overwrite_keeps_a_whole_checkpoint(saved, tmp_path):
    run, folder = saved
    target = tmp_path / "again"
    run.save(target)
    run.save(target)
    assert load_checkpoint(target).step == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]


def _copy(folder, tmp_path):
    import shutil

    return shutil.copytree(folder, tmp_path / "copy")


def test_corrupt_weights_are_reported(saved, tmp_path):
    copy = _copy(saved[1], tmp_path)
    data = bytearray((copy / checkpoints.WEIGHTS_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / checkpoints.WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(copy)


def test_weights_that_do_not_fit_the_config_are_reported(saved, tmp_path):
    copy = _copy(saved[1], tmp_path)
    manifest = json.loads((copy / "config.json").read_text())
    manifest["config"]["latent_size"] *= 2  # a valid config, but not the one the weights were trained with
    (copy / "config.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="does not fit"):
        load_checkpoint(copy)


@pytest.mark.parametrize("damage, message", [
    (lambda folder: (folder / "config.json").write_text("{not json"), "not valid JSON"),
    (lambda folder: (folder / "config.json").unlink(), "no config.json"),
    (lambda folder: (folder / checkpoints.WEIGHTS_FILE).unlink(), "incomplete"),
    (lambda folder: (folder / "config.json").write_text('{"format_version": 99}'), "format version 99"),
])
def test_damaged_folders_get_clear_messages(saved, tmp_path, damage, message):
    copy = _copy(saved[1], tmp_path)
    damage(copy)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(copy)


def test_a_history_that_would_inflate_is_refused(saved, tmp_path, monkeypatch):
    """history.npz is compressed: a small file could unpack to gigabytes, so its unpacked size is checked first."""
    copy = _copy(saved[1], tmp_path)
    np.savez_compressed(copy / checkpoints.HISTORY_FILE, history=np.zeros((1000, 100)))  # 800 kB of zeros, ~1 kB packed
    manifest = json.loads((copy / "config.json").read_text())
    manifest["files"][checkpoints.HISTORY_FILE] = checkpoints._sha256(copy / checkpoints.HISTORY_FILE)
    (copy / "config.json").write_text(json.dumps(manifest))
    assert load_checkpoint(copy).history.shape == (1000, 100)
    monkeypatch.setattr(checkpoints, "_MAX_ARCHIVE_BYTES", 100_000)
    with pytest.raises(CheckpointError, match="unpacks to more than"):
        load_checkpoint(copy)


def test_zip_round_trip_and_bad_archives(saved, tmp_path):
    data = checkpoints.to_zip_bytes(saved[1])
    folder = checkpoints.extract_zip(data, tmp_path / "unzipped")
    assert load_checkpoint(folder).step == 3
    with pytest.raises(CheckpointError, match="not a valid .zip"):
        checkpoints.extract_zip(b"GIF89a...", tmp_path / "bad")


def test_write_atomic_keeps_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    checkpoints.write_atomic(target, "old")
    checkpoints.write_atomic(target, b"new")
    assert target.read_text() == "new"

    def failing_replace(*_):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        checkpoints.write_atomic(target, "half")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["results.json"]


def _rewrite(folder, change):
    manifest = json.loads((folder / "config.json").read_text())
    change(manifest)
    (folder / "config.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("field, value, message", [
    ("num_classes", "ten", "num_classes must be a whole number"),
    ("num_classes", 10**9, "num_classes must be a whole number from 1 to 1000"),
    ("step", "twelve", "step must be a whole number"),
    ("files", [], "files must be a mapping"),
    ("files", {}, "files must list the sha256 of exactly"),
    ("metrics", "fast", "metrics must be a mapping"),
])
def test_every_manifest_field_is_checked(saved, tmp_path, field, value, message):
    copy = _copy(saved[1], tmp_path)
    _rewrite(copy, lambda manifest: manifest.update({field: value}))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(copy)


@pytest.mark.parametrize("changes", [{"depth": 1024}, {"depth": 10**6}, {"latent_size": 10**9}, {"depth": "wide"}])
def test_a_config_asking_for_huge_networks_is_refused_before_they_are_built(saved, tmp_path, changes):
    copy = _copy(saved[1], tmp_path)
    _rewrite(copy, lambda manifest: manifest["config"].update(changes))
    with pytest.raises(CheckpointError, match="invalid config"):
        load_checkpoint(copy)


def test_a_weights_file_declaring_huge_arrays_is_refused_before_reading_them(saved, tmp_path):
    import h5py

    copy = _copy(saved[1], tmp_path)
    weights = copy / checkpoints.WEIGHTS_FILE
    weights.unlink()
    with h5py.File(weights, "w") as bomb:  # declares 4 GB, stores nothing
        bomb.create_dataset("layers/dense/vars/0", shape=(1 << 30,), dtype="float32")
    assert weights.stat().st_size < 100_000
    _rewrite(copy, lambda manifest: manifest["files"].update({checkpoints.WEIGHTS_FILE: checkpoints._sha256(weights)}))
    with pytest.raises(CheckpointError, match="other shapes or types"):
        load_checkpoint(copy)
