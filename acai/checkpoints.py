"""Self-describing checkpoint folders, written atomically, loaded without running any code.

A folder holds:
  config.json        format version, Config, step, dataset classes, metrics, a model card, and
                     the sha256 of every other file (a mismatch means corruption or mixed files)
  networks.weights.h5  Keras weights of encoder, decoder, critic and probe
  optimizer.npz      the three Adam states (plain arrays, read with allow_pickle=False)
  history.npz        per-step losses and periodic evaluations (compressed: a shipped model's 11,500
                     rows take about a third of the space)

save_* writes everything into a temporary sibling folder and renames it into place, so a crash
never leaves a half-written checkpoint behind; the previous one survives until the new one is whole.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from acai.config import Config

if TYPE_CHECKING:
    from acai.networks import ACAINetworks  # TensorFlow: imported when a checkpoint is loaded, not to read one's manifest

FORMAT_VERSION = 1
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
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
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
        _swap_into_place(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _swap_into_place(staging: Path, folder: Path) -> None:
    if not folder.exists():
        os.replace(staging, folder)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old-", dir=folder.parent))
    os.rmdir(retired)
    os.replace(folder, retired)
    os.replace(staging, folder)
    shutil.rmtree(retired, ignore_errors=True)


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
    if manifest["format_version"] != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has format version {manifest['format_version']}; this acai reads version {FORMAT_VERSION}"
        )
    for key in ("config", "step", "num_classes", "files"):
        if key not in manifest:
            raise CheckpointError(f"{path} lacks {key!r}")
    manifest.setdefault("metrics", {})
    manifest.setdefault("card", {})
    return manifest


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
        if name not in (WEIGHTS_FILE, OPTIMIZER_FILE, HISTORY_FILE):
            raise CheckpointError(f"{folder / CONFIG_FILE} lists an unexpected file {name!r}")
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

    networks = ACAINetworks(config, manifest["num_classes"])
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
