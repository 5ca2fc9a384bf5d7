"""How the encoder keeps the schema's rules (``ganforge.rules``): by transformation where it can, by
rejecting generated rows otherwise.

- ``a <= b`` (or ``a < b``), both numbers or both dates in one unit, neither with missing values:
  ``b`` is learnt as the gap ``b - a`` (at least 0) and decoded as ``a + gap``, so every row keeps it;
- ``a + b = c``, numeric columns without missing values: ``c`` is not learnt but computed;
- ``b = k * a + c`` (to ``d`` decimals), numeric columns without missing values: ``b`` is computed;
- ``x in [low, high]``: decoded values are clipped to the range;
- anything else (a missing value, a condition or derived column, a chain that would loop, a strict
  inequality between integers, ``fixed(...)``): generated rows that break it are drawn again
  (``Synthesizer.sample``).

The plan is data: which rule is kept how, the gap columns' bounds and the allowed combinations, all
JSON in the model file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import dates
from ..columns import CLIP, REJECT, TRANSFORM
from ..rules import FIXED, LE, LT, LINEAR, RANGE, SUM, Rule, as_number, parse
from ..schema import INTEGER, NUMERIC, ColumnSpec, Schema, plain


def quantity(spec: ColumnSpec) -> bool:
    """A column learnt as a number (numbers and dates)."""
    return spec.is_numeric or spec.is_datetime


@dataclass
class Planned:
    rule: Rule
    mode: str
    #: a transformed inequality's gap column bounds (its unit: the dependent column's)
    gap: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.rule.to_dict(), "mode": self.mode}
        if self.gap is not None:
            out["gap"] = self.gap
        if self.rule.allowed is not None:
            out["allowed"] = self.rule.allowed
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Planned":
        rule = parse(d)
        rule.allowed = d.get("allowed")
        return cls(rule, d["mode"], d.get("gap"))


@dataclass
class Constraints:
    plans: list[Planned] = field(default_factory=list)

    # --- planning ---------------------------------------------------------------------------------
    @classmethod
    def plan(cls, schema: Schema, rules: list[Rule], fixed: set[str], own: set[str] = frozenset()) -> "Constraints":
        """Choose how each rule is kept; ``fixed``: columns whose values do not come from their own span
        (the condition, derived columns), which a transformation cannot change; ``own``: columns of few
        values that an inequality does not compute from a gap (``b = a + gap`` lands between a column's
        values and spreads its point masses), kept by rejection instead."""
        dependents: dict[str, str] = {}  # column -> the rule that computes it
        plans = []

        def free(target: str, sources: list[str]) -> bool:
            """Whether ``target`` may be computed from ``sources``: its values are its own, nothing
            computes it yet, and no source is computed from it."""
            return (target not in fixed and target not in dependents
                    and not any(_reaches(dependents, src, target) for src in sources))

        # sums first: they fix a column exactly, an inequality only bounds it
        for r in sorted(rules, key=lambda r: r.kind != SUM):
            specs = [schema[c] for c in r.columns]
            mode = REJECT
            if r.kind == RANGE and quantity(specs[0]) and specs[0].name not in fixed:
                mode = CLIP
            elif r.kind in (LE, LT):
                a, b = specs
                ok = (not a.has_missing and not b.has_missing and a.name != b.name and free(b.name, [a.name])
                      and b.name not in own
                      and (a.is_datetime == b.is_datetime) and (not a.is_datetime or a.unit == b.unit)
                      and not (r.kind == LT and _whole(b)))
                if ok:
                    mode = TRANSFORM
                    dependents[b.name] = a.name
            elif r.kind == SUM:
                total, parts = specs[-1], specs[:-1]
                ok = (all(s.is_numeric and not s.has_missing for s in specs)
                      and free(total.name, [p.name for p in parts])
                      and (total.kind == NUMERIC or all(p.kind == INTEGER for p in parts)))
                if ok:
                    mode = TRANSFORM
                    dependents[total.name] = ",".join(p.name for p in parts)
            elif r.kind == LINEAR:
                a, b = specs
                ok = (a.is_numeric and b.is_numeric and not a.has_missing and not b.has_missing
                      and free(b.name, [a.name]))
                if ok:
                    mode = TRANSFORM
                    dependents[b.name] = a.name
            plans.append(Planned(r, mode))
        order = {id(r): i for i, r in enumerate(rules)}
        return cls(sorted(plans, key=lambda p: order[id(p.rule)]))

    def fit(self, df: pd.DataFrame, schema: Schema, raw, bounds_from_schema: bool) -> "Constraints":
        """Learn the gap columns' bounds (``raw(df, spec)``: a column's numbers) and the allowed
        combinations; with ``bounds_from_schema`` (differential privacy) the gaps' bounds come from the
        schema's and nothing is read from the data."""
        for p in self.plans:
            r = p.rule
            if p.mode == TRANSFORM and r.kind in (LE, LT):
                a, b = schema[r.columns[0]], schema[r.columns[1]]
                if bounds_from_schema:
                    if r.kind == LT:  # a strict gap needs the smallest one seen
                        p.mode = REJECT
                        continue
                    p.gap = [0.0, float(_bound(b, "max") - _bound(a, "min"))]
                else:
                    gap = raw(df, b) - raw(df, a)
                    p.gap = [float(np.min(gap)), float(np.max(gap))] if len(gap) else [0.0, 0.0]
            elif r.kind == FIXED and r.allowed is None:
                frame = df[r.columns].dropna().drop_duplicates()
                r.allowed = [[plain(v) for v in row] for row in frame.itertuples(index=False)]
        return self

    # --- what the encoder asks --------------------------------------------------------------------
    @property
    def gaps(self) -> dict[str, tuple[str, list[float]]]:
        """Gap column -> (the column it is measured from, its bounds)."""
        return {p.rule.columns[1]: (p.rule.columns[0], p.gap) for p in self.plans
                if p.mode == TRANSFORM and p.rule.kind in (LE, LT)}

    @property
    def totals(self) -> set[str]:
        """Columns computed from others (sums, affine functions): no span."""
        return {p.rule.columns[-1] for p in self.plans if p.mode == TRANSFORM and p.rule.kind in (SUM, LINEAR)}

    @property
    def columns(self) -> set[str]:
        """Columns whose decoded numbers the rules read or write."""
        return {c for p in self.plans if p.mode in (TRANSFORM, CLIP) for c in p.rule.columns}

    @property
    def rejecting(self) -> list[Rule]:
        return [p.rule for p in self.plans if p.mode == REJECT]

    def gap_spec(self, spec: ColumnSpec) -> ColumnSpec:
        """The spec a gap column is encoded with: its bounds, whole units for integers and dates."""
        _, bounds = self.gaps[spec.name]
        kind = INTEGER if _whole(spec) else NUMERIC
        return ColumnSpec(spec.name, kind, "float64", spec.missing_rate, min=bounds[0], max=bounds[1])

    def restore(self, numbers: dict[str, np.ndarray], schema: Schema) -> None:
        """Decoded numbers (gaps for gap columns) to the columns' numbers, in place: each source is
        rounded and clipped before its dependents are computed from it."""
        done: set[str] = set()

        def settle(name: str) -> np.ndarray:
            if name not in done:
                numbers[name] = _clip_round(numbers[name], schema[name])
                done.add(name)
            return numbers[name]

        pending = [p for p in self.plans if p.mode == TRANSFORM]
        dependents = set(self.gaps) | self.totals
        while pending:
            ready = [p for p in pending if not (set(p.rule.columns[:-1]) & {q.rule.columns[-1] for q in pending})]
            if not ready:  # cannot happen: plan() refuses loops
                break
            for p in ready:
                pending.remove(p)
                r = p.rule
                target = schema[r.columns[-1]]
                if r.kind == SUM:
                    numbers[target.name] = np.sum([settle(c) for c in r.columns[:-1]], axis=0)
                    if target.kind == INTEGER:
                        numbers[target.name] = np.rint(numbers[target.name])
                elif r.kind == LINEAR:
                    v = r.factor * settle(r.columns[0]) + r.offset
                    if r.decimals is not None:
                        v = np.round(v, r.decimals)
                    numbers[target.name] = np.rint(v) if target.kind == INTEGER else v
                else:
                    a = settle(r.columns[0])
                    gap = np.clip(numbers[target.name], max(0.0, p.gap[0]), max(0.0, p.gap[1]))
                    b = _clip_round(a + gap, target)
                    if target.kind == INTEGER:
                        b = np.maximum(b, np.ceil(a))
                    numbers[target.name] = np.maximum(b, a)
                done.add(target.name)
        for p in self.plans:
            if p.mode == CLIP:
                c = p.rule.columns[0]
                spec = schema[c]
                lo, hi = as_number(p.rule.low, spec), as_number(p.rule.high, spec)
                if spec.is_datetime:  # the rule's ends are microseconds, the numbers units
                    lo, hi = lo / dates.UNITS[spec.unit], hi / dates.UNITS[spec.unit]
                v = settle(c) if c not in dependents else numbers[c]
                numbers[c] = np.clip(v, np.ceil(lo) if _whole(spec) else lo, np.floor(hi) if _whole(spec) else hi)

    def mask(self, df: pd.DataFrame, schema: Schema) -> np.ndarray:
        """The generated rows that keep every rule kept by rejection."""
        ok = np.ones(len(df), dtype=bool)
        for r in self.rejecting:
            ok &= r.holds(df, schema)
        return ok

    # --- JSON ---------------------------------------------------------------------------------------
    def get_state(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.plans]

    @classmethod
    def from_state(cls, state: list[dict[str, Any]] | None) -> "Constraints":
        return cls([Planned.from_dict(d) for d in state or []])


