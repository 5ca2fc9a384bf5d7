"""The typed configuration: every option once, with its default, its check and what it is for.

A :class:`Config` is built from a model (loss x condition, ``models/registry.py``), a preset (plain
data in the same file) and the user's overrides, which are given flat (``epochs=50``,
``--set gumbel_tau=0.5``): every option name is unique across the sections, so a flat name finds
its section. Each stage receives its own section: the encoders :class:`EncodingConfig`, the networks
:class:`NetworkConfig`, the trainer :class:`TrainingConfig`, the quality monitor
:class:`MonitorConfig`, differential privacy :class:`PrivacyConfig`, devices and streaming
:class:`RuntimeConfig`, and a model family with options of its own its section (:class:`LatentConfig`).

A model file stores ``Config.flat()``; :meth:`Config.from_flat` reads it back, giving options a file
predates the values they had before the option existed (``BEFORE_RECORDED``).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any, Callable, ClassVar

from .errors import ConfigError

Check = Callable[[str, Any], None]


def option(default: Any, check: Check | None = None, doc: str = "") -> Any:
    """A configuration field: its default, the check of a value, and a line on what it does."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: copy.deepcopy(d), metadata={"check": check, "doc": doc})
    return field(default=default, metadata={"check": check, "doc": doc})


# --- checks: each raises ConfigError naming the option -----------------------------------------
def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def positive(name: str, v: Any) -> None:
    if not _number(v) or not v > 0 or not math.isfinite(v):
        raise ConfigError(f"`{name}` must be a positive number, got {v!r}")


def positive_or_none(name: str, v: Any) -> None:
    if v is not None:
        positive(name, v)


def whole(minimum: int = 0, maximum: int | None = None) -> Check:
    def check(name: str, v: Any) -> None:
        if not isinstance(v, int) or isinstance(v, bool) or v < minimum or (maximum is not None and v > maximum):
            bounds = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
            raise ConfigError(f"`{name}` must be a whole number {bounds}, got {v!r}")
    return check


def whole_or_none(minimum: int = 0, maximum: int | None = None) -> Check:
    inner = whole(minimum, maximum)
    return lambda name, v: None if v is None else inner(name, v)


def at_least(low: float, high: float = math.inf, hint: str = "") -> Check:
    def check(name: str, v: Any) -> None:
        if not _number(v) or not low <= v < high:
            bounds = f">= {low:g}" if high == math.inf else f"in [{low:g}, {high:g})"
            raise ConfigError(f"`{name}` must be a number {bounds}{hint}, got {v!r}")
    return check


def one_of(*choices: Any) -> Check:
    def check(name: str, v: Any) -> None:
        if v not in choices:
            raise ConfigError(f"`{name}` must be one of {', '.join(map(str, choices))}, got {v!r}")
    return check


def boolean(name: str, v: Any) -> None:
    if not isinstance(v, bool):
        raise ConfigError(f"`{name}` must be true or false, got {v!r}")


def layers(name: str, v: Any) -> None:
    if not isinstance(v, list) or not v or not all(isinstance(x, dict) and isinstance(x.get("width"), int)
                                                     and x["width"] > 0 for x in v):
        raise ConfigError(f"`{name}` must be a list of layers such as {{\"width\": 256, \"activation\": \"relu\"}}, "
                          f"got {v!r}")


def betas(name: str, v: Any) -> None:
    if not (isinstance(v, (list, tuple)) and len(v) == 2 and all(_number(x) and 0 <= x < 1 for x in v)):
        raise ConfigError(f"`{name}` must be two numbers in [0, 1), got {v!r}")


def device(name: str, v: Any) -> None:
    if not isinstance(v, str) or (v not in ("auto", "cpu", "cuda") and not v.startswith("cuda:")):
        raise ConfigError(f"`{name}` must be auto, cpu or cuda, got {v!r}")


