"""One frozen configuration that flows from the CLI or the app through data, networks,
trainer and checkpoint. Defaults are the paper's (docs/METHOD.md)."""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

DATASETS = ("lines", "mnist", "fashion_mnist", "digits")
ARCHITECTURES = ("conv", "mlp")
# The autoencoders of the paper's Table 1 (docs/METHOD.md, "The other autoencoders"). "acai" with lambda = 0
# is the plain autoencoder baseline; the others carry their own regulariser instead of the critic.
MODELS = ("acai", "dropout", "denoising", "vae", "aae", "vqvae")
PRECISIONS = ("float32", "bfloat16")

IMAGE_SIZE = 32  # every dataset is brought to 32x32, as in the paper
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
    model: str = "acai"  # one of MODELS; lambda and gamma only act on "acai"
    # "float32", or "bfloat16": the conv stacks compute in bfloat16 (weights, optimizer, losses and every
    # network's output stay float32). Not the paper's; faster on CPUs with AVX-512 BF16 (docs/BENCHMARKS.md).
    precision: str = "float32"
    # The other models' own settings, the authors' defaults (their flags' names in brackets):
    keep_probability: float = 0.5  # dropout: probability of keeping each latent unit [dropout]
    noise_std: float = 1.0  # denoising: std of the Gaussian noise added to the input [noise]
    kl_weight: float = 1.0  # vae: weight of the KL term of the ELBO [beta]
    codebook_bits: int = 14  # vqvae: log2 of the codebook size [z_log_size]
    commitment: float = 10.0  # vqvae: weight of the commitment loss [beta]
    code_vectors: int = 10  # vqvae: discrete codes per image [num_latents]

    def __post_init__(self) -> None:
        for name in ("lam", "gamma", "learning_rate", "keep_probability", "noise_std", "kl_weight", "commitment"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        for name in ("depth", "latent_size", "latent_width", "patch", "decoder_patch", "mlp_width", "batch_size",
                     "seed", "channels", "codebook_bits", "code_vectors"):
            if isinstance(getattr(self, name), bool) or not isinstance(getattr(self, name), numbers.Integral):
                raise ValueError(f"{name} must be an integer, got {getattr(self, name)!r}")
        if self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; choose one of {', '.join(DATASETS)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; choose one of {', '.join(PRECISIONS)}")
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose one of {', '.join(MODELS)} (ae: acai with lambda 0)")
        if self.model != "acai" and self.architecture != "conv":
            raise ValueError(f"the {self.model} model is built on the official conv architecture only")
        if not 0.0 < self.keep_probability <= 1.0:
            raise ValueError(f"keep_probability must lie in (0, 1], got {self.keep_probability}")
        if self.noise_std < 0 or self.kl_weight < 0 or self.commitment < 0:
            raise ValueError("noise_std, kl_weight and commitment must be >= 0")
        if not 1 <= self.codebook_bits <= 20 or self.code_vectors < 1:
            raise ValueError(f"codebook_bits must lie in [1, 20] and code_vectors be >= 1, "
                             f"got {self.codebook_bits} and {self.code_vectors}")
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

    @property
    def is_baseline(self) -> bool:
        """ACAI with lambda = 0 is the plain autoencoder (its critic still trains, as a monitor)."""
        return self.model == "acai" and self.lam == 0

    @property
    def kind(self) -> str:
        """The model's short name: "acai", "baseline" (ACAI at lambda 0), or one of the other MODELS."""
        return "baseline" if self.is_baseline else self.model

    @property
    def has_critic(self) -> bool:
        """Only ACAI (and its lambda-0 baseline) trains the critic that estimates alpha."""
        return self.model == "acai"

    def same_model_as(self, other: Config) -> bool:
        """True if the two differ at most in lambda and gamma (which can change during training) and in
        the precision of the arithmetic."""
        neutral = {"lam": 0.0, "gamma": 0.0, "precision": "float32"}
        return self.replace(**neutral) == other.replace(**neutral)

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Config:
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        return cls(**values)


# The paper's settings (docs/METHOD.md), by name. The CLI's --preset and the app start here.
PRESETS: dict[str, Config] = {
    "lines32": Config(dataset="lines", depth=16, latent_width=2, latent_size=64),
    "mnist32": Config(dataset="mnist", depth=16, latent_width=4, latent_size=32),
    "mnist256": Config(dataset="mnist", depth=16, latent_width=4, latent_size=256),
    "fashion256": Config(dataset="fashion_mnist", depth=16, latent_width=4, latent_size=256),
    "digits32": Config(dataset="digits", depth=16, latent_width=4, latent_size=32),
    "mnist_mlp": Config(dataset="mnist", architecture="mlp", latent_size=32),
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


# The authors' settings of the other autoencoders (their runs/*.sh): the same network as ACAI on each
# dataset, except VQ-VAE on lines, which they ran with a 4x4 latent map (latent 256).
def model_config(base: Config, model: str) -> Config:
    """`base` (a paper preset) for `model`: "ae" is ACAI at lambda 0; vqvae on lines takes the authors' 4x4 map."""
    if model == "ae":
        return base.replace(model="acai", lam=0.0)
    if model == "vqvae" and base.dataset == "lines" and (base.latent_width, base.latent_size) == (2, 64):
        return base.replace(model=model, latent_width=4, latent_size=256)
    return base.replace(model=model)


def default_config(dataset: str, architecture: str = "conv") -> Config:
    """The paper's settings for a dataset (lines: latent 2x2x16; images: 4x4x2)."""
    if architecture == "mlp":
        return Config(dataset=dataset, architecture="mlp", latent_size=32)
    if dataset == "lines":
        return PRESETS["lines32"]
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
