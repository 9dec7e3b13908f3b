"""A race: ACAI against the same model without the critic's pull (lambda = 0), or against another autoencoder
of Table 1, trained in lockstep.

Both sides see identical batches and identical alphas (both are addressed by step and seed) and advance by
the same number of steps in every call. Against lambda 0 they start from identical weights (encoder, decoder,
critic and probe), so the only difference between them is the regulariser; against another model they share
every network the two have alike (the same name and weight shapes: the encoder, decoder and probe of most;
`Race.shared` lists them). Each side is an ordinary TrainingRun of `acai.driver`, evaluated by the same rule,
and saved as an ordinary checkpoint.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import os
import time
from pathlib import Path

from acai.checkpoints import Checkpoint, read_manifest
from acai.config import Config
from acai.data import Dataset
from acai.driver import Evaluator, TrainingRun
from acai.training import RunReport, Trainer

SIDES = ("acai", "baseline")
SEPARATION_RATIO = 3.0  # the baseline's Mean Distance over ACAI's that counts as "separated"
EVAL_EVERY = {"lines32": 20}  # preset -> steps between evaluations (default 50)


def headline_metric(dataset: Dataset) -> str:
    """The evaluation number the race compares: lines -> mean_distance, images -> midpoint_grey."""
    return "mean_distance" if dataset.is_stream else "midpoint_grey"


@dataclasses.dataclass(frozen=True)
class Standing:
    """Both sides' evaluations at one step of the race."""

    seconds: float  # race time: wall-clock seconds spent in advance() (compilation, evaluations included)
    step: int
    acai: dict[str, float]
    baseline: dict[str, float]
    metric: str

    @property
    def ratio(self) -> float:
        """baseline / ACAI on the headline metric (lower is better for both: > 1 means ACAI leads)."""
        acai, baseline = self.acai.get(self.metric, math.nan), self.baseline.get(self.metric, math.nan)
        return baseline / acai if acai > 0 else math.nan


