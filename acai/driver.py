"""The one training driver: advance a Trainer in chunks, evaluate it by one rule, save and restore it.

`python -m acai train`, `reproduce`, the race and the app's Train page all advance a TrainingRun:

    run = TrainingRun(Trainer(config, dataset), eval_every=200)
    run.advance(50)                  # trains, pausing at every multiple of eval_every to evaluate
    run.save("runs/x", card={...})   # an ordinary checkpoint folder
    run = TrainingRun.restore("runs/x", dataset)   # continues exactly

The evaluation rule: the run is evaluated when its step is a multiple of `eval_every` (chunks are cut
at those steps, so the step is exact whatever the chunk size), with the dataset's live measure:
the lines benchmark on EVAL_PAIRS pairs, or the mid-path realism of image datasets.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import tensorflow as tf
from tqdm import tqdm

from acai import checkpoints, evaluation
from acai.data import Dataset
from acai.machine import machine_description
from acai.training import RunReport, Trainer

EVAL_PAIRS = 64  # pairs of test images in every live evaluation (the full protocol uses 256)
Evaluator = Callable[..., dict]  # networks -> {metric: value}


def live_evaluator(dataset: Dataset, pairs: int = EVAL_PAIRS) -> Evaluator:
    """The dataset's quick measure of interpolation: lines -> Mean Distance and Smoothness on `pairs`
    fresh test pairs; image datasets -> the mid-path realism of `pairs` test pairs."""
    if dataset.is_stream:
        return lambda networks: evaluation.lines_benchmark(networks, pairs=pairs)
    return lambda networks: evaluation.midpoint_realism(networks, dataset, pairs=pairs)


class TrainingRun:
    """One model's training: its Trainer, the evaluations made along the way and the wall time."""

    def __init__(self, trainer: Trainer, *, eval_every: int = 0, evaluator: Evaluator | None = None,
                 evaluations: list[dict[str, float]] | None = None, wall_seconds: float = 0.0):
        """Args:
            eval_every: steps between evaluations (0: never).
            evaluator: networks -> metrics; default: live_evaluator(trainer.dataset).
        """
        if eval_every < 0:
            raise ValueError(f"eval_every must be >= 0, got {eval_every}")
        self.trainer = trainer
        self.eval_every = eval_every
        self.evaluator = evaluator or live_evaluator(trainer.dataset)
        self.evaluations = list(evaluations or [])
        self.wall_seconds = wall_seconds  # training time of every advance so far (evaluations excluded)

    @property
    def step(self) -> int:
        return self.trainer.step

    def advance(self, steps: int) -> RunReport:
        """Train `steps` steps (fewer if stopped or diverged), evaluating at every multiple of eval_every."""
        report = RunReport(0, 0.0, self.trainer.config.batch_size)
        target = self.step + steps
        while self.step < target and not (report.diverged or report.stopped):
            chunk = target - self.step
            if self.eval_every:
                chunk = min(chunk, self.eval_every - self.step % self.eval_every)
            done = self.trainer.run(chunk)
            report = report.then(done)
            self.wall_seconds += done.seconds
            if self.eval_every and done.steps and self.step % self.eval_every == 0:
                self.evaluate()
        return report

    def evaluate(self) -> dict[str, float]:
        """Evaluate now and keep the result: {"step", "seconds" (training time so far), metrics...}."""
        row = {"step": self.step, "seconds": round(self.wall_seconds, 3), **self.evaluator(self.trainer.networks)}
        if not self.evaluations or self.evaluations[-1]["step"] != self.step:
            self.evaluations.append(row)
        return row

    def stop(self) -> None:
        """Ask an advance in progress (in another thread) to stop after its current step."""
        self.trainer.stop()

    def save(self, folder: str | os.PathLike, *, card: dict | None = None, metrics: dict | None = None,
             optimizer: bool = True) -> Path:
        """An ordinary, atomic checkpoint folder that resumes exactly (without `optimizer`, a lighter copy
        without Adam's moments: it loads and evaluates like a shipped model, and resumes with fresh moments)."""
        trainer = self.trainer
        card = {**(card or {}), "wall_seconds": round(self.wall_seconds, 1)}  # the live total, not a card's old one
        return checkpoints.save_checkpoint(
            folder, trainer.networks, trainer.config, trainer.step,
            optimizer_state=trainer.optimizer_state() if optimizer else None, history=trainer.history.as_array(),
            evaluations=self.evaluations, metrics=metrics, card=card,
        )

    @classmethod
    def restore(cls, folder: str | os.PathLike, dataset: Dataset, *, strategy: tf.distribute.Strategy | None = None,
                eval_every: int = 0, evaluator: Evaluator | None = None, precision: str | None = None) -> TrainingRun:
        """Continue the checkpoint in `folder` exactly (under `strategy`, its networks are rebuilt in its scope;
        with `precision`, they compute in that precision from now on)."""
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            checkpoint = checkpoints.load_checkpoint(folder, precision=precision)
        try:
            trainer = Trainer.from_checkpoint(checkpoint, dataset, strategy=strategy)
        except ValueError as error:
            raise checkpoints.CheckpointError(f"{folder}: {error}") from None
        return cls(trainer, eval_every=eval_every, evaluator=evaluator, evaluations=checkpoint.evaluations,
                   wall_seconds=float(checkpoint.card.get("wall_seconds", 0.0)))