def dp_number(name: str, v: Any) -> None:
    if v is not None and (not _number(v) or not 0 < v < math.inf):
        raise ConfigError(f"`{name}` must be a positive number, got {v!r}")


#: more threads than any CPU runs (a model file or option asking for more is refused, not passed to torch)
MAX_THREADS = 4096
NUMERIC_METHODS = ("mode_specific", "minmax", "minmax01", "standard", "quantile", "mode_quantile")
CATEGORICAL_METHODS = ("onehot", "gaussian_interval", "ordinal")
PRECISIONS = ("auto", "float32", "bfloat16")
#: what the quality monitor (early stopping, best-generator selection) scores
MONITORS = ("column_shapes", "fidelity", "detection", "all")


class Section:
    """A part of the configuration: its fields' checks run when it is made."""

    def __post_init__(self) -> None:
        for f in fields(self):
            check = f.metadata.get("check")
            if check is not None:
                check(f.name, getattr(self, f.name))
        self.validate()

    def validate(self) -> None:
        """Checks that involve several fields of the section."""


@dataclass
class EncodingConfig(Section):
    numeric_encoding: str = option("mode_specific", one_of(*NUMERIC_METHODS),
                                   "mode_specific | minmax (to [-1, 1]) | minmax01 | standard | quantile (normal scores) | "
                                   "mode_quantile (normal scores within well-separated modes)")
    categorical_encoding: str = option("onehot", one_of(*CATEGORICAL_METHODS), "onehot | gaussian_interval | ordinal")
    ordinal_encoding: str = option("onehot", one_of(*CATEGORICAL_METHODS), "onehot | ordinal | gaussian_interval")
    categorical_activation: str = option("gumbel", one_of("gumbel", "softmax", "tanh", "sigmoid"),
                                         "the output of one-hot blocks")
    gumbel_tau: float = option(0.2, positive, "Gumbel-softmax temperature")
    max_modes: int = option(10, whole(1), "mixture modes per numeric column (mode_specific, mode_quantile)")
    mode_separation: float = option(1.5, positive, "mode_quantile: mixture components closer than this many times "
                                                   "their spreads' sum are one mode")
    point_mass_share: float = option(0.05, at_least(0.0, 1.0 + 1e-12),
                                     "mode_specific, mode_quantile: a value that holds at least this share of "
                                     "the rows is an exact mode of its own (the zeros of a gain, the 40 of hours "
                                     "per week)")
    bgm_sample_size: int = option(5000, whole(1), "rows the mixture of a numeric column is fitted on")
    max_categories: int = option(200, whole(2), "a column with more values keeps its most frequent ones and a "
                                                "'rare' code")
    categorical_threshold: int = option(10, whole(1), "a numeric column with at most this many values is "
                                                      "categorical")
    derive_columns: bool = option(False, boolean, "a column that every training row shows to be a function of a "
                                                  "categorical column is looked up, not learnt")
    identifiers: str = option("generate", one_of("generate", "drop", "learn"),
                              "keys, e-mails, phones, names and free text: generate (new values in their format, "
                              "never training ones) | drop (left out) | learn (as categories: copies training values)")
    detect_rules: bool = option(True, boolean, "fit finds inequalities (a <= b in every row) and sums between "
                                               "columns and keeps them in generated rows")
    lookup_pairs: bool = option(False, boolean, "columns that every training row shows to be a function of two "
                                                "columns together (a store's prices in a week) take, with the pair, "
                                                "the closest combination training rows hold")
    gap_min_values: int = option(0, whole(0), "an inequality a <= b is learnt as the gap b - a only when b has more "
                                              "than this many values (fewer: kept by rejection; 0 = always the gap)")
    link_values: bool = option(False, boolean, "fit finds values of two columns that occur in the same rows (or one "
                                               "only with the other: internet 'No' and security 'No internet "
                                               "service', a count's 0 and its plan 'no') and generated rows keep them")
    link_one_way: bool = option(True, boolean, "link_values: also a value that occurs only with another's (every "
                                               "husband male), not only two that occur in the same rows")
    group_numerics: bool = option(False, boolean, "a number whose range a category sets (a rate by its grade, an "
                                                  "income by the job level) is learnt as its rank within that "
                                                  "category's values and decoded inside the category's range")
    join_categories: bool = option(False, boolean, "categorical columns that go closely together (a marital status "
                                                   "and the relationship, a job level and the role) are learnt as "
                                                   "one column of the combinations the training rows hold")
    join_min_association: float = option(0.3, at_least(0.0, 1.0 + 1e-12),
                                         "join_categories: two columns are joined from this bias-corrected Cramér's V")
    join_max_combinations: int = option(64, whole(2), "join_categories: the most combinations a joint holds (the "
                                                      "width of its block)")
    forbid_unseen_combinations: bool = option(False, boolean, "two categorical columns that go together keep "
                                              "their own outputs, but a combination of their values that no "
                                              "training row holds is never generated (a job level and a role)")
    forbid_min_association: float = option(0.3, at_least(0.0, 1.0 + 1e-12), "forbid_unseen_combinations: from "
                                           "this bias-corrected Cramér's V between the two columns")
    ratio_numerics: bool = option(False, boolean, "a positive number that is mostly another's multiple (total "
                                                  "charges of the months of tenure) is learnt as the ratio of the "
                                                  "two and decoded as the ratio times the other")


