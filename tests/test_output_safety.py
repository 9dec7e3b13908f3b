"""Nothing of the user's is ever deleted or renamed, and no training's work is lost to a bad --out, Ctrl-C
or a crash in the middle of a save."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from acai import checkpoints
from acai.checkpoints import CheckpointError, load_checkpoint
from acai.cli import main
from acai.driver import TrainingRun
from acai.training import Trainer

TINY = ["--dataset", "lines", "--depth", "8", "--latent-width", "16", "--latent-size", "256", "--batch", "32"]


def _stranger(folder: Path) -> dict[str, str]:
    """A folder with two earlier runs and a note, as a user keeps them."""
    files = {"note.txt": "mine", "run-a/metrics.json": "{}", "run-b/model.txt": "weights"}
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return files


def _still_there(folder: Path, files: dict[str, str]) -> bool:
    return all((folder / name).is_file() and (folder / name).read_text() == text for name, text in files.items())


def _cli_error(arguments, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_train_out_refuses_a_folder_of_someone_elses_files(tmp_path, capsys):
    files = _stranger(tmp_path)
    error = _cli_error(["train", *TINY, "--steps", "2", "--out", str(tmp_path)], capsys)
    assert "not an empty folder or a checkpoint" in error and "note.txt" in error and "run-a" in error
    assert _still_there(tmp_path, files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["note.txt", "run-a", "run-b"]  # nothing hidden added


def test_train_out_refuses_a_file_and_leaves_it_alone(tmp_path, capsys):
    target = tmp_path / "results.csv"
    target.write_text("a,b\n")
    error = _cli_error(["train", *TINY, "--steps", "2", "--out", str(target)], capsys)
    assert "is a file" in error
    assert target.read_text() == "a,b\n" and sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]


def test_race_out_refuses_a_side_folder_of_someone_elses_files(tmp_path, capsys):
    files = _stranger(tmp_path / "acai")
    error = _cli_error(["race", "--seconds", "1", "--out", str(tmp_path)], capsys)
    assert "not an empty folder or a checkpoint" in error
    assert _still_there(tmp_path / "acai", files)


@pytest.mark.slow
def test_resume_keeps_the_users_files_in_the_checkpoint_folder(saved_pair, tmp_path, capsys):
    folder = _copy(saved_pair[0], tmp_path / "run")  # a checkpoint at step 1
    files = {"README.md": "what this run is", "metrics-by-hand.json": "{}"}
    for name, text in files.items():
        (folder / name).write_text(text)
    assert main(["train", "--resume", "--steps", "2", "--out", str(folder)]) == 0
    assert _still_there(folder, files) and load_checkpoint(folder).step == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind


def test_save_checkpoint_itself_refuses_foreign_folders(saved_pair, tmp_path):
    networks = load_checkpoint(saved_pair[0]).networks
    files = _stranger(tmp_path)
    with pytest.raises(CheckpointError, match="not an acai checkpoint"):
        checkpoints.save_checkpoint(tmp_path, networks, networks.config, 1)
    assert _still_there(tmp_path, files)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert load_checkpoint(checkpoints.save_checkpoint(empty, networks, networks.config, 1)).step == 1


@pytest.fixture(scope="module")
def saved_pair(tiny_config, lines_dataset, tmp_path_factory):
    """Two whole checkpoints of one run: at step 1 and at step 3."""
    root = tmp_path_factory.mktemp("pair")
    run = TrainingRun(Trainer(tiny_config, lines_dataset))
    run.advance(1)
    first = run.save(root / "step1")
    run.advance(2)
    return first, run.save(root / "step3")


def _copy(source: Path, target: Path) -> Path:
    return Path(shutil.copytree(source, target))


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_save_interrupted_between_its_moves_is_finished_on_the_next_open(saved_pair, tmp_path):
    folder = _copy(saved_pair[0], tmp_path / "model")
    (folder / "notes.txt").write_text("mine")
    # The next save crashed after moving the weights: its staging folder still holds the rest.
    staging = _copy(saved_pair[1], tmp_path / f".model.tmp-{_dead_pid()}-abc123")
    os.replace(staging / checkpoints.WEIGHTS_FILE, folder / checkpoints.WEIGHTS_FILE)
    listed = json.loads((folder / "config.json").read_text())["files"][checkpoints.WEIGHTS_FILE]
    assert checkpoints._sha256(folder / checkpoints.WEIGHTS_FILE) != listed  # mixed: new weights, old config
    loaded = load_checkpoint(folder)
    assert loaded.step == 3 and (folder / "notes.txt").read_text() == "mine"
    assert not staging.exists()


def test_unfinished_saves_of_dead_writers_are_cleaned_and_live_ones_left(saved_pair, tmp_path):
    folder = _copy(saved_pair[1], tmp_path / "model")
    stale = tmp_path / f".model.tmp-{_dead_pid()}-k2j4"
    stale.mkdir()
    (stale / checkpoints.WEIGHTS_FILE).write_bytes(b"half")
    legacy = tmp_path / ".model.tmp-x9y8z7"  # older acai: no pid in the name, never finished
    legacy.mkdir()
    live = tmp_path / f".model.tmp-{os.getppid()}-q1w2"  # a writer that still runs
    live.mkdir()
    assert load_checkpoint(folder).step == 3
    assert not stale.exists() and not legacy.exists() and live.exists()


def test_the_crash_of_an_older_acai_between_its_two_renames_is_rolled_back(saved_pair, tmp_path):
    folder = tmp_path / "model"
    _copy(saved_pair[1], tmp_path / ".model.old-abcd")  # older acai renamed the folder away, then died
    assert load_checkpoint(folder).step == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def _read_only(folder: Path, command: list[str]) -> list[str]:
    """`command`, run where `folder` cannot be written: a read-only bind mount in a private mount namespace
    when running as root (root ignores file permissions), else the folder's permissions."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return command
    if not shutil.which("unshare") or subprocess.run(
            ["unshare", "-m", "sh", "-c", f"mount --bind -r '{folder}' '{folder}'"], capture_output=True).returncode:
        pytest.skip("as root, a read-only folder needs `unshare -m` and a bind mount, unavailable here")
    return ["unshare", "-m", "sh", "-c", f"mount --bind -r '{folder}' '{folder}' && exec \"$@\"", "sh", *command]


