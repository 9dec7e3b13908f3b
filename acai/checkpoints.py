"""Self-describing checkpoint folders, written atomically, loaded without running any code.

A folder holds:
  config.json        format version, Config, step, dataset classes, metrics, a model card, and
                     the sha256 of every other file (a mismatch means corruption or mixed files)
  networks.weights.h5  Keras weights of encoder, decoder, critic and probe
  optimizer.npz      the three Adam states (plain arrays, read with allow_pickle=False)
  history.npz        per-step losses and periodic evaluations (compressed: a shipped model's 11,500
                     rows take about a third of the space)

Saving never removes or renames anything acai did not write. save_checkpoint writes everything into a
staging sibling, `.<name>.tmp-<pid>-<random>`, with config.json last. A new folder is that staging folder
renamed into place (atomic). An existing checkpoint folder gets the new files moved in one by one with
config.json last, so any other files a user keeps there (a README, notes) stay. A staging folder that
holds config.json is a whole checkpoint: if a crash interrupts the moves, the next open of the folder
finishes them (`recover`); a staging folder without config.json whose writer is gone is removed. A
folder that exists and is neither empty nor a checkpoint is refused, never written into.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import warnings
import zipfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from acai.config import Config

if TYPE_CHECKING:
    from acai.networks import ACAINetworks  # TensorFlow: imported when a checkpoint is loaded, not to read one's manifest

# 2: the config keeps a model's own settings under "settings" (format 1 listed every model's settings beside the
# other fields); both are read, so the checkpoints of format 1 (pretrained/ among them) load as before.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "networks.weights.h5"
OPTIMIZER_FILE = "optimizer.npz"
HISTORY_FILE = "history.npz"
_MAX_ARCHIVE_BYTES = 200 * 1024 * 1024


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt or does not match its config; the message says which."""


@dataclasses.dataclass
class Checkpoint:
    """What a checkpoint folder holds, loaded into memory."""

    config: Config
    networks: ACAINetworks
    step: int
    num_classes: int
    metrics: dict[str, Any]
    card: dict[str, Any]
    history: np.ndarray  # (steps, len(HISTORY_COLUMNS))
    evaluations: list[dict[str, float]]
    optimizer_state: dict[str, np.ndarray]
    path: Path | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _evaluations_to_arrays(evaluations: list[dict[str, float]]) -> dict[str, np.ndarray]:
    keys = sorted({key for row in evaluations for key in row})
    return {f"eval/{key}": np.array([row.get(key, np.nan) for row in evaluations], dtype=np.float64) for key in keys}


def _evaluations_from_arrays(arrays: dict[str, np.ndarray]) -> list[dict[str, float]]:
    columns = {key[len("eval/"):]: value for key, value in arrays.items() if key.startswith("eval/")}
    count = len(next(iter(columns.values()))) if columns else 0
    return [{key: float(value[index]) for key, value in columns.items()} for index in range(count)]


def _staging_prefix(folder: Path) -> str:
    return f".{folder.name}.tmp-"


# What follows `.<name>.tmp-` in a staging folder's name: the writer's pid (older acai wrote none) and
# tempfile's random part. Anything else (say a sibling folder of the user's named `<name>.tmp-x`) is not ours.
_STAGING_TAIL = re.compile(r"(?:(\d+)-)?[a-z0-9_]+")
_RETIRED_TAIL = re.compile(r"[a-z0-9_]+")


def _staging_writer(staging: Path, folder: Path) -> int | None:
    """The pid that wrote a staging folder, from its name (None: written by an older acai, no pid)."""
    match = _STAGING_TAIL.fullmatch(staging.name[len(_staging_prefix(folder)):])
    return int(match.group(1)) if match and match.group(1) else None


def _is_ours(sibling: Path, prefix: str, tail: re.Pattern) -> bool:
    return sibling.is_dir() and sibling.name.startswith(prefix) and bool(tail.fullmatch(sibling.name[len(prefix):]))


