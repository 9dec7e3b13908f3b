"""ACAI training: one compiled step that reads like the paper, and a trainer that runs it in chunks.

The step (REFERENCE.md, the authors' order): one forward pass gives both losses; the autoencoder,
critic and linear-probe gradients are all computed before any update is applied.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import keras
import numpy as np
import tensorflow as tf

from acai import losses
from acai.config import ADAM_EPSILON, Config
from acai.data import Dataset
from acai.networks import ACAINetworks

LOSS_NAMES = ("reconstruction", "adversarial", "critic_alpha", "critic_real", "probe", "probe_accuracy")
HISTORY_COLUMNS = ("step",) + LOSS_NAMES + ("lam", "gamma")


class History:
    """Per-step records of every loss term and the lambda/gamma in force, appended in chunks."""

    columns = HISTORY_COLUMNS

    def __init__(self, rows: np.ndarray | None = None):
        self._chunks: list[np.ndarray] = []
        if rows is not None and len(rows):
            self._chunks.append(np.asarray(rows, dtype=np.float64).reshape(-1, len(self.columns)))

    def append(self, rows: np.ndarray) -> None:
        if len(rows):
            self._chunks.append(np.asarray(rows, dtype=np.float64))

    def as_array(self) -> np.ndarray:
        """(steps, len(columns)) float64."""
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros((0, len(self.columns)))

    def column(self, name: str) -> np.ndarray:
        return self.as_array()[:, self.columns.index(name)]

    def __len__(self) -> int:
        return sum(len(chunk) for chunk in self._chunks)

    def last(self) -> dict[str, float]:
        rows = self.as_array()
        return dict(zip(self.columns, rows[-1].tolist())) if len(rows) else {}


@dataclasses.dataclass(frozen=True)
class RunReport:
    """What one call of Trainer.run did."""

    steps: int
    seconds: float
    batch_size: int
    diverged: str | None = None  # the message when a non-finite loss stopped the run
    stopped: bool = False  # stop() was called during the run

    @property
    def images_per_second(self) -> float:
        return 0.0 if self.seconds <= 0 else self.steps * self.batch_size / self.seconds


def make_adam(config: Config) -> keras.optimizers.Adam:
    """Adam with the authors' TF1 defaults: beta (0.9, 0.999), epsilon 1e-8."""
    return keras.optimizers.Adam(config.learning_rate, beta_1=0.9, beta_2=0.999, epsilon=ADAM_EPSILON)


