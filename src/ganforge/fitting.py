"""The steps of a table fit and of sampling that the facade (``ganforge.synthesizer``) composes:
preparing the table and its condition, identifying its rows, the quality monitor, rejection
sampling, and what a loaded model keeps of its training."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd
import torch

from . import rules as rulebook
from .config import Config
from .encoding import parse_condition_on
from .encoding.codes import comparable
from .encoding.condition import COLUMN
from .errors import ConfigError, DataError
from .schema import CATEGORICAL, ORDINAL, Schema, infer_schema
from .training.monitor import QualityMonitor


def prepare_table(df: pd.DataFrame, config: Config, model: str, target, condition_on, categorical, ordinal, numeric,
                  drop, schema: Schema | None, rules=None, detect: bool = True
                  ) -> tuple[Schema, pd.DataFrame, tuple[str, Any] | None]:
    """The schema (inferred, or the user's with ``target``), the table's columns in its order, and the
    condition: ``("column", name)``, ``("kmeans", k)`` or None (checked against the model). The schema's
    rules are its own and ``rules``, checked against the rows; an inferred schema also gets the rules
    the rows show (with ``detect`` and the ``detect_rules`` option)."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"fit expects a pandas DataFrame, got {type(df).__name__}")
    cond = parse_condition_on(condition_on)
    if cond and cond[0] == COLUMN:
        categorical = list(categorical or []) + [cond[1]]
    inferred = schema is None
    if schema is None:
        enc = config.encoding
        schema = infer_schema(df, target=target, categorical=categorical, ordinal=ordinal, numeric=numeric,
                              drop=drop, categorical_threshold=enc.categorical_threshold,
                              identifiers=enc.identifiers != "learn")
        if enc.identifiers == "drop":
            schema.columns = [c for c in schema.columns if not c.is_generated]
    else:
        missing = [c for c in schema.names if c not in df.columns]
        if missing:
            raise DataError(f"schema columns {missing} are not in the table")
        if target is not None:
            schema.target = target
    df = df[schema.names].reset_index(drop=True)
    if cond is None and config.conditional:
        if schema.target is None:
            raise ConfigError(f"model {model!r} is conditional: pass `target` (a label column) or "
                              f"`condition_on` (a column, or kmeans:K for K pseudo-labels)")
        cond = (COLUMN, schema.target)
    if cond and cond[0] == COLUMN:
        if cond[1] not in schema:
            raise DataError(f"`condition_on` {cond[1]!r} is not a column of the table")
        if schema[cond[1]].kind not in (CATEGORICAL, ORDINAL):
            raise DataError(f"`condition_on` {cond[1]!r}: the condition must be a categorical column")
    if cond and not config.conditional:
        raise ConfigError(f"model {model!r} takes no condition; use cgan or wcgan to condition on "
                          f"{cond[1]!r}")
    _prepare_rules(schema, df, config, rules, detect and inferred, cond)
    return schema, df, cond


def _prepare_rules(schema: Schema, df: pd.DataFrame, config: Config, extra, detect: bool, cond) -> None:
    """The schema's rules: its own and ``extra``, each checked against the rows (a rule the training rows
    break is an error; not read with differential privacy), then those ``detect`` finds."""
    stated = rulebook.parse_all(list(schema.rules) + list(extra or []), schema)
    private = config.privacy.enabled
    if not private:
        rulebook.broken([r for r in stated if not r.detected], df, schema)
    found = []
    if detect and config.encoding.detect_rules and not private:
        known = {r.text for r in stated} | {f"{r.columns[0]} <= {r.columns[1]}" for r in stated if r.kind == "<"}
        skip = [cond[1]] if cond and cond[0] == COLUMN else []
        found = [r for r in rulebook.detect(df, schema, skip=skip) if r.text not in known]
    schema.rules = [r.to_dict() for r in stated + found]


def keep_rules(decode, encoder, n: int, codes, max_factor: int = 100) -> pd.DataFrame:
    """``n`` rows of ``decode(m, codes)`` that keep the encoder's rules kept by rejection: a row that breaks
    one is drawn again with its condition code, in its place."""
    df = decode(n, codes)
    pos, pieces, tried = np.arange(n), [], n
    while True:
        ok = encoder.rule_mask(df)
        pieces.append(df[ok].set_axis(pos[ok]))
        pos = pos[~ok]
        if not len(pos):
            break
        if tried > max_factor * max(n, 1000):
            shares = [(r.text, float(r.holds(df, encoder.schema).mean())) for r in encoder.constraints_.rejecting]
            worst = min(shares, key=lambda x: x[1])
            raise DataError(f"generated rows rarely keep the rule {worst[0]!r} (about {worst[1]:.1%} of them): train "
                            f"longer, or remove the rule")
        df = decode(len(pos), None if codes is None else codes[torch.as_tensor(pos)])
        tried += len(pos)
    if len(pieces) == 1:
        return pieces[0].reset_index(drop=True)
    return pd.concat(pieces).sort_index().reset_index(drop=True)


def fingerprint(df: pd.DataFrame) -> str:
    """Identifies the training rows for resuming (hashing by dtype: an object copy of a 1M x 40 table
    took 70 s, this 0.4 s)."""
    h = pd.util.hash_pandas_object(df, index=False)
    return f"{len(df)}x{df.shape[1]}:{int(h.sum()) & 0xFFFFFFFFFFFF:x}"


def quality_monitor(config: Config, df: pd.DataFrame, schema: Schema, steps: int, generate) -> QualityMonitor | None:
    """The quality monitor of a fit, or None: it scores ``generate(n, None, g)``'s rows against ``df``."""
    from .metrics.monitoring import QualityScorer

    m, seed = config.monitor, config.runtime.seed + 1
    every = m.eval_every or (max(50, steps // 40) if m.early_stopping else 0)
    if not every:
        return None
    # dates as numbers, generated columns left out: what the metrics compare
    view, real = comparable(schema, df)
    scorer = QualityScorer(real, view, m.monitor, m.quality_rows, seed)
    # the rows sample(quality_rows, seed=seed) gives: the generator as it is at each score
    return QualityMonitor(lambda: comparable(schema, generate(m.quality_rows, None,
                                                              torch.Generator().manual_seed(seed)))[1],
                          scorer, every, m.patience, m.early_stopping, m.monitor)


def rejection_sample(generate, schema: Schema, cond, n: int, condition: Mapping[str, Any], codes, g: torch.Generator,
                     chunk_size: int, max_factor: int = 100) -> Iterator[pd.DataFrame]:
    """Keep generated rows (``generate(m, None, g, codes)``) that match a condition the model was not
    trained on; ``cond``: the model's condition (its codes are drawn already, ``codes``)."""
    for col, want in condition.items():
        if isinstance(want, Mapping):
            raise DataError(f"proportions are only supported for the model's condition column "
                            f"({cond.column if cond else 'none'}), not {col!r}")
        spec = schema[col]
        if spec.is_generated:
            raise DataError(f"condition on {col!r}: the column is generated in its format, not learnt, so no "
                            f"generated row has a given value")
        if spec.categories is not None and not any(c == want or str(c) == str(want) for c in spec.categories):
            raise DataError(f"condition {col}={want!r} was never seen in training; known values: "
                            f"{', '.join(map(repr, spec.categories[:20]))}")
    done, tried = 0, 0
    while done < n:
        m = min(chunk_size, max(1000, 2 * (n - done)))
        sub = None if codes is None else codes[torch.randint(len(codes), (m,), generator=g)]
        df = generate(m, None, g, sub)
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
                            f"train a conditional model on that column (`condition_on`)")


class LoadedTrainer:
    """What a loaded model keeps of its training (no optimiser state)."""

    def __init__(self, step, train_seconds, history, stop_reason=None, precision=None):
        self.step, self.train_seconds, self.history = step, train_seconds, history
        self.precision = precision or "float32"  # files from before the option trained in float32
        self.stop_reason = stop_reason if stop_reason in ("early_stopping", "time_limit") else None


def fit_refiner(config: Config, family, encoder, source, n_rows: int, device) -> tuple[Any, dict[str, Any]]:
    """Train the refinement classifier (``refine_candidates``) on up to 20,000 real rows drawn from the
    training source and as many generated ones, each with its condition; returns it and its figures."""
    from .models.refine import Refiner, train_refiner

    cond = encoder.condition_
    n = min(n_rows, 20_000)
    batch = config.training.batch_size
    reals, conds = [], []
    while sum(len(r) for r in reals) < n:
        x, c = source.sample(batch) if not hasattr(source, "poisson") else source.sample(batch)
        reals.append(x.detach().float().cpu())
        conds.append(None if c is None else c.detach().float().cpu())
    real = torch.cat(reals)[:n]
    real_cond = None if cond is None else torch.cat(conds)[:n]
    g = torch.Generator().manual_seed(config.runtime.seed + 7)
    codes = cond.draw(n, None, g) if cond is not None else None
    fake_cond = None if codes is None else cond.onehot(codes)
    fake = torch.as_tensor(encoder.as_encoded(family.generate(n, fake_cond, g)))
    refiner = Refiner(encoder.width, cond.width if cond else 0, config.network.discriminator_layers)
    figures = train_refiner(refiner, real, real_cond, fake, fake_cond, config.training.refine_epochs,
                            config.runtime.seed + 8, batch_size=batch)
    return refiner.eval(), figures