def _alive(pid: int | None) -> bool:
    """Whether the process that wrote a staging folder still runs (it may still be writing)."""
    if pid is None:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def recover(folder: str | os.PathLike) -> list[str]:
    """Finish or roll back saves into `folder` that a crash interrupted; returns what was done, in words.

    Only acai's own staging siblings of a writer that is gone are touched: one holding config.json is a
    whole checkpoint and its remaining files are moved into `folder` (finishing the save); one without is
    a save that never completed and is removed. (`.<name>.old-*` folders, which older versions of acai
    left when they crashed mid-swap, are put back or removed the same way.)
    """
    folder = Path(folder)
    parent, done = folder.parent, []
    try:
        siblings = sorted(parent.iterdir()) if parent.is_dir() else []
    except OSError:
        return done
    for staging in siblings:
        if not _is_ours(staging, _staging_prefix(folder), _STAGING_TAIL):
            continue
        if _alive(_staging_writer(staging, folder)):
            continue
        try:
            if (staging / CONFIG_FILE).is_file():
                _move_files_in(staging, folder)
                done.append(f"finished an interrupted save into {folder}")
            else:
                shutil.rmtree(staging)
                done.append(f"removed an unfinished save {staging.name}")
        except OSError:  # a read-only location: leave it as it is
            continue
    for retired in [p for p in siblings if _is_ours(p, f".{folder.name}.old-", _RETIRED_TAIL)]:
        try:
            if folder.exists():
                shutil.rmtree(retired)
            else:
                os.replace(retired, folder)
                done.append(f"restored {folder} from an interrupted save")
        except OSError:
            continue
    return done


def check_output_folder(folder: str | os.PathLike, *, resume: bool = False) -> Path:
    """Make sure a training can save into `folder` before it starts; raises CheckpointError saying why not.

    Accepted: a path that does not exist yet (its parents are created), an empty folder, or a checkpoint
    folder when resuming. Refused: a file, a folder that holds a checkpoint (unless resuming), a folder
    with anything else in it (nothing of the user's is overwritten), and a place acai cannot write.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise CheckpointError(f"{folder} is a file, not a folder: choose another --out")
    if folder.is_dir():
        recover(folder)
        entries = sorted(p.name for p in folder.iterdir())
        if (folder / CONFIG_FILE).is_file():
            if not resume:
                raise CheckpointError(
                    f"{folder} already holds a checkpoint; pass --resume to continue it or choose another --out")
        elif entries:
            shown = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
            raise CheckpointError(
                f"{folder} exists and is not an empty folder or a checkpoint (it holds {shown}); "
                "acai never writes over what it did not write: choose a new or empty --out")
    elif resume:
        raise CheckpointError(f"{folder} is not a checkpoint folder (it does not exist)")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkdtemp(prefix=f"{_staging_prefix(folder)}{os.getpid()}-", dir=folder.parent))
        probe.rmdir()
        if folder.is_dir():
            handle, name = tempfile.mkstemp(prefix=".acai-write-test-", dir=folder)
            os.close(handle)
            os.unlink(name)
    except OSError as error:
        raise CheckpointError(f"cannot write the checkpoint {folder}: {error.strerror or error}") from None
    return folder


def save_checkpoint(
    folder: str | os.PathLike,
    networks,
    config: Config,
    step: int,
    *,
    optimizer_state: dict[str, np.ndarray] | None = None,
    history: np.ndarray | None = None,
    evaluations: list[dict[str, float]] | None = None,
    metrics: dict[str, Any] | None = None,
    card: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint folder atomically; returns its path."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover(folder)
    _refuse_foreign(folder)
    staging = Path(tempfile.mkdtemp(prefix=f"{_staging_prefix(folder)}{os.getpid()}-", dir=folder.parent))
    try:
        networks.save_weights(staging / WEIGHTS_FILE)
        np.savez(staging / OPTIMIZER_FILE, **(optimizer_state or {}))
        history_arrays = {"history": np.zeros((0, 0)) if history is None else np.asarray(history)}
        history_arrays.update(_evaluations_to_arrays(evaluations or []))
        np.savez_compressed(staging / HISTORY_FILE, **history_arrays)
        manifest = {
            "format_version": FORMAT_VERSION,
            "config": config.to_dict(),
            "step": int(step),
            "num_classes": int(networks.probe.output_shape[-1]),
            "metrics": metrics or {},
            "card": card or {},
            "files": {name: _sha256(staging / name) for name in (WEIGHTS_FILE, OPTIMIZER_FILE, HISTORY_FILE)},
        }
        (staging / CONFIG_FILE).write_text(json.dumps(manifest, indent=2, default=float) + "\n")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # From here on the staging folder is a whole checkpoint: an interruption is finished by recover().
    if folder.exists():
        _move_files_in(staging, folder)
    else:
        os.replace(staging, folder)
    return folder


def _refuse_foreign(folder: Path) -> None:
    """Saving may replace acai's own files only: refuse a file, or a non-empty folder without a checkpoint."""
    if folder.exists() and not folder.is_dir():
        raise CheckpointError(f"{folder} is a file, not a checkpoint folder; nothing was written")
    if folder.is_dir() and not (folder / CONFIG_FILE).is_file() and any(folder.iterdir()):
        raise CheckpointError(f"{folder} holds files that are not an acai checkpoint; nothing was written")


