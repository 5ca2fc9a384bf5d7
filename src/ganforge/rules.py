"""Rules between columns that real tables obey: inequalities, fixed ranges, sums, fixed combinations.

A rule is written as text, in a schema file's ``"rules"`` list, as ``fit(..., rules=[...])`` or with
``ganforge fit --rule``:

- ``start <= end``, ``a < b`` (also ``>=`` and ``>``): numbers or dates;
- ``low <= pct <= high`` or ``pct in [0, 100]``: a fixed range;
- ``net + tax = gross``: a sum of numeric columns;
- ``charge = 0.17 * minutes + 0``: one numeric column an affine function of another, and
  ``charge = round(0.17 * minutes + 0, 2)`` when the result is written to 2 decimals;
- ``fixed(city, country)``: only the combinations of values the training rows have.

A column name with spaces or operators is written in backquotes (```start date` <= `end date```). A
row with a missing value in a rule's columns keeps it. ``fit`` detects inequalities (``a <= b`` in
every training row, where the columns' ranges overlap so that their bounds do not imply it), sums
of two columns, and affine functions of one column (to the decimals the dependent column is written
with); the encoder keeps a rule by transformation where it can (``b`` learnt as ``b - a >=
0``, a sum computed, a range clipped) and by rejecting generated rows otherwise
(``ganforge.encoding.constraints``); ``evaluate`` reports the share of generated rows that keep each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from . import dates
from .errors import DataError, shown
from .schema import plain

LE, LT, RANGE, SUM, FIXED, LINEAR = "<=", "<", "range", "sum", "fixed", "linear"
#: detection: at least this many rows with both values, and at least this many rows expected to break
#: the inequality if the two columns were independent (so that keeping it in every row is no accident)
MIN_ROWS, MIN_EXPECTED_BREAKS = 20, 10.0
#: columns at most, for detection (pairs and triples of columns are tried)
MAX_PAIR_COLUMNS, MAX_SUM_COLUMNS = 200, 60
#: an affine rule is detected only between columns with at least this many distinct values each (so that
#: a coarse column, a code or a flag, is not mistaken for a rounded function of another)
MIN_DISTINCT = 20
_NAME = r"`[^`]+`|[^\s<>=+,()\[\]`]+"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|\"[^\"]*\"|'[^']*'"


@dataclass
class Rule:
    kind: str
    columns: list[str]
    low: Any = None
    high: Any = None
    detected: bool = False
    #: fixed(...): the combinations the training rows have (learnt by fit, not written in a schema)
    allowed: list[list[Any]] | None = field(default=None, repr=False)
    #: an affine rule (columns: source, dependent): the dependent = factor x source + offset, written to
    #: ``decimals`` decimals (None: exactly)
    factor: float | None = None
    offset: float | None = None
    decimals: int | None = None

    @property
    def text(self) -> str:
        n = [_quote(c) for c in self.columns]
        if self.kind in (LE, LT):
            return f"{n[0]} {self.kind} {n[1]}"
        if self.kind == SUM:
            return f"{' + '.join(n[:-1])} = {n[-1]}"
        if self.kind == RANGE:
            return f"{n[0]} in [{_bound_text(self.low)}, {_bound_text(self.high)}]"
        if self.kind == LINEAR:
            body = f"{self.factor:.12g} * {n[0]} {'-' if self.offset < 0 else '+'} {abs(self.offset):.12g}"
            return f"{n[1]} = " + (body if self.decimals is None else f"round({body}, {self.decimals})")
        return f"fixed({', '.join(n)})"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.text, **({"detected": True} if self.detected else {})}

    def holds(self, df: pd.DataFrame, schema) -> np.ndarray:
        """Which rows of ``df`` keep the rule (a row with a missing value in its columns does)."""
        if self.kind == FIXED:
            frame = df[self.columns].astype(object)
            present = frame.notna().all(axis=1).to_numpy()
            allowed = {tuple(map(_key, combo)) for combo in (self.allowed or [])}
            seen = np.array([tuple(map(_key, row)) in allowed for row in frame.itertuples(index=False)], dtype=bool)
            return seen | ~present
        v = [numbers(df[c], schema[c]) for c in self.columns]
        with np.errstate(invalid="ignore"):
            if self.kind == LE:
                ok = v[0] <= v[1]
            elif self.kind == LT:
                ok = v[0] < v[1]
            elif self.kind == RANGE:
                spec = schema[self.columns[0]]
                ok = (v[0] >= as_number(self.low, spec)) & (v[0] <= as_number(self.high, spec))
            elif self.kind == LINEAR:
                ok = np.abs(v[1] - (self.factor * v[0] + self.offset)) <= linear_tolerance(v[1], self.decimals)
            else:
                total = np.sum(v[:-1], axis=0)
                ok = np.isclose(total, v[-1], rtol=1e-9, atol=1e-9 * max(1.0, float(np.nanmax(np.abs(v[-1]), initial=0))))
        return ok | np.any([np.isnan(x) for x in v], axis=0)


def linear_tolerance(values: np.ndarray, decimals: int | None) -> float:
    """How far a dependent column may be from its affine function: half its last decimal, and a
    relative 1e-9 for the arithmetic."""
    scale = max(1.0, float(np.nanmax(np.abs(values), initial=0.0)))
    return (0.0 if decimals is None else 0.5 * 10.0 ** -decimals) + 1e-9 * scale


def _quote(name: str) -> str:
    return name if re.fullmatch(r"[^\s<>=+,()\[\]`]+", name) else f"`{name}`"


def _bound_text(v: Any) -> str:
    return f'"{v}"' if isinstance(v, str) else f"{v:g}" if isinstance(v, float) else str(v)


def _key(v: Any) -> str:
    return str(plain(v))


def _unquote(token: str) -> str:
    return token[1:-1] if token.startswith("`") else token


def _value(token: str) -> Any:
    if token[:1] in "\"'":
        return token[1:-1]
    v = float(token)
    return int(v) if v.is_integer() and "." not in token and "e" not in token.lower() else v


def parse(item: Any) -> Rule:
    """A rule from its text (or a schema's ``{"rule": text, "detected": bool}``)."""
    detected = False
    if isinstance(item, dict):
        detected = bool(item.get("detected", False))
        item = item.get("rule")
    if not isinstance(item, str) or not item.strip():
        raise DataError(f"rule {item!r} is not text: write rules such as \"start <= end\", \"a + b = total\", "
                        f"\"pct in [0, 100]\" or \"fixed(city, country)\"")
    text = item.strip()
    name, num = f"({_NAME})", f"({_NUMBER})"
    m = re.fullmatch(rf"fixed\(\s*(.+)\)", text)
    if m:
        cols = [_unquote(c.strip()) for c in re.findall(_NAME, m.group(1))]
        if len(cols) < 2:
            raise DataError(f"rule {text!r}: fixed(...) needs two columns or more, e.g. fixed(city, country)")
        return Rule(FIXED, cols, detected=detected)
    m = re.fullmatch(rf"{name}\s+in\s+\[\s*{num}\s*,\s*{num}\s*\]", text)
    if m:
        return Rule(RANGE, [_unquote(m.group(1))], _value(m.group(2)), _value(m.group(3)), detected)
    m = re.fullmatch(rf"{num}\s*<=\s*{name}\s*<=\s*{num}", text)
    if m:
        return Rule(RANGE, [_unquote(m.group(2))], _value(m.group(1)), _value(m.group(3)), detected)
    m = re.fullmatch(rf"{name}\s*(<=|<|>=|>)\s*{name}", text)
    if m:
        a, op, b = _unquote(m.group(1)), m.group(2), _unquote(m.group(3))
        if op.startswith(">"):
            a, b, op = b, a, op.replace(">", "<")
        return Rule(op, [a, b], detected=detected)
    affine = rf"{num}\s*\*\s*{name}(?:\s*([+-])\s*{num})?"
    m = re.fullmatch(rf"{name}\s*=\s*(?:{affine}|round\(\s*{affine}\s*,\s*(\d+)\s*\))", text)
    if m:
        g = m.groups()
        k, a, sign, c = (g[1], g[2], g[3], g[4]) if g[1] is not None else (g[5], g[6], g[7], g[8])
        try:
            factor, offset = float(_value(k)), float(_value(c)) if c is not None else 0.0
        except (TypeError, ValueError):
            raise DataError(f"rule {text!r}: an affine rule takes numbers, e.g. charge = 0.17 * minutes + 0") from None
        return Rule(LINEAR, [_unquote(a), _unquote(g[0])], detected=detected, factor=factor,
                    offset=-offset if sign == "-" else offset, decimals=None if g[9] is None else int(g[9]))
    m = re.fullmatch(rf"((?:{_NAME})(?:\s*\+\s*(?:{_NAME}))+)\s*=\s*{name}|{name}\s*=\s*((?:{_NAME})(?:\s*\+\s*(?:{_NAME}))+)",
                     text)
    if m:
        parts, total = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        return Rule(SUM, [_unquote(p.strip()) for p in parts.split("+")] + [_unquote(total)], detected=detected)
    raise DataError(f"rule {text!r} is not one ganforge reads: write \"start <= end\", \"a + b = total\", "
                    f"\"pct in [0, 100]\" or \"fixed(city, country)\" (a name with spaces between backquotes)")


def parse_all(items: Iterable[Any] | None, schema) -> list[Rule]:
    """Rules from text, checked against the schema's columns and kinds."""
    out = []
    for item in items or []:
        r = item if isinstance(item, Rule) else parse(item)
        for c in r.columns:
            if c not in schema:
                raise DataError(f"rule {r.text!r}: column {shown(c)} is not in the table; columns are: "
                                f"{', '.join(schema.names)}")
        specs = [schema[c] for c in r.columns]
        if r.kind == FIXED:
            bad = [s.name for s in specs if s.kind not in ("categorical", "ordinal")]
        elif r.kind in (SUM, LINEAR):
            bad = [s.name for s in specs if not s.is_numeric]
        else:
            bad = [s.name for s in specs if not (s.is_numeric or s.is_datetime)]
            if r.kind in (LE, LT) and not bad and specs[0].is_datetime != specs[1].is_datetime:
                bad = [specs[0].name if not specs[0].is_datetime else specs[1].name]
        if bad:
            raise DataError(f"rule {r.text!r}: column {shown(bad[0])} is {schema[bad[0]].kind}; "
                            + ("fixed(...) takes categorical columns" if r.kind == FIXED else
                               "a sum takes numeric columns" if r.kind == SUM else
                               "an affine rule takes numeric columns" if r.kind == LINEAR else
                               "an inequality or range takes numbers or dates (both of one kind)"))
        if r.kind == RANGE:
            lo, hi = as_number(r.low, specs[0]), as_number(r.high, specs[0])
            if not lo <= hi:
                raise DataError(f"rule {r.text!r}: the range's low end is above its high end")
        if r.text not in {x.text for x in out}:
            out.append(r)
    return out


def numbers(s: pd.Series, spec) -> np.ndarray:
    """A column's values as floats for comparisons: numbers, or dates in microseconds since the epoch."""
    if spec.is_datetime:
        return dates.to_units(s, spec) * dates.UNITS[spec.unit]
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def as_number(v: Any, spec) -> float:
    """A range's end in the units of :func:`numbers` (a date's end may be ISO text)."""
    if spec.is_datetime:
        return dates.bound(v, "us")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise DataError(f"range end {v!r} of column {shown(spec.name)} is not a number") from None


def broken(rules: list[Rule], df: pd.DataFrame, schema) -> None:
    """A stated rule the training rows break is an error that names it and a row (``fixed(...)`` allows
    the training rows' combinations: they keep it by definition)."""
    for r in rules:
        if r.kind == FIXED:
            continue
        ok = r.holds(df, schema)
        if not ok.all():
            row = int(np.flatnonzero(~ok)[0])
            raise DataError(f"rule {r.text!r} is broken by {int((~ok).sum())} training row(s) (the first: row {row}): "
                            f"fix those rows, or remove the rule")


def detect(df: pd.DataFrame, schema, skip: Iterable[str] = ()) -> list[Rule]:
    """Inequalities and sums of two columns that every row of ``df`` keeps and the columns' bounds do
    not imply (``skip``: columns left out, such as the condition)."""
    skip = set(skip)
    specs = [s for s in schema.columns if (s.is_numeric or s.is_datetime) and s.name not in skip]
    if len(specs) < 2 or len(specs) > MAX_PAIR_COLUMNS or len(df) < MIN_ROWS:
        return []
    vals = {s.name: numbers(df[s.name], s) for s in specs}
    found: list[Rule] = []
    head = min(len(df), 1000)
    for a in specs:
        for b in specs:
            if a.name == b.name or a.is_datetime != b.is_datetime:
                continue
            va, vb = vals[a.name], vals[b.name]
            with np.errstate(invalid="ignore"):
                if np.any(va[:head] > vb[:head]):
                    continue
                both = ~np.isnan(va) & ~np.isnan(vb)
                x, y = va[both], vb[both]
                if len(x) < MIN_ROWS or np.any(x > y) or np.all(x == y) or not x.max() > y.min():
                    continue
            # the rows expected to break it if the columns were independent
            pick = np.random.default_rng(0).permutation(len(x))[:20_000]
            ys = np.sort(y[pick])
            p_break = np.searchsorted(ys, x[pick], side="left").mean() / len(ys)
            if p_break * len(x) >= MIN_EXPECTED_BREAKS:
                found.append(Rule(LE, [a.name, b.name], detected=True))
    complete = [s for s in specs if s.is_numeric and not s.has_missing]
    sums = _detect_sums(df, complete, vals)
    # a part of a sum is at most its total when the other parts are never negative: the sum keeps that
    implied = {(p, r.columns[-1]) for r in sums for p in r.columns[:-1]
               if all(np.nanmin(vals[q]) >= 0 for q in r.columns[:-1] if q != p)}
    in_sums = {c for r in sums for c in r.columns}
    linear = _detect_linear([s for s in complete if s.name not in in_sums], vals)
    # an affine function of a column keeps every inequality between the two
    implied |= {tuple(p) for r in linear for p in (r.columns, r.columns[::-1])}
    return [r for r in found if tuple(r.columns) not in implied] + sums + linear


def _decimals(v: np.ndarray) -> int | None:
    """The decimals a column's values are written with (0 to 6), or None (more, or not decimal)."""
    scale = max(1.0, float(np.max(np.abs(v), initial=0.0)))
    for d in range(7):
        if np.allclose(v, np.round(v, d), rtol=0, atol=1e-9 * scale):
            return d
    return None


def _detect_linear(specs: list, vals: dict[str, np.ndarray]) -> list[Rule]:
    """Affine functions of one column (``b = k * a + c``, to the decimals ``b`` is written with) that
    hold in every row; of a pair, the column written with more decimals is the dependent one, and a
    column is the dependent of one rule at most."""
    names = [s.name for s in specs if len(np.unique(vals[s.name][:5000])) >= MIN_DISTINCT]
    if len(names) < 2:
        return []
    dec = {n: _decimals(vals[n]) for n in names}
    head = slice(0, min(len(vals[names[0]]), 200))
    found: list[Rule] = []
    linked: set[frozenset] = set()
    dependent: set[str] = set()
    for b in sorted(names, key=lambda n: -(7 if dec[n] is None else dec[n])):
        for a in names:
            if a == b or b in dependent or frozenset((a, b)) in linked:
                continue
            x, y = vals[a], vals[b]
            tol = linear_tolerance(y, dec[b])
            fit = _affine(x[head], y[head], tol, dec[b])
            if fit is None or _affine(x, y, tol, dec[b], fit) is None:
                continue
            found.append(Rule(LINEAR, [a, b], detected=True, factor=fit[0], offset=fit[1], decimals=dec[b]))
            linked.add(frozenset((a, b)))
            dependent.add(b)
    # a source that is itself a dependent would chain: keep the first rule of each chain only
    return [r for r in found if r.columns[0] not in dependent]


def _affine(x: np.ndarray, y: np.ndarray, tol: float, decimals: int | None,
            given: tuple[float, float] | None = None) -> tuple[float, float] | None:
    """(k, c), written with the fewest significant digits, such that every |y - (k x + c)| <= ``tol``;
    None if there is none (``given``: check those only)."""
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    if given is not None:
        return given if np.max(np.abs(y - (given[0] * x + given[1]))) <= tol else None
    k, c = np.polyfit(x, y, 1)
    if not np.isfinite(k) or k == 0:
        return None
    for digits in range(1, 13):
        kk = float(f"{k:.{digits}g}")
        for cc in (0.0, float(f"{c:.{digits}g}")):
            if np.max(np.abs(y - (kk * x + cc))) <= tol:
                return kk, cc
    return None


def _detect_sums(df: pd.DataFrame, specs: list, vals: dict[str, np.ndarray]) -> list[Rule]:
    if not 3 <= len(specs) <= MAX_SUM_COLUMNS or len(df) < MIN_ROWS:
        return []
    names = [s.name for s in specs]
    head = min(len(df), 64)
    m = np.stack([vals[n][:head] for n in names], axis=1)
    zero = np.all(m == 0, axis=0)
    pairs = m[:, :, None] + m[:, None, :]  # rows x i x j
    found = []
    for k, total in enumerate(names):
        close = np.all(np.isclose(pairs, m[:, k][:, None, None], rtol=1e-9, atol=1e-9), axis=0)
        for i, j in zip(*np.nonzero(np.triu(close, 1))):
            if k in (i, j) or zero[i] or zero[j]:
                continue
            a, b, c = vals[names[i]], vals[names[j]], vals[total]
            scale = max(1.0, float(np.max(np.abs(c))))
            if np.allclose(a + b, c, rtol=1e-9, atol=1e-9 * scale):
                found.append(Rule(SUM, [names[i], names[j], total], detected=True))
    # a column that is the total of two is not also a part of another detected sum
    totals = {r.columns[-1] for r in found}
    return [r for r in found if not set(r.columns[:-1]) & totals]


def kept(rules: list[Rule], df: pd.DataFrame, schema) -> list[dict[str, Any]]:
    """Each rule's share of rows of ``df`` that keep it, for the evaluation."""
    out = []
    for r in rules:
        ok = r.holds(df, schema)
        out.append({"rule": r.text, "detected": r.detected, "kept_share": float(ok.mean()) if len(ok) else 1.0,
                    "broken": int((~ok).sum())})
    return out


def measure(real: pd.DataFrame, synthetic: pd.DataFrame, schema, rules: list[Rule] | None = None
            ) -> list[dict[str, Any]]:
    """The share of synthetic rows that keep each rule: ``rules`` (a model's), else the schema's and
    those the real rows show; a ``fixed(...)`` rule allows the combinations of the real rows."""
    if rules is None:
        rules = parse_all(schema.rules, schema)
        known = {r.text for r in rules}
        rules += [r for r in detect(real, schema, skip=[schema.target] if schema.target else []) if r.text not in known]
    for r in rules:
        if r.kind == FIXED and r.allowed is None:
            frame = real[r.columns].dropna().drop_duplicates()
            r.allowed = [list(row) for row in frame.itertuples(index=False)]
    return kept(rules, synthetic, schema)
