"""One call that measures a synthetic table: fidelity, detection, utility, privacy, pictures.

``evaluate(real, synthetic, test=..., target=..., model=...)`` returns an
:class:`EvaluationResult` of plain data; ``ganforge.report`` turns it into HTML and JSON. The
schema comes from the model when one is given, else it is inferred once from the real table and
shared by every metric. With a model, its own discriminator judges generated rows ("how many
fooled it").
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError
from .metrics.detection import DetectionResult, DiscriminatorResult, detection, discriminator_verdicts
from .metrics.fidelity import FidelityResult, fidelity
from .metrics.membership import MembershipResult, membership_inference
from .metrics.privacy import PrivacyResult, closest_real_rows, privacy
from .metrics.projection import Projection, projections
from .metrics.utility import UtilityResult, utility
from .schema import Schema, infer_schema, jsonable


@dataclass
class Verdict:
    name: str
    value: float
    verdict: str
    good: bool
    #: False where the measure cannot tell good from bad on this table (shown neither green nor red)
    judged: bool = True


@dataclass
class EvaluationResult:
    schema: Schema
    fidelity: FidelityResult
    detection: DetectionResult | None = None
    utility: UtilityResult | None = None
    privacy: PrivacyResult | None = None
    membership: MembershipResult | None = None
    discriminator: DiscriminatorResult | None = None
    fooled_inspection: dict[str, Any] | None = None
    projections: list[Projection] = field(default_factory=list)
    history: pd.DataFrame | None = None
    target: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    n_train: int = 0
    n_test: int = 0
    # kept for the pictures of the report (not written to JSON)
    real: pd.DataFrame | None = field(default=None, repr=False)
    synthetic: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def column_shapes(self) -> float:
        return self.fidelity.column_shapes

    @property
    def pair_trends(self) -> float:
        return self.fidelity.pair_trends

    @property
    def label_trends(self) -> dict | None:
        """Pair trends over the target's pairs only, and the furthest of them (None without a target)."""
        return self.fidelity.label_trends(self.target)

    def verdicts(self) -> list[Verdict]:
        out = []
        cs, pt = self.column_shapes, self.pair_trends

        out.append(Verdict("column_shapes", cs, f"{_band(cs, 0.9, 0.8)}: marginals "
                           + ("closely match" if cs >= 0.9 else "roughly match" if cs >= 0.8 else "differ from")
                           + " the real ones", cs >= 0.9))
        if not math.isnan(pt):
            out.append(Verdict("pair_trends", pt, f"{_band(pt, 0.9, 0.8)}: pairwise associations "
                               + ("kept" if pt >= 0.9 else "partly kept" if pt >= 0.8 else "lost"), pt >= 0.9))
        deps = self.fidelity.dependencies
        if deps:
            worst = min(deps, key=lambda d: d.kept_share)
            names = ", ".join(f"{d.column} from {d.source}" for d in deps)
            out.append(Verdict("dependencies_kept", worst.kept_share,
                               (f"every synthetic row keeps the real table's exact dependencies ({names})"
                                if worst.kept_share == 1.0 else
                                f"{1 - worst.kept_share:.1%} of synthetic rows break {worst.column} = f({worst.source}), "
                                f"which every real row follows"), worst.kept_share >= 0.99))
        lt = self.label_trends
        if lt is not None:
            out.append(label_trends_verdict(lt, self.target))
        if self.detection:
            auc = self.detection.cv_auc
            words = ("hard to tell from real" if auc <= 0.6 else "distinguishable from real" if auc <= 0.8
                     else "easily told apart from real")
            out.append(Verdict("detection_auc", auc, f"a classifier finds the synthetic rows {words} "
                                                     f"(0.5 = indistinguishable)", auc <= 0.6))
        if self.utility:
            r = float(np.mean(list(self.utility.ratio("roc_auc").values())))
            words = ("as useful as the real data" if r >= 0.95 else "somewhat less useful than real data"
                     if r >= 0.85 else "much less useful than real data")
            out.append(Verdict("tstr_trtr_auc_ratio", r, f"for training classifiers the synthetic table is {words}",
                               r >= 0.95))
        if self.privacy:
            p = self.privacy
            out.append(Verdict("exact_copy_share", p.exact_copy_share,
                               "no synthetic row copies a training row" if p.exact_copy_share == 0 else
                               f"{p.exact_copy_share:.1%} of synthetic rows copy a training row",
                               p.exact_copy_share < 0.01))
            mem = p.closer_to_train_share > p.closer_to_train_baseline + 0.05 and p.mann_whitney_p < 0.05
            out.append(Verdict("closer_to_train_share", p.closer_to_train_share,
                               ("synthetic rows sit closer to training rows than to unseen rows: possible "
                                "memorisation" if mem else "no sign of memorisation")
                               + f" (expected without memorisation: {p.closer_to_train_baseline:.2f})", not mem))
        if self.membership:
            for name in ("distance", "density"):
                a = getattr(self.membership, name)
                out.append(Verdict(f"membership_{name}_auc", a.auc,
                                   f"{name} membership-inference attack: {a.verdict()}", not a.at_risk))
        if self.discriminator:
            d = self.discriminator
            out.append(Verdict("fooled_discriminator", d.fooled_share,
                               f"{d.fooled} of {d.n} generated rows pass the GAN's own discriminator ({d.rule})",
                               d.fooled_share >= 0.4))
        return out

    def to_dict(self) -> dict[str, Any]:
        def plain(obj):
            if isinstance(obj, pd.DataFrame):
                return obj.to_dict(orient="records")
            if isinstance(obj, np.ndarray):
                return obj.tolist()
            if is_dataclass(obj):
                return {k: plain(v) for k, v in asdict(obj).items()}
            if isinstance(obj, dict):
                return {str(k): plain(v) for k, v in obj.items()}
            if isinstance(obj, (list, tuple)):
                return [plain(v) for v in obj]
            return obj

        f = self.fidelity
        out: dict[str, Any] = {
            "summary": {v.name: {"value": v.value, "verdict": v.verdict, "good": v.good, "judged": v.judged}
                        for v in self.verdicts()},
            "target": self.target,
            "rows": {"real": len(self.real) if self.real is not None else None, "train": self.n_train,
                     "test": self.n_test, "synthetic": len(self.synthetic) if self.synthetic is not None else None},
            "fidelity": {
                "column_shapes": f.column_shapes, "pair_trends": f.pair_trends,
                "pair_trends_sdmetrics": f.pair_trends_sdmetrics,
                "columns": [dict(asdict(c), score=c.score) for c in f.columns],
                "pairs": f.pair_scores().to_dict(orient="records"),
                "association_real": f.association_real.to_dict(),
                "association_synthetic": f.association_synthetic.to_dict(),
                "dependencies": [asdict(d) for d in f.dependencies],
                "label_trends": self.label_trends,
            },
            "detection": plain(self.detection) if self.detection else None,
            "utility": ({"target": self.utility.target, "classes": self.utility.classes,
                         "scores": plain(self.utility.scores), "tstr_trtr_ratio_auc": self.utility.ratio("roc_auc"),
                         "tstr_trtr_ratio_accuracy": self.utility.ratio("accuracy")} if self.utility else None),
            "privacy": ({k: v for k, v in plain(self.privacy).items() if k not in ("closest",)}
                        | {"closest": plain(self.privacy.closest)} if self.privacy else None),
            "membership": (plain(self.membership) | {
                a: plain(getattr(self.membership, a)) | {"at_risk": getattr(self.membership, a).at_risk,
                                                         "verdict": getattr(self.membership, a).verdict()}
                for a in ("distance", "density")} if self.membership else None),
            "discriminator": plain(self.discriminator) if self.discriminator else None,
            "fooled_inspection": plain(self.fooled_inspection) if self.fooled_inspection else None,
            "projections": [{"method": p.method, "explained": p.explained} for p in self.projections],
            "history": self.history.to_dict(orient="list") if self.history is not None else None,
            "timings": self.timings,
            "schema": self.schema.to_dict(),
        }
        return jsonable(out)


