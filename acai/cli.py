"""Command line: `python -m acai train | race | eval | reproduce`.

Train writes a checkpoint folder (resumable with --resume); race trains ACAI against lambda 0 and
writes two; eval prints the paper's metrics as a table and writes them as JSON into the folder.
Each command imports TensorFlow (through acai.training and the rest) only once its arguments are
valid, so `--help` and a bad setting answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from acai import models, multiworker
from acai.config import ARCHITECTURES, DATASETS, PRECISIONS, PRESETS, Config, default_config, is_image_source
from acai.machine import configure_tensorflow, machine_description

if TYPE_CHECKING:  # TensorFlow: each command imports it once its arguments are valid
    from acai.driver import TrainingRun
    from acai.race import Standing
    from acai.training import Trainer


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m acai", description="Train and evaluate ACAI autoencoders.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model (or resume one) and checkpoint it")
    train.add_argument("--preset", choices=sorted(PRESETS), help="start from the paper's settings of a preset")
    train.add_argument("--model", choices=models.names() + tuple(models.aliases()),
                       help="the autoencoder, with its authors' settings: " + "; ".join(
                           [f"{name}: {models.get(name).summary}" for name in models.names()]
                           + [f"{alias}: {name} with {_changes_text(changes)}"
                              for alias, (name, changes) in models.aliases().items()]) + " (default acai)")
    train.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                       help="one of the model's own settings, e.g. keep_probability=0.3 for dropout (repeatable; "
                            "docs/METHOD.md lists each model's)")
    train.add_argument("--dataset", type=_dataset_name, metavar="NAME_OR_PATH",
                       help=f"{', '.join(DATASETS)} (default: mnist, or the preset's), or your own images: a folder "
                            "(sub-folders become labels), a .zip of one, or a Keras-layout .npz; each image is "
                            "centre-cropped to a square and resized to 32x32")
    train.add_argument("--architecture", choices=ARCHITECTURES,
                       help="conv (the authors' official) or mlp (the TF 2.0 blog-post notebook's)")
    train.add_argument("--latent-size", type=_positive_int, help="total latent units (conv: a multiple of latent_width^2)")
    train.add_argument("--latent-width", type=_positive_int, help="spatial size of the conv latent map")
    train.add_argument("--depth", type=_positive_int, help="filters of the first conv layer")
    train.add_argument("--patch", type=_positive_int,
                       help="conv: the encoder and critic fold patch x patch pixel blocks into channels, so they "
                            "work at 32/patch resolution (the decoder still draws at 32x32); 1 (default) is the paper's")
    train.add_argument("--decoder-patch", type=_positive_int,
                       help="conv: the decoder works at 32/decoder_patch and its last conv draws whole blocks; "
                            "1 (default) is the paper's")
    train.add_argument("--lam", "--lambda", dest="lam", type=float, help="adversarial weight; 0 = plain autoencoder")
    train.add_argument("--gamma", type=float, help="critic regulariser blend in [0, 1]")
    train.add_argument("--lr", type=float, help="Adam learning rate (default 1e-4)")
    train.add_argument("--batch", type=_positive_int, help="batch size, even (default 64)")
    train.add_argument("--seed", type=int, help="random seed")
    train.add_argument("--precision", choices=PRECISIONS,
                       help="float32 (default), or bfloat16 arithmetic in the conv stacks (float32 weights): faster "
                            "on CPUs with AVX-512 BF16 (bench/precision.py); may change on --resume")
    train.add_argument("--steps", type=_non_negative_int, default=1000, help="steps to train in this call")
    train.add_argument("--out", type=Path, help="checkpoint folder (default runs/<dataset>-<arch>-<latent>-lam<lambda>)")
    train.add_argument("--resume", action="store_true", help="continue the checkpoint in --out")
    train.add_argument("--checkpoint-every", type=_positive_int, default=500, help="steps between checkpoints")
    train.add_argument("--keep-every", type=_non_negative_int, default=0,
                       help="also keep a copy (weights and history, no optimizer state) at every multiple of N steps "
                            "in OUT-kept/step-N, to follow a long run over time (e.g. with `critic`); 0: none")
    train.add_argument("--eval-every", type=_non_negative_int, default=0,
                       help="steps between live evaluations kept in the history (lines benchmark on 64 pairs, "
                            "or mid-path greyness on images; 0 = off)")
    train.add_argument("--data-dir", help=f"folder with Keras-layout .npz files (default ${'ACAI_DATA_DIR'})")
    train.add_argument("--distribute", choices=("none", "mirrored", "multiworker"), default="none",
                       help="mirrored: data-parallel over this machine's GPUs (tf.distribute.MirroredStrategy); "
                            "multiworker: over the processes or machines that TF_CONFIG lists "
                            "(tf.distribute.MultiWorkerMirroredStrategy; docs/USAGE.md)")
    train.add_argument("--worker-timeout", type=_positive_float, default=300.0,
                       help="with --distribute multiworker: seconds to wait for every worker to join and the first "
                            "steps to run before giving up with a message")
    train.add_argument("--cpu-replicas", type=_positive_int, default=1,
                       help="with --distribute mirrored and no GPU: split the CPU into N logical devices (for testing)")

    race = commands.add_parser("race", help="ACAI against the plain autoencoder, trained in lockstep")
    race.add_argument("--preset", choices=sorted(PRESETS), default="demo-lines",
                      help="the model both sides use (demo-* presets separate within minutes on a CPU)")
    race.add_argument("--seconds", type=_positive_float, default=60.0, help="race time (compilation included)")
    race.add_argument("--out", type=Path, required=True, help="DIR: the two models go to DIR/acai and DIR/baseline")
    race.add_argument("--lam", "--lambda", dest="lam", type=float, help="ACAI's lambda (default: the preset's)")
    race.add_argument("--seed", type=int, help="random seed of both sides")
    race.add_argument("--against", choices=[name for name in models.names() if not models.get(name).has_critic],
                      help="race another autoencoder of Table 1 (its authors' settings; DIR/baseline holds it) "
                           "instead of ACAI at lambda 0; the two share the networks they have alike")
    race.add_argument("--eval-every", type=_positive_int, help="steps between evaluations (default: the preset's)")
    race.add_argument("--start", type=Path, metavar="FOLDER",
                      help="a warm start: both sides begin from this checkpoint of the preset's model (e.g. the "
                           "shipped race-starts/demo-lines-plain, a plain autoencoder that already reconstructs), "
                           "with fresh optimizer moments")
    race.add_argument("--record", type=Path, metavar="FILE",
                      help="record the race for replay in the app (frames of 4 test pairs at about 100 steps, denser "
                           "early, the critic's estimates and both curves; one .npz) and run it to --steps, not "
                           "--seconds")
    race.add_argument("--steps", type=_positive_int, default=20_000, help="with --record: steps to race (default "
                      "20,000)")
    race.add_argument("--resume", action="store_true",
                      help="with --record: continue the interrupted recording kept in --out, with its own settings")
    race.add_argument("--save-every", type=_positive_float, default=600.0, metavar="SECONDS",
                      help="with --record: save both sides and the recording so far in --out this often (default 600)")
    race.add_argument("--dataset", type=_dataset_name, metavar="NAME_OR_PATH",
                      help="race on another dataset with the preset's networks, e.g. your own images (a folder, "
                           ".zip or .npz)")
    race.add_argument("--data-dir")

    again = commands.add_parser("reproduce", help="train (or continue) and evaluate the paper's comparisons")
    again.add_argument("experiment", choices=("lines", "mnist"))
    again.add_argument("--steps", type=_positive_int, default=262_144,
                       help="total steps per model (the paper: 262,144); existing runs continue to it")
    again.add_argument("--runs", type=Path, default=Path("runs"), help="checkpoint folders (resumable)")
    again.add_argument("--report", type=Path, default=Path("docs/results"), help="where the evidence goes")
    again.add_argument("--quick", action="store_true", help="smaller evaluation samples")
    again.add_argument("--data-dir")

    evaluate = commands.add_parser("eval", help="evaluate a checkpoint folder")
    evaluate.add_argument("folder", type=Path)
    evaluate.add_argument("--quick", action="store_true", help="smaller samples (seconds instead of minutes)")
    evaluate.add_argument("--json", type=Path, help="where to write the metrics (default FOLDER/metrics.json)")
    evaluate.add_argument("--dataset", type=_dataset_name, metavar="PATH",
                          help="where the model's own images are now, if they moved (default: the path it recorded)")
    evaluate.add_argument("--data-dir")

    critic = commands.add_parser(
        "critic", help="what an ACAI critic tells its autoencoder: its outputs and the two gradients' sizes")
    critic.add_argument("folders", type=Path, nargs="+", help="checkpoint folders (e.g. one run's copies over time)")
    critic.add_argument("--batches", type=_positive_int, default=16, help="test batches to measure on (default 16)")
    critic.add_argument("--lam", "--lambda", type=_positive_float, dest="lam",
                        help="weigh the adversarial gradient with this lambda instead of the checkpoint's "
                             "(the plain autoencoder's is 0: --lam 0.5 shows how steep its critic is)")
    critic.add_argument("--data-dir")
    return parser


# The one mapping of `train`'s flags to Config fields: the config built from flags, what --resume accepts and
# the command line that reproduces a config (train_arguments) all read it. The flag's dest is its name.
CONFIG_FLAGS = (("dataset", "--dataset"), ("architecture", "--architecture"), ("latent_size", "--latent-size"),
                ("latent_width", "--latent-width"), ("depth", "--depth"), ("patch", "--patch"),
                ("decoder_patch", "--decoder-patch"), ("lam", "--lam"), ("gamma", "--gamma"),
                ("learning_rate", "--lr"), ("batch_size", "--batch"), ("seed", "--seed"), ("precision", "--precision"))
RESUMABLE = ("lam", "gamma", "precision")  # what --resume may change; the rest is the checkpoint's


def _flag_values(args: argparse.Namespace, fields=None) -> dict:
    """{Config field: value} of the given flags (all of CONFIG_FLAGS by default) that were set."""
    values = {field: getattr(args, flag[2:].replace("-", "_")) for field, flag in CONFIG_FLAGS}
    return {field: value for field, value in values.items() if value is not None and (fields is None or field in fields)}


def _changes_text(changes: dict) -> str:
    """An alias's Config changes as help text, e.g. "lam 0" or "debiased 0, restart_after 0"."""
    flat = {**{k: v for k, v in changes.items() if k != "settings"}, **changes.get("settings", {})}
    return ", ".join(f"{name} {value:g}" for name, value in flat.items())


