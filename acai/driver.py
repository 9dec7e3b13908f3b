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
import os
from collections.abc import Callable
from pathlib import Path

import tensorflow as tf

from acai import checkpoints, evaluation
from acai.data import Dataset
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