def _check_columns(name: str, df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    missing = [c for c in schema.names if c not in df.columns]
    if missing:
        raise DataError(f"the {name} table lacks column(s) {', '.join(map(repr, missing))} of the real table")
    return df[schema.names].reset_index(drop=True)


#: label_trends, judged by how far it goes from the score of the same table with its label shuffled
#: (a label-free table) towards 1: good from LABEL_GAIN[0] of the way, fair from LABEL_GAIN[1]. A
#: label-free table scores high where the label's associations are weak (German credit: 0.970,
#: against 0.975 for real held-out rows; docs/evaluation.md); where it scores within
#: LABEL_UNJUDGED of 1 the measure cannot tell a kept label from a lost one and says so
LABEL_GAIN = (0.75, 0.4)
LABEL_UNJUDGED = 0.05


def _band(v: float, good: float, fair: float) -> str:
    return "good" if v >= good else "fair" if v >= fair else "poor"


def label_trends_verdict(lt: dict, target: str) -> Verdict:
    score, free = lt["score"], lt.get("label_free_score", float("nan"))
    r, sy = lt["worst_real"], lt["worst_synthetic"]
    worst = (f"the furthest, with {lt['worst_column']}, is {'exaggerated' if sy > r else 'weakened'} "
             f"({r:.3f} real, {sy:.3f} synthetic)")
    if math.isnan(free):  # no label-free reference (a FidelityResult built without one): pair_trends' bands
        return Verdict("label_trends", score, f"{_band(score, 0.9, 0.8)}: the associations of {target} with the "
                       f"other columns (no label-free reference to judge them against); {worst}", score >= 0.9)
    ref = f"a table whose {target} carries no information scores {free:.3f}"
    if 1 - free < LABEL_UNJUDGED:
        return Verdict("label_trends", score, f"not judged: {target}'s associations with the other columns are too "
                       f"weak here for this measure ({ref}, this one {score:.3f}); {worst}", False, judged=False)
    gain = (score - free) / (1 - free)
    return Verdict("label_trends", score, f"{_band(gain, *LABEL_GAIN)}: the associations of {target} with the "
                   f"other columns, {max(gain, 0):.0%} of the way from a label-free table ({ref}) to the real ones; {worst}",
                   gain >= LABEL_GAIN[0])


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
        from .synthesizer import Synthesizer

        syn = model if isinstance(model, Synthesizer) else Synthesizer.load(Path(model), device="cpu")
        schema = schema or syn.schema_
        target = target or syn.schema_.target
    if schema is None:
        schema = infer_schema(real, target=target)
    if target is not None and target not in schema:
        raise DataError(f"--target {target!r} is not a column of the real table")
    real = _check_columns("real", real, schema)
    synthetic = _check_columns("synthetic", synthetic, schema)
    if test is None:
        idx = np.random.default_rng(seed).permutation(len(real))
        cut = int(0.7 * len(real))
        train, test = real.iloc[idx[:cut]].reset_index(drop=True), real.iloc[idx[cut:]].reset_index(drop=True)
        timings["test_split"] = 0.3
        held_out_split = True
    else:
        held_out_split = False
        train, test = real, _check_columns("test", test, schema)

    t = time.perf_counter()
    fid = fidelity(real, synthetic, schema, target=target)
    timings["fidelity"] = time.perf_counter() - t
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

    disc = inspection = None
    groups = None
    if syn is not None:
        t = time.perf_counter()
        fakes = synthetic.iloc[:n_discriminator].reset_index(drop=True)
        probabilities = syn.config["loss"] == "bce"
        real_scores = None if probabilities else syn.discriminator_scores(
            train.sample(min(len(train), 1000), random_state=seed))
        disc = discriminator_verdicts(syn.discriminator_scores(fakes), real_scores, probabilities)
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
                            n_train=len(train), n_test=len(test), real=real, synthetic=synthetic)


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