def few_valued(df: pd.DataFrame, specs, most: int) -> set[str]:
    """The numbers and dates among ``specs`` that take at most ``most`` values in ``df`` (none for 0): an
    inequality into one is kept by rejection (``Constraints.plan``'s ``own``)."""
    return {s.name for s in specs if most and quantity(s) and df[s.name].nunique() <= most}


def _reaches(dependents: dict[str, str], start: str, goal: str) -> bool:
    """Whether computing ``start`` needs ``goal`` (following the transformations planned so far)."""
    seen, todo = set(), [start]
    while todo:
        c = todo.pop()
        if c == goal:
            return True
        if c in seen:
            continue
        seen.add(c)
        todo.extend(x for x in dependents.get(c, "").split(",") if x)
    return False


def _bound(spec: ColumnSpec, which: str) -> float:
    v = getattr(spec, which)
    return dates.bound(v, spec.unit) if spec.is_datetime else float(v)


def _clip_round(v: np.ndarray, spec: ColumnSpec) -> np.ndarray:
    lo = None if spec.min is None else _bound(spec, "min")
    hi = None if spec.max is None else _bound(spec, "max")
    if lo is not None or hi is not None:
        v = np.clip(v, lo, hi)
    return np.rint(v) if _whole(spec) else v


def _whole(spec: ColumnSpec) -> bool:
    """Whether a column's numbers are whole units: integers, and dates (whole units of their resolution)."""
    return spec.kind == INTEGER or spec.is_datetime
