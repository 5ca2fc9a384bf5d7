"""The result of an evaluation: plain data, its verdicts, and its JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..metrics.detection import DetectionResult, DiscriminatorResult
from ..metrics.fidelity import FidelityResult
from ..metrics.membership import MembershipResult
from ..metrics.privacy import PrivacyResult
from ..metrics.projection import Projection
from ..metrics.structure import ConditionalShift, PairKept
from ..metrics.utility import UtilityResult
from ..schema import Schema, jsonable
from .verdicts import Verdict


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
    #: the strongest real associations and every pair with the target, kept or lost
    pairs: list[PairKept] = field(default_factory=list)
    target_pairs: list[PairKept] = field(default_factory=list)
    #: pairs of associated categorical columns: the share of synthetic rows in combinations no real row holds
    unseen: list[dict[str, Any]] = field(default_factory=list)
    #: each column's distribution given each label, against the real one
    conditional: ConditionalShift | None = None
    real: pd.DataFrame | None = field(default=None, repr=False)
    synthetic: pd.DataFrame | None = field(default=None, repr=False)
    #: each rule between columns (the model's, else the real rows') and the share of synthetic rows keeping it
    rules: list[dict[str, Any]] = field(default_factory=list)
    #: the measures of the seam (``ganforge.evaluation.measures``): name -> its plain data
    measures: dict[str, Any] = field(default_factory=dict)

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
        """Each measure's value and what it means, judged (``ganforge.evaluation.verdicts``)."""
        from .verdicts import judge

        return judge(self)

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
                "strongest_pairs": [p.to_dict() for p in self.pairs],
                "target_pairs": [p.to_dict() for p in self.target_pairs],
                "unseen_combinations": self.unseen,
                "conditional_shift": plain(self.conditional) if self.conditional else None,
            },
            "detection": (plain(self.detection) | {"tabsyn_score": self.detection.tabsyn_score,
                                                   "worst_column": self.detection.worst_column,
                                                   "worst_pair": self.detection.worst_pair}
                          if self.detection else None),
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
            "rules": self.rules,
            "measures": {name: plain(data) for name, data in self.measures.items()},
            "projections": [{"method": p.method, "explained": p.explained} for p in self.projections],
            "history": self.history.to_dict(orient="list") if self.history is not None else None,
            "timings": self.timings,
            "schema": self.schema.to_dict(),
        }
        return jsonable(out)


