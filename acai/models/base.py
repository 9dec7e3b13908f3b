"""What every autoencoder is made of, and the registry in which the rest of acai looks models up.

A model is one module of acai/models that defines a subclass of `Model` and registers it. The class says, as
plain data that needs no TensorFlow (the CLI and Config read it before TensorFlow loads):
  name, title        how the CLI, checkpoints and pages name it
  Settings           a frozen dataclass of its own settings: defaults and validation (Config.settings holds
                     the values; an empty dataclass for a model without any)
  table_rows         its rows of the paper's Table 1 (ACAI has two: itself and, at lambda 0, the baseline)
  players            groups of variables, each with its own Adam; "probe" is the linear-probe monitor
  loss_names         what its step records, in this order, in the history
  capability flags   has_critic, architectures, distributable
and, once TensorFlow is loaded (an instance per trainer):
  build_networks     its networks beyond the shared encoder and decoder builders (acai.networks)
  forward            one forward pass: a Step of named recorded terms and one total per player
  state/after_update training state that is not a weight (the VQ-VAE's codebook averages)

Within these modules TensorFlow, acai.losses and acai.networks are lazy module proxies (`lazy`): importing a
model module loads nothing heavy; the first attribute used from them does.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from acai.config import Config


class lazy:  # noqa: N801 - reads like the module it stands for
    """A module imported on its first attribute access."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        return getattr(importlib.import_module(self._name), attribute)


tf = lazy("tensorflow")
losses = lazy("acai.losses")
builders = lazy("acai.networks")

Draw = Callable[[str, tuple, int], Any]  # draw("uniform" | "normal", per-example shape, salt) -> float32 tensor


@dataclasses.dataclass(frozen=True)
class NoSettings:
    """The settings of a model that has none of its own."""


@dataclasses.dataclass(frozen=True)
class TableRow:
    """One row of the paper's Table 1 (lines: Mean Distance x 10^-3 and Smoothness, each with the spread the
    paper gives after ±), in the paper's order. The figures are as recalled for this project and not yet
    checked against the paper's text (docs/RESULTS.md, "Where the paper's figures come from")."""

    kind: str  # Config.kind of the models it describes
    title: str  # e.g. "plain autoencoder", "VAE"
    position: int  # the row's place in the paper's table, from 0
    mean_distance: float  # x 10^-3
    smoothness: float
    mean_distance_spread: float = float("nan")
    smoothness_spread: float = float("nan")


@dataclasses.dataclass
class Batch:
    """What one step of a model sees (on one replica): the images and labels, `draw` for random numbers keyed
    by (seed, replica, step), the live knobs lambda and gamma (variables; only ACAI reads them) and the number
    of steps taken before this one (an int64 tensor; the AAE's warm-up reads it)."""

    images: Any
    labels: Any
    draw: Draw
    lam: Any
    gamma: Any
    step: Any = 0


@dataclasses.dataclass
class Step:
    """The result of a forward pass: the recorded terms by name (every name of loss_names), one total per player
    (every name of players) and `extras` that after_update receives."""

    recorded: dict[str, Any]
    totals: dict[str, Any]
    extras: Any = ()


