"""The public facade: ``Synthesizer(model, preset, **overrides).fit(df).sample(n)``."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd
import torch

from . import __version__, distributed, kernels, modelfile
from .encoding import EncodingOptions, TableEncoder
from .encoding.table import values_from_codes
from .errors import ConfigError, DataError, ModelFileError
from .models.networks import Discriminator, Generator, LabelClassifier
from .models.registry import resolve_config
from .schema import CATEGORICAL, Schema, infer_schema, jsonable
from .training import Callback, Every, ProgressBar, TrainConfig, Trainer

ConditionSpec = Mapping[str, Any]


def _resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for, but no CUDA GPU is available: use --device cpu")
    try:
        return torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}: use auto, cpu or cuda") from None


def parse_condition_on(text: str | None) -> tuple[str, Any] | None:
    """``kmeans:K`` or a column name."""
    if text is None:
        return None
    if text.startswith("kmeans"):
        _, _, k = text.partition(":")
        try:
            k_int = int(k or 2)
        except ValueError:
            raise ConfigError(f"--condition-on {text!r}: expected kmeans:K with K a number, e.g. kmeans:2") from None
        if k_int < 2:
            raise ConfigError("--condition-on kmeans:K needs K >= 2")
        return ("kmeans", k_int)
    return ("column", text)


#: options added after model files were first written, and what the files without them were trained
#: with (a preset may set another value now): derived columns learnt, no label classifier, float32
_OPTIONS_BEFORE_RECORDED = {"derive_columns": False, "classifier_weight": 0.0, "precision": "float32"}


class _TensorSource:
    """Batches of encoded rows, drawn by index on the device (no per-row Python)."""

    def __init__(self, X: torch.Tensor, codes: torch.Tensor | None, n_labels: int, balance: float):
        self.X, self.codes = X, codes
        self.onehot = torch.eye(n_labels, device=X.device) if codes is not None else None
        self.weights = None
        if codes is not None and balance > 0:
            counts = torch.bincount(codes, minlength=n_labels).float()
            w = (1 - balance) / len(codes) + balance / (n_labels * counts[codes])
            self.weights = w / w.sum()

    def _index(self, batch_size: int) -> torch.Tensor:
        if self.weights is None:
            return torch.randint(len(self.X), (batch_size,), device=self.X.device)
        return torch.multinomial(self.weights, batch_size, replacement=True)

    def _conditions(self, idx: torch.Tensor) -> torch.Tensor | None:
        if self.codes is None:
            return None
        return self.onehot.index_select(0, self.codes.index_select(0, idx))

    # index_select rather than X[idx]: 14 against 58 us for 500 of Adult's encoded rows on the CPU
    def sample(self, batch_size: int):
        idx = self._index(batch_size)
        return self.X.index_select(0, idx), self._conditions(idx)

    def conditions(self, batch_size: int):
        """The conditions of a batch without gathering its rows (same random draws as ``sample``)."""
        return self._conditions(self._index(batch_size))


class QualityMonitor(Callback):
    """Scores the generator every ``every`` steps with a cheap quality signal, keeps the best
    weights, and asks the trainer to stop after ``patience`` scores without improvement when
    ``stop`` is set. Good losses do not mean good data; this signal is the data. ``metric``:
    ``column_shapes`` of ``rows`` generated rows against ``rows`` real ones, or ``fidelity``, the
    mean of column shapes and pair trends (associations between columns; the real side is computed
    once). It draws from its own random stream, so the training run itself is unchanged by
    monitoring."""

    def __init__(self, syn: "Synthesizer", real: pd.DataFrame, every: int, patience: int, rows: int,
                 stop: bool, seed: int, metric: str = "column_shapes"):
        from .metrics.fidelity import association_matrix

        self.syn, self.every, self.patience, self.stop = syn, every, patience, stop
        self.rows, self.seed, self.metric = rows, seed, metric
        self.real = real.sample(min(rows, len(real)), random_state=seed).reset_index(drop=True)
        self.real_assoc = association_matrix(self.real, syn.schema_)[0] if metric == "fidelity" else None
        self.history: list[dict[str, float]] = []
        self.best, self.best_step, self.best_state, self.bad = -1.0, 0, None, 0
        #: the network scored: the trainer's averaged generator when it keeps one
        self.net: torch.nn.Module | None = None

    def on_train_begin(self, trainer):
        self.net = trainer.sampling_generator

    def measure(self) -> dict[str, float]:
        """The monitored figures of the current generator; ``score`` is the one that is compared."""
        from .metrics.fidelity import FidelityResult, association_matrix, column_fidelity

        syn = self.syn
        g = torch.Generator().manual_seed(self.seed)
        fake = syn._generate(syn._labels_for(self.rows, None, g), self.rows, g,
                             net=self.net if self.net is not None else syn.generator_)
        shapes = float(np.mean([c.score for c in column_fidelity(self.real, fake, syn.schema_)]))
        if self.metric == "column_shapes":
            return {"column_shapes": shapes, "score": shapes}
        trends = FidelityResult([], self.real_assoc, association_matrix(fake, syn.schema_)[0]).pair_trends
        if not np.isfinite(trends):  # a one-column table has no pairs
            return {"column_shapes": shapes, "pair_trends": trends, "score": shapes}
        return {"column_shapes": shapes, "pair_trends": trends, "score": (shapes + trends) / 2}

    def score(self) -> float:
        return self.measure()["score"]

    def on_step_end(self, trainer, step):
        if step % self.every:
            return
        m = self.measure()
        self.history.append({"step": step, **{k: round(v, 6) for k, v in m.items()}})
        s = m["score"]
        if s > self.best + 1e-4:
            self.best, self.best_step, self.bad = s, step, 0
            self.best_state = {k: v.detach().clone() for k, v in trainer.sampling_generator.state_dict().items()}
        else:
            self.bad += 1
            if self.stop and self.bad >= self.patience:
                trainer.stop_requested, trainer.stop_reason = True, "early_stopping"

    def on_train_end(self, trainer):
        self.net = None  # from now on the monitor scores the kept generator
        if self.best_state is not None:
            trainer.generator.load_state_dict(self.best_state)


class Synthesizer:
    """Learn a table with a GAN and generate new rows.

    >>> syn = Synthesizer(model="wcgan", preset="default", epochs=50).fit(df, target="income")
    >>> syn.sample(1000, condition={"income": ">50K"}, seed=0)

    ``model``: gan, cgan, wgan or wcgan. ``preset``: default, ctgan-like, pima-paper,
    ons-paper. Any preset key can be overridden by keyword (``steps``, ``epochs``, ``batch_size``,
    ``lr_g``, ``latent_dim``, ``seed``, ``device``, ...).
    """

    def __init__(self, model: str = "wcgan", preset: str = "default", **overrides: Any):
        self.model = model
        self.preset = preset
        self.overrides = overrides
        self.config = resolve_config(model, preset, **overrides)

    # ------------------------------------------------------------------------ fitting ---
    def _prepare(self, df: pd.DataFrame, target, condition_on, categorical, ordinal, numeric, drop,
                 schema: Schema | None) -> tuple[Schema, pd.DataFrame]:
        if not isinstance(df, pd.DataFrame):
            raise DataError(f"fit expects a pandas DataFrame, got {type(df).__name__}")
        cond = parse_condition_on(condition_on)
        if cond and cond[0] == "column":
            categorical = list(categorical or []) + [cond[1]]
        if schema is None:
            schema = infer_schema(df, target=target, categorical=categorical, ordinal=ordinal, numeric=numeric,
                                  drop=drop, categorical_threshold=int(self.config["categorical_threshold"]))
        else:
            missing = [c for c in schema.names if c not in df.columns]
            if missing:
                raise DataError(f"schema columns {missing} are not in the table")
            if target is not None:
                schema.target = target
        df = df[schema.names].reset_index(drop=True)
        if cond is None and self.config["conditional"]:
            if schema.target is None:
                raise ConfigError(f"model {self.model!r} is conditional: pass a target column (--target COL) "
                                  f"or --condition-on kmeans:2 / --condition-on COLUMN")
            cond = ("column", schema.target)
        if cond and cond[0] == "column":
            if cond[1] not in schema:
                raise DataError(f"--condition-on {cond[1]!r} is not a column of the table")
            if schema[cond[1]].kind not in (CATEGORICAL, "ordinal"):
                raise DataError(f"--condition-on {cond[1]!r}: the condition must be a categorical column")
        if cond and not self.config["conditional"]:
            raise ConfigError(f"model {self.model!r} takes no condition; use cgan or wcgan to condition on "
                              f"{cond[1]!r}")
        self._cond = cond
        return schema, df

    def fit(self, data: pd.DataFrame, target: str | None = None, *, condition_on: str | None = None,
            categorical=None, ordinal=None, numeric=None, drop=None, schema: Schema | None = None,
            quiet: bool = True, callbacks: list[Callback] | None = None,
            checkpoint: str | Path | None = None, checkpoint_every: int = 500, resume: bool = False
            ) -> "Synthesizer":
        """Learn ``data``. ``target`` is the label column (the condition of cgan / wcgan).

        ``checkpoint``: a file written atomically every ``checkpoint_every`` steps; with
        ``resume=True`` training continues from it if it exists.
        """
        t_start = self._t_start = time.perf_counter()
        cfg = self.config
        # a schema that ganforge inferred from a scan of the data is not the user's public knowledge
        user_schema = schema is not None and "inferred_from" not in schema.extra
        schema, df = self._prepare(data, target, condition_on, categorical, ordinal, numeric, drop, schema)
        if cfg.get("dp_epsilon") is not None:
            self._check_private(user_schema)
        _, feat_schema = self._start_run(schema, checkpoint)

        t0 = time.perf_counter()
        self.encoder_ = TableEncoder(feat_schema, self._encoding_options()).fit(df)
        X = self.encoder_.transform(df)
        self.encoder_fit_seconds_ = time.perf_counter() - t0
        self.schema_ = schema
        self._train_seeded(df, X, quiet, callbacks, checkpoint, checkpoint_every, resume)
        self.fit_seconds_ = time.perf_counter() - t_start
        return self

    def _start_run(self, schema: Schema, checkpoint) -> tuple[str | None, Schema]:
        """What every fit does before encoding: the output checks, the device, the process group.
        Returns the condition column (or None) and the schema of the columns the networks learn."""
        self.dp_ = None
        if checkpoint is not None:
            modelfile.check_writable(checkpoint, "checkpoint")
        self.device_ = _resolve_device(self.config["device"])
        self._join_process_group()
        cond_col = self._cond[1] if self._cond and self._cond[0] == "column" else None
        feat_schema = Schema([c for c in schema.columns if c.name != cond_col], target=schema.target)
        if not feat_schema.columns:
            raise DataError("nothing to learn: the only column is the condition")
        return cond_col, feat_schema

    def _train_seeded(self, df, X, quiet, callbacks, checkpoint, checkpoint_every, resume, stream=None) -> None:
        """``_train`` on a private RNG stream from the seed: the user's global torch state is left as it was."""
        devices = [self.device_.index or 0] if self.device_.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.config["seed"])
            trainer = self._train(df, X, quiet, callbacks, checkpoint, checkpoint_every, resume, stream=stream)
        self.history_ = pd.DataFrame(trainer.history)
        self._inference_body = None

    def fit_files(self, path: str | Path, target: str | None = None, *, condition_on: str | None = None,
                  categorical=None, ordinal=None, numeric=None, drop=None, schema: Schema | None = None,
                  sep: str | None = None, max_rows: int | None = None, cache_dir: str | Path | None = None,
                  keep_cache: bool = False, batch_rows: int = 65_536,
                  quiet: bool = True, callbacks: list[Callback] | None = None,
                  checkpoint: str | Path | None = None, checkpoint_every: int = 500, resume: bool = False
                  ) -> "Synthesizer":
        """Learn a table on disk that need not fit in memory: a Parquet file, a folder of Parquet
        parts, or a CSV (read in chunks). See :mod:`ganforge.streaming`.

        ``max_rows``: train in memory on a uniform sample of that many rows (bounds and category
        sets still from every row). Otherwise the rows are encoded into ``cache_dir`` (default: a
        temporary folder next to the checkpoint, or in the working folder) and streamed; the cache
        is removed afterwards unless ``keep_cache``.
        """
        from . import streaming

        if max_rows is not None and max_rows < 1:
            raise ConfigError("--max-rows must be at least 1")
        t_start = self._t_start = time.perf_counter()
        cfg = self.config
        if cfg.get("dp_epsilon") is not None and max_rows is None:
            raise ConfigError("--dp-epsilon needs the table in memory (Poisson sampling over its rows): add "
                              "--max-rows N to train on a uniform sample")
        n_sample = max_rows if max_rows is not None else int(cfg["stream_sample_rows"])
        sc = streaming.scan(path, n_sample, seed=int(cfg["seed"]), batch_rows=batch_rows, sep=sep)
        if schema is None:
            cond = parse_condition_on(condition_on)
            cats = list(categorical or []) + ([cond[1]] if cond and cond[0] == "column" else [])
            schema = infer_schema(sc.sample, target=target, categorical=cats, ordinal=ordinal, numeric=numeric,
                                  drop=drop, categorical_threshold=int(cfg["categorical_threshold"]))
            sc.apply(schema)
            schema.extra["inferred_from"] = f"scan of {sc.rows} rows (sample {len(sc.sample)})"
        self.scan_rows_ = sc.rows
        if float(cfg["condition_balance"]) > 0 and max_rows is None and sc.rows > len(sc.sample):
            raise ConfigError("condition_balance > 0 reweights rows by label, which needs the table in memory: "
                              "add --max-rows N, or leave condition_balance at 0 when streaming")
        if max_rows is not None or sc.rows <= len(sc.sample):
            return self.fit(sc.sample, target, condition_on=condition_on, schema=schema, quiet=quiet,
                            callbacks=callbacks, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                            resume=resume)

        schema, sample = self._prepare(sc.sample, target, condition_on, None, None, None, None, schema)
        if self._cond and self._cond[0] == "kmeans":
            raise ConfigError("--condition-on kmeans clusters the whole table in memory: add --max-rows N to "
                              "train on a sample, or condition on a column")
        cond_col, feat_schema = self._start_run(schema, checkpoint)
        ctx = self.dist_
        t0 = time.perf_counter()
        self.encoder_ = TableEncoder(feat_schema, self._encoding_options(derive=False)).fit(
            streaming.fit_frame(sample, feat_schema, sc))
        self.schema_ = schema
        self.condition_ = None
        if cond_col is not None:
            cats = self._label_categories(cond_col)
            counts = sc.counts.get(cond_col, {})
            freq = np.array([sc.nulls[cond_col] if c is None else counts.get(c, 0) for c in cats], dtype=float)
            self.condition_ = {"kind": "column", "column": cond_col, "categories": cats,
                               "frequencies": (freq / freq.sum()).tolist()}

        def codes_of(df):
            return None if cond_col is None else _label_codes(df[cond_col], self.condition_["categories"], cond_col)

        folder = Path(cache_dir) if cache_dir is not None else Path(
            str(checkpoint) + ".cache" if checkpoint is not None else f".ganforge-cache-{sc.digest.split(':')[-1]}")
        if ctx.is_main:
            cache = streaming.build_cache(path, self.encoder_, folder, codes_of, batch_rows, sep)
        distributed.barrier(ctx)
        if not ctx.is_main:  # rank 0 wrote it
            cache = streaming.Cache.open(folder)
        self.encoder_fit_seconds_ = time.perf_counter() - t0
        try:
            self._train_seeded(sample, None, quiet, callbacks, checkpoint, checkpoint_every, resume,
                               stream=_Stream(cache, sc.digest))
        finally:
            distributed.barrier(ctx)
            if not keep_cache and ctx.is_main:
                streaming.remove_cache(cache)
        self.fit_seconds_ = time.perf_counter() - t_start
        return self

    def _label_categories(self, column: str) -> list:
        """The condition's labels: the column's categories, and None last when it has missing values."""
        spec = self.schema_[column]
        limit = self.config["max_categories"]
        if len(spec.categories) > limit:
            raise DataError(f"condition column {column!r} has {len(spec.categories)} values; a condition can have "
                            f"at most max_categories={limit}: condition on another column, or raise the "
                            f"limit with --set max_categories={len(spec.categories)}")
        return list(spec.categories) + ([None] if spec.has_missing else [])

    def _encoding_options(self, derive: bool = True) -> EncodingOptions:
        """``derive=False``: no derived columns whatever the config says (a streamed table's
        encoder sees a sample, on which a dependency may hold by chance)."""
        cfg = self.config
        return EncodingOptions(
            numeric=cfg["numeric_encoding"], categorical=cfg["categorical_encoding"],
            ordinal=cfg["ordinal_encoding"], categorical_activation=cfg["categorical_activation"],
            gumbel_tau=cfg["gumbel_tau"], max_modes=cfg["max_modes"], bgm_sample_size=cfg["bgm_sample_size"],
            max_categories=cfg["max_categories"], bounds_from_schema=cfg.get("dp_epsilon") is not None,
            derive_columns=bool(cfg["derive_columns"]) and derive, seed=cfg["seed"])

    def _join_process_group(self) -> None:
        """Under torchrun: join the group, take this rank's GPU, check the batch splits evenly."""
        cfg = self.config
        self.dist_ = ctx = distributed.context(self.device_.type)
        if not ctx.active:
            return
        if self.device_.type == "cuda":
            # torchrun shows every GPU of the node (take the local rank's); Ray Train shows each
            # worker only its own (CUDA_VISIBLE_DEVICES), which is then device 0
            index = ctx.local_rank if torch.cuda.device_count() > 1 else 0
            self.device_ = torch.device("cuda", index)
            torch.cuda.set_device(self.device_)
        if cfg.get("dp_epsilon") is not None:
            raise ConfigError("--dp-epsilon trains on one process (its accountant counts one stream of batches): "
                              "drop --nproc / torchrun")
        unit = ctx.world_size * int(cfg["pac"])
        if int(cfg["batch_size"]) % unit:
            raise ConfigError(f"--batch-size {cfg['batch_size']} must split evenly over {ctx.world_size} processes "
                              f"in groups of pac={cfg['pac']}: use a multiple of {unit}, e.g. "
                              f"{max(unit, int(cfg['batch_size']) // unit * unit)}")

    def _check_private(self, user_schema: bool) -> None:
        """Differential privacy: refuse what would read the data outside DP-SGD, switch the rest."""
        cfg = self.config
        if not user_schema:
            raise DataError("--dp-epsilon needs --schema FILE: numeric bounds and category sets inferred from the "
                            "data would leak it; write them from public knowledge (a schema saved with "
                            "--save-schema from public or made-up rows, then edited)")
        if self._cond and self._cond[0] == "kmeans":
            raise ConfigError("--condition-on kmeans clusters the private rows; with --dp-epsilon condition on a "
                              "column or on nothing")
        if cfg["early_stopping"] or cfg["eval_every"]:
            raise ConfigError("early stopping scores generated rows against the private rows; with --dp-epsilon "
                              "give a fixed --steps or --epochs")
        # what the encoders and networks may do under DP (recorded in the saved config)
        if cfg["numeric_encoding"] not in ("minmax", "minmax01"):
            cfg["numeric_encoding"] = "minmax"
        cfg["categorical_encoding"] = "onehot"
        if cfg["ordinal_encoding"] == "gaussian_interval":
            cfg["ordinal_encoding"] = "onehot"
        cfg["pac"] = 1
        cfg["classifier_weight"] = 0.0  # a label classifier would learn from the rows without noise
        cfg["precision"] = "float32"  # clipping per-row gradients wants float32 products

    def _train(self, df, X, quiet, callbacks, checkpoint, checkpoint_every, resume, stream=None) -> Trainer:
        """``df``/``X``: the table and its encoding in memory; or ``stream`` (then ``df`` is a sample
        of the rows, for quality monitoring)."""
        cfg = self.config
        n_rows = stream.cache.rows if stream is not None else len(df)
        steps = cfg["steps"] if cfg["steps"] is not None else max(
            math.ceil(cfg["epochs"] * n_rows / cfg["batch_size"]), cfg["min_steps"])
        private = None
        is_private = cfg.get("dp_epsilon") is not None
        if is_private:
            from . import dp

            settings = dp.plan(float(cfg["dp_epsilon"]), cfg.get("dp_delta"), len(df), int(cfg["batch_size"]),
                               int(cfg["pretrain_critic_steps"]) + steps * int(cfg["n_critic"]),
                               float(cfg["dp_max_grad_norm"]), conditional=self._cond is not None)
        if stream is None:
            codes, self.condition_ = self._condition_codes(df, X)
        if is_private and self.condition_ is not None:
            # label frequencies for sampling: Laplace-noised counts, their share of epsilon
            counts = np.bincount(codes, minlength=len(self.condition_["categories"]))
            self.condition_["frequencies"] = dp.noisy_frequencies(
                counts, settings.epsilon_counts, np.random.default_rng(cfg["seed"])).tolist()
        n_labels = len(self.condition_["categories"]) if self.condition_ else 0
        self._build_networks(n_labels)
        # the label classifier is a training aid only: not in the model file (checkpoints hold it)
        classifier = None
        if float(cfg["classifier_weight"]) > 0 and n_labels > 1:
            classifier = LabelClassifier(self.encoder_.width, n_labels, cfg["discriminator_layers"]).to(self.device_)
        ctx = self.dist_
        if ctx.active:
            # the same initial weights everywhere (built from the same seed; made sure of), then each
            # rank draws its rows and noise from its own stream
            distributed.broadcast_module(self.generator_)
            distributed.broadcast_module(self.discriminator_)
            if classifier is not None:
                distributed.broadcast_module(classifier)
            torch.manual_seed(distributed.rank_seed(cfg["seed"], ctx))
        tc = TrainConfig(loss=cfg["loss"], steps=steps, batch_size=cfg["batch_size"] // ctx.world_size,
                         n_critic=cfg["n_critic"],
                         gp_lambda=cfg["gp_lambda"], lr_g=cfg["lr_g"], lr_d=cfg["lr_d"], betas=tuple(cfg["betas"]),
                         weight_decay_g=cfg["weight_decay_g"], weight_decay_d=cfg["weight_decay_d"],
                         pretrain_critic_steps=cfg["pretrain_critic_steps"], ema_decay=float(cfg["ema_decay"]),
                         reuse_fakes=cfg["reuse_fakes"], gp_every=cfg["gp_every"],
                         classifier_weight=float(cfg["classifier_weight"]),
                         precision=kernels.resolve_precision(cfg["precision"], self.device_))
        dev = self.device_
        codes_t = None if stream is not None or codes is None else torch.as_tensor(codes, device=dev)
        if stream is not None:
            from .streaming import StreamingSource

            source = StreamingSource(stream.cache, n_labels, dev, ctx.rank, ctx.world_size,
                                     seed=int(cfg["seed"]), block_rows=int(cfg["stream_block_rows"]),
                                     buffer_rows=int(cfg["stream_buffer_rows"]), workers=int(cfg["stream_workers"]),
                                     frequencies=self.condition_["frequencies"] if self.condition_ else None)
        elif is_private:
            source = dp.PoissonSource(torch.as_tensor(X, device=dev), codes_t, n_labels, settings.sample_rate)
            private = dp.PrivateCritic(self.discriminator_, cfg["loss"], float(cfg["gp_lambda"]), settings, len(df))
        else:
            source = _TensorSource(torch.as_tensor(X, device=dev), codes_t, n_labels, float(cfg["condition_balance"]))
        cbs: list[Callback] = list(callbacks or [])
        if not quiet and ctx.is_main:
            cbs.insert(0, ProgressBar(steps, f"{self.model}/{self.preset}"))
        self.fingerprint_ = stream.fingerprint if stream is not None else _fingerprint(df)
        self.n_rows_ = n_rows
        trainer = Trainer(self.generator_, self.discriminator_, source, tc, callbacks=cbs, device=dev,
                          private=private, dist=ctx, classifier=classifier)
        self.trainer_ = trainer
        ckpt = Path(checkpoint) if checkpoint is not None else None
        self.monitor_ = None
        every = int(cfg["eval_every"]) or (max(50, steps // 40) if cfg["early_stopping"] else 0)
        if every:
            self.monitor_ = QualityMonitor(self, df, every, int(cfg["patience"]), int(cfg["quality_rows"]),
                                           bool(cfg["early_stopping"]), int(cfg["seed"]) + 1, cfg["monitor"])
            cbs.append(self.monitor_)
        if ckpt is not None:
            cbs.append(Every(checkpoint_every, lambda tr, step: self._save_checkpoint(ckpt)))
            if resume and ckpt.exists():
                self._load_checkpoint(ckpt)
        limit = cfg.get("time_limit")
        trainer.fit(steps, deadline=None if limit is None else self._t_start + limit)
        if ckpt is not None and trainer.step % checkpoint_every:
            self._save_checkpoint(ckpt)
        if private is not None:
            import opacus

            self.dp_ = {**settings.to_dict(), "critic_steps": trainer.critic_steps,
                        "epsilon_spent": dp.spent(settings, trainer.critic_steps),
                        "accountant": f"RDP, Opacus {opacus.__version__}",
                        "mechanism": "DP-SGD on the discriminator (Poisson sampling, per-row clipping, Gaussian "
                                     "noise); Laplace-noised label counts; bounds and categories from the user's "
                                     "schema; the number of rows treated as public"}
        return trainer

    def _condition_codes(self, df: pd.DataFrame, X: np.ndarray):
        if self._cond is None:
            return None, None
        kind, arg = self._cond
        if kind == "kmeans":
            from sklearn.cluster import KMeans

            if len(df) < arg:
                raise DataError(f"--condition-on kmeans:{arg} needs at least {arg} rows")
            km = KMeans(n_clusters=arg, n_init=10, random_state=self.config["seed"]).fit(X)
            codes = km.labels_.astype(np.int64)
            cats = list(range(arg))
            name = "cluster"
        else:
            cats = self._label_categories(arg)
            codes = _label_codes(df[arg], cats, arg)
            name = arg
        freq = np.bincount(codes, minlength=len(cats)) / len(codes)
        return codes, {"kind": kind, "column": name, "categories": cats, "frequencies": freq.tolist()}

    def _build_networks(self, n_labels: int) -> None:
        self._inference_body = None  # rebuilt from the trained weights at the first sample
        cfg = self.config
        spans = self.encoder_.spans
        self.generator_ = Generator(int(cfg["latent_dim"]), n_labels, cfg["generator_layers"], spans).to(self.device_)
        self.discriminator_ = Discriminator(self.encoder_.width, n_labels, cfg["discriminator_layers"],
                                            int(cfg["pac"])).to(self.device_)

    # ------------------------------------------------------------------ checkpoints ---
    def _meta(self, checkpoint: bool = False) -> dict[str, Any]:
        private = self.config.get("dp_epsilon") is not None
        return {
            "ganforge_version": __version__,
            "model": self.model, "preset": self.preset, "config": self.config,
            "schema": self.schema_.to_dict(), "encoder": self.encoder_.get_state(),
            "condition": self.condition_, "n_rows": self.n_rows_,
            # a hash of the rows would let anyone confirm a guessed training set: not in a DP model file
            "fingerprint": self.fingerprint_ if checkpoint or not private else None,
            "dp": getattr(self, "dp_", None),
        }

    def _save_checkpoint(self, path: Path) -> None:
        meta = self._meta(checkpoint=True)
        meta["trainer"] = self.trainer_.state_meta()
        tensors = self.trainer_.state_tensors()  # on every rank: it gathers their random states
        if self.dist_.is_main:
            modelfile.save(path, tensors, meta, kind="checkpoint")

    def _load_checkpoint(self, path: Path) -> None:
        tensors, meta = modelfile.load(path, kind="checkpoint")
        if meta.get("fingerprint") != self.fingerprint_:
            raise ModelFileError(f"checkpoint {path} was made on different data; remove it or drop --resume")
        if meta.get("model") != self.model or meta.get("config", {}).get("seed") != self.config["seed"]:
            raise ModelFileError(f"checkpoint {path} was made with other settings (model {meta.get('model')}); "
                                 f"use the same options or drop --resume")
        self.trainer_.load_state({k: v.to(self.device_) if not k.startswith("rng.") else v
                                  for k, v in tensors.items()}, meta["trainer"])

    # ---------------------------------------------------------------------- sampling ---
    def _check_fitted(self):
        if not hasattr(self, "generator_"):
            raise ConfigError("this Synthesizer is not fitted yet: call fit(df) or Synthesizer.load(path)")

    def _labels_for(self, n: int, condition: ConditionSpec | None, g: torch.Generator) -> torch.Tensor | None:
        """Condition codes for ``n`` rows, or None for an unconditional model."""
        if self.condition_ is None:
            return None
        cats = self.condition_["categories"]
        k = len(cats)
        col = self.condition_["column"]
        probs = torch.tensor(self.condition_["frequencies"], dtype=torch.float64)
        if condition and col in condition:
            want = condition[col]
            if isinstance(want, Mapping):
                probs = torch.zeros(k, dtype=torch.float64)
                for v, p in want.items():
                    probs[self._label_index(v)] = float(p)
                if probs.sum() <= 0 or (probs < 0).any():
                    raise DataError(f"condition proportions for {col!r} must be non-negative and not all zero")
                counts = _largest_remainder(probs / probs.sum(), n)
                codes = torch.repeat_interleave(torch.arange(k), counts)
                return codes[torch.randperm(n, generator=g)]
            return torch.full((n,), self._label_index(want), dtype=torch.long)
        return torch.multinomial(probs, n, replacement=True, generator=g) if n else torch.zeros(0, dtype=torch.long)

    def _label_index(self, value: Any) -> int:
        cats = self.condition_["categories"]
        for i, c in enumerate(cats):
            if c == value or (c is not None and str(c) == str(value)):
                return i
        shown = ", ".join(repr(c) for c in cats[:20])
        raise DataError(f"condition {self.condition_['column']}={value!r} was never seen in training; "
                        f"known values: {shown}")

    #: rows per generator call when sampling: small batches keep activations in cache (measured:
    #: 2,048-row batches run the CTGAN-sized body about 3x faster than 200,000-row ones on 2 cores)
    INFERENCE_BATCH = 2048

    @torch.inference_mode()
    def _generate(self, codes: torch.Tensor | None, n: int, g: torch.Generator,
                  net: torch.nn.Module | None = None) -> pd.DataFrame:
        """``net``: a generator to sample from other than the fitted one (the quality monitor's, while
        its weights move; its folded body is not cached)."""
        dev = self.device_
        z = torch.randn(n, self.generator_.latent_dim, generator=g).to(dev)
        cond = None
        if codes is not None:
            cond = torch.nn.functional.one_hot(codes, len(self.condition_["categories"])).float().to(dev)
        dg = g if dev.type == "cpu" else torch.Generator(dev).manual_seed(int(torch.randint(2**62, (1,), generator=g)))
        if net is not None:
            body, head = net.inference_body(), net.head
        else:
            if getattr(self, "_inference_body", None) is None:
                self._inference_body = self.generator_.inference_body()
            body, head = self._inference_body, self.generator_.head
        out = np.empty((n, head.width), dtype=np.float32)
        step = self.INFERENCE_BATCH if dev.type == "cpu" else 65536
        for i in range(0, n, step):
            x = z[i:i + step] if cond is None else torch.cat([z[i:i + step], cond[i:i + step]], dim=1)
            out[i:i + step] = head(body(x), generator=dg, hard=True).float().cpu().numpy()
        rng = None
        if self.encoder_.has_rare_buckets:  # values behind rare codes come from this sample's seed
            rng = np.random.default_rng(int(torch.randint(2**62, (1,), generator=g)))
        df = self.encoder_.inverse_transform(out, rng)
        if codes is not None and self.condition_["kind"] == "column":
            col = self.condition_["column"]
            df[col] = values_from_codes(codes.numpy(), self.condition_["categories"], self.schema_[col])
        return df[self.schema_.names]

    def iter_sample(self, n: int, condition: ConditionSpec | None = None, seed: int | None = None,
                    chunk_size: int = 100_000) -> Iterator[pd.DataFrame]:
        """Yield ``n`` rows in DataFrames of at most ``chunk_size`` rows (bounded memory)."""
        self._check_fitted()
        if n < 0:
            raise DataError("the number of rows to sample must be >= 0")
        condition = dict(condition or {})
        unknown = [c for c in condition if c not in self.schema_ and not (
            self.condition_ and c == self.condition_["column"])]
        if unknown:
            raise DataError(f"condition on unknown column(s) {unknown}; columns are {', '.join(self.schema_.names)}")
        if seed is None:
            seed = int(np.random.default_rng().integers(2**62))
        g = torch.Generator().manual_seed(int(seed))
        self.generator_.eval()
        codes = self._labels_for(n, condition, g)
        rest = {c: v for c, v in condition.items() if not (self.condition_ and c == self.condition_["column"])}
        if rest:
            yield from self._rejection_sample(n, rest, codes, g, chunk_size)
            return
        for start in range(0, n, chunk_size):
            m = min(chunk_size, n - start)
            yield self._generate(None if codes is None else codes[start:start + m], m, g)

    def _rejection_sample(self, n, condition, codes, g, chunk_size, max_factor: int = 100):
        """Keep generated rows that match a condition the model was not trained on."""
        for col, want in condition.items():
            if isinstance(want, Mapping):
                raise DataError(f"proportions are only supported for the model's condition column "
                                f"({self.condition_['column'] if self.condition_ else 'none'}), not {col!r}")
            spec = self.schema_[col]
            if spec.categories is not None and not any(c == want or str(c) == str(want) for c in spec.categories):
                raise DataError(f"condition {col}={want!r} was never seen in training; known values: "
                                f"{', '.join(map(repr, spec.categories[:20]))}")
        done, tried = 0, 0
        while done < n:
            m = min(chunk_size, max(1000, 2 * (n - done)))
            sub = None if codes is None else codes[torch.randint(len(codes), (m,), generator=g)]
            df = self._generate(sub, m, g)
            tried += m
            mask = np.ones(len(df), bool)
            for col, want in condition.items():
                mask &= (df[col] == want).to_numpy() | (df[col].astype(str) == str(want)).to_numpy()
            keep = df[mask].head(n - done).reset_index(drop=True)
            done += len(keep)
            if len(keep):
                yield keep
            if tried > max_factor * max(n, 1000) and done < n:
                raise DataError(f"the condition {condition} is too rare in generated rows ({done} of {tried}); "
                                f"train a conditional model on that column (--condition-on COL)")

    def sample(self, n: int, condition: ConditionSpec | None = None, seed: int | None = None,
               chunk_size: int = 100_000) -> pd.DataFrame:
        """``n`` synthetic rows. ``condition``: ``{col: value}`` (every row has that value) or
        ``{col: {value: share, ...}}`` (label proportions); ``seed`` makes the rows reproducible."""
        parts = list(self.iter_sample(n, condition, seed, chunk_size))
        if not parts:
            return self._generate(None if self.condition_ is None else torch.zeros(0, dtype=torch.long), 0,
                                  torch.Generator().manual_seed(0))
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    @torch.inference_mode()
    def discriminator_scores(self, df: pd.DataFrame) -> np.ndarray:
        """The trained discriminator's verdict on rows: the probability of "real" for BCE
        models, the critic score for Wasserstein ones (higher = more real). With pac > 1 rows are
        scored alone by repeating each one ``pac`` times."""
        self._check_fitted()
        self.discriminator_.eval()
        X = torch.as_tensor(self.encoder_.transform(df[self.encoder_.schema.names]), device=self.device_)
        cond = None
        if self.condition_ is not None:
            if self.condition_["kind"] != "column":
                raise DataError("rows cannot be scored by a model conditioned on KMeans clusters")
            codes = torch.tensor([self._label_index(v) for v in df[self.condition_["column"]]], dtype=torch.long)
            cond = torch.nn.functional.one_hot(codes, len(self.condition_["categories"])).float().to(self.device_)
        pac = self.discriminator_.pac
        if pac > 1:
            X = X.repeat_interleave(pac, dim=0)
            cond = cond.repeat_interleave(pac, dim=0) if cond is not None else None
        s = self.discriminator_(X, cond)
        return (torch.sigmoid(s) if self.config["loss"] == "bce" else s).cpu().numpy()

    # ------------------------------------------------------------------- save / load ---
    def summary(self) -> dict[str, Any]:
        self._check_fitted()
        tr = self.trainer_
        mon = getattr(self, "monitor_", None)
        quality = getattr(self, "quality_", None)
        if mon is not None:
            best = next((h for h in mon.history if h["step"] == mon.best_step), {})
            quality = {"metric": mon.metric, "best_step": mon.best_step, "best_score": round(mon.best, 4),
                       "best_column_shapes": round(best.get("column_shapes", mon.best), 4),
                       "history": mon.history, "stopped_early": tr.stop_reason == "early_stopping"}
        return {"steps": tr.step, "train_seconds": round(tr.train_seconds, 3), "quality": quality,
                "stopped_by": tr.stop_reason,
                "fit_seconds": round(getattr(self, "fit_seconds_", float("nan")), 3),
                "encoder_fit_seconds": round(getattr(self, "encoder_fit_seconds_", float("nan")), 3),
                "n_rows": self.n_rows_, "encoded_width": self.encoder_.width,
                "derived_columns": {d.spec.name: d.source for d in self.encoder_.derived_},
                "precision": tr.precision,
                "dp": getattr(self, "dp_", None)}

    def save(self, path: str | Path) -> Path:
        self._check_fitted()
        p = modelfile.check_writable(path, "model")
        meta = self._meta()
        meta["training"] = {**self.summary(), "history": {k: [r[k] for r in self.trainer_.history]
                                                          for k in ("step", "g_loss", "d_loss", "wasserstein",
                                                                    "d_real", "d_fake")}}
        tensors = {f"generator.{k}": v for k, v in self.generator_.state_dict().items()}
        tensors.update({f"discriminator.{k}": v for k, v in self.discriminator_.state_dict().items()})
        modelfile.save(p, tensors, jsonable(meta), kind="model")
        return p

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> "Synthesizer":
        tensors, meta = modelfile.load(path, kind="model")
        if meta.get("data") == "images":
            raise ModelFileError(f"{path} is an image model: load it with ganforge.ImageSynthesizer.load "
                                 f"(command line: ganforge sample-images)")
        try:
            self = cls(meta["model"], meta["preset"], **{k: v for k, v in meta["config"].items()
                                                         if k not in ("model", "preset", "loss", "conditional")})
            self.config["device"] = device
            for key, value in _OPTIONS_BEFORE_RECORDED.items():
                if key not in meta["config"]:
                    self.config[key] = value
            self.device_ = _resolve_device(device)
            self.schema_ = Schema.from_dict(meta["schema"])
            cond_col = meta["condition"]["column"] if meta["condition"] and meta["condition"]["kind"] == "column" else None
            feat = Schema([c for c in self.schema_.columns if c.name != cond_col], target=self.schema_.target)
            self.encoder_ = TableEncoder.from_state(feat, meta["encoder"])
            self.condition_ = meta["condition"]
            self._build_networks(len(self.condition_["categories"]) if self.condition_ else 0)
            self.generator_.load_state_dict(modelfile.with_prefix(tensors, "generator"))
            self.discriminator_.load_state_dict(modelfile.with_prefix(tensors, "discriminator"))
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            if isinstance(exc, (DataError, ConfigError)):
                raise ModelFileError(f"{path}: {exc}") from None
            raise ModelFileError(f"{path}: the model file is inconsistent ({type(exc).__name__}: {exc})") from None
        self.generator_.eval()
        self.discriminator_.eval()
        tr = meta.get("training", {})
        hist = tr.get("history") or {}
        keys = list(hist)
        self.history_ = pd.DataFrame({k: hist[k] for k in keys}) if keys else pd.DataFrame()
        self.trainer_ = _LoadedTrainer(int(tr.get("steps", 0)), float(tr.get("train_seconds", 0.0)),
                                       self.history_.to_dict("records"), tr.get("stopped_by"), tr.get("precision"))
        self.fit_seconds_ = float(tr.get("fit_seconds", float("nan")))
        self.quality_ = tr.get("quality")
        self.encoder_fit_seconds_ = float(tr.get("encoder_fit_seconds", float("nan")))
        self.n_rows_ = int(meta.get("n_rows", 0))
        self.fingerprint_ = meta.get("fingerprint")
        self.dp_ = meta.get("dp")
        self.model_meta_ = meta
        return self


class _Stream:
    """What _train needs of a streamed table: the encoded cache and a fingerprint of the rows."""

    def __init__(self, cache, fingerprint: str):
        self.cache, self.fingerprint = cache, fingerprint


def _label_codes(values: pd.Series, cats: list, column: str) -> np.ndarray:
    """Codes of ``values`` among ``cats`` (None, when present, is the code of a missing value)."""
    values = values.astype(object)
    codes = pd.Categorical(values, categories=[c for c in cats if c is not None]).codes.astype(np.int64)
    if None in cats:
        codes[pd.isna(values).to_numpy()] = len(cats) - 1
    if (codes < 0).any():
        raise DataError(f"condition column {column!r}: value {values[codes < 0].iloc[0]!r} is not in the schema's "
                        f"categories; add it to the schema or drop those rows")
    return codes


class _LoadedTrainer:
    """What a loaded model keeps of its training (no optimiser state)."""

    def __init__(self, step, train_seconds, history, stop_reason=None, precision=None):
        self.step, self.train_seconds, self.history = step, train_seconds, history
        self.precision = precision or "float32"  # files from before the option trained in float32
        self.stop_reason = stop_reason if stop_reason in ("early_stopping", "time_limit") else None


def _largest_remainder(p: torch.Tensor, n: int) -> torch.Tensor:
    raw = p * n
    counts = torch.floor(raw).long()
    short = n - int(counts.sum())
    if short:
        counts[torch.argsort(raw - counts, descending=True)[:short]] += 1
    return counts


def _fingerprint(df: pd.DataFrame) -> str:
    """Identifies the training rows for --resume (hashing by dtype: an object copy of a 1M x 40 table
    took 70 s, this 0.4 s)."""
    h = pd.util.hash_pandas_object(df, index=False)
    return f"{len(df)}x{df.shape[1]}:{int(h.sum()) & 0xFFFFFFFFFFFF:x}"