def _move_files_in(staging: Path, folder: Path) -> None:
    """Move a whole staging checkpoint's files into `folder`, config.json last, replacing only those files;
    safe to repeat after an interruption (files already moved are simply no longer in `staging`)."""
    folder.mkdir(exist_ok=True)
    for name in (WEIGHTS_FILE, OPTIMIZER_FILE, HISTORY_FILE, CONFIG_FILE):
        if (staging / name).exists():
            os.replace(staging / name, folder / name)
    shutil.rmtree(staging, ignore_errors=True)


def update_metadata(folder: str | os.PathLike, metrics: dict[str, Any] | None = None,
                    card: dict[str, Any] | None = None) -> None:
    """Merge metrics and/or card fields into config.json, atomically (weights untouched)."""
    path = Path(folder) / CONFIG_FILE
    manifest = read_manifest(folder)
    manifest["metrics"].update(metrics or {})
    manifest["card"].update(card or {})
    write_atomic(path, json.dumps(manifest, indent=2, default=float) + "\n")


def write_atomic(path: str | os.PathLike, content: str | bytes) -> None:
    """Write a file so that readers (and a crash) see either the old content or the new, never half."""
    path = Path(path)
    data = content.encode() if isinstance(content, str) else content
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_manifest(folder: str | os.PathLike) -> dict[str, Any]:
    """config.json, checked for format version and required keys."""
    folder = Path(folder)
    path = folder / CONFIG_FILE
    recover(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{folder} is not a checkpoint folder (it does not exist or is a file)")
    if not path.is_file():
        raise CheckpointError(f"{folder} has no {CONFIG_FILE}: it is not a checkpoint written by acai")
    try:
        manifest = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path} is corrupt: not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or "format_version" not in manifest:
        raise CheckpointError(f"{path} has no format_version: it is not a checkpoint written by acai")
    if not _whole_number(manifest["format_version"]) or manifest["format_version"] not in READABLE_VERSIONS:
        raise CheckpointError(
            f"{path} has format version {manifest['format_version']}; this acai reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}"
        )
    for key in ("config", "step", "num_classes", "files"):
        if key not in manifest:
            raise CheckpointError(f"{path} lacks {key!r}")
    manifest.setdefault("metrics", {})
    manifest.setdefault("card", {})
    _check_manifest_fields(manifest, path)
    return manifest


MAX_CLASSES = 1000  # the probe's outputs: no dataset of acai's has more than 10


def _whole_number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_manifest_fields(manifest: dict[str, Any], path: Path) -> None:
    """Every field of config.json has the type and range acai writes, before anything is built from it."""
    if not _whole_number(manifest["step"]) or manifest["step"] < 0:
        raise CheckpointError(f"{path}: step must be a whole number >= 0, not {manifest['step']!r}")
    if not _whole_number(manifest["num_classes"]) or not 1 <= manifest["num_classes"] <= MAX_CLASSES:
        raise CheckpointError(f"{path}: num_classes must be a whole number from 1 to {MAX_CLASSES}, "
                              f"not {manifest['num_classes']!r}")
    for key in ("config", "metrics", "card", "files"):
        if not isinstance(manifest[key], dict):
            raise CheckpointError(f"{path}: {key} must be a mapping, not {type(manifest[key]).__name__}")
    files = manifest["files"]
    if set(files) != {WEIGHTS_FILE, OPTIMIZER_FILE, HISTORY_FILE}:
        raise CheckpointError(f"{path}: files must list the sha256 of exactly {WEIGHTS_FILE}, {OPTIMIZER_FILE} "
                              f"and {HISTORY_FILE}; it lists {', '.join(map(str, files)) or 'none'}")
    for name, digest in files.items():
        if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
            raise CheckpointError(f"{path}: the sha256 of {name} is not 64 hexadecimal digits")


def _check_weight_shapes(path: Path, networks) -> None:
    """Compare the arrays a weights file declares with the networks' variables before any data is read: an
    HDF5 file can declare an array of gigabytes while storing nothing (Keras would allocate it)."""
    import h5py

    declared: list[tuple[tuple[int, ...], str]] = []

    def visit(name, item):
        if isinstance(item, h5py.Dataset):
            declared.append((tuple(item.shape), item.dtype.str))

    try:
        with h5py.File(path, "r") as weights:
            weights.visititems(visit)
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{path} is not a readable weights file ({error})") from None
    expected = Counter(tuple(variable.shape) for variable in networks.weights)
    if Counter(shape for shape, _ in declared) != expected or any(kind != "<f4" for _, kind in declared):
        raise CheckpointError(f"{path} does not fit the config in {CONFIG_FILE}: it holds arrays of other shapes "
                              f"or types than the config's networks ({len(declared)} arrays; the networks have "
                              f"{len(networks.weights)})")