def train_arguments(config: Config) -> list[str]:
    """The `train` flags that build `config` from scratch: --model, every flag whose value differs from the
    defaults, and each model setting as --setting (dataset, architecture and seed always)."""
    default = models.model_config(default_config(config.dataset, config.architecture), config.model)
    arguments = ["--model", config.model] if config.model != Config().model else []
    for field, flag in CONFIG_FLAGS:
        value = getattr(config, field)
        if field in ("dataset", "architecture", "seed") or value != getattr(default, field):
            arguments += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    for name, value in config.settings:
        if value != dict(default.settings).get(name):
            arguments += ["--setting", f"{name}={value:g}"]
    return arguments


def config_from_flags(flags: list[str] | tuple[str, ...]) -> Config:
    """The Config that `python -m acai train FLAGS` trains (e.g. a shipped model's flags)."""
    parser = build_parser()
    return _config_from_args(parser.parse_args(["train", *flags]), parser)


def _config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Config:
    base = PRESETS[args.preset] if args.preset else default_config(args.dataset or "mnist", args.architecture or "conv")
    if args.model:
        try:
            base = models.model_config(base.replace(dataset=args.dataset or base.dataset), args.model)
        except ValueError as error:
            parser.error(str(error))
    try:
        config = base.replace(**_flag_values(args))
        if args.setting:
            config = config.replace(settings={**dict(config.settings), **_parse_settings(args.setting)})
        return config
    except ValueError as error:
        parser.error(str(error))