@dataclass
class NetworkConfig(Section):
    latent_dim: int = option(128, whole(1), "noise dimensions of the generator")
    generator_layers: list = option([{"width": w, "activation": "relu", "dropout": 0.0, "batchnorm": True,
                                      "residual": True} for w in (256, 256)], layers,
                                    "the generator's hidden layers: width, activation, dropout, batchnorm, residual")
    discriminator_layers: list = option([{"width": w, "activation": "leaky_relu", "dropout": 0.5,
                                          "batchnorm": False, "residual": False} for w in (256, 256)], layers,
                                        "the discriminator's hidden layers")
    pac: int = option(1, whole(1), "rows the discriminator scores together (PacGAN)")


@dataclass
class TrainingConfig(Section):
    batch_size: int = option(500, whole(1), "rows per batch (a multiple of pac)")
    lr_g: float = option(2e-4, positive, "the generator's Adam learning rate")
    lr_d: float = option(2e-4, positive, "the discriminator's Adam learning rate")
    betas: list = option([0.5, 0.9], betas, "Adam's betas")
    weight_decay_g: float = option(1e-6, at_least(0.0), "the generator's weight decay")
    weight_decay_d: float = option(0.0, at_least(0.0), "the discriminator's weight decay")
    n_critic: int | None = option(None, whole_or_none(1), "critic steps per generator step (None: the model's)")
    gp_lambda: float = option(10.0, at_least(0.0), "weight of the gradient penalty (Wasserstein losses)")
    gp_every: int = option(1, whole(1), "the penalty on one critic step in gp_every, at gp_every times the weight")
    pretrain_critic_steps: int = option(0, whole(0), "critic steps before the first generator step")
    ema_decay: float = option(0.0, at_least(0.0, 1.0, " (0 = off, 0.999 = a long average)"),
                              "the sampled generator is a moving average of its weights")
    reuse_fakes: bool = option(False, boolean, "the generator step reuses the last critic step's fake rows")
    classifier_weight: float = option(0.0, at_least(0.0, hint=" (0 = off, 1 = as strong as the adversarial loss)"),
                                      "a label classifier's cross-entropy joins the generator's loss")
    classifier_loss: str = option("full", one_of("full", "matched", "quantile"),
                                  "full: every generated row is pushed towards its label as the classifier sees "
                                  "it | matched: each label's rows only until the classifier is as sure of them "
                                  "as of the real rows of that label | quantile: each label's rows as sure as "
                                  "the real rows, quantile by quantile")
    moment_weight: float = option(0.0, at_least(0.0), "conditional models: each label's mean generated row is "
                                                      "pulled towards its mean real row in the batch (0 = off)")
    precision: str = option("float32", one_of(*PRECISIONS), "the training step's arithmetic")
    refine_candidates: int = option(0, whole(0), "k > 1: after training, a classifier learns real from generated "
                                                 "rows, and each sampled row is one of k candidates picked by its "
                                                 "density ratio (0, 1 = off)")
    refine_epochs: int = option(5, whole(1), "passes of the refinement classifier over its rows")
    steps: int | None = option(None, whole_or_none(0), "generator steps (0 = an untrained baseline)")
    epochs: float | None = option(100, positive_or_none, "passes over the data (steps wins when both are given)")
    min_steps: int = option(0, whole(0), "floor on an epoch budget")
    time_limit: float | None = option(None, positive_or_none, "seconds from the start of fit")
    condition_balance: float = option(0.0, at_least(0.0, 1.0 + 1e-12, " (0: as in the data, 1: uniform)"),
                                      "how far training rows are drawn towards equal label shares")

    def validate(self) -> None:
        if self.steps is None and self.epochs is None:
            raise ConfigError("give a training budget: `steps` or `epochs`")


