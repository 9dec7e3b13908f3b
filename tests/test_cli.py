import json
import subprocess
import sys

import pytest

from acai import checkpoints
from acai.cli import main


def run_cli(*arguments, cwd=None):
    return subprocess.run([sys.executable, "-m", "acai", *arguments], capture_output=True, text=True, cwd=cwd)


@pytest.mark.slow
def test_train_then_eval(tmp_path, capsys):
    """`python -m acai train` in a process of its own, as a user runs it; then critic, resume and eval through
    the same main() in this process (each new process would load TensorFlow again)."""
    folder = tmp_path / "lines"
    result = run_cli("train", "--dataset", "lines", "--depth", "8", "--latent-width", "8", "--patch", "2",
                     "--latent-size", "64", "--steps", "20", "--checkpoint-every", "10", "--keep-every", "8",
                     "--out", str(folder))
    assert result.returncode == 0, result.stderr
    assert "img_s=" in result.stderr and "20/20" in result.stderr  # tqdm's bar with losses and speed
    saved = json.loads((folder / "config.json").read_text())
    assert saved["step"] == 20 and saved["config"]["patch"] == 2
    kept = sorted((tmp_path / "lines-kept").iterdir())
    assert [path.name for path in kept] == ["step-16", "step-8"]  # exactly at each multiple of 8
    copy = checkpoints.load_checkpoint(kept[1])
    assert copy.step == 8 and copy.optimizer_state == {} and len(copy.history) == 8
    capsys.readouterr()
    assert main(["critic", str(kept[1]), str(kept[0]), "--batches", "1"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]] == ["8", "16"]
    assert main(["train", "--out", str(folder), "--resume", "--steps", "10", "--lam", "0.25"]) == 0
    resumed = json.loads((folder / "config.json").read_text())
    assert resumed["config"]["lam"] == 0.25  # the card keeps the run's first lambda and when it changed
    assert [(change["step"], change["lam_before"], change["lam"]) for change in resumed["card"]["regularization_changes"]] \
        == [(20, 0.5, 0.25)]
    capsys.readouterr()
    assert main(["eval", str(folder), "--quick"]) == 0
    printed = capsys.readouterr().out
    assert "mean_distance" in printed and "linear_probe" in printed
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["step"] == 30 and 0 <= metrics["linear_probe"] <= 1


@pytest.mark.parametrize("arguments, message", [
    (["train", "--dataset", "cifar"], "unknown dataset 'cifar'; choose one of lines, mnist"),
    (["train", "--dataset", "/nonexistent/photos"], "does not exist; give a folder of images"),
    (["train", "--batch", "63"], "batch_size must be even"),
    (["train", "--steps", "-4"], "must be >= 0"),
    (["train", "--resume"], "--resume needs --out"),
    (["train", "--patch", "3"], "patch must be a power of two"),
    (["train", "--decoder-patch", "64"], "decoder_patch must be a power of two"),
    (["eval", "/nonexistent/folder"], "not a checkpoint folder"),
    (["train", "--lr", "nan"], "learning_rate must be a finite number"),
    (["train", "--lr=-1e-4"], "learning_rate must be positive"),
    (["train", "--lam", "inf"], "lam must be a finite number"),
    (["train", "--gamma", "nan"], "gamma must be a finite number"),
    (["race", "--preset", "demo-lines", "--seconds", "nan", "--out", "x"], "must be a positive number"),
    (["race", "--preset", "demo-lines", "--lam=-1", "--out", "x"], "lambda must be >= 0"),
])
def test_bad_arguments_get_argparse_errors(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_reproduce_writes_the_evidence(tmp_path, monkeypatch):
    from acai import reproduce

    tiny = {"lines-acai": reproduce.Config(dataset="lines", depth=8, latent_width=16, latent_size=256, batch_size=32)}
    tiny["lines-baseline"] = tiny["lines-acai"].replace(lam=0.0)
    monkeypatch.setitem(reproduce.EXPERIMENTS, "lines", tiny)  # the real protocol, narrow networks
    results = reproduce.reproduce("lines", steps=20, runs=tmp_path / "runs", report=tmp_path / "report", quick=True)
    assert set(results) == {"lines-acai", "lines-baseline"} and results["lines-acai"]["step"] == 20
    assert results["lines-acai"]["paper"]["mean_distance"] == 0.24e-3
    names = {p.name for p in (tmp_path / "report").iterdir()}
    assert {"lines.json", "lines.md", "lines-interpolations.png", "lines-acai-training.png"} <= names
    assert "(paper 0.00024)" in (tmp_path / "report" / "lines.md").read_text()
    again = reproduce.reproduce("lines", steps=25, runs=tmp_path / "runs", report=tmp_path / "report", quick=True)
    assert again["lines-baseline"]["step"] == 25  # continued the checkpoints, not restarted
    progress = json.loads((tmp_path / "report" / "lines-progress.json").read_text())
    assert [entry["step"] for entry in progress["lines-acai"]] == [20, 25]  # both evaluations kept, in order
    # compared as JSON text: an untrained path can score NaN smoothness, and NaN != NaN
    assert json.dumps(progress["lines-acai"][1]["metrics"]) == json.dumps(again["lines-acai"]["metrics"])