def _parse_settings(pairs: list[str]) -> dict[str, float | int]:
    """NAME=VALUE pairs -> {name: number} (Config checks names, types and ranges against the model's Settings)."""
    settings = {}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        if not equals or not name:
            raise ValueError(f"--setting takes NAME=VALUE, got {pair!r}")
        try:
            settings[name.strip()] = int(text) if text.strip().lstrip("+-").isdigit() else float(text)
        except ValueError:
            raise ValueError(f"--setting {name}: {text!r} is not a number") from None
    return settings


def _default_folder(config: Config) -> Path:
    data = Path(config.dataset).stem if is_image_source(config.dataset) else config.dataset
    if config.has_critic:  # lambda is ACAI's setting
        return Path("runs") / f"{data}-{config.architecture}-{config.latent_size}-lam{config.lam:g}"
    return Path("runs") / f"{data}-{config.model}-{config.latent_size}"


def _dataset_name(text: str) -> str:
    """--dataset: a named dataset, or the path of the user's images (kept as given, made absolute so that a
    checkpoint records where its data came from wherever it is resumed)."""
    if text in DATASETS:
        return text
    if is_image_source(text) or Path(text).exists():
        return str(Path(text).expanduser().resolve())
    raise argparse.ArgumentTypeError(f"unknown dataset {text!r}; choose one of {', '.join(DATASETS)}, or give the path "
                                     "of your own images: a folder, a .zip of one, or a .npz (e.g. ./photos)")