class Model:
    """An autoencoder of acai: subclass it in its own module and decorate the class with @register."""

    name: ClassVar[str]
    title: ClassVar[str]  # e.g. "VAE"
    summary: ClassVar[str] = ""  # one line for the `--model` help
    Settings: ClassVar[type] = NoSettings
    table_rows: ClassVar[tuple[TableRow, ...]] = ()
    aliases: ClassVar[dict[str, dict[str, Any]]] = {}  # other names for this model with some Config changes
    # Settings added after checkpoints of the model were saved, with the values that reproduce what those
    # checkpoints did (Config.from_dict fills them in when a stored config lacks them).
    earlier_settings: ClassVar[dict[str, Any]] = {}
    players: ClassVar[tuple[str, ...]] = ("autoencoder", "probe")
    monitors: ClassVar[tuple[str, ...]] = ("probe",)  # players whose non-finite gradient does not stop training
    loss_names: ClassVar[tuple[str, ...]] = ("reconstruction", "probe", "probe_accuracy")
    has_critic: ClassVar[bool] = False  # trains ACAI's critic, which estimates alpha
    architectures: ClassVar[tuple[str, ...]] = ("conv",)
    distributable: ClassVar[bool] = True  # can train over several replicas

    # --- plain data: no TensorFlow ---
    @classmethod
    def kind(cls, config: Config) -> str:
        """The short name of a configured model of this class (Table 1's key): its name by default."""
        return cls.name

    @classmethod
    def adapt(cls, base: Config) -> Config:
        """`base` (a preset of the paper) as this model with the authors' settings for its dataset."""
        return base.replace(model=cls.name)

    @classmethod
    def describe(cls, config: Config, card: dict | None = None) -> str:
        """The model row of a model card: what was trained, with its settings (`card`: the checkpoint's card,
        which records changes made by resumed runs)."""
        return cls.title

    @classmethod
    def validate(cls, config: Config) -> None:
        """Checks across Config and the model's settings beyond what Settings checks itself; raise ValueError."""

    @classmethod
    def parameter_count(cls, config: Config, num_classes: int) -> int:
        """The weights of the networks build_networks makes, with the probe, counted from the config alone
        (Config refuses a model over MAX_PARAMETERS before anything is allocated). Override with the networks."""
        from acai.sizes import decoder_parameters, dense_parameters, encoder_parameters

        return encoder_parameters(config) + decoder_parameters(config) + dense_parameters(config.latent_size,
                                                                                          num_classes)

    # --- training: TensorFlow from here on ---
    def __init__(self, config: Config):
        self.config = config
        self.settings = config.model_settings

    @classmethod
    def build_networks(cls, networks, config: Config) -> None:
        """Create the model's networks as attributes of `networks` (an ACAINetworks): at least encoder and
        decoder. The attribute names are what the weights file stores: never rename one."""
        networks.encoder = builders.build_encoder(config)
        networks.decoder = builders.build_decoder(config)

    @classmethod
    def autoencoder_parts(cls, networks) -> list:
        """The Keras models whose variables the autoencoder player trains."""
        return [networks.encoder, networks.decoder]

    def build(self, networks) -> None:
        """Create the model's own training state, if any (once, in the trainer's distribution scope)."""

    def variables(self, networks) -> dict[str, list]:
        """The trainable variables of each player."""
        return {"autoencoder": networks.autoencoder_variables, "probe": networks.probe.trainable_variables}

    def forward(self, networks, batch: Batch) -> Step:
        raise NotImplementedError

    def learning_rate(self, player: str) -> float | None:
        """The learning rate of a player's Adam when it is not the config's (None: the config's)."""
        return None

    def state(self) -> dict[str, Any]:
        """Variables that a resume needs beside the networks and optimizers (saved with the optimizer state)."""
        return {}

    def after_update(self, networks, extras) -> None:
        """Called inside the compiled step once the updates are applied, with the Step's extras."""
        del networks, extras  # (AutoGraph needs a body)


def probe_terms(networks, latents, labels) -> dict[str, Any]:
    """The linear probe's loss and accuracy on the stopped latents (no gradient reaches the encoder)."""
    logits = networks.probe(tf.stop_gradient(latents), training=True)
    return {"probe": losses.probe_loss(labels, logits), "probe_accuracy": losses.probe_accuracy(labels, logits)}


_REGISTRY: dict[str, type[Model]] = {}


def register(model: type[Model]) -> type[Model]:
    """Add a model class to the registry (a class decorator); its name and aliases must be new."""
    for name in (model.name, *model.aliases):
        if name in _REGISTRY or name in aliases():
            raise ValueError(f"a model named {name!r} is registered already")
    unknown = set(model.monitors) - set(model.players)
    if unknown or model.players[0] != "autoencoder":
        raise ValueError(f"{model.name}: the first player must be the autoencoder; monitors must be players")
    _REGISTRY[model.name] = model
    return model


def unregister(name: str) -> None:
    """Remove a model class from the registry (for tests that register models of their own)."""
    _REGISTRY.pop(name, None)


def get(name: str) -> type[Model]:
    """The model class registered under `name`; ValueError naming the choices otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(_REGISTRY)}") from None


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def aliases() -> dict[str, tuple[str, dict[str, Any]]]:
    """Other names for configured models, e.g. "ae" -> ("acai", {"lam": 0.0})."""
    return {alias: (model.name, changes) for model in _REGISTRY.values() for alias, changes in model.aliases.items()}


def table_rows() -> list[TableRow]:
    """Every registered model's rows of the paper's Table 1, in the paper's order."""
    return sorted((row for model in _REGISTRY.values() for row in model.table_rows), key=lambda row: row.position)


def table_position(kind: str) -> int:
    """A model kind's row in the paper's Table 1, for sorting; kinds outside the table come after it."""
    kinds = [row.kind for row in table_rows()]
    return kinds.index(kind) if kind in kinds else len(kinds)


def model_config(base: Config, name: str) -> Config:
    """`base` (a paper preset) as the model or alias `name`, with the authors' settings for its dataset."""
    name, changes = aliases().get(name, (name, {}))
    return get(name).adapt(base).replace(**changes)
