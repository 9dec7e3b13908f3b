"""One frozen configuration that flows from the CLI or the app through data, networks,
trainer and checkpoint. Defaults are the paper's (docs/METHOD.md)."""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import os
from collections.abc import Mapping
from typing import Any

from acai import models

DATASETS = ("lines", "mnist", "fashion_mnist", "digits", "cifar10", "svhn")  # the named ones
IMAGE_SOURCE_SUFFIXES = (".zip", ".npz")
ARCHITECTURES = ("conv", "mlp")
PRECISIONS = ("float32", "bfloat16")

IMAGE_SIZE = 32  # every dataset is brought to 32x32, as in the paper
# No network larger than this is built (a config from a file could ask for any size; the largest shipped
# model has 6.5 million). Config checks its estimate before anything is allocated.
MAX_PARAMETERS = 50_000_000
ADAM_EPSILON = 1e-8  # the authors' TF1 Adam; Keras 3 would default to 1e-7
LEAKY_RELU_SLOPE = 0.2  # the authors' slope; Keras 3 would default to 0.3


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything that defines a model and how it trains.

    Derived values (scales, latent channels) are properties, never stored twice.
    """

    dataset: str = "mnist"
    architecture: str = "conv"
    depth: int = 16  # filters of the first conv; widths double at each scale
    latent_size: int = 32  # total number of latent units
    latent_width: int = 4  # spatial size of the conv latent map (ignored by mlp)
    # Side of the pixel blocks the conv encoder and critic fold into channels before their first conv
    # (space-to-depth): they then work at 32 / patch resolution. decoder_patch: the same for the decoder, whose
    # last conv then gives each pixel of a 32 / decoder_patch map a whole block (depth-to-space). 1 is the
    # paper's network; not the paper's otherwise (docs/METHOD.md, docs/DEMO_PRESETS.md).
    patch: int = 1
    decoder_patch: int = 1
    mlp_width: int = 1000  # hidden width of the MLP variant (the blog-post notebook's: 1000)
    lam: float = 0.5  # lambda, the paper's advweight: weight of the adversarial term
    gamma: float = 0.2  # the paper's reg: blend of input and reconstruction fed to the critic
    learning_rate: float = 1e-4
    batch_size: int = 64
    seed: int = 0
    channels: int = 1
    model: str = "acai"  # a name of acai.models (its registry); lambda and gamma only act on ACAI
    # "float32", or "bfloat16": the conv stacks compute in bfloat16 (weights, optimizer, losses and every
    # network's output stay float32). Not the paper's; faster on CPUs with AVX-512 BF16 (docs/BENCHMARKS.md).
    precision: str = "float32"
    # The model's own settings (its module's Settings: the authors' defaults fill what is not given). Given
    # as a mapping; stored as sorted (name, value) pairs so that a Config stays hashable. Read them typed
    # through `model_settings`.
    settings: Any = ()

    def __post_init__(self) -> None:
        for name in ("lam", "gamma", "learning_rate"):
            _check_number(name, getattr(self, name), integral=False)
        for name in ("depth", "latent_size", "latent_width", "patch", "decoder_patch", "mlp_width", "batch_size",
                     "seed", "channels"):
            _check_number(name, getattr(self, name), integral=True)
        if not isinstance(self.dataset, str) or not (self.dataset in DATASETS or is_image_source(self.dataset)):
            raise ValueError(f"unknown dataset {self.dataset!r}; choose one of {', '.join(DATASETS)}, or give the "
                             "path of your own images: a folder, a .zip of one, or a .npz (e.g. ./photos)")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 (grey) or 3 (colour), got {self.channels}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; choose one of {', '.join(PRECISIONS)}")
        if not isinstance(self.model, str):
            raise ValueError(f"model must be a name, got {self.model!r}")
        model = models.get(self.model)
        object.__setattr__(self, "settings", _settings_of(model, self.settings))
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"unknown architecture {self.architecture!r}; choose one of {', '.join(ARCHITECTURES)}"
            )
        if self.batch_size < 2 or self.batch_size % 2:
            # The partner of each example is the reversed batch: an odd batch would pair
            # its middle example with itself.
            raise ValueError(f"batch_size must be even and at least 2, got {self.batch_size}")
        if self.latent_size < 1 or self.depth < 1 or self.mlp_width < 1:
            raise ValueError("latent_size, depth and mlp_width must be positive")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.lam < 0:
            raise ValueError(f"lambda must be >= 0, got {self.lam}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must lie in [0, 1], got {self.gamma}")
        for name in ("patch", "decoder_patch"):
            value = getattr(self, name)
            if value < 1 or value & (value - 1) or value > IMAGE_SIZE:
                raise ValueError(f"{name} must be a power of two from 1 to {IMAGE_SIZE}, got {value}")
            if self.architecture != "conv" and value != 1:
                raise ValueError(f"{name} applies to the conv architecture only")
        if self.architecture == "conv":
            width = self.latent_width
            if width < 1 or IMAGE_SIZE % width or (IMAGE_SIZE // width) & (IMAGE_SIZE // width - 1):
                raise ValueError(f"latent_width must be a power of two dividing {IMAGE_SIZE}, got {width}")
            if width > IMAGE_SIZE // max(self.patch, self.decoder_patch):
                raise ValueError(f"latent_width {width} is larger than the map of 32 / patch pixels "
                                 f"(patch {self.patch}, decoder_patch {self.decoder_patch})")
            if self.latent_size % (width * width):
                raise ValueError(
                    f"latent_size {self.latent_size} is not a multiple of latent_width^2 = {width * width}"
                )
        if self.architecture not in model.architectures:
            raise ValueError(f"the {self.model} model is built on the {' or '.join(model.architectures)} "
                             "architecture only")
        model.validate(self)
        if self.parameter_count() > MAX_PARAMETERS:
            raise ValueError(f"these networks would have about {self.parameter_count():,} parameters; acai builds "
                             f"at most {MAX_PARAMETERS:,} (depth {self.depth}, latent {self.latent_size}, "
                             f"mlp_width {self.mlp_width})")

    def parameter_count(self, num_classes: int = 10) -> int:
        """The number of weights of this model's networks (with a probe over `num_classes`), computed from the
        config alone, before anything is built."""
        return models.get(self.model).parameter_count(self, num_classes)

    @property
    def encoder_scales(self) -> int:
        """Number of 2x down-samplings between the encoder's (and critic's) input map, 32 / patch, and the latent."""
        return int(round(math.log2(IMAGE_SIZE // self.patch // self.latent_width)))

    @property
    def decoder_scales(self) -> int:
        """Number of 2x up-samplings between the latent map and the decoder's last map, 32 / decoder_patch."""
        return int(round(math.log2(IMAGE_SIZE // self.decoder_patch // self.latent_width)))

    @property
    def latent_channels(self) -> int:
        return self.latent_size // (self.latent_width * self.latent_width)

    @property
    def latent_shape(self) -> tuple[int, ...]:
        if self.architecture == "conv":
            return (self.latent_width, self.latent_width, self.latent_channels)
        return (self.latent_size,)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (IMAGE_SIZE, IMAGE_SIZE, self.channels)

    @functools.cached_property
    def model_settings(self) -> Any:
        """The model's own settings, typed (an instance of its module's Settings dataclass)."""
        return models.get(self.model).Settings(**dict(self.settings))

    @property
    def kind(self) -> str:
        """The model's short name, Table 1's key: its model's name, or "baseline" for ACAI at lambda 0."""
        return models.get(self.model).kind(self)

    @property
    def is_baseline(self) -> bool:
        """ACAI with lambda = 0 is the plain autoencoder (its critic still trains, as a monitor)."""
        return self.kind == "baseline"

    @property
    def has_critic(self) -> bool:
        """Whether the model trains ACAI's critic, which estimates alpha (ACAI and its lambda-0 baseline)."""
        return models.get(self.model).has_critic

    def same_model_as(self, other: Config) -> bool:
        """True if the two differ at most in lambda and gamma (which can change during training) and in
        the precision of the arithmetic."""
        neutral = {"lam": 0.0, "gamma": 0.0, "precision": "float32"}
        return self.replace(**neutral) == other.replace(**neutral)

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "settings": dict(self.settings)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Config:
        """A Config from to_dict's output, or from a checkpoint of format 1, whose configs listed every
        model's settings beside the other fields (only the model's own are kept). A setting missing from the
        stored config was added later: it takes the model's `earlier_settings` value (what the code did)."""
        values = dict(values)
        flat = {name for model in models.names() for name in _setting_names(models.get(model))}
        legacy = {name: values.pop(name) for name in flat & set(values)}
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        model = models.get(str(values.get("model", "acai")))
        settings = values.get("settings") or {}
        if not isinstance(settings, Mapping):
            raise ValueError("settings must be a mapping of setting names to values")
        own = _setting_names(model)
        # A setting added after a checkpoint was saved takes the value that reproduces what that checkpoint did.
        values["settings"] = {**model.earlier_settings,
                              **{name: value for name, value in legacy.items() if name in own}, **settings}
        return cls(**values)


def _check_number(name: str, value: Any, integral: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral if integral else numbers.Real):
        raise ValueError(f"{name} must be {'an integer' if integral else 'a finite number'}, got {value!r}")
    if not integral and not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")


def _setting_names(model) -> set[str]:
    return {field.name for field in dataclasses.fields(model.Settings)}


def _settings_of(model, given: Any) -> tuple[tuple[str, Any], ...]:
    """`given` (a mapping, or the stored pairs) checked against the model's Settings, its defaults filled in."""
    if not isinstance(given, Mapping):
        try:
            given = dict(given)
        except (TypeError, ValueError):
            raise ValueError(f"settings must be a mapping of setting names to values, got {given!r}") from None
    unknown = sorted(set(given) - _setting_names(model))
    if unknown:
        own = ", ".join(sorted(_setting_names(model))) or "none"
        raise ValueError(f"the {model.name} model has no setting {', '.join(unknown)} (its settings: {own})")
    for field in dataclasses.fields(model.Settings):
        if field.name in given:
            _check_number(field.name, given[field.name], integral=isinstance(field.default, int))
    return tuple(sorted(dataclasses.asdict(model.Settings(**given)).items()))


# The paper's settings (docs/METHOD.md), by name. The CLI's --preset and the app start here.
PRESETS: dict[str, Config] = {
    "lines32": Config(dataset="lines", depth=16, latent_width=2, latent_size=64),
    "mnist32": Config(dataset="mnist", depth=16, latent_width=4, latent_size=32),
    "mnist256": Config(dataset="mnist", depth=16, latent_width=4, latent_size=256),
    "fashion256": Config(dataset="fashion_mnist", depth=16, latent_width=4, latent_size=256),
    "digits32": Config(dataset="digits", depth=16, latent_width=4, latent_size=32),
    "mnist_mlp": Config(dataset="mnist", architecture="mlp", latent_size=32),
    "svhn32": Config(dataset="svhn", depth=64, latent_width=4, latent_size=32),
    "svhn256": Config(dataset="svhn", depth=64, latent_width=4, latent_size=256),
    "cifar256": Config(dataset="cifar10", depth=64, latent_width=4, latent_size=256),
    "cifar1024": Config(dataset="cifar10", depth=64, latent_width=4, latent_size=1024),
}

# Demo presets for live races on a CPU: the paper's losses and step, chosen by bench/demo_sweep.py
# (docs/DEMO_PRESETS.md) so that ACAI pulls ahead of the plain autoencoder within minutes rather than a
# quarter of an hour. demo-lines is the paper's lines network whose encoder and critic read 4x4 pixel blocks
# (2.6-3.3x faster steps), at 3x the paper's learning rate; the image presets (not swept) are half as wide
# (depth 8) at 10x the learning rate. Not the paper's settings.
DEMO_PRESETS: dict[str, Config] = {
    "demo-lines": Config(dataset="lines", depth=16, latent_width=2, latent_size=64, patch=4, learning_rate=3e-4),
    "demo-mnist": Config(dataset="mnist", depth=8, latent_width=4, latent_size=32, learning_rate=1e-3),
    "demo-fashion": Config(dataset="fashion_mnist", depth=8, latent_width=4, latent_size=32, learning_rate=1e-3),
}
PRESETS.update(DEMO_PRESETS)


def is_image_source(dataset: str) -> bool:
    """Whether a dataset name is the path of the user's images (a folder, .zip or .npz): a name with a path
    separator, or one that ends in .zip or .npz. A bare word is a named dataset (or a typo to report)."""
    return "/" in dataset or os.sep in dataset or dataset.lower().endswith(IMAGE_SOURCE_SUFFIXES)


def default_config(dataset: str, architecture: str = "conv") -> Config:
    """The paper's settings for a dataset (lines: latent 2x2x16; MNIST-like images: 4x4x2; SVHN and CIFAR-10:
    depth 64 and their smaller latent). The user's images get MNIST's small network, which trains on a CPU;
    the caller sets `channels` from the data."""
    if architecture == "mlp":
        return Config(dataset=dataset, architecture="mlp", latent_size=32)
    named = {"lines": "lines32", "svhn": "svhn32", "cifar10": "cifar256"}
    if dataset in named:
        return PRESETS[named[dataset]]
    return Config(dataset=dataset, depth=16, latent_width=4, latent_size=32)


def note_regularization_change(card: dict, step: int, before: Config, after: Config) -> dict:
    """The card, with a record of lambda or gamma changing at `step` (a --resume with new values), so that
    a model card does not pass a run's last setting off as its whole history."""
    if all(math.isclose(old, new, rel_tol=1e-6) for old, new in ((before.lam, after.lam), (before.gamma, after.gamma))):
        return card  # (a float32 round trip may have touched the saved values)
    change = {"step": step, "lam_before": before.lam, "lam": after.lam, "gamma_before": before.gamma, "gamma": after.gamma}
    return {**card, "regularization_changes": [*card.get("regularization_changes", []), change]}


def setting_history(key: str, last: float, card: dict) -> str:
    """One regulariser setting ("lam" or "gamma") over a run, from its card: "0.5", or "0.5, then 0.05 from
    step 34,500" where a resumed run changed it."""
    changes = [change for change in card.get("regularization_changes", [])
               if not math.isclose(change[f"{key}_before"], change[key], rel_tol=1e-6)]
    start = changes[0][f"{key}_before"] if changes else last
    return f"{start:g}" + "".join(f", then {change[key]:g} from step {change['step']:,}" for change in changes)


def describe_regularization(lam: float, gamma: float, card: dict) -> str:
    """'lambda 0.5, gamma 0.2', or with the run's changes: 'lambda 0.5, then 0.05 from step 34,500; gamma 0.2'."""
    separator = "; " if card.get("regularization_changes") else ", "
    return f"lambda {setting_history('lam', lam, card)}{separator}gamma {setting_history('gamma', gamma, card)}"