def _load_data(name: str, data_dir, seed: int):
    """The dataset, with a progress bar while the user's images decode."""
    from acai.data import load_dataset

    if not is_image_source(name):
        return load_dataset(name, data_dir=data_dir, seed=seed)
    with tqdm(total=0, unit="img", desc="decoding images", leave=False) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        dataset = load_dataset(name, data_dir=data_dir, seed=seed, progress=progress)
    from acai.user_images import summary

    print(f"{dataset.title}: {summary(dataset.source)}", flush=True)
    return dataset


def make_strategy(distribute: str, cpu_replicas: int = 1):
    """None; a MirroredStrategy over every GPU (else over `cpu_replicas` logical CPU devices); or, for
    "multiworker", a MultiWorkerMirroredStrategy over the cluster in TF_CONFIG (each worker's GPUs, or its CPU)."""
    if distribute == "none":
        return None
    import tensorflow as tf

    if distribute == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()

    if not tf.config.list_physical_devices("GPU") and cpu_replicas > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_replicas)
    devices = [d.name for d in tf.config.list_logical_devices("GPU")] or [
        d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices)


def command_line() -> str:
    return " ".join(["python -m acai", *sys.argv[1:]])


CLI_CHUNK = 10  # steps between progress-bar updates


def kept_folder(folder: str | os.PathLike, step: int) -> Path:
    """Where `train --keep-every` keeps the copy of `folder` at `step`: beside it, <folder>-kept/step-<step>
    (a checkpoint folder holds one checkpoint)."""
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
            **card, "dataset": config.dataset, **({"data": trainer.dataset.source} if trainer.dataset.source else {}),
            "steps": trainer.step,
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


def race_table_header(metric: str) -> str:
    short = "MD" if metric == "mean_distance" else "mid-grey"
    smooth = "  ACAI smooth  base smooth" if metric == "mean_distance" else ""
    return f"{'seconds':>8} {'step':>6}  {'ACAI ' + short:>12} {'base ' + short:>12}{smooth}  {'ratio':>6}"


def race_table_row(standing: Standing) -> str:
    smooth = (f"  {standing.acai['smoothness']:>11.3f}  {standing.baseline['smoothness']:>11.3f}"
              if standing.metric == "mean_distance" else "")
    return (f"{standing.seconds:>8.1f} {standing.step:>6}  {standing.acai[standing.metric]:>12.3e} "
            f"{standing.baseline[standing.metric]:>12.3e}{smooth}  {standing.ratio:>6.2f}")