@dataclass
class MonitorConfig(Section):
    eval_every: int = option(0, whole(0), "steps between quality scores (0 = off unless early_stopping)")
    monitor: str = option("column_shapes", one_of(*MONITORS), "what the monitor scores")
    early_stopping: bool = option(False, boolean, "stop when the monitored score stops improving")
    patience: int = option(8, whole(0), "scores without improvement before stopping")
    quality_rows: int = option(2000, whole(0), "rows generated for each score")


@dataclass
class PrivacyConfig(Section):
    dp_epsilon: float | None = option(None, dp_number, "differential privacy: the epsilon of the release")
    dp_delta: float | None = option(None, dp_number, "the delta of (epsilon, delta)-DP (default 1/(10 n))")
    dp_max_grad_norm: float = option(1.0, dp_number, "per-row gradient clipping norm")

    def validate(self) -> None:
        if self.dp_delta is not None and self.dp_delta >= 1:
            raise ConfigError(f"`dp_delta` must be below 1, got {self.dp_delta!r}")

    @property
    def enabled(self) -> bool:
        return self.dp_epsilon is not None


@dataclass
class RuntimeConfig(Section):
    seed: int = option(0, whole(0), "same seed, same model")
    device: str = option("auto", device, "auto, cpu, cuda or cuda:N")
    stream_sample_rows: int = option(100_000, whole(1), "streaming: rows sampled for schema and mixtures")
    stream_block_rows: int = option(4096, whole(1), "streaming: rows per block read from the cache")
    stream_buffer_rows: int = option(65_536, whole(1), "streaming: rows mixed in the shuffle buffer")
    stream_workers: int = option(0, whole(0), "streaming: data-loader workers")
    threads: int | None = option(None, whole_or_none(1, MAX_THREADS), "CPU threads of a fit and of sampling (None: "
                                 "the cores other processes leave free, or OMP_NUM_THREADS)")


@dataclass
class LatentConfig(Section):
    """The latent family: a VAE over the encoded rows, and a GAN in its latent space."""

    vae_latent: int = option(64, whole(1), "latent dimensions of the VAE")
    vae_layers: list = option([{"width": w, "activation": "relu"} for w in (256, 256)], layers,
                              "the VAE encoder's hidden layers (the decoder mirrors them)")
    vae_epochs: float = option(60, positive, "passes over the data that train the VAE")
    vae_lr: float = option(1e-3, positive, "the VAE's Adam learning rate")
    vae_beta: float = option(0.01, at_least(0.0), "weight of the KL term")


