"""Models are configurations (loss x condition), presets are data.

A model name picks the adversarial loss and whether a condition (a label, or KMeans
pseudo-labels) is fed to both networks. A preset holds everything else: encodings, layer lists,
optimiser settings and training budget. Both are plain dicts, so adding a model or a preset is
one entry here; ``resolve_config`` merges model, preset and user overrides and checks them.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import ConfigError

#: what the quality monitor (early stopping, best-generator selection) scores
MONITORS = ("column_shapes", "fidelity")

MODELS: dict[str, dict[str, Any]] = {
    "gan": {"loss": "bce", "conditional": False, "n_critic": 1},
    "cgan": {"loss": "bce", "conditional": True, "n_critic": 1},
    "wgan": {"loss": "wasserstein", "conditional": False, "n_critic": 5, "gp_lambda": 10.0},
    "wcgan": {"loss": "wasserstein", "conditional": True, "n_critic": 5, "gp_lambda": 10.0},
}


def _dense(widths, activation, dropout=0.0, batchnorm=False, residual=False):
    return [{"width": w, "activation": activation, "dropout": dropout, "batchnorm": batchnorm,
             "residual": residual} for w in widths]


#: every key a preset or a user override may set, with its default
#: what the ``precision`` option accepts (ganforge.kernels.resolve_precision turns auto into one of the others)
PRECISIONS = ("auto", "float32", "bfloat16")

DEFAULTS: dict[str, Any] = {
    # encoding
    "numeric_encoding": "mode_specific",      # mode_specific | minmax | minmax01 | standard
    "categorical_encoding": "onehot",         # onehot | gaussian_interval | ordinal
    "ordinal_encoding": "onehot",             # onehot | ordinal | gaussian_interval
    "categorical_activation": "gumbel",       # gumbel | softmax | tanh | sigmoid
    "gumbel_tau": 0.2,
    "max_modes": 10,
    "bgm_sample_size": 5000,
    "max_categories": 200,
    # differential privacy (DP-SGD on the discriminator; see ganforge.dp)
    "dp_epsilon": None,
    "dp_delta": None,
    "dp_max_grad_norm": 1.0,
    "categorical_threshold": 10,
    # a column that the training rows show to be a function of a categorical column (Adult's
    # education-num of education) is looked up from that column's generated value, not learnt
    # (ganforge.encoding.table.find_derived); off with differential privacy and when streaming
    "derive_columns": False,
    # networks
    "latent_dim": 128,
    "generator_layers": _dense([256, 256], "relu", batchnorm=True, residual=True),
    "discriminator_layers": _dense([256, 256], "leaky_relu", dropout=0.5),
    "pac": 1,
    # optimisation
    "batch_size": 500,
    "lr_g": 2e-4,
    "lr_d": 2e-4,
    "betas": [0.5, 0.9],
    "weight_decay_g": 1e-6,
    "weight_decay_d": 0.0,
    "n_critic": None,          # None: the model's default
    "gp_lambda": 10.0,
    # the gradient penalty on one critic step in gp_every, at gp_every times the weight (lazy
    # regularisation); the private (DP) critic penalises every step
    "gp_every": 1,
    "pretrain_critic_steps": 0,
    # an exponential moving average of the generator's weights is what is kept and sampled (0 = off):
    # the decay per generator step, capped by (1 + t) / (10 + t) at step t
    "ema_decay": 0.0,
    # the generator step reuses the last critic step's fake rows (scored again by the updated critic)
    # instead of generating new ones: one generator forward and one draw of conditions fewer per step
    "reuse_fakes": False,
    # conditional models: a classifier learns the label from real rows, and the generator's loss adds
    # this weight x the cross-entropy of the label each generated row was conditioned on (CTAB-GAN's
    # auxiliary classifier; 0 = off). On Adult it lifts train-on-synthetic AUC but exaggerates the
    # label's associations with the other columns, so no preset sets it (docs/default-preset.md);
    # off with differential privacy (the classifier reads every row)
    "classifier_weight": 0.0,
    # the training step's arithmetic: float32; bfloat16 (matrix products in bfloat16 under autocast,
    # weights and optimiser state in float32); auto = bfloat16 on a CPU that multiplies bfloat16 in
    # hardware (AVX512-BF16 or AMX), float32 elsewhere (ganforge.kernels.resolve_precision). Sampling
    # is float32 always; differential privacy trains in float32
    "precision": "float32",
    "steps": None,             # one of steps / epochs; steps wins when both are given
    "epochs": 100,
    "min_steps": 0,            # floor on an epoch budget, so that small tables are not under-trained
    # seconds from the start of fit (reading and encoding included); training stops at the first
    # step boundary after it. The steps made then depend on the machine: for a run that repeats
    # exactly, give steps / epochs alone
    "time_limit": None,
    "seed": 0,
    "device": "auto",
    "condition_balance": 0.0,  # 0: conditions as in the data; 1: uniform over labels
    # streaming a table from disk (ganforge.streaming): rows sampled for schema and mixture fits,
    # rows per block read from the cache, rows mixed in the shuffle buffer, data-loader workers
    "stream_sample_rows": 100_000,
    "stream_block_rows": 4096,
    "stream_buffer_rows": 65_536,
    "stream_workers": 0,
    # quality monitoring: every eval_every steps, column shapes of quality_rows generated rows
    # against as many real rows; the best generator is kept, and with early_stopping training
    # stops after `patience` evaluations without improvement
    "eval_every": 0,           # 0 = off (on whenever early_stopping is on)
    # the monitored score: "column_shapes", or "fidelity" = the mean of column shapes and pair
    # trends (the associations between columns too, at about twice the cost per evaluation; the
    # default preset's choice)
    "monitor": "column_shapes",
    "early_stopping": False,
    "patience": 8,
    "quality_rows": 2000,
}

PRESETS: dict[str, dict[str, Any]] = {
    # The course report on Pima diabetes / German credit (Keras): min-max to [-1, 1], a tanh
    # output over every feature, one-hot categoricals, ordinal codes for ordinals.
    "pima-paper": {
        "numeric_encoding": "minmax",
        "categorical_encoding": "onehot",
        "ordinal_encoding": "ordinal",
        "categorical_activation": "tanh",
        "latent_dim": 8,
        "generator_layers": [
            {"width": 512, "activation": "leaky_relu", "dropout": 0.4},
            {"width": 256, "activation": "leaky_relu"},
        ],
        "discriminator_layers": [
            {"width": 256, "activation": "leaky_relu", "dropout": 0.2},
            {"width": 512, "activation": "leaky_relu"},
        ],
        "batch_size": 64,
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "betas": [0.5, 0.999],
        "weight_decay_g": 0.0,
        "epochs": 300,
    },
    # The census report (Keras): three hidden ReLU layers in each network, batch 128, lr 5e-5,
    # 100 critic pre-training steps, 5000 steps, everything min-max scaled to [0, 1]; categories
    # as Gaussian intervals. The report does not give layer widths; those of the fraud article
    # it built on (128/256/512) are used.
    "ons-paper": {
        "numeric_encoding": "minmax01",
        "categorical_encoding": "gaussian_interval",
        "ordinal_encoding": "gaussian_interval",
        "categorical_activation": "sigmoid",
        "latent_dim": 32,
        "generator_layers": _dense([128, 256, 512], "relu"),
        "discriminator_layers": _dense([512, 256, 128], "relu"),
        "batch_size": 128,
        "lr_g": 5e-5,
        "lr_d": 5e-5,
        "betas": [0.5, 0.9],
        "weight_decay_g": 0.0,
        "pretrain_critic_steps": 100,
        "steps": 5000,
    },
    # The categorical cancer-registry project (after Camino et al. 2018, multi-categorical GAN):
    # a generator of three dense layers with batch normalisation and ReLU, one Gumbel-softmax head
    # per variable, a discriminator of one hidden layer. The plan gives no widths, latent size,
    # temperature or learning rate; these are ours (docs/studies/categorical.md).
    "registry-paper": {
        "numeric_encoding": "minmax",
        "categorical_encoding": "onehot",
        "ordinal_encoding": "onehot",
        "categorical_activation": "gumbel",
        "gumbel_tau": 0.5,
        "latent_dim": 64,
        "generator_layers": _dense([128, 128, 128], "relu", batchnorm=True),
        "discriminator_layers": _dense([128], "leaky_relu"),
        "batch_size": 128,
        "lr_g": 5e-4,
        "lr_d": 5e-4,
        "betas": [0.5, 0.9],
        "weight_decay_g": 0.0,
        "epochs": 60,
        "min_steps": 1500,
    },
    # CTGAN's architecture and batch (for like-for-like speed comparisons). Its generator step reuses
    # the critic step's fake rows: one generator forward fewer per step, the same quality on Adult
    # (docs/performance.md); reuse_fakes=False draws new ones as CTGAN does.
    "ctgan-like": {
        "latent_dim": 128,
        "generator_layers": _dense([256, 256], "relu", batchnorm=True, residual=True),
        "discriminator_layers": _dense([256, 256], "leaky_relu", dropout=0.5),
        "pac": 10,
        "batch_size": 500,
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "betas": [0.5, 0.9],
        "weight_decay_g": 1e-6,
        "n_critic": 1,
        "epochs": 300,
        "reuse_fakes": True,
        # bfloat16 products on a CPU that has them in hardware: 17-20% shorter steps on Adult, quality
        # within the seed spread (docs/performance.md); float32 elsewhere. CTGAN computes in float32:
        # benchmarks/compare_ctgan.py's ganforge-ctgan-like-fp32 is the same preset in float32
        "precision": "auto",
    },
    # Our general default (docs/default-preset.md has the measurements that chose it): mode-specific
    # numerics with exact point masses, CTGAN-sized networks with a lighter critic dropout, and the
    # model's own critic steps (5 for wgan / wcgan), which beat 1 critic step on Adult at equal epochs;
    # the kept generator is the moving average of its weights (decay 0.999), which scores better than
    # the last weights on column shapes and detection on Adult, Pima and German credit.
    "default": {
        "latent_dim": 64,
        "generator_layers": _dense([256, 256], "relu", batchnorm=True, residual=True),
        "discriminator_layers": _dense([256, 256], "leaky_relu", dropout=0.25),
        "pac": 10,
        "batch_size": 500,
        "lr_g": 2e-4,
        "lr_d": 2e-4,
        "betas": [0.5, 0.9],
        "epochs": 30,
        "min_steps": 1000,
        "ema_decay": 0.999,
        # Adult, three seeds: detection AUC 0.922 -> 0.849, pair trends 0.968 -> 0.975 (docs/default-preset.md)
        "derive_columns": True,
        # the averaged generator's column shapes level off within a few hundred steps, long before
        # its associations do: column shapes alone stopped Adult runs at pair trends 0.938-0.939,
        # column shapes and pair trends at 0.967 (docs/early-stopping.md)
        "monitor": "fidelity",
        # bfloat16 products on a CPU that has them in hardware, float32 elsewhere: on this project's
        # AVX512-BF16 CPU fits 9-21% shorter on Pima, German credit and the fraud sample and 17% shorter
        # steps on Adult, with every quality figure within the seed spread (three seeds each;
        # docs/default-preset.md, last section)
        "precision": "auto",
    },
}


def model_names() -> list[str]:
    return sorted(MODELS)


def preset_names() -> list[str]:
    return sorted(PRESETS)


def resolve_config(model: str, preset: str = "default", **overrides: Any) -> dict[str, Any]:
    """Merge defaults <- preset <- model <- overrides into one flat, checked config dict."""
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; choose one of {', '.join(model_names())}")
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {', '.join(preset_names())}")
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)}; valid options: {', '.join(sorted(DEFAULTS))}")
    cfg = copy.deepcopy(DEFAULTS)
    cfg.update(copy.deepcopy(PRESETS[preset]))
    m = MODELS[model]
    cfg["model"], cfg["preset"] = model, preset
    cfg["loss"], cfg["conditional"] = m["loss"], m["conditional"]
    if PRESETS[preset].get("n_critic") is None:  # the preset leaves it to the model
        cfg["n_critic"] = m["n_critic"]
    cfg.update({k: copy.deepcopy(v) for k, v in overrides.items() if v is not None})
    if cfg.get("steps") is not None and "epochs" not in overrides:
        cfg["epochs"] = None
    _check(cfg)
    return cfg


def _check(cfg: dict[str, Any]) -> None:
    def positive(key, kind=int):
        v = cfg.get(key)
        if v is None:
            return
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v <= 0:
            raise ConfigError(f"{key} must be a positive number, got {v!r}")

    for k in ("batch_size", "latent_dim", "pac", "n_critic", "lr_g", "lr_d", "gumbel_tau", "max_modes",
              "bgm_sample_size", "categorical_threshold", "epochs", "stream_sample_rows", "stream_block_rows",
              "stream_buffer_rows", "time_limit"):
        positive(k)
    for k in ("dp_epsilon", "dp_delta", "dp_max_grad_norm"):
        v = cfg.get(k)
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v < float("inf")):
            raise ConfigError(f"{k} must be a positive number, got {v!r}")
    if cfg.get("dp_delta") is not None and cfg["dp_delta"] >= 1:
        raise ConfigError(f"dp_delta must be below 1, got {cfg['dp_delta']!r}")
    mc = cfg.get("max_categories")
    if mc is not None and (not isinstance(mc, int) or isinstance(mc, bool) or mc < 2):
        raise ConfigError(f"max_categories must be a whole number >= 2, got {mc!r}")
    steps = cfg.get("steps")
    if steps is not None and (not isinstance(steps, int) or isinstance(steps, bool) or steps < 0):
        raise ConfigError(f"steps must be a whole number >= 0 (0 = an untrained baseline), got {steps!r}")
    for k in ("min_steps", "pretrain_critic_steps", "eval_every", "patience", "quality_rows", "stream_workers"):
        if not isinstance(cfg.get(k), int) or cfg[k] < 0:
            raise ConfigError(f"{k} must be a whole number >= 0, got {cfg.get(k)!r}")
    ema = cfg.get("ema_decay")
    if not isinstance(ema, (int, float)) or isinstance(ema, bool) or not 0 <= ema < 1:
        raise ConfigError(f"ema_decay must be a number in [0, 1) (0 = off, 0.999 = a long average), got {ema!r}")
    cw = cfg.get("classifier_weight")
    if not isinstance(cw, (int, float)) or isinstance(cw, bool) or not 0 <= cw < float("inf"):
        raise ConfigError(f"classifier_weight must be a number >= 0 (0 = off, 1 = as strong as the adversarial loss), got {cw!r}")
    if cfg.get("precision") not in PRECISIONS:
        raise ConfigError(f"precision must be auto, float32 or bfloat16, got {cfg.get('precision')!r}")
    ge = cfg.get("gp_every")
    if not isinstance(ge, int) or isinstance(ge, bool) or ge < 1:
        raise ConfigError(f"gp_every must be a whole number >= 1 (1 = the penalty on every critic step), got {ge!r}")
    for key in ("reuse_fakes", "derive_columns"):
        if not isinstance(cfg.get(key), bool):
            raise ConfigError(f"{key} must be true or false, got {cfg.get(key)!r}")
    if cfg.get("monitor") not in MONITORS:
        raise ConfigError(f"monitor must be one of {', '.join(MONITORS)}, got {cfg.get('monitor')!r}")
    if cfg.get("steps") is None and cfg.get("epochs") is None:
        raise ConfigError("give a training budget: steps or epochs")
    if cfg["batch_size"] % cfg["pac"]:
        raise ConfigError(f"batch_size ({cfg['batch_size']}) must be a multiple of pac ({cfg['pac']})")
    b = cfg["betas"]
    if not (isinstance(b, (list, tuple)) and len(b) == 2 and all(0 <= x < 1 for x in b)):
        raise ConfigError(f"betas must be two numbers in [0, 1), got {b!r}")
    if cfg["device"] not in ("auto", "cpu", "cuda") and not str(cfg["device"]).startswith("cuda:"):
        raise ConfigError(f"device must be auto, cpu or cuda, got {cfg['device']!r}")
    if not 0.0 <= float(cfg["condition_balance"]) <= 1.0:
        raise ConfigError("condition_balance must be between 0 and 1")
