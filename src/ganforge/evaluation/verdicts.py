"""Verdicts: each measure of an evaluation, judged good, fair or poor, with a sentence that says what
it means. The thresholds live here, beside the sentences; the report shows them and computes nothing."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class Verdict:
    name: str
    value: float
    verdict: str
    good: bool
    #: False where the measure cannot tell good from bad on this table (shown neither green nor red)
    judged: bool = True


#: label_trends, judged by how far it goes from the score of the same table with its label shuffled
#: (a label-free table) towards 1: good from LABEL_GAIN[0] of the way, fair from LABEL_GAIN[1]. A
#: label-free table scores high where the label's associations are weak (German credit: 0.970,
#: against 0.975 for real held-out rows; docs/measurements/evaluation.md); where it scores within
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


def judge(self) -> list[Verdict]:
    """The verdicts of an evaluation (an ``EvaluationResult``), measure by measure: the report's summary."""
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
    if getattr(self, "rules", None):
        out.append(rules_verdict(self.rules))
    lt = self.label_trends
    if lt is not None:
        out.append(label_trends_verdict(lt, self.target))
    if self.pairs:
        out.append(pairs_verdict(self.pairs, getattr(self, "unseen", None)))
    if self.conditional is not None and not math.isnan(self.conditional.score):
        out.append(conditional_verdict(self.conditional))
    out.extend(measure_verdicts(getattr(self, "measures", None) or {}))
    if self.detection:
        auc = self.detection.cv_auc
        words = ("hard to tell from real" if auc <= 0.6 else "distinguishable from real" if auc <= 0.8
                 else "easily told apart from real")
        worst = self.detection.worst_column
        alone = (f"; {worst[0]} alone tells them apart at AUC {worst[1]:.2f}" if worst and worst[1] > 0.6 else "")
        pair = self.detection.worst_pair
        if pair and pair["lift"] >= 0.1 and pair["auc"] > 0.65:  # a relation between two columns, missed
            alone += (f"; {pair['columns'][0]} and {pair['columns'][1]} together at AUC {pair['auc']:.2f} "
                      f"(+{pair['lift']:.2f} over either alone)")
        out.append(Verdict("detection_auc", auc, f"{_band(1 - auc, 0.4, 0.2)}: a classifier finds the synthetic rows "
                           f"{words} (0.5 = indistinguishable; TabSyn's score 2 x (1 - AUC) = "
                           f"{self.detection.tabsyn_score:.3f}){alone}", auc <= 0.6))
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



#: the share of the strongest real associations kept for a good and a fair verdict
PAIRS_KEPT = (0.8, 0.5)
#: the conditional shift above the held-out real rows' for a good and a fair verdict
SHIFT_ABOVE = (0.03, 0.08)


#: a pair's share of synthetic rows in combinations no real row holds that the verdict names: at least this, and
#: this much above the held-out real rows' share
UNSEEN_NAMED = 0.05


def pairs_verdict(pairs, unseen=None) -> Verdict:
    kept = sum(p.kept for p in pairs)
    share = kept / len(pairs)
    lost = [p for p in pairs if not p.kept]
    worst = max(lost, key=lambda p: abs(p.real - p.synthetic)) if lost else None
    text = (f"{_band(share, *PAIRS_KEPT)}: {kept} of the {len(pairs)} strongest real associations kept (within 0.1)"
            + (f"; the furthest, {worst.column_a}-{worst.column_b}, is {worst.real:.3f} real, {worst.synthetic:.3f} "
               f"synthetic" if worst else ""))
    u = max(unseen or [], key=lambda d: d["share"] - (d["reference"] or 0.0), default=None)
    if u is not None and u["share"] >= UNSEEN_NAMED and u["share"] - (u["reference"] or 0.0) >= UNSEEN_NAMED:
        ref = f" (held-out real rows: {u['reference']:.1%})" if u["reference"] is not None else ""
        text += (f"; {u['share']:.1%} of synthetic rows hold values of {u['column_a']} and {u['column_b']} that no "
                 f"real row holds together{ref}")
    return Verdict("strong_pairs_kept", share, text, share >= PAIRS_KEPT[0])


def conditional_verdict(c) -> Verdict:
    ref = c.reference
    above = c.score - (ref if ref is not None and not math.isnan(ref) else 0.0)
    band = _band(-above, -SHIFT_ABOVE[0], -SHIFT_ABOVE[1])
    ref_text = f"held-out real rows: {ref:.3f}" if ref is not None and not math.isnan(ref) else "no held-out rows to compare"
    text = (f"{band}: each column given each {c.target} is {c.score:.3f} from the real one on average ({ref_text}); "
            f"the furthest, {c.worst_column} given {c.target}={c.worst_label}, {c.worst:.3f}")
    return Verdict("conditional_shift", c.score, text, above <= SHIFT_ABOVE[0])


def rules_verdict(rules: list[dict]) -> Verdict:
    """The rules between columns (``a <= b``, sums, ranges, fixed combinations) and the linked values the
    real rows show (``ganforge.encoding.links``): the share of synthetic rows that keep the one kept
    least; good when every rule holds in 99% of rows or more."""
    worst = min(rules, key=lambda r: r["kept_share"])
    if worst["kept_share"] == 1.0:
        names = ", ".join(r["rule"] for r in rules[:5]) + (f" and {len(rules) - 5} more" if len(rules) > 5 else "")
        text = f"every synthetic row keeps the {len(rules)} rule(s) and linked values between columns ({names})"
    else:
        text = (f"{1 - worst['kept_share']:.1%} of synthetic rows break {worst['rule']}"
                + (", which every real row keeps" if worst.get("detected") else ""))
    return Verdict("rules_kept", worst["kept_share"], text, worst["kept_share"] >= 0.99)


def measure_verdicts(measured: dict) -> list[Verdict]:
    """The verdicts of the measures of the seam (``ganforge.evaluation.measures``), in their order there."""
    from .measures import MEASURES

    out = []
    for m in MEASURES:
        if m.name in measured and m.judge is not None:
            judged = m.judge(measured[m.name])
            if judged is not None:
                value, good, text = judged
                out.append(Verdict(m.name, float(value), text, bool(good)))
    return out