#: the sections of a table model's configuration, in order
SECTIONS: dict[str, type[Section]] = {
    "encoding": EncodingConfig, "network": NetworkConfig, "training": TrainingConfig,
    "monitor": MonitorConfig, "privacy": PrivacyConfig, "runtime": RuntimeConfig, "latent": LatentConfig,
}
#: flat option name -> its section
OPTION_SECTION: dict[str, str] = {f.name: name for name, cls in SECTIONS.items() for f in fields(cls)}
#: options added after model files were first written, and what the files without them were trained
#: with (a preset may set another value now): derived columns learnt, no label classifier, float32, keys
#: learnt as categories, no rules detected, no values linked
BEFORE_RECORDED = {"derive_columns": False, "classifier_weight": 0.0, "classifier_loss": "full", "precision": "float32",
                   "identifiers": "learn", "detect_rules": False, "link_values": False,
                   "group_numerics": False, "ratio_numerics": False,
                   "forbid_unseen_combinations": False,
                   "gap_min_values": 0, "lookup_pairs": False}
#: keys of a model file's flat config that are not options
_IDENTITY = ("model", "preset", "family", "loss", "conditional")


@dataclass
class Config:
    """A model's whole configuration: what it is (model, family, loss, condition) and its sections."""

    model: str
    preset: str
    family: str
    loss: str | None
    conditional: bool
    encoding: EncodingConfig = field(default_factory=EncodingConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    latent: LatentConfig = field(default_factory=LatentConfig)

    SECTIONS: ClassVar[dict[str, type[Section]]] = SECTIONS

    def __post_init__(self) -> None:
        t = self.training
        if t.batch_size % self.network.pac:
            raise ConfigError(f"`batch_size` ({t.batch_size}) must be a multiple of `pac` ({self.network.pac})")

    # --- building -------------------------------------------------------------------------
    @classmethod
    def build(cls, model: str, preset: str = "default", **overrides: Any) -> "Config":
        """Defaults <- preset <- model <- overrides (``None`` overrides are ignored)."""
        from .models.registry import MODELS, PRESETS

        if model not in MODELS:
            raise ConfigError(f"unknown model {model!r}; choose one of {', '.join(sorted(MODELS))}")
        if preset not in PRESETS:
            raise ConfigError(f"unknown preset {preset!r}; choose one of {', '.join(sorted(PRESETS))}")
        unknown = sorted(set(overrides) - set(OPTION_SECTION))
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(unknown)}; valid options: "
                              f"{', '.join(sorted(OPTION_SECTION))}")
        m = MODELS[model]
        flat = copy.deepcopy(dict(PRESETS[preset]))
        flat.update({k: v for k, v in m.items() if k in OPTION_SECTION and k not in PRESETS[preset]})
        given = {k: copy.deepcopy(v) for k, v in overrides.items() if v is not None}
        flat.update(given)
        if flat.get("steps") is not None and "epochs" not in given:
            flat["epochs"] = None
        return cls._make(model, preset, m.get("family", "adversarial"), m.get("loss"), bool(m["conditional"]), flat)

    @classmethod
    def _make(cls, model, preset, family, loss, conditional, flat: dict[str, Any]) -> "Config":
        parts: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
        for k, v in flat.items():
            parts[OPTION_SECTION[k]][k] = v
        sections = {name: SECTIONS[name](**kw) for name, kw in parts.items()}
        return cls(model=model, preset=preset, family=family, loss=loss, conditional=conditional, **sections)

    @classmethod
    def from_flat(cls, flat: dict[str, Any]) -> "Config":
        """A configuration from a model file's flat dict (older files: see ``BEFORE_RECORDED``)."""
        from .models.registry import MODELS

        model = flat["model"]
        m = MODELS.get(model, {})
        options = {k: v for k, v in flat.items() if k in OPTION_SECTION}
        for key, value in BEFORE_RECORDED.items():
            options.setdefault(key, value)
        return cls._make(model, flat["preset"], flat.get("family", m.get("family", "adversarial")),
                         flat.get("loss", m.get("loss")), bool(flat.get("conditional", m.get("conditional"))),
                         options)

    def flat(self) -> dict[str, Any]:
        """Every option by name, and the model's identity: what a model file records."""
        out: dict[str, Any] = {k: getattr(self, k) for k in _IDENTITY}
        for name in SECTIONS:
            out.update(dataclasses.asdict(getattr(self, name)))
        return out

    def replace(self, **flat: Any) -> "Config":
        """A checked copy with some options changed (flat names)."""
        unknown = sorted(set(flat) - set(OPTION_SECTION))
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(unknown)}")
        options = {k: v for k, v in self.flat().items() if k in OPTION_SECTION}
        options.update(flat)
        return self._make(self.model, self.preset, self.family, self.loss, self.conditional, options)

    def __getitem__(self, key: str) -> Any:
        """An option or identity field by its flat name (``config["batch_size"]``), for reading."""
        if key in _IDENTITY:
            return getattr(self, key)
        if key not in OPTION_SECTION:
            raise KeyError(key)
        return getattr(getattr(self, OPTION_SECTION[key]), key)

    def steps_for(self, n_rows: int) -> int:
        """The training budget in generator steps for a table of ``n_rows`` rows."""
        t = self.training
        if t.steps is not None:
            return t.steps
        return max(math.ceil(t.epochs * n_rows / t.batch_size), t.min_steps)