class Trainer:
    """Trains one ACAI model (lambda = 0: the plain autoencoder baseline) in chunks of steps.

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
        self._base_config = config
        self.dataset = dataset
        with self.strategy.scope():
            self.networks = networks or ACAINetworks(config, dataset.num_classes)
            self.ae_optimizer = make_adam(config)
            self.critic_optimizer = make_adam(config)
            self.probe_optimizer = make_adam(config)
            self.ae_variables = self.networks.encoder.trainable_variables + self.networks.decoder.trainable_variables
            self.critic_variables = self.networks.critic.trainable_variables
            self.probe_variables = self.networks.probe.trainable_variables
            for optimizer, variables in self._optimizer_pairs():
                optimizer.build(variables)
        # Host variables, outside the strategy's scope: one value that every replica reads.
        self.lam = tf.Variable(config.lam, dtype=tf.float32, trainable=False, name="lam")
        self.gamma = tf.Variable(config.gamma, dtype=tf.float32, trainable=False, name="gamma")
        self.step = 0
        self.history = History()
        self.evaluations: list[dict[str, float]] = []  # periodic benchmark results, by step
        self.sampler = dataset.batch_sampler(config.batch_size, config.seed)
        self._stop_event = threading.Event()
        self._lock = threading.Lock()  # one run at a time on this trainer
        self.train_step = tf.function(self._distributed_step)

    @property
    def config(self) -> Config:
        """The config with the lambda and gamma in force now."""
        return self._base_config.replace(lam=float(self.lam.numpy()), gamma=float(self.gamma.numpy()))

    def _optimizer_pairs(self):
        return (
            (self.ae_optimizer, self.ae_variables),
            (self.critic_optimizer, self.critic_variables),
            (self.probe_optimizer, self.probe_variables),
        )

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

    def _distributed_step(self, images, labels, step):
        """Runs _train_step on every replica; returns the replica-averaged losses and the applied flag."""
        values, applied = self.strategy.run(self._train_step, args=(images, labels, step))
        mean = tf.distribute.ReduceOp.MEAN
        return self.strategy.reduce(mean, values, axis=None), self.strategy.reduce(mean, applied, axis=None) > 0.5

    def _train_step(self, images, labels, step):
        """One ACAI step on this replica's slice of the batch.

        Returns the losses (6,) and 1.0 if the updates were applied (every replica finite), else 0.0.
        """
        encoder, decoder, critic, probe = (
            self.networks.encoder, self.networks.decoder, self.networks.critic, self.networks.probe,
        )
        context = tf.distribute.get_replica_context()
        replicas, replica = context.num_replicas_in_sync, context.replica_id_in_sync_group
        share = tf.shape(images)[0] // replicas
        images = images[replica * share : (replica + 1) * share]  # each replica pairs within its slice
        labels = labels[replica * share : (replica + 1) * share]
        batch = tf.shape(images)[0]
        # alpha ~ U(0, 1) folded into [0, 0.5]; stateless and keyed by step, so a resume is exact.
        seed = tf.stack([tf.cast(self._base_config.seed + 1_000_003 * replica, tf.int64), tf.cast(step, tf.int64)])
        alpha = losses.fold_alpha(tf.random.stateless_uniform([batch], seed=seed))
        with tf.GradientTape(persistent=True) as tape:
            latents = encoder(images, training=True)  # z = f(x)
            reconstructions = decoder(latents, training=True)  # x' = g(z)
            mixed = decoder(losses.mix_with_reversed(latents, alpha), training=True)  # g(z_mix)
            critic_on_mix = critic(mixed, training=True)  # d(x_mix)
            blend = losses.blend_with_input(images, reconstructions, self.gamma)
            critic_on_blend = critic(blend, training=True)  # d(gamma x + (1 - gamma) x')
            reconstruction = losses.reconstruction_loss(images, reconstructions)
            adversarial = losses.adversarial_loss(critic_on_mix)
            autoencoder_total = reconstruction + self.lam * adversarial
            critic_alpha = losses.critic_alpha_loss(critic_on_mix, alpha)
            critic_real = losses.critic_real_loss(critic_on_blend)
            critic_total = critic_alpha + critic_real
            logits = probe(tf.stop_gradient(latents), training=True)  # no gradient reaches f
            probe_loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            )
            # The optimizers sum the gradients of all replicas: each replica's share of the mean
            # is its loss / replicas (recorded on the tape, like every op the gradients go through).
            scale = 1.0 / replicas
            scaled = [autoencoder_total * scale, critic_total * scale, probe_loss * scale]
        # Every gradient from the same forward pass, before any update.
        ae_gradients = tape.gradient(scaled[0], self.ae_variables)
        critic_gradients = tape.gradient(scaled[1], self.critic_variables)
        probe_gradients = tape.gradient(scaled[2], self.probe_variables)
        del tape
        values = [reconstruction, adversarial, critic_alpha, critic_real, probe_loss]
        finite = tf.reduce_all(
            [tf.reduce_all(tf.math.is_finite(value)) for value in values]
            + [tf.math.is_finite(tf.linalg.global_norm(g)) for g in (ae_gradients, critic_gradients)]
        )
        # Every replica must take the same branch: finite only if finite everywhere.
        failures = context.all_reduce(tf.distribute.ReduceOp.SUM, 1.0 - tf.cast(finite, tf.float32))
        finite = failures < 0.5

        def apply_updates(gradient_sets):
            for optimizer, variables, gradients in zip(
                    (self.ae_optimizer, self.critic_optimizer, self.probe_optimizer),
                    (self.ae_variables, self.critic_variables, self.probe_variables), gradient_sets):
                optimizer.apply(gradients, variables)
            return tf.constant(True)

        gradient_sets = (ae_gradients, critic_gradients, probe_gradients)
        if replicas == 1:
            applied = tf.cond(finite, lambda: apply_updates(gradient_sets), lambda: tf.constant(False))
        else:
            # Gradient aggregation cannot sit inside tf.cond across replicas: apply zeroed
            # gradients instead (Adam's moments decay once); run() still stops with the message.
            zeroed = [[tf.where(finite, g, tf.zeros_like(g)) for g in gradients] for gradients in gradient_sets]
            apply_updates(zeroed)
            applied = finite
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, axis=1), labels), tf.float32))
        return tf.stack(values + [accuracy]), tf.cast(applied, tf.float32)

    def run(self, steps: int) -> RunReport:
        """Advance `steps` training steps (fewer if stopped or diverged).

        A non-finite loss or gradient stops the run before its update is applied, so the weights
        stay those of the last good step; the report's `diverged` says so. (With several replicas
        the step applies zeroed gradients instead; see _train_step.)
        """
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        with self._lock:
            self._stop_event.clear()
            rows, diverged, begun = [], None, time.perf_counter()
            for _ in range(steps):
                if self._stop_event.is_set():
                    break
                images, labels = self.sampler.batch(self.step)
                values, applied = self.train_step(
                    tf.constant(images), tf.constant(labels), tf.constant(self.step, tf.int64)
                )
                values = values.numpy()
                if not bool(applied):
                    diverged = (
                        f"training stopped at step {self.step + 1}: a loss or gradient became "
                        f"NaN/inf ({', '.join(f'{n}={v:.3g}' for n, v in zip(LOSS_NAMES, values))}). "
                        f"The weights are those of step {self.step}. Lower the learning rate or lambda."
                    )
                    break
                self.step += 1
                rows.append([self.step, *values, float(self.lam.numpy()), float(self.gamma.numpy())])
            self.history.append(np.asarray(rows).reshape(-1, len(HISTORY_COLUMNS)))
            return RunReport(
                steps=len(rows),
                seconds=time.perf_counter() - begun,
                batch_size=self._base_config.batch_size,
                diverged=diverged,
                stopped=self._stop_event.is_set(),
            )

    def stop(self) -> None:
        """Ask a run in progress (in another thread) to stop after its current step."""
        self._stop_event.set()

    # Optimizer state, for exact resumes.
    def optimizer_state(self) -> dict[str, np.ndarray]:
        state = {}
        for index, (optimizer, _) in enumerate(self._optimizer_pairs()):
            for number, variable in enumerate(optimizer.variables):
                state[f"optimizer{index}/{number}"] = variable.numpy()
        return state

    def load_optimizer_state(self, state: dict[str, np.ndarray]) -> None:
        for index, (optimizer, _) in enumerate(self._optimizer_pairs()):
            for number, variable in enumerate(optimizer.variables):
                key = f"optimizer{index}/{number}"
                if key not in state or tuple(state[key].shape) != tuple(variable.shape):
                    raise ValueError(f"optimizer state does not match this model (at {key})")
                variable.assign(state[key])