def _train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    task = None
    if args.distribute == "multiworker":  # checked before TensorFlow loads, so a bad spec is answered at once
        try:
            task = multiworker.read_task(os.environ.get(multiworker.VARIABLE))
        except multiworker.ClusterError as error:
            parser.error(str(error))
    from acai import checkpoints
    from acai.config import note_regularization_change
    from acai.data import DatasetError
    from acai.driver import TrainingRun
    from acai.training import Trainer

    if args.resume:
        if args.out is None:
            parser.error("--resume needs --out FOLDER")
        try:
            manifest = checkpoints.read_manifest(args.out)
        except checkpoints.CheckpointError as error:
            parser.error(str(error))
        config = saved = Config.from_dict(manifest["config"])
        fixed = set(_flag_values(args)) - set(RESUMABLE)
        given = [flag for field, flag in CONFIG_FLAGS if field in fixed]
        given += [flag for flag, value in (("--preset", args.preset), ("--model", args.model),
                                           ("--setting", args.setting)) if value]
        if given:
            parser.error(f"--resume continues the checkpoint's own settings; drop {', '.join(given)}")
        try:
            config = config.replace(**_flag_values(args, RESUMABLE))
        except ValueError as error:
            parser.error(str(error))
    else:
        config = _config_from_args(args, parser)
    folder = args.out or _default_folder(config)
    try:  # before any step: a folder that is not ours, or one we cannot write, is answered now
        checkpoints.check_output_folder(folder, resume=args.resume)
    except checkpoints.CheckpointError as error:
        parser.error(str(error))
    try:
        dataset = _load_data(config.dataset, args.data_dir, config.seed)
    except DatasetError as error:
        parser.error(str(error))
    if args.resume and dataset.channels != config.channels:
        parser.error(f"{folder} was trained on {config.channels}-channel images; {dataset.title} has {dataset.channels}")
    config = config.replace(channels=dataset.channels)  # the networks' channels come from the data
    watchdog = multiworker.start_watchdog(task, args.worker_timeout)
    strategy = make_strategy(args.distribute, args.cpu_replicas)
    try:
        run = (TrainingRun.restore(folder, dataset, strategy=strategy, eval_every=args.eval_every,
                                   precision=args.precision) if args.resume
               else TrainingRun(Trainer(config, dataset, strategy=strategy), eval_every=args.eval_every))
    except ValueError as error:  # e.g. a batch that does not split over the replicas
        parser.error(str(error))
    run.trainer.set_regularization(config.lam, config.gamma)  # --resume may change lambda and gamma
    card = (note_regularization_change(checkpoints.read_manifest(folder)["card"], run.step, saved, config)
            if args.resume else {})
    start = run.step
    with multiworker.checkpoint_target(task, folder) as target:
        multiworker.first_step(run, args.steps, watchdog)
        outcome = train_and_checkpoint(run, target, args.steps - (run.step - start), card=card,
                                       checkpoint_every=args.checkpoint_every, keep_every=args.keep_every,
                                       command=command_line())
    if outcome.diverged:
        print(f"error: {outcome.diverged}", file=sys.stderr)
        return 1
    if outcome.interrupted:
        print(f"interrupted: saved {folder} at step {run.step}; continue with --resume --out {folder}",
              file=sys.stderr)
        return 130
    print(f"saved {folder} at step {run.step}" if task is None or task.is_chief
          else f"worker {task.index} done at step {run.step} (the chief saved the checkpoint)")
    return 0


