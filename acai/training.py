"""ACAI training: the compiled step and a Trainer that runs it in chunks of steps.

The step follows the authors' order (docs/METHOD.md): one forward pass of the model (its module of
acai/models) gives every loss; the gradients of all its players (for ACAI: autoencoder, critic and linear
probe) are computed before any update is applied. Periodic evaluations, checkpoints and the loop around
chunks live in `acai.driver`.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time

import keras
import numpy as np
import tensorflow as tf

from acai import models
from acai.checkpoints import Checkpoint
from acai.config import ADAM_EPSILON, Config
from acai.data import Dataset
from acai.networks import ACAINetworks

LOSS_NAMES = models.get("acai").loss_names  # ACAI's; every model's are its class's loss_names


def history_columns(loss_names: tuple[str, ...]) -> tuple[str, ...]:
    """A history row: the step, the recorded losses, then the lambda and gamma in force (ACAI's knobs)."""
    return ("step",) + tuple(loss_names) + ("lam", "gamma")


HISTORY_COLUMNS = history_columns(LOSS_NAMES)


def history_columns_for(config: Config) -> tuple[str, ...]:
    """The history columns of a model like `config` (its model's recorded losses)."""
    return history_columns(models.get(config.model).loss_names)


class History:
    """Per-step records of every loss term and the lambda/gamma in force, appended in chunks.

    Thread-safe: the app reads it while a training thread appends.
    """

    def __init__(self, columns: tuple[str, ...] = HISTORY_COLUMNS, rows: np.ndarray | None = None):
        self.columns = tuple(columns)
        self._chunks: list[np.ndarray] = []
        self._lock = threading.Lock()
        if rows is not None and len(rows):
            self._chunks.append(np.asarray(rows, dtype=np.float64).reshape(-1, len(self.columns)))

    def append(self, rows: np.ndarray) -> None:
        if len(rows):
            with self._lock:
                self._chunks.append(np.asarray(rows, dtype=np.float64))

    def as_array(self) -> np.ndarray:
        """(steps, len(columns)) float64."""
        with self._lock:
            if len(self._chunks) > 1:
                self._chunks = [np.concatenate(self._chunks)]
            return self._chunks[0] if self._chunks else np.zeros((0, len(self.columns)))

    def column(self, name: str) -> np.ndarray:
        return self.as_array()[:, self.columns.index(name)]

    def __len__(self) -> int:
        with self._lock:
            return sum(len(chunk) for chunk in self._chunks)

    def to_csv(self) -> str:
        """Every recorded step as CSV: a header row, then one row per step (the loss terms and the
        lambda and gamma in force at that step)."""
        buffer = io.StringIO()
        np.savetxt(buffer, self.as_array(), delimiter=",", header=",".join(self.columns), comments="", fmt="%.9g")
        return buffer.getvalue()

    def last(self) -> dict[str, float]:
        with self._lock:
            last = self._chunks[-1][-1] if self._chunks else None
        return {} if last is None else dict(zip(self.columns, last.tolist()))


@dataclasses.dataclass(frozen=True)
class RunReport:
    """What one call of Trainer.run (or TrainingRun.advance) did."""

    steps: int
    seconds: float
    batch_size: int
    diverged: str | None = None  # the message when a non-finite loss stopped the run
    stopped: bool = False  # stop() was called during the run

    @property
    def images_per_second(self) -> float:
        return 0.0 if self.seconds <= 0 else self.steps * self.batch_size / self.seconds

    @property
    def steps_per_second(self) -> float:
        return 0.0 if self.seconds <= 0 else self.steps / self.seconds

    def then(self, later: RunReport) -> RunReport:
        """This report followed by `later`, as one."""
        return RunReport(self.steps + later.steps, self.seconds + later.seconds, self.batch_size,
                         self.diverged or later.diverged, self.stopped or later.stopped)


def make_adam(config: Config, learning_rate: float | None = None) -> keras.optimizers.Adam:
    """Adam with the authors' TF1 defaults: beta (0.9, 0.999), epsilon 1e-8; the config's learning rate unless
    the player has its own (the AAE's discriminator)."""
    return keras.optimizers.Adam(learning_rate or config.learning_rate, beta_1=0.9, beta_2=0.999,
                                 epsilon=ADAM_EPSILON)


class Trainer:
    """Trains one model in chunks of steps: ACAI (lambda = 0: the plain autoencoder baseline) or any other
    model of acai.models (its module says how it steps).

    lambda and gamma live in tf.Variables: set_regularization() changes them between steps
    without retracing the compiled step. run() can be stopped from another thread with stop().
    """

    def __init__(self, config: Config, dataset: Dataset, networks: ACAINetworks | None = None,
                 strategy: tf.distribute.Strategy | None = None):
        """Args:
            strategy: a tf.distribute strategy (e.g. MirroredStrategy) for data-parallel training;
                each replica takes its slice of every batch. Default: the current (no-op) strategy.
                Networks passed in must have been built under the same strategy's scope.
        """
        if dataset.name != config.dataset:
            raise ValueError(f"config is for {config.dataset!r} but the dataset is {dataset.name!r}")
        self.strategy = strategy or tf.distribute.get_strategy()
        replicas = self.strategy.num_replicas_in_sync
        if config.batch_size % (2 * replicas):
            raise ValueError(f"batch_size {config.batch_size} must split into even batches over {replicas} replicas")
        self.model = models.get(config.model)(config)
        if not self.model.distributable and replicas > 1:
            raise ValueError(f"the {self.model.title} model cannot train over several replicas: train it on one device")
        self._base_config = config
        self.dataset = dataset
        with self.strategy.scope():
            self.networks = networks or ACAINetworks(config, dataset.num_classes, seed=config.seed)
            self.model.build(self.networks)
            # One Adam per player, in order.
            self.optimizers = [make_adam(config, self.model.learning_rate(player)) for player in self.model.players]
            variables = self.model.variables(self.networks)
            self.player_variables = [variables[player] for player in self.model.players]
            for optimizer, player_variables in self._optimizer_pairs():
                optimizer.build(player_variables)
        # Host variables, outside the strategy's scope: one value that every replica reads.
        self.lam = tf.Variable(config.lam, dtype=tf.float32, trainable=False, name="lam")
        self.gamma = tf.Variable(config.gamma, dtype=tf.float32, trainable=False, name="gamma")
        self.step = 0
        self.loss_names = self.model.loss_names
        self.history = History(history_columns(self.loss_names))
        self.sampler = dataset.batch_sampler(config.batch_size, config.seed)
        self._stop_event = threading.Event()
        self._lock = threading.Lock()  # one run at a time on this trainer
        self.compiled_step = tf.function(self._distributed_step)

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, dataset: Dataset,
                        strategy: tf.distribute.Strategy | None = None) -> Trainer:
        """A trainer that continues exactly where `checkpoint` stopped: its networks, optimizer
        moments, step and history. (Under a strategy, load the checkpoint inside its scope.)"""
        trainer = cls(checkpoint.config, dataset, networks=checkpoint.networks, strategy=strategy)
        if checkpoint.optimizer_state:
            trainer.load_optimizer_state(checkpoint.optimizer_state)
        trainer.step = checkpoint.step
        trainer.history = History(trainer.history.columns, checkpoint.history if checkpoint.history.size else None)
        return trainer

    @property
    def config(self) -> Config:
        """The config with the lambda and gamma in force now."""
        return self._base_config.replace(lam=float(self.lam.numpy()), gamma=float(self.gamma.numpy()))

    def _optimizer_pairs(self):
        return tuple(zip(self.optimizers, self.player_variables))

    def set_regularization(self, lam: float | None = None, gamma: float | None = None) -> None:
        """Change lambda and/or gamma; the next step uses them, with no retrace."""
        if lam is not None:
            if not np.isfinite(lam) or lam < 0:
                raise ValueError(f"lambda must be a finite number >= 0, got {lam}")
            self.lam.assign(lam)
        if gamma is not None:
            if not 0.0 <= gamma <= 1.0:
                raise ValueError(f"gamma must lie in [0, 1], got {gamma}")
            self.gamma.assign(gamma)

    def draw(self, kind: str, shape, salt: int, step, replica=0):
        """Random numbers of a model's step ("uniform" in [0, 1) or "normal"), stateless like alpha: keyed by
        (seed, replica, step) and a salt per use, so resumes draw them again exactly."""
        seed = tf.stack([tf.cast(self._base_config.seed + 1_000_003 * replica + 7_919 * salt, tf.int64),
                         tf.cast(step, tf.int64)])
        sample = tf.random.stateless_uniform if kind == "uniform" else tf.random.stateless_normal
        return sample(shape, seed=seed)

    def _distributed_step(self, images, labels, step):
        """Runs _replica_step on every replica; returns the replica-averaged recorded losses and whether
        the updates were applied."""
        values, applied = self.strategy.run(self._replica_step, args=(images, labels, step))
        mean = tf.distribute.ReduceOp.MEAN
        return self.strategy.reduce(mean, values, axis=None), self.strategy.reduce(mean, applied, axis=None) > 0.5

    def _replica_step(self, images, labels, step):
        """One step of the model's objective on this replica's slice of the batch (with one device: the whole
        batch). Returns the recorded losses and 1.0 if the updates were applied (every replica finite), else 0.0.
        """
        context = tf.distribute.get_replica_context()
        replicas, replica = context.num_replicas_in_sync, context.replica_id_in_sync_group
        share = tf.shape(images)[0] // replicas
        images = images[replica * share : (replica + 1) * share]  # each replica pairs within its slice
        labels = labels[replica * share : (replica + 1) * share]

        def draw(kind, shape, salt):
            return self.draw(kind, (tf.shape(images)[0],) + tuple(shape), salt, step, replica)

        batch = models.Batch(images, labels, draw, self.lam, self.gamma, step)
        with tf.GradientTape(persistent=True) as tape:
            result = self.model.forward(self.networks, batch)
            # The optimizers sum the replicas' gradients: each replica minimises its share of the mean.
            totals = {player: total / replicas for player, total in result.totals.items()}
        # Every gradient from the same forward pass, before any update.
        gradient_sets = {player: tape.gradient(totals[player], variables)
                         for player, variables in zip(self.model.players, self.player_variables)}
        del tape
        values = [result.recorded[name] for name in self.loss_names]
        applied = self._apply_if_finite(values, gradient_sets, context, result.extras)
        return tf.stack(values), tf.cast(applied, tf.float32)

    def _apply_if_finite(self, values, gradient_sets, context, extras=()):
        """The NaN guard: apply the updates only if every loss and the gradient of every player but the monitors
        (the probe) is finite on every replica."""
        finite = tf.reduce_all(
            [tf.reduce_all(tf.math.is_finite(value)) for value in values]
            + [tf.math.is_finite(tf.linalg.global_norm(gradients)) for player, gradients in gradient_sets.items()
               if player not in self.model.monitors]
        )
        # Every replica must take the same branch: finite only if finite everywhere.
        failures = context.all_reduce(tf.distribute.ReduceOp.SUM, 1.0 - tf.cast(finite, tf.float32))
        finite = failures < 0.5

        def apply_updates(gradient_sets):
            for (optimizer, variables), player in zip(self._optimizer_pairs(), self.model.players):
                optimizer.apply(gradient_sets[player], variables)
            self.model.after_update(self.networks, extras)
            return tf.constant(True)

        if context.num_replicas_in_sync == 1:
            return tf.cond(finite, lambda: apply_updates(gradient_sets), lambda: tf.constant(False))
        # Gradient aggregation cannot sit inside tf.cond across replicas: apply zeroed
        # gradients instead (Adam's moments decay once); run() still stops with the message.
        apply_updates({player: [tf.where(finite, g, tf.zeros_like(g)) for g in gradients]
                       for player, gradients in gradient_sets.items()})
        return finite

    def run(self, steps: int) -> RunReport:
        """Advance `steps` training steps (fewer if stopped or diverged).

        A non-finite loss or gradient stops the run before its update is applied, so the weights
        stay those of the last good step; the report's `diverged` says so. (With several replicas
        the step applies zeroed gradients instead; see _apply_if_finite.)
        """
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        with self._lock:
            rows, diverged, begun = [], None, time.perf_counter()
            for _ in range(steps):
                if self._stop_event.is_set():
                    break
                images, labels = self.sampler.batch(self.step)
                values, applied = self.compiled_step(
                    tf.constant(images), tf.constant(labels), tf.constant(self.step, tf.int64)
                )
                values = values.numpy()
                if not bool(applied):
                    diverged = (
                        f"training stopped at step {self.step + 1}: a loss or gradient became "
                        f"NaN/inf ({', '.join(f'{n}={v:.3g}' for n, v in zip(self.loss_names, values))}). "
                        f"The weights are those of step {self.step}. Lower the learning rate or lambda."
                    )
                    break
                self.step += 1
                rows.append([self.step, *values, float(self.lam.numpy()), float(self.gamma.numpy())])
            self.history.append(np.asarray(rows).reshape(-1, len(self.history.columns)))
            stopped = self._stop_event.is_set()
            self._stop_event.clear()
            return RunReport(
                steps=len(rows),
                seconds=time.perf_counter() - begun,
                batch_size=self._base_config.batch_size,
                diverged=diverged,
                stopped=stopped,
            )

    def stop(self) -> None:
        """Ask the run in progress (in another thread) to stop after its current step; called between
        runs, the next run stops before its first step."""
        self._stop_event.set()

    # Optimizer state (and the model's own, e.g. the VQ-VAE's codebook averages), for exact resumes.
    def _state_variables(self) -> dict:
        state = {f"optimizer{index}/{number}": variable
                 for index, (optimizer, _) in enumerate(self._optimizer_pairs())
                 for number, variable in enumerate(optimizer.variables)}
        return {**state, **self.model.state()}

    def reset_learning_rates(self) -> None:
        """Each optimizer's learning rate back to this trainer's config (it is a variable of the optimizer state, so
        loading another run's state brings that run's rate)."""
        for optimizer, player in zip(self.optimizers, self.model.players):
            optimizer.learning_rate = self.model.learning_rate(player) or self._base_config.learning_rate

    def optimizer_state(self) -> dict[str, np.ndarray]:
        return {key: variable.numpy() for key, variable in self._state_variables().items()}

    def load_optimizer_state(self, state: dict[str, np.ndarray]) -> None:
        for key, variable in self._state_variables().items():
            if key not in state or tuple(state[key].shape) != tuple(variable.shape):
                raise ValueError(f"optimizer state does not match this model (at {key})")
            variable.assign(state[key])
