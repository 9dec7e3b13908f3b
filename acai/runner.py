"""The training loop behind `python -m acai train` and `reproduce`: chunks of steps with a tqdm bar,
periodic lines-benchmark evaluations, atomic checkpoints and a model card kept up to date."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from acai import checkpoints, evaluation
from acai.training import Trainer

CHUNK = 10


def machine_description() -> str:
    """The CPU, and how many of its cores this process may use (fewer when pinned with taskset)."""
    total = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else total
    cores = f"{total} CPU cores" if usable == total else f"{usable} of {total} CPU cores (pinned)"
    return f"{platform.processor() or platform.machine()}, {cores}, {platform.system()}"


def train_and_checkpoint(trainer: Trainer, folder: Path, steps: int, *, card: dict | None = None,
                         eval_every: int = 0, checkpoint_every: int = 500, command: str = "") -> str | None:
    """Train `steps` more steps, checkpointing into `folder`. Returns the divergence message, if any."""
    from tqdm import tqdm

    config = trainer.config
    card = dict(card or {})
    wall = float(card.get("wall_seconds", 0.0))

    def save() -> None:
        checkpoints.save_trainer(folder, trainer, card={
            **card, "dataset": config.dataset, "steps": trainer.step,
            "training_images": trainer.step * config.batch_size, "wall_seconds": round(wall, 1),
            "machine": machine_description(), "command": command or card.get("command", ""),
        })

    print(f"training {config.dataset} {config.architecture} latent {config.latent_size} lambda {config.lam:g} "
          f"from step {trainer.step} for {steps} steps on {trainer.strategy.num_replicas_in_sync} "
          f"replica(s) -> {folder}", flush=True)
    target = trainer.step + steps
    with tqdm(total=steps, unit="step", dynamic_ncols=True) as bar:
        while trainer.step < target:
            report = trainer.run(min(CHUNK, target - trainer.step))
            wall += report.seconds
            bar.update(report.steps)
            last = trainer.history.last()
            bar.set_postfix(recon=f"{last.get('reconstruction', float('nan')):.4f}",
                            adv=f"{last.get('adversarial', float('nan')):.4f}",
                            critic=f"{last.get('critic_alpha', float('nan')):.4f}",
                            img_s=f"{report.images_per_second:.0f}")
            if report.diverged:
                save()
                return report.diverged
            if eval_every and trainer.dataset.is_stream and trainer.step % eval_every < CHUNK:
                trainer.evaluations.append({"step": trainer.step, **evaluation.lines_benchmark(trainer.networks, pairs=64)})
            if trainer.step % checkpoint_every < CHUNK:
                save()
    save()
    return None


def command_line() -> str:
    return " ".join(["python -m acai", *sys.argv[1:]])