class Race:
    """Two TrainingRuns in lockstep: `acai` (config.lam) and `baseline` (baseline_lam, default 0)."""

    def __init__(self, config: Config, dataset: Dataset, *, baseline_lam: float = 0.0, opponent: Config | None = None,
                 eval_every: int = 50, evaluator: Evaluator | None = None, parallel: bool = True,
                 start: Checkpoint | None = None):
        """Args:
            opponent: the second side's config (another model of the same dataset); default: `config` at
                `baseline_lam`.
            start: a warm start: both sides begin from this checkpoint's networks (the same model as `config`,
                trained by any recipe) and, when it has them, its Adam moments (at `config`'s learning rates),
                at step 0, instead of from a fresh initialisation. Against lambda 0 only, so that the two sides
                still start identical.
            parallel: advance the two sides in two threads at once. TensorFlow releases the GIL while
                it computes, and one small model leaves cores idle between its ops, so two at once
                fill them (measured in bench/race.py).
        """
        if start is not None:
            if opponent is not None:
                raise ValueError("a warm start is for a race against lambda 0 (both sides the same model)")
            check_start(config, start.config)
        acai = Trainer(config, dataset, networks=start.networks.copy() if start is not None else None)
        self.start = start
        if opponent is None:
            baseline = Trainer(config.replace(lam=baseline_lam), dataset, networks=acai.networks.copy())
            shared = acai.networks.part_names()
        else:
            if opponent.dataset != config.dataset or opponent.batch_size != config.batch_size:
                raise ValueError("both sides of a race train on the same dataset with the same batch size")
            baseline = Trainer(opponent, dataset)
            shared = baseline.networks.take_alike(acai.networks)
        if start is not None and start.optimizer_state:
            for trainer in (acai, baseline):  # a start's moments spare both sides fresh Adam's first jolt
                trainer.load_optimizer_state(start.optimizer_state)
                trainer.reset_learning_rates()
        self._start({"acai": TrainingRun(acai, eval_every=eval_every, evaluator=evaluator),
                     "baseline": TrainingRun(baseline, eval_every=eval_every, evaluator=evaluator)},
                    shared, parallel=parallel)

    def _start(self, runs: dict[str, TrainingRun], shared: list[str], *, parallel: bool, seconds: float = 0.0) -> None:
        self.runs = runs
        self.shared = shared
        self.metric = headline_metric(runs["acai"].trainer.dataset)
        self._pool = concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="acai-race") if parallel else None
        self.seconds = seconds  # race time so far
        self.standings: list[Standing] = []
        self.start: Checkpoint | None = getattr(self, "start", None)
        self._carried: dict = {}

    @classmethod
    def restore(cls, folder: str | os.PathLike, dataset: Dataset, *, eval_every: int = 50,
                evaluator: Evaluator | None = None, parallel: bool = True) -> Race:
        """Continue a race saved by `save` (folder/acai and folder/baseline) exactly: both sides at their step with
        their optimizer state, their evaluations so far and the race time spent."""
        runs = {side: TrainingRun.restore(Path(folder) / side, dataset, eval_every=eval_every, evaluator=evaluator)
                for side in SIDES}
        if runs["acai"].step != runs["baseline"].step:
            raise ValueError(f"{folder}: the two sides are at different steps ({runs['acai'].step} and "
                             f"{runs['baseline'].step}); a race advances both together")
        race = cls.__new__(cls)
        card = read_manifest(Path(folder) / "acai")["card"]
        race._start(runs, [], parallel=parallel, seconds=float(card.get("race_seconds", 0.0)))
        race._carried = {key: card[key] for key in ("warm_start",) if key in card}  # what the first save said
        for acai, baseline in zip(runs["acai"].evaluations, runs["baseline"].evaluations):
            if acai["step"] == baseline["step"]:  # the standings so far (race time of each is not kept: nan)
                race.standings.append(Standing(math.nan, int(acai["step"]), acai, baseline, race.metric))
        return race

    @property
    def step(self) -> int:
        return self.runs["acai"].step

    @property
    def eval_every(self) -> int:
        return self.runs["acai"].eval_every

    def trainer(self, side: str) -> Trainer:
        return self.runs[side].trainer

    def advance(self, steps: int) -> dict[str, RunReport]:
        """Train both sides `steps` steps (at once, or one after the other). A side stops early only if
        it diverges: the reports say so."""
        begun = time.perf_counter()
        if self._pool is None:
            reports = {side: run.advance(steps) for side, run in self.runs.items()}
        else:
            futures = {side: self._pool.submit(run.advance, steps) for side, run in self.runs.items()}
            reports = {side: future.result() for side, future in futures.items()}
        self.seconds += time.perf_counter() - begun
        self._record()
        return reports

    def _record(self) -> None:
        acai, baseline = (self.runs[side].evaluations for side in SIDES)
        if not acai or not baseline or acai[-1]["step"] != baseline[-1]["step"]:
            return
        if self.standings and self.standings[-1].step == acai[-1]["step"]:
            return
        self.standings.append(Standing(self.seconds, acai[-1]["step"], acai[-1], baseline[-1], self.metric))

    def evaluate(self) -> Standing:
        """Evaluate both sides now (e.g. at the end of a race) and record the standing."""
        for run in self.runs.values():
            run.evaluate()
        self._record()
        return self.standings[-1]

    def separated_at(self, ratio: float = SEPARATION_RATIO) -> Standing | None:
        """The first standing from which ACAI's headline metric stays at least `ratio` times lower than
        the baseline's at every later standing; None if the last standing is not separated."""
        first = None
        for standing in self.standings:
            if standing.ratio >= ratio:
                first = first or standing
            else:
                first = None
        return first

    def save(self, folder: str | os.PathLike, card: dict | None = None) -> dict[str, Path]:
        """folder/acai and folder/baseline, ordinary checkpoint folders."""
        card = {**self._carried, "race_seconds": round(self.seconds, 1), **(card or {})}
        if self.start is not None:
            card["warm_start"] = {"from": str(self.start.path), "step": self.start.step,
                                  "described": describe_start(self.start)}
        return {side: run.save(Path(folder) / side, card={"race_side": side, **card})
                for side, run in self.runs.items()}


def eval_every_for(preset: str) -> int:
    """Steps between a race's evaluations: about every two seconds of racing on a fast 2-core CPU."""
    return EVAL_EVERY.get(preset, 50)


def check_start(config: Config, start: Config) -> None:
    """A warm start's networks must be the race's model: the same in everything but what a training may choose
    (lambda, gamma, precision, learning rate, seed). ValueError saying what differs otherwise."""
    neutral = {"lam": 0.0, "gamma": 0.0, "precision": "float32", "learning_rate": 1.0, "seed": 0}
    mine, theirs = config.replace(**neutral).to_dict(), start.replace(**neutral).to_dict()
    differ = [f"{key} {theirs[key]!r} (the race: {mine[key]!r})" for key in mine if mine[key] != theirs.get(key)]
    if differ:
        raise ValueError(f"the warm start is another model: {', '.join(differ)}")


def describe_start(start: Checkpoint) -> str:
    """A warm start in words, for the CLI and the Race page: what it is and how it was trained."""
    config, card = start.config, start.card
    kind = "the plain autoencoder (lambda 0)" if config.is_baseline else f"{config.kind}, lambda {config.lam:g}"
    how = f"{kind} trained {start.step:,} steps at learning rate {config.learning_rate:g}, seed {config.seed}"
    if card.get("wall_seconds"):
        how += f" ({card['wall_seconds']:.0f} s" + (f" on {card['machine']}" if card.get("machine") else "") + ")"
    return how
