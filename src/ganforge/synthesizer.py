"""The public facade: ``Synthesizer(model, preset, **overrides).fit(df).sample(n)``, ``save``, ``load``.

``fit`` infers (or takes) the schema, encodes the table, builds the model family the configuration
names and trains it with the one trainer; ``fit_files`` does the same for a table on disk that need
not fit in memory (``ganforge.scale.streaming``). Differential privacy changes what a fit may read
(``ganforge.training.private``); a process group is joined by ``ganforge.scale.distributed``.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd
import torch

from . import identifiers as idgen
from . import modelfile
from .version import __version__
from .config import Config
from .encoding import TableEncoder, parse_condition_on
from .encoding.condition import COLUMN, KMEANS, numeric_conditions
from .errors import ConfigError, DataError, ModelFileError
from .columns import describe_columns
from .fitting import (LoadedTrainer, fingerprint, fit_refiner, keep_rules, prepare_table, quality_monitor,
                      rejection_sample)
from .models import refine
from .models.families import FAMILIES
from .scale import distributed
from .schema import Schema, infer_schema, jsonable
from .training import Callback, Every, ProgressBar, ProgressLine, Trainer
from .training import private as dp
from .training import threads
from .training.collectives import rank_seed
from .training.kernels import resolve_device
from .training.sources import TensorSource

ConditionSpec = Mapping[str, Any]


class Synthesizer:
    """Learn a table with a GAN and generate new rows.

    >>> syn = Synthesizer(model="wcgan", preset="default", epochs=50).fit(df, target="income")
    >>> syn.sample(1000, condition={"income": ">50K"}, seed=0)

    ``model``: gan, cgan, wgan, wcgan (``ganforge.models.registry.MODELS``). ``preset``: default,
    ctgan-like, pima-paper, ons-paper, registry-paper. Any option can be overridden by keyword
    (``steps``, ``epochs``, ``batch_size``, ``lr_g``, ``latent_dim``, ``seed``, ``device``, ...;
    ``ganforge.config`` lists them all).
    """

    def __init__(self, model: str = "wcgan", preset: str = "default", **overrides: Any):
        self.model, self.preset, self.overrides = model, preset, overrides
        self.config = Config.build(model, preset, **overrides)

    # ------------------------------------------------------------------------ fitting ---
    def _start(self, schema: Schema, cond, checkpoint, public_schema: bool) -> None:
        """What every fit does before encoding: the privacy policy, the output checks, the device and
        the process group."""
        self.dp_ = None
        if self.config.privacy.enabled:
            self.config = dp.private_config(self.config, public_schema, bool(cond and cond[0] == KMEANS))
        if checkpoint is not None:
            modelfile.check_writable(checkpoint, "checkpoint")
        t = self.config.training
        self.dist_, self.device_ = distributed.join(resolve_device(self.config.runtime.device), t.batch_size,
                                                    self.config.network.pac, self.config.privacy.enabled)
        self.schema_ = schema

    def _encoder(self, schema: Schema, derive: bool = True) -> TableEncoder:
        """``derive=False``: no derived columns, linked values, grouped numbers, ratios, joints, forbidden
        combinations or lookups whatever the config says (a streamed table's encoder sees a sample, on which a dependency may hold by chance)."""
        c = self.config
        off = ("derive_columns", "link_values", "group_numerics", "ratio_numerics", "join_categories",
               "forbid_unseen_combinations", "lookup_pairs")
        enc = c.encoding if derive else dataclasses.replace(c.encoding, **dict.fromkeys(off, False))
        return TableEncoder(schema, enc, seed=c.runtime.seed, bounds_from_schema=c.privacy.enabled)

    @threads.on_threads
    def fit(self, data: pd.DataFrame, target: str | None = None, *, condition_on: str | None = None,
            categorical=None, ordinal=None, numeric=None, drop=None, schema: Schema | None = None,
            rules: list[str] | None = None, quiet: bool = True, callbacks: list[Callback] | None = None,
            checkpoint: str | Path | None = None, checkpoint_every: int = 500, resume: bool = False
            ) -> "Synthesizer":
        """Learn ``data``. ``target`` is the label column (the condition of cgan / wcgan);
        ``condition_on`` another column, or ``kmeans:K``. ``rules``: rules between columns that generated
        rows keep (``"start <= end"``, ``"a + b = total"``, ``"pct in [0, 100]"``, ``"fixed(city, country)"``;
        ``ganforge.rules``), beside those of ``schema`` and those fit detects. ``checkpoint``: a file written
        atomically every ``checkpoint_every`` steps; with ``resume=True`` training continues from it if it
        exists.
        """
        self._t_start = time.perf_counter()
        # differential privacy takes bounds and categories only from a schema the user declared public
        public = schema is not None and schema.public
        schema, df, cond = prepare_table(data, self.config, self.model, target, condition_on, categorical, ordinal,
                                          numeric, drop, schema, rules=rules)
        self._start(schema, cond, checkpoint, public)
        t0 = time.perf_counter()
        self.encoder_ = self._encoder(schema)
        X, codes = self.encoder_.fit_transform(df, cond)
        self.encoder_fit_seconds_ = time.perf_counter() - t0
        dev = self.device_

        def source(n_labels, onehot):
            if self._private is not None:
                return dp.PoissonSource(torch.as_tensor(X, device=dev), codes_t, n_labels,
                                        self._private.sample_rate, onehot)
            return TensorSource(torch.as_tensor(X, device=dev), codes_t, n_labels,
                                self.config.training.condition_balance, onehot)

        codes_t = None if codes is None else torch.as_tensor(codes, device=dev)
        self._train(df, len(df), fingerprint(df), source, quiet, callbacks, checkpoint, checkpoint_every, resume,
                    codes=codes)
        return self

    @threads.on_threads
    def fit_files(self, path: str | Path, target: str | None = None, *, condition_on: str | None = None,
                  categorical=None, ordinal=None, numeric=None, drop=None, schema: Schema | None = None,
                  rules: list[str] | None = None, sep: str | None = None, max_rows: int | None = None,
                  cache_dir: str | Path | None = None, keep_cache: bool = False, batch_rows: int = 65_536,
                  quiet: bool = True, callbacks: list[Callback] | None = None,
                  checkpoint: str | Path | None = None, checkpoint_every: int = 500, resume: bool = False
                  ) -> "Synthesizer":
        """Learn a table on disk that need not fit in memory: a Parquet file, a folder of Parquet
        parts, or a CSV (read in chunks). See :mod:`ganforge.scale.streaming`.

        ``max_rows``: train in memory on a uniform sample of that many rows (bounds and category
        sets still from every row). Otherwise the rows are encoded into ``cache_dir`` (default: a
        folder next to the checkpoint, or a hidden one in the working folder) and streamed; the cache
        is removed afterwards unless ``keep_cache``.
        """
        from .scale import streaming

        if max_rows is not None and max_rows < 1:
            raise ConfigError("`max_rows` must be at least 1")
        self._t_start = time.perf_counter()
        c = self.config
        if c.privacy.enabled and max_rows is None:
            raise ConfigError("`dp_epsilon` needs the table in memory (Poisson sampling over its rows): add "
                              "`max_rows` to train on a uniform sample")
        n_sample = max_rows if max_rows is not None else c.runtime.stream_sample_rows
        sc = streaming.scan(path, n_sample, seed=c.runtime.seed, batch_rows=batch_rows, sep=sep)
        if schema is None:
            cond = parse_condition_on(condition_on)
            cats = list(categorical or []) + ([cond[1]] if cond and cond[0] == COLUMN else [])
            schema = infer_schema(sc.sample, target=target, categorical=cats, ordinal=ordinal, numeric=numeric,
                                  drop=drop, categorical_threshold=c.encoding.categorical_threshold)
            sc.apply(schema)
            schema.extra["inferred_from"] = f"scan of {sc.rows} rows (sample {len(sc.sample)})"
        self.scan_rows_ = sc.rows
        if c.training.condition_balance > 0 and max_rows is None and sc.rows > len(sc.sample):
            raise ConfigError("`condition_balance` > 0 reweights rows by label, which needs the table in memory: "
                              "add `max_rows`, or leave condition_balance at 0 when streaming")
        kw = dict(quiet=quiet, callbacks=callbacks, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                  resume=resume)
        if max_rows is not None or sc.rows <= len(sc.sample):
            return self.fit(sc.sample, target, condition_on=condition_on, schema=schema, rules=rules, **kw)

        # rules are not detected on a sample, where one may hold by chance
        schema, sample, cond = prepare_table(sc.sample, c, self.model, target, condition_on, None, None, None, None,
                                            schema, rules=rules, detect=False)
        if cond and cond[0] == KMEANS:
            raise ConfigError("`condition_on` kmeans clusters the whole table in memory: add `max_rows` to train "
                              "on a sample, or condition on a column")
        self._start(schema, cond, checkpoint, public_schema=False)
        t0 = time.perf_counter()
        counts = None
        if cond:
            counts = {**sc.counts.get(cond[1], {}), None: sc.nulls[cond[1]]}
        self.encoder_ = self._encoder(schema, derive=False).fit(streaming.fit_frame(sample, schema, sc), cond,
                                                                counts=counts)
        folder = Path(cache_dir) if cache_dir is not None else Path(
            str(checkpoint) + ".cache" if checkpoint is not None else f".ganforge-cache-{sc.digest.split(':')[-1]}")
        ctx = self.dist_
        if ctx.is_main:
            cache = streaming.build_cache(path, self.encoder_, folder, self.encoder_.condition_codes, batch_rows, sep)
        distributed.barrier(ctx)
        if not ctx.is_main:  # rank 0 wrote it
            cache = streaming.Cache.open(folder)
        self.encoder_fit_seconds_ = time.perf_counter() - t0
        r = c.runtime
        cond_ = self.encoder_.condition_

        def source(n_labels, onehot):
            return streaming.StreamingSource(cache, self.device_, ctx.rank, ctx.world_size, seed=r.seed,
                                             block_rows=r.stream_block_rows, buffer_rows=r.stream_buffer_rows,
                                             workers=r.stream_workers, onehot=onehot,
                                             frequencies=cond_.frequencies if cond_ else None)
        try:
            self._train(sample, cache.rows, sc.digest, source, **kw)
        finally:
            distributed.barrier(ctx)
            if not keep_cache and ctx.is_main:
                streaming.remove_cache(cache)
        return self

    def _train(self, df: pd.DataFrame, n_rows: int, fingerprint: str, make_source, quiet, callbacks, checkpoint,
               checkpoint_every, resume, codes: np.ndarray | None = None) -> None:
        """Train on a private random stream from the seed (the user's global torch state is left as it
        was). ``df``: the rows the monitor scores against (the table, or a sample of a streamed one)."""
        c, dev, ctx, enc = self.config, self.device_, self.dist_, self.encoder_
        family = FAMILIES[c.family]
        self._private = None
        cond = enc.condition_
        n_labels = cond.width if cond else 0
        if c.privacy.enabled:  # noisy counts, and the noisy row count stands for n (budget, delta, the file)
            self._private, counted = dp.start(c, n_rows, None if cond is None else codes, n_labels,
                                              lambda rows: family.steps(c, rows))
            n_rows = counted.rows
            if cond is not None:
                cond.frequencies = counted.frequencies
        steps = family.steps(c, n_rows)
        devices = [dev.index or 0] if dev.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(c.runtime.seed)
            private = None if self._private is None else (
                lambda d, loss: dp.PrivateCritic(d, loss, c.training.gp_lambda, self._private, n_rows))
            self.family_ = family.for_table(c, enc.spans, enc.width, n_labels, device=dev, dist=ctx, training=True,
                                            private=private, n_rows=n_rows)
            if ctx.active:  # each rank draws its rows and noise from its own stream
                torch.manual_seed(rank_seed(c.runtime.seed, ctx))
            self.family_.source = make_source(n_labels, cond.onehot if cond else None)
            cbs: list[Callback] = list(callbacks or [])
            if not quiet and ctx.is_main:
                # a bar on a terminal; elsewhere (a log file, a notebook, CI) a line every 20 seconds
                cbs.insert(0, ProgressBar(steps, f"{self.model}/{self.preset}") if sys.stdout.isatty() else
                           ProgressLine(steps, f"{self.model}/{self.preset}", c.training.batch_size))
            self.fingerprint_, self.n_rows_ = fingerprint, n_rows
            self.trainer_ = trainer = Trainer(self.family_, cbs, dev, ctx)
            self.monitor_ = quality_monitor(c, df, self.schema_, steps, self._generate)
            if self.monitor_ is not None:
                cbs.append(self.monitor_)
            ckpt = Path(checkpoint) if checkpoint is not None else None
            if ckpt is not None:
                cbs.append(Every(checkpoint_every, lambda tr, step: self._save_checkpoint(ckpt)))
                if resume and ckpt.exists():
                    self._load_checkpoint(ckpt)
            limit = c.training.time_limit
            trainer.fit(steps, deadline=None if limit is None else self._t_start + limit)
            if ckpt is not None and trainer.step % checkpoint_every:
                self._save_checkpoint(ckpt)
            self.refiner_ = None
            if c.training.refine_candidates > 1 and ctx.is_main:
                self.refiner_, self.refine_figures_ = fit_refiner(c, self.family_, enc, self.family_.source, n_rows, dev)
        if self._private is not None:
            self.dp_ = dp.release_summary(self._private, self.family_.critic_steps(trainer.step))
        self.history_ = pd.DataFrame(trainer.history)
        self.fit_seconds_ = time.perf_counter() - self._t_start

    # ------------------------------------------------------------------ checkpoints ---
    def _meta(self, checkpoint: bool = False) -> dict[str, Any]:
        private = self.config.privacy.enabled
        cond = self.encoder_.condition_
        return {
            "ganforge_version": __version__, "model": self.model, "preset": self.preset,
            "config": self.config.flat(), "schema": self.schema_.to_dict(), "encoder": self.encoder_.get_state(),
            "condition": cond.to_dict() if cond else None, "n_rows": self.n_rows_,
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
            raise ModelFileError(f"checkpoint {path} was made on different data; remove it or drop `resume`")
        if meta.get("model") != self.model or meta.get("config", {}).get("seed") != self.config.runtime.seed:
            raise ModelFileError(f"checkpoint {path} was made with other settings (model {meta.get('model')}); "
                                 f"use the same options or drop `resume`")
        self.trainer_.load_state({k: v.to(self.device_) if not k.startswith("rng.") else v
                                  for k, v in tensors.items()}, meta["trainer"])

    # ---------------------------------------------------------------------- sampling ---
    def _check_fitted(self):
        if not hasattr(self, "family_"):
            raise ConfigError("this Synthesizer is not fitted yet: call fit(df) or Synthesizer.load(path)")

    def _generate(self, n: int, want: Any, g: torch.Generator, codes: torch.Tensor | None = None,
                  ids: idgen.Stream | None = None) -> pd.DataFrame:
        """``n`` rows; their condition codes drawn for ``want`` (see ``Condition.draw``) unless given;
        ``ids``: the sampling call's generated keys. Rows that break a rule kept by rejection are drawn
        again (with the same codes)."""
        cond = self.encoder_.condition_
        if cond is not None and codes is None:
            codes = cond.draw(n, want, g)
        if self.encoder_.has_rules:
            return keep_rules(lambda m, c: self._decoded(m, g, c, ids), self.encoder_, n, codes)
        return self._decoded(n, g, codes, ids)

    def _decoded(self, n: int, g: torch.Generator, codes: torch.Tensor | None, ids: idgen.Stream | None
                 ) -> pd.DataFrame:
        cond = self.encoder_.condition_
        k = self.config.training.refine_candidates if getattr(self, "refiner_", None) is not None else 1
        if k > 1:  # each row one of k candidates with its condition, picked by the refiner's density ratio
            cand = None if codes is None else codes.repeat_interleave(k)
            onehot = None if cand is None else cond.onehot(cand)
            out = self.encoder_.as_encoded(self.family_.generate(n * k, onehot, g))
            out = out[refine.choose(self.refiner_, out, onehot, k, g)]
        else:
            out = self.family_.generate(n, None if codes is None else cond.onehot(codes), g)
        rng = None
        if self.encoder_.has_rare_buckets:  # values behind rare codes come from this sample's seed
            rng = np.random.default_rng(int(torch.randint(2**62, (1,), generator=g)))
        return self.encoder_.inverse_transform(out, rng, None if codes is None else codes.numpy(), ids)

    def iter_sample(self, n: int, condition: ConditionSpec | None = None, seed: int | None = None,
                    chunk_size: int = 100_000, return_codes: bool = False,
                    id_stream: tuple[int, int] | None = None) -> Iterator[pd.DataFrame]:
        """Yield ``n`` rows in DataFrames of at most ``chunk_size`` rows (bounded memory); with
        ``return_codes``, ``(rows, codes)`` pairs (see ``sample``). ``id_stream``: ``(key, first row)``
        of generated key, e-mail and name columns, for one output written in parts by separate calls:
        parts that share the key and start where the one before ends never repeat a key (default: the
        seed as key, from row 0)."""
        self._check_fitted()
        if n < 0:
            raise DataError("the number of rows to sample must be >= 0")
        condition = dict(condition or {})
        cond = self.encoder_.condition_
        label = cond.column if cond is not None else None  # "cluster" for KMeans conditions
        unknown = [c for c in condition if c not in self.schema_ and c != label]
        if unknown:
            raise DataError(f"condition on unknown column(s) {unknown}; columns are {', '.join(self.schema_.names)}")
        if seed is None:
            seed = int(np.random.default_rng().integers(2**62))
        g = torch.Generator().manual_seed(int(seed))
        want = condition.get(label)
        rest = numeric_conditions(self.schema_, {c: v for c, v in condition.items() if c != label})
        stream = idgen.Stream(seed) if id_stream is None else idgen.Stream(*id_stream)
        n_threads = threads.resolve(self.config.runtime.threads)

        def generate(m, want, g_, part):
            with threads.limited(n_threads):
                return self._generate(m, want, g_, part, ids=stream)

        if rest:
            if return_codes:
                raise DataError("return_codes is not available with a condition on a column the model was not "
                                "trained on (rows are kept by rejection)")
            codes = cond.draw(min(n, chunk_size), want, g) if cond is not None else None  # one chunk's, whatever n
            yield from rejection_sample(generate, self.schema_, self.encoder_.condition_, n, rest, codes, g,
                                        chunk_size)
            if n == 0:  # one empty frame still gives a writer the columns and their dtypes
                yield generate(0, None, g, None if codes is None else codes[:0])
            return
        draws = cond.draws(n, want, g, chunk_size) if cond is not None else None  # memory does not grow with n
        for start in range(0, max(n, 1), chunk_size):  # n = 0: one empty frame, with the columns
            m = min(chunk_size, n - start)
            part = None if draws is None else next(draws)
            df = generate(m, None, g, part)
            yield (df, None if part is None else part.numpy()) if return_codes else df

    def sample(self, n: int, condition: ConditionSpec | None = None, seed: int | None = None,
               chunk_size: int = 100_000, return_codes: bool = False):
        """``n`` synthetic rows. ``condition``: ``{col: value}`` (every row has that value) or
        ``{col: {value: share, ...}}`` (label proportions); ``seed`` makes the rows reproducible.
        ``return_codes``: also the condition code of each row (its label's index in the model's
        ``condition_["categories"]``, or its KMeans cluster; None for an unconditional model).
        Called during training (from a callback), it samples the current weights."""
        parts = list(self.iter_sample(n, condition, seed, chunk_size, return_codes))
        if not parts:
            empty = None if self.encoder_.condition_ is None else torch.zeros(0, dtype=torch.long)
            df = self._generate(0, None, torch.Generator().manual_seed(0), empty)
            return (df, None if empty is None else empty.numpy()) if return_codes else df
        if not return_codes:
            return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        frames, codes = zip(*parts)
        return (pd.concat(frames, ignore_index=True),
                None if codes[0] is None else np.concatenate(codes))

    def discriminator_scores(self, df: pd.DataFrame) -> np.ndarray:
        """The trained discriminator's verdict on rows: the probability of "real" for BCE
        models, the critic score for Wasserstein ones (higher = more real). With pac > 1 rows are
        scored alone by repeating each one ``pac`` times."""
        self._check_fitted()
        cond = self.encoder_.condition_
        if cond is not None and not cond.is_column:
            raise DataError("rows cannot be scored by a model conditioned on KMeans clusters")
        X = torch.as_tensor(self.encoder_.transform(df[self.encoder_.features.names]), device=self.device_)
        codes = self.encoder_.condition_codes(df)
        onehot = None if codes is None else cond.onehot(torch.as_tensor(codes)).to(self.device_)
        return self.family_.score(X, onehot)

    @property
    def rules_(self) -> list:
        """The rules generated rows keep (``ganforge.rules.Rule``: stated and detected), as fit planned them."""
        return [p.rule for p in self.encoder_.constraints_.plans]

    @property
    def scores_are_probabilities(self) -> bool:
        """Whether ``discriminator_scores`` are probabilities of "real" (else critic values)."""
        return self.family_.loss.probabilities

    @property
    def generator_(self) -> torch.nn.Module:
        return self.family_.generator

    @property
    def discriminator_(self) -> torch.nn.Module:
        return self.family_.discriminator

    @property
    def condition_(self) -> dict[str, Any] | None:
        """The condition as a model file stores it (kind, column, categories, frequencies), or None."""
        cond = self.encoder_.condition_
        return None if cond is None else cond.to_dict()

    # ------------------------------------------------------------------- save / load ---
    def summary(self) -> dict[str, Any]:
        """What the fit did: steps, seconds, rows, the monitor's best score, why training stopped, the
        precision of its steps, derived columns, and the privacy spent (a DP model)."""
        self._check_fitted()
        tr, mon = self.trainer_, getattr(self, "monitor_", None)
        quality = mon.summary(tr.stop_reason == "early_stopping") if mon is not None else getattr(self, "quality_", None)
        return {"steps": tr.step, "train_seconds": round(tr.train_seconds, 3), "quality": quality,
                "stopped_by": tr.stop_reason,
                "fit_seconds": round(getattr(self, "fit_seconds_", float("nan")), 3),
                "encoder_fit_seconds": round(getattr(self, "encoder_fit_seconds_", float("nan")), 3),
                "n_rows": self.n_rows_, "encoded_width": self.encoder_.width,
                "derived_columns": {d.spec.name: d.source for d in self.encoder_.derived_},
                "linked_values": [ln.text for ln in self.encoder_.links_],
                "grouped_numerics": {g.column: g.parent for g in self.encoder_.groups_},
                "ratio_numerics": {r.column: r.source for r in self.encoder_.ratios_},
                "joint_categories": [j.columns for j in self.encoder_.joints_],
                "forbidden_combinations": {u.text: u.forbidden for u in self.encoder_.supports_},
                "looked_up": [lk.text for lk in self.encoder_.lookups_],
                "columns": describe_columns(self.schema_, self.encoder_.constraints_.get_state()),
                "threads": getattr(self, "threads_", None),
                "precision": tr.precision, "dp": getattr(self, "dp_", None),
                "refine": getattr(self, "refine_figures_", None)}

    def save(self, path: str | Path) -> Path:
        """Write the model file (safetensors weights and JSON metadata, atomically); returns its path."""
        self._check_fitted()
        p = modelfile.check_writable(path, "model")
        meta = self._meta()
        hist = {k: [r.get(k) for r in self.trainer_.history] for k in (self.trainer_.history[:1] or [{}])[0]}
        meta["training"] = {**self.summary(), "history": hist, **dp.untimed(getattr(self, "dp_", None))}
        modules = dict(self.family_.saved_modules())
        if getattr(self, "refiner_", None) is not None:
            modules["refiner"] = self.refiner_
        tensors = {f"{name}.{k}": v for name, m in modules.items() for k, v in m.state_dict().items()}
        modelfile.save(p, tensors, jsonable(meta), kind="model")
        return p

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> "Synthesizer":
        """A fitted Synthesizer from a model file (never executes code from it), on ``device``."""
        from . import modelcheck  # the metadata, and every size it implies against the tensors, before any build
        tensors, meta = modelcheck.load_table(path)
        try:
            self = cls.__new__(cls)
            self.config = Config.from_flat({**meta["config"], "model": meta["model"], "preset": meta["preset"],
                                            "device": device})
            self.model, self.preset, self.overrides = meta["model"], meta["preset"], {}
            self.device_ = resolve_device(device)
            self.schema_ = Schema.from_dict(meta["schema"])
            self.encoder_ = TableEncoder.from_state(self.schema_, meta["encoder"], meta["condition"])
            cond = self.encoder_.condition_
            self.family_ = FAMILIES[self.config.family].for_table(self.config, self.encoder_.spans, self.encoder_.width,
                                                                  cond.width if cond else 0, device=self.device_)
            for name, m in self.family_.saved_modules().items():
                m.load_state_dict(modelfile.with_prefix(tensors, name))
                m.eval()
            self.family_.loaded()
            self.refiner_ = None
            if any(k.startswith("refiner.") for k in tensors):
                self.refiner_ = refine.Refiner(self.encoder_.width, cond.width if cond else 0,
                                               self.config.network.discriminator_layers)
                self.refiner_.load_state_dict(modelfile.with_prefix(tensors, "refiner"))
                self.refiner_.eval()
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            if isinstance(exc, (DataError, ConfigError)):
                raise ModelFileError(f"{path}: {exc}") from None
            raise ModelFileError(f"{path}: the model file is inconsistent ({type(exc).__name__}: {exc})") from None
        tr = meta.get("training", {})
        hist = tr.get("history") or {}
        self.history_ = pd.DataFrame({k: hist[k] for k in hist}) if hist else pd.DataFrame()
        self.trainer_ = LoadedTrainer(int(tr.get("steps", 0)), float(tr.get("train_seconds", 0.0)),
                                       self.history_.to_dict("records"), tr.get("stopped_by"), tr.get("precision"))
        self.fit_seconds_ = float(tr.get("fit_seconds", float("nan")))
        self.quality_ = tr.get("quality")
        self.encoder_fit_seconds_ = float(tr.get("encoder_fit_seconds", float("nan")))
        self.n_rows_ = int(meta.get("n_rows", 0))
        self.fingerprint_ = meta.get("fingerprint")
        self.dp_ = meta.get("dp")
        self.refine_figures_ = tr.get("refine")
        self.model_meta_ = meta
        return self