def option_docs() -> dict[str, str]:
    """Each option's section and line of documentation, for the user guide and ``--help``."""
    return {f.name: f"[{name}] {f.metadata.get('doc', '')}".strip()
            for name, cls in SECTIONS.items() for f in fields(cls)}


# --- image models ------------------------------------------------------------------------------
def _fractions(name: str, v: Any) -> None:
    if (not isinstance(v, (list, tuple)) or len(v) != 3 or any(not _number(f) or f < 0 for f in v)
            or not v[-1] > 0):
        raise ConfigError(f"`{name}`: give 3 non-negative shares of the steps for the base, 2x and full resolution "
                          f"(the last above 0), e.g. [0.2, 0.3, 0.5]; got {v}")


def _channels(name: str, v: Any) -> None:
    if not isinstance(v, (list, tuple)) or len(v) != 3 or not all(isinstance(c, int) and c > 0 for c in v):
        raise ConfigError(f"`{name}` needs 3 positive widths (base, 2x, 4x resolution), got {v!r}")


@dataclass
class ImageConfig(Section):
    """An image model's options (``ganforge.images``); presets are in ``models/registry.py``."""

    latent_dim: int = option(64, whole(1))
    g_channels: list = option([64, 32, 16], _channels)
    d_channels: list = option([64, 32, 16], _channels)
    batch_size: int = option(64, whole(2))
    steps: int = option(1500, whole(0))
    n_critic: int = option(1, whole(1))
    gp_lambda: float = option(10.0, at_least(0.0))
    lr_g: float = option(1e-3, positive)
    lr_d: float = option(1e-3, positive)
    betas: list = option([0.5, 0.9], betas)
    class_balance: float = option(1.0, at_least(0.0, 1.0 + 1e-12))
    stage_fractions: list = option([0.2, 0.3, 0.5], _fractions)
    vae_latent: int = option(2, whole(1))
    vae_epochs: int = option(15, whole(0))
    vae_lr: float = option(1e-3, positive, "the VAE's Adam learning rate")
    log_every: int = option(25, whole(1))
    seed: int = option(0, whole(0))
    device: str = option("auto", device)

    @classmethod
    def build(cls, preset: str, **overrides: Any) -> "ImageConfig":
        from .models.registry import IMAGE_PRESETS

        if preset not in IMAGE_PRESETS:
            raise ConfigError(f"unknown image preset {preset!r}; choose one of {', '.join(IMAGE_PRESETS)}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"unknown image option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**{**copy.deepcopy(IMAGE_PRESETS[preset]), **overrides})