@pytest.mark.slow
def test_a_read_only_out_fails_before_the_first_step(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    command = _read_only(locked, [sys.executable, "-m", "acai", "train", *TINY, "--steps", "100000",
                                  "--out", str(locked / "run")])
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "cannot write the checkpoint" in result.stderr and "Traceback" not in result.stderr
    assert "training" not in result.stdout  # refused before the loop began
    assert list(locked.iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_saves_and_the_run_resumes_from_the_interrupt(tmp_path):
    folder = tmp_path / "run"
    command = [sys.executable, "-m", "acai", "train", *TINY, "--steps", "1000000", "--checkpoint-every", "1000000",
               "--out", str(folder)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    seen = ""
    while "img_s=" not in seen and time.monotonic() < deadline:  # the bar reports a chunk of steps: training
        seen += process.stderr.read(1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    err = seen + err
    assert process.returncode == 130, err
    assert "interrupted: saved" in err and "Traceback" not in err
    step = load_checkpoint(folder).step
    assert 0 < step < 1_000_000
    assert main(["train", "--resume", "--steps", "3", "--out", str(folder)]) == 0
    assert load_checkpoint(folder).step == step + 3


def test_folders_that_only_look_like_staging_are_left_alone(saved_pair, tmp_path):
    folder = _copy(saved_pair[1], tmp_path / "model")
    mine = tmp_path / ".model.tmp-notes.backup"  # a user's hidden folder, not one of acai's staging folders
    shutil.copytree(saved_pair[0], mine)
    assert load_checkpoint(folder).step == 3
    assert mine.is_dir() and (mine / "config.json").is_file()
