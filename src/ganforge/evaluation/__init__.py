"""One call that measures a synthetic table: fidelity, detection, utility, privacy, pictures.

``evaluate(real, synthetic, test=..., target=..., model=...)`` returns an
:class:`EvaluationResult` of plain data; ``ganforge.report`` turns it into HTML and JSON. The
schema comes from the model when one is given, else it is inferred once from the real table and
shared by every metric. With a model, its own discriminator judges generated rows ("how many
fooled it").
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import rules as rulebook
from ..encoding import links
from ..encoding.codes import comparable
from ..errors import DataError
from ..metrics.detection import detection, discriminator_verdicts
from ..metrics.fidelity import fidelity
from ..metrics.measure import Tables
from ..metrics.membership import membership_inference
from ..metrics.privacy import closest_real_rows, privacy
from ..metrics.projection import projections
from ..metrics.structure import conditional_shift, strongest_pairs, target_pairs, unseen_combinations
from ..metrics.utility import utility
from ..schema import Schema, infer_schema, jsonable
from .measures import MEASURES
from .result import EvaluationResult
from .verdicts import LABEL_GAIN, LABEL_UNJUDGED, Verdict, label_trends_verdict

__all__ = ["evaluate", "EvaluationResult", "Verdict", "label_trends_verdict", "LABEL_GAIN", "LABEL_UNJUDGED"]


def _check_columns(name: str, df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    missing = [c for c in schema.names if c not in df.columns]
    if missing:
        raise DataError(f"the {name} table lacks column(s) {', '.join(map(repr, missing))} of the real table")
    return df[schema.names].reset_index(drop=True)


def evaluate(real: pd.DataFrame, synthetic: pd.DataFrame, test: pd.DataFrame | None = None,
             target: str | None = None, model: Any = None, schema: Schema | None = None, seed: int = 0,
             n_discriminator: int = 100, tsne: bool = True, utility_classifiers: tuple[str, ...] | None = None,
             ) -> EvaluationResult:
    """Measure ``synthetic`` against ``real`` (the training rows) and ``test`` (held-out rows).

    ``model``: a fitted Synthesizer or the path of a model file; gives the schema, the loss
    curves and the discriminator's verdicts. Without ``test`` the real rows are split 70/30
    for utility and privacy (documented in the result's timings as ``test_split``).
    """
    timings: dict[str, float] = {}
    syn = None
    if model is not None:
        from ..synthesizer import Synthesizer

        syn = model if isinstance(model, Synthesizer) else Synthesizer.load(Path(model), device="cpu")
        schema = schema or syn.schema_
        target = target or syn.schema_.target
    if schema is None:
        schema = infer_schema(real, target=target)
    if target is not None and target not in schema:
        raise DataError(f"`target` {target!r} is not a column of the real table")
    real = _check_columns("real", real, schema)
    synthetic = _check_columns("synthetic", synthetic, schema)
    t = time.perf_counter()
    rules_kept = rulebook.measure(real, synthetic, schema, syn.rules_ if syn is not None else None)
    # values two columns hold in the same rows (internet "No" and security "No internet service"): a
    # detector's first clue when generated rows break them
    rules_kept += links.kept(links.in_table(real, schema, skip=[target] if target else []), synthetic, schema)
    timings["rules"] = time.perf_counter() - t
    # the metrics compare dates as numbers and leave generated columns (keys, personal data, text) out; the
    # model's discriminator reads the tables as they are
    raw_real, raw_synthetic = real, synthetic
    if test is not None:
        test = _check_columns("test", test, schema)
    schema, real, synthetic, *held = comparable(schema, real, synthetic, *([test] if test is not None else []))
    if test is None:
        idx = np.random.default_rng(seed).permutation(len(real))
        cut = int(0.7 * len(real))
        train, test = real.iloc[idx[:cut]].reset_index(drop=True), real.iloc[idx[cut:]].reset_index(drop=True)
        raw_train = raw_real.iloc[idx[:cut]].reset_index(drop=True)
        timings["test_split"] = 0.3
        held_out_split = True
    else:
        held_out_split = False
        train, test, raw_train = real, held[0], raw_real

    t = time.perf_counter()
    fid = fidelity(real, synthetic, schema, target=target)
    pairs, label_pairs = strongest_pairs(fid), target_pairs(fid, target)
    unseen = unseen_combinations(real, synthetic, fid, train, test)
    timings["fidelity"] = time.perf_counter() - t
    shift = None
    if target is not None:
        t = time.perf_counter()
        shift = conditional_shift(train, synthetic, schema, target, test=test)
        timings["conditional"] = time.perf_counter() - t
    t = time.perf_counter()
    det = detection(real, synthetic, schema, seed=seed)
    timings["detection"] = time.perf_counter() - t
    util = None
    if target is not None:
        t = time.perf_counter()
        kw = {"classifiers": utility_classifiers} if utility_classifiers else {}
        util = utility(train, test, synthetic, schema, target, seed=seed, **kw)
        timings["utility"] = time.perf_counter() - t
    t = time.perf_counter()
    priv = privacy(train, test, synthetic, schema, seed=seed)
    timings["privacy"] = time.perf_counter() - t
    member = None
    if not held_out_split:
        # the attacks need rows the generator never saw; a split of the training table has none
        t = time.perf_counter()
        member = membership_inference(train, test, synthetic, schema, seed=seed)
        timings["membership"] = time.perf_counter() - t

    measured: dict[str, Any] = {}  # the measures of the seam (evaluation/measures.py)
    tables = Tables(real, synthetic, train, test, schema, target, seed)
    for m in MEASURES:
        if m.needs_target and target is None:
            continue
        t = time.perf_counter()
        data = m.compute(tables)
        timings[m.name] = time.perf_counter() - t
        if data is not None:
            measured[m.name] = data

    disc = inspection = None
    groups = None
    if syn is not None:
        t = time.perf_counter()
        fakes = synthetic.iloc[:n_discriminator].reset_index(drop=True)
        probabilities = syn.scores_are_probabilities
        real_scores = None if probabilities else syn.discriminator_scores(
            raw_train.sample(min(len(raw_train), 1000), random_state=seed))
        disc = discriminator_verdicts(syn.discriminator_scores(raw_synthetic.iloc[:n_discriminator].reset_index(drop=True)),
                                      real_scores, probabilities)
        judged_real = np.asarray(disc.scores_fake) > disc.threshold if probabilities else \
            np.asarray(disc.scores_fake) >= disc.threshold
        dist, closest = closest_real_rows(train, fakes, schema)
        inspection = {
            "mean_distance_fooled": float(dist[judged_real].mean()) if judged_real.any() else None,
            "mean_distance_not_fooled": float(dist[~judged_real].mean()) if (~judged_real).any() else None,
            "n_fooled": int(judged_real.sum()), "n_not_fooled": int((~judged_real).sum()),
            "examples": _side_by_side(fakes, closest, dist, judged_real),
        }
        groups = {"fooled": fakes[judged_real], "not fooled": fakes[~judged_real]}
        timings["discriminator"] = time.perf_counter() - t
    t = time.perf_counter()
    proj = projections(real, synthetic, schema, seed=seed, groups=groups, tsne=tsne)
    timings["projections"] = time.perf_counter() - t
    history = syn.history_ if syn is not None and len(getattr(syn, "history_", [])) else None
    return EvaluationResult(schema, fid, det, util, priv, member, disc, inspection, proj, history, target, timings,
                            pairs=pairs, target_pairs=label_pairs, unseen=unseen, conditional=shift,
                            n_train=len(train), n_test=len(test), real=real, synthetic=synthetic, rules=rules_kept,
                            measures=measured)


def _side_by_side(fakes: pd.DataFrame, closest: pd.DataFrame, dist: np.ndarray, fooled: np.ndarray,
                  per_group: int = 3) -> list[dict[str, Any]]:
    """The Pima study's inspection: a few fakes of each group next to their closest real row."""
    rows = []
    for label, mask in (("fooled", fooled), ("not fooled", ~fooled)):
        idx = np.flatnonzero(mask)
        for i in idx[np.argsort(dist[idx])][:per_group]:
            rows.append({"group": label, "distance": float(dist[i]),
                         "synthetic": jsonable(fakes.iloc[i].to_dict()), "closest_real": jsonable(closest.iloc[i].to_dict())})
    return rows