def _race(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from acai import race as racing
    from acai.data import DatasetError
    from acai.machine import machine_description, process_matmul_rate

    if args.resume:
        return _resume_recording(args, parser)
    try:
        config = PRESETS[args.preset].replace(**{k: v for k, v in (("lam", args.lam), ("seed", args.seed),
                                                                   ("dataset", args.dataset)) if v is not None})
        dataset = _load_data(config.dataset, args.data_dir, config.seed)
        config = config.replace(channels=dataset.channels)  # the networks' channels come from the data
    except (ValueError, DatasetError) as error:
        parser.error(str(error))
    from acai import checkpoints
    from acai.checkpoints import CheckpointError, check_output_folder

    start = None
    if args.start is not None:
        if args.against:
            parser.error("--start is for a race against lambda 0 (both sides the same model); drop --against")
        try:
            start = checkpoints.load_checkpoint(args.start)
            racing.check_start(config, start.config)
        except (CheckpointError, ValueError) as error:
            parser.error(f"--start {args.start}: {error}")
    try:
        for side in racing.SIDES:
            check_output_folder(args.out / side)
    except CheckpointError as error:
        parser.error(str(error))
    if args.record is not None:
        _check_record_target(args.record, parser)
        if (args.out / PARTIAL_RECORDING).exists():  # ours from an earlier recording, or refused
            _check_record_target(args.out / PARTIAL_RECORDING, parser)
    print(f"{machine_description()}; float32 matmul {process_matmul_rate() / 1e9:.0f} GFLOP/s", flush=True)
    opponent = None
    if args.against:
        opponent = models.model_config(config, args.against).replace(learning_rate=config.learning_rate,
                                                                      batch_size=config.batch_size)
    if start is not None:
        print(f"both sides start from {args.start}: {racing.describe_start(start)}", flush=True)
    race = racing.Race(config, dataset, opponent=opponent, start=start,
                       eval_every=args.eval_every or racing.eval_every_for(args.preset))
    against = (f"the {models.get(args.against).title} (shared start: {', '.join(race.shared) or 'none'})"
               if args.against else "lambda 0")
    print(f"race {args.preset}: ACAI (lambda {config.lam:g}) against {against}, {config.dataset}, "
          f"{config.architecture}, latent {config.latent_size}, lr {config.learning_rate:g}, batch "
          f"{config.batch_size}, " + (f"{args.steps:,} steps, recorded" if args.record else f"for {args.seconds:g} s"),
          flush=True)
    if args.record is not None:
        return _record_race(race, args)
    print(race_table_header(race.metric), flush=True)
    printed = 0
    while race.seconds < args.seconds:
        reports = race.advance(race.eval_every)
        for standing in race.standings[printed:]:
            print(race_table_row(standing), flush=True)
        printed = len(race.standings)
        diverged = [report.diverged for report in reports.values() if report.diverged]
        if diverged:
            print(f"error: {diverged[0]}", file=sys.stderr)
            break
    separated = race.separated_at() if race.metric == "mean_distance" else None
    if race.metric != "mean_distance":
        last = race.standings[-1] if race.standings else None
        print(f"mid-path greyness ratio baseline/ACAI after {race.seconds:.0f} s: "
              f"{last.ratio:.2f}" if last else "no evaluation yet")
    elif separated is not None:
        print(f"separated after {separated.seconds:.0f} s (step {separated.step}: ACAI's Mean Distance "
              f"{racing.SEPARATION_RATIO:g}x below the baseline's and staying so)")
    else:
        print(f"not separated within {race.seconds:.0f} s")
    for side, folder in race.save(args.out, card={"command": command_line()}).items():
        print(f"saved {folder} ({side}, step {race.trainer(side).step})")
    return 0


def _check_record_target(path: Path, parser: argparse.ArgumentParser) -> None:
    """Before the race: the recording's folder exists, and an existing file there is an earlier recording
    (replaced), never anything else (a user's file is not overwritten)."""
    from acai import recording

    if not path.parent.is_dir():
        parser.error(f"--record {path}: the folder {path.parent} does not exist")
    if path.exists():
        try:
            recording.read(path)
        except recording.RecordingError:
            parser.error(f"--record {path}: that file exists and is not a race recording; choose another name")


PARTIAL_RECORDING = "recording-partial.npz"  # in race --out DIR: the recording so far, beside DIR/acai and DIR/baseline


def _resume_recording(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """`race --record FILE --steps N --out DIR --resume`: the race and the recording continue from DIR."""
    from acai import race as racing
    from acai import recording
    from acai.checkpoints import CheckpointError
    from acai.data import DatasetError
    from acai.machine import machine_description, process_matmul_rate

    if args.record is None:
        parser.error("--resume continues an interrupted recording: race --record FILE --steps N --out DIR --resume")
    _check_record_target(args.record, parser)
    try:
        partial = recording.read(args.out / PARTIAL_RECORDING)
        config = Config.from_dict(partial.meta["config"])
        dataset = _load_data(config.dataset, args.data_dir, config.seed)
        race = racing.Race.restore(args.out, dataset, eval_every=int(partial.meta["eval_every"]))
    except (recording.RecordingError, CheckpointError, DatasetError, ValueError, KeyError) as error:
        parser.error(f"--resume: {args.out} holds no recording to continue ({error})")
    print(f"{machine_description()}; float32 matmul {process_matmul_rate() / 1e9:.0f} GFLOP/s", flush=True)
    print(f"continuing the recording in {args.out} at step {race.step:,} of {partial.meta['total_steps']:,} "
          f"({len(partial.steps)} points recorded in {partial.meta['wall_seconds']:.0f} s so far)", flush=True)
    args.steps = int(partial.meta["total_steps"])
    return _record_race(race, args, partial)


def _record_race(race, args: argparse.Namespace, partial=None) -> int:
    """`race --record FILE`: the whole race to --steps, recorded, then both models saved as usual. Every --save-every
    seconds both sides and the recording so far are saved in --out, so an interrupted recording continues with
    --resume."""
    from acai import recording

    state = args.out / PARTIAL_RECORDING
    card = {"command": command_line()}

    def keep(so_far: recording.Recording) -> None:
        race.save(args.out, card=card)
        recording.write(state, so_far)

    start = int(partial.steps[-1]) if partial is not None else 0
    try:
        with tqdm(total=args.steps, initial=start, unit="step", desc="recording") as bar:
            recorded = recording.record_race(race, args.steps, partial=partial, save=keep, save_every=args.save_every,
                                             progress=lambda step, total: bar.update(step - bar.n))
    except KeyboardInterrupt:
        saved = f"the state saved at step {recording.read(state).steps[-1]:,}" if state.exists() else "nothing saved"
        print(f"interrupted; {saved}: continue with the same command and --resume", file=sys.stderr)
        return 130
    recorded.meta["command"] = partial.meta.get("command", command_line()) if partial is not None else command_line()
    recording.write(args.record, recorded)
    size = args.record.stat().st_size / 2**20
    print(f"recorded {len(recorded.steps)} points of {args.steps:,} steps in {recorded.meta['wall_seconds']:.0f} s "
          f"-> {args.record} ({size:.1f} MiB)")
    for side, folder in race.save(args.out, card=card).items():
        print(f"saved {folder} ({side}, step {race.trainer(side).step})")
    state.unlink(missing_ok=True)
    return 0


def format_table(metrics: dict[str, float]) -> str:
    width = max(len(name) for name in metrics)
    return "\n".join(f"{name:<{width}}  {value:.6g}" for name, value in metrics.items())


CRITIC_COLUMNS = (("step", "step", "{:.0f}"), ("lambda", "lam", "{:g}"), ("on mix", "critic_on_mix_mean", "{:.3f}"),
                  ("sd", "critic_on_mix_sd", "{:.3f}"), ("corr alpha", "alpha_correlation", "{:.2f}"),
                  ("on blend", "critic_on_blend_mean", "{:.3f}"), ("alpha loss", "critic_alpha", "{:.4f}"),
                  ("real loss", "critic_real", "{:.4f}"), ("|grad rec|", "reconstruction_gradient", "{:.3g}"),
                  ("|grad adv|", "adversarial_gradient", "{:.3g}"), ("adv/rec", "gradient_ratio", "{:.3g}"),
                  ("cosine", "gradient_cosine", "{:.2f}"))


def _critic(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from acai import checkpoints, diagnostics
    from acai.data import DatasetError, load_dataset

    constant = diagnostics.constant_critic()
    print(f"a critic that ignores its input at best outputs {constant['output']:g}: alpha loss "
          f"{constant['critic_alpha']:.4f}, real loss {constant['critic_real']:.4f}; |grad adv| is lambda times "
          "the adversarial term's gradient on the autoencoder's weights, |grad rec| the reconstruction's")
    print("  ".join(f"{title:>10}" for title, _, _ in CRITIC_COLUMNS) + "  folder")
    datasets = {}  # one run's copies share their test set: load it once
    for folder in args.folders:
        try:
            checkpoint = checkpoints.load_checkpoint(folder, precision="float32")
            config = checkpoint.config
            if checkpoint.networks.critic is None:
                parser.error(f"{folder} is a {config.model} model: only ACAI and the plain autoencoder have a critic")
            key = (config.dataset, config.seed)
            if key not in datasets:
                datasets[key] = load_dataset(config.dataset, data_dir=args.data_dir, seed=config.seed)
        except (checkpoints.CheckpointError, DatasetError) as error:
            parser.error(str(error))
        images = datasets[key].x_test[: args.batches * config.batch_size]
        try:
            lam = config.lam if args.lam is None else args.lam
            report = diagnostics.critic_report(checkpoint.networks, images, config.batch_size, lam, config.gamma)
        except ValueError as error:
            parser.error(f"{folder}: {error}")
        report.update(step=checkpoint.step, lam=lam)
        print("  ".join(f"{form.format(report[key]):>10}" for _, key, form in CRITIC_COLUMNS) + f"  {folder}",
              flush=True)
    return 0


def _evaluate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from acai import checkpoints, evaluation
    from acai.data import DatasetError

    try:
        checkpoint = checkpoints.load_checkpoint(args.folder)
        dataset = _load_data(args.dataset or checkpoint.config.dataset, args.data_dir, checkpoint.config.seed)
    except (checkpoints.CheckpointError, DatasetError) as error:
        parser.error(str(error))
    if dataset.channels != checkpoint.config.channels:
        parser.error(f"{args.folder} was trained on {checkpoint.config.channels}-channel images; {dataset.title} has "
                     f"{dataset.channels}")
    trained_on = checkpoint.card.get("data", {}).get("sha256")
    if trained_on and dataset.source and dataset.source["sha256"] != trained_on:
        print(f"warning: the images at {dataset.name} are not those {args.folder} trained on (their digest differs)",
              file=sys.stderr)
    started = time.perf_counter()
    results = evaluation.evaluate(checkpoint.networks, dataset, quick=args.quick)
    results = {"step": checkpoint.step, **results}
    print(f"{args.folder}: {checkpoint.config.dataset} {checkpoint.config.architecture} "
          f"latent {checkpoint.config.latent_size} lambda {checkpoint.config.lam:g}, step {checkpoint.step}")
    print(format_table(results))
    path = args.json or args.folder / "metrics.json"
    checkpoints.write_atomic(path, json.dumps(results, indent=2) + "\n")
    if not args.quick and args.json is None:
        checkpoints.update_metadata(args.folder, metrics=results)
    print(f"wrote {path} ({time.perf_counter() - started:.1f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    configure_tensorflow()  # before anything loads TensorFlow: thread pools and log level
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args, parser)
    except KeyboardInterrupt:  # outside a training loop (which saves first and returns 130 itself)
        print("interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.command == "train":
        return _train(args, parser)
    if args.command == "race":
        return _race(args, parser)
    if args.command == "critic":
        return _critic(args, parser)
    if args.command == "reproduce":
        from acai.data import DatasetError
        from acai.reproduce import reproduce

        try:
            reproduce(args.experiment, args.steps, args.runs, args.report, data_dir=args.data_dir, quick=args.quick)
        except (DatasetError, ValueError, RuntimeError) as error:
            parser.error(str(error))
        print(f"wrote {args.report}/{args.experiment}.md, .json and figures")
        return 0
    return _evaluate(args, parser)