def load_checkpoint(folder: str | os.PathLike, precision: str | None = None) -> Checkpoint:
    """Rebuild the networks from the config in the folder and load their weights.

    `precision` ("float32" or "bfloat16"): build them to compute in another precision than they were
    trained in (the weights are float32 either way).

    Raises:
        CheckpointError: missing files, checksum mismatch, or weights that do not fit the config.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    for name, expected in manifest["files"].items():
        if not (folder / name).is_file():
            raise CheckpointError(f"{folder} is incomplete: {name} is missing")
        if _sha256(folder / name) != expected:
            raise CheckpointError(
                f"{folder / name} is corrupt or belongs to another checkpoint: its sha256 does not match {CONFIG_FILE}"
            )
    try:
        config = Config.from_dict(manifest["config"])
        config = config.replace(precision=precision) if precision else config
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{folder / CONFIG_FILE} holds an invalid config: {error}") from None
    from acai.networks import ACAINetworks

    networks = ACAINetworks(config, manifest["num_classes"])  # its size was bounded by Config
    _check_weight_shapes(folder / WEIGHTS_FILE, networks)
    try:
        with warnings.catch_warnings():
            # Keras only warns when it skips a group it cannot match and leaves fresh weights
            # behind; a partial load is a mismatch here.
            warnings.simplefilter("error", UserWarning)
            networks.load_weights(folder / WEIGHTS_FILE)
    except Exception as error:  # h5py and Keras raise several types for a bad file
        raise CheckpointError(
            f"{folder / WEIGHTS_FILE} does not fit the config in {CONFIG_FILE} "
            f"({config.architecture}, latent {config.latent_size}): {str(error)[:300]}"
        ) from None
    try:
        for name in (OPTIMIZER_FILE, HISTORY_FILE):
            _refuse_inflating(folder / name)
        with np.load(folder / OPTIMIZER_FILE, allow_pickle=False) as archive:
            optimizer_state = {key: archive[key] for key in archive.files}
        with np.load(folder / HISTORY_FILE, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{folder}: optimizer or history file unreadable ({error})") from None
    return Checkpoint(
        config=config,
        networks=networks,
        step=int(manifest["step"]),
        num_classes=int(manifest["num_classes"]),
        metrics=manifest["metrics"],
        card=manifest["card"],
        history=arrays.get("history", np.zeros((0, 0))),
        evaluations=_evaluations_from_arrays(arrays),
        optimizer_state=optimizer_state,
        path=folder,
    )


def _refuse_inflating(path: Path) -> None:
    """An .npz is a zip archive: refuse one that would unpack to more than an acai checkpoint ever holds."""
    with zipfile.ZipFile(path) as archive:
        if sum(info.file_size for info in archive.infolist()) > _MAX_ARCHIVE_BYTES:
            raise CheckpointError(
                f"{path} unpacks to more than {_MAX_ARCHIVE_BYTES >> 20} MB; that is no acai checkpoint file"
            )


def to_zip_bytes(folder: str | os.PathLike) -> bytes:
    """A checkpoint folder as a .zip archive in memory (for downloads)."""
    folder = Path(folder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in (CONFIG_FILE, WEIGHTS_FILE, OPTIMIZER_FILE, HISTORY_FILE):
            archive.write(folder / name, arcname=name)
    return buffer.getvalue()


def extract_zip(data: bytes, destination: str | os.PathLike) -> Path:
    """Unpack an uploaded checkpoint archive, accepting only the known file names."""
    destination = Path(destination)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = {Path(info.filename).name: info for info in archive.infolist() if not info.is_dir()}
            allowed = {CONFIG_FILE, WEIGHTS_FILE, OPTIMIZER_FILE, HISTORY_FILE}
            if CONFIG_FILE not in members or WEIGHTS_FILE not in members:
                raise CheckpointError(
                    f"the archive must hold {CONFIG_FILE} and {WEIGHTS_FILE} (a folder saved by acai, zipped)"
                )
            if sum(info.file_size for info in members.values()) > _MAX_ARCHIVE_BYTES:
                raise CheckpointError("the archive unpacks to more than 200 MB; that is no acai checkpoint")
            destination.mkdir(parents=True, exist_ok=True)
            for name, info in members.items():
                if name in allowed:
                    (destination / name).write_bytes(archive.read(info))
    except zipfile.BadZipFile:
        raise CheckpointError("the upload is not a valid .zip archive") from None
    return destination