def command_line() -> str:
    return " ".join(["python -m acai", *sys.argv[1:]])


CLI_CHUNK = 10  # steps between progress-bar updates


def kept_folder(folder: str | os.PathLike, step: int) -> Path:
    """Where `train --keep-every` keeps the copy of `folder` at `step`: beside it, <folder>-kept/step-<step>
    (not inside: every checkpoint replaces its folder whole)."""
    folder = Path(folder)
    return folder.parent / f"{folder.name}-kept" / f"step-{step}"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a command-line training ended: run to the end, diverged (the message), or interrupted (Ctrl-C)."""

    diverged: str | None = None
    interrupted: bool = False


@contextlib.contextmanager
def stop_on_interrupt(trainer: Trainer):
    """While inside, Ctrl-C (SIGINT) asks `trainer` to stop after its current step instead of raising, so
    the loop can save; a second Ctrl-C raises KeyboardInterrupt as usual. (Main thread only; elsewhere
    this does nothing.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum, frame):
        signal.signal(signal.SIGINT, previous)
        trainer.stop()

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def train_and_checkpoint(run: TrainingRun, folder: Path, steps: int, *, card: dict | None = None,
                         checkpoint_every: int = 500, keep_every: int = 0, command: str = "") -> Outcome:
    """The command line's loop: train `steps` more steps with a tqdm bar, checkpointing into `folder`
    every `checkpoint_every` steps and at the end, and keeping a copy without optimizer state at every
    multiple of `keep_every` (0: none) in kept_folder(folder, step), to follow a long run over time.
    Ctrl-C stops after the current step and saves the checkpoint before returning."""
    trainer, card = run.trainer, dict(card or {})
    config = trainer.config

    def save(into: Path = folder, optimizer: bool = True) -> None:
        run.save(into, optimizer=optimizer, card={
            **card, "dataset": config.dataset, "steps": trainer.step,
            "training_images": trainer.step * config.batch_size,
            "machine": machine_description(), "command": command or card.get("command", ""),
        })

    knobs = f"lambda {config.lam:g}" if config.has_critic else "(its own regulariser)"
    print(f"training {config.kind} on {config.dataset}, {config.architecture} latent {config.latent_size} {knobs} "
          f"from step {trainer.step} for {steps} steps on {trainer.strategy.num_replicas_in_sync} "
          f"replica(s) -> {folder}", flush=True)
    target, last_saved = trainer.step + steps, trainer.step
    with tqdm(total=steps, unit="step", dynamic_ncols=True) as bar, stop_on_interrupt(trainer):
        while trainer.step < target:
            chunk = min(CLI_CHUNK, target - trainer.step)
            if keep_every:
                chunk = min(chunk, keep_every - trainer.step % keep_every)  # stop exactly at each multiple
            report = run.advance(chunk)
            bar.update(report.steps)
            last = trainer.history.last()
            shown = [name for name in trainer.loss_names if not name.startswith("probe")][:3]
            bar.set_postfix({name[:8]: f"{last.get(name, float('nan')):.4g}" for name in shown}
                            | {"img_s": f"{report.images_per_second:.0f}"})
            if report.diverged:
                save()
                return Outcome(diverged=report.diverged)
            if report.stopped:
                save()
                return Outcome(interrupted=True)
            if keep_every and report.steps and trainer.step % keep_every == 0:
                save(kept_folder(folder, trainer.step), optimizer=False)
            if trainer.step - last_saved >= checkpoint_every:
                save()
                last_saved = trainer.step
    save()
    return Outcome()
