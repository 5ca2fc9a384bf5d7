"""Combinations that no training row holds, never generated: a categorical column's values allowed by another's.

A GAN gives each categorical column its own softmax. Where two columns go closely together (Caravan's
customer main type and its purchasing-power class, a job level and the role), the generator's rows
hold combinations of the two that no real row holds: 39% of Caravan's generated rows, 32% of
``attrition``'s (``ganforge.metrics.structure.unseen_combinations``), and a detector needs one split to
see them. Joining the two columns into one column of their combinations (``ganforge.encoding.joints``)
removes them but costs utility (a lookup table of 40 combinations learns each column's relation to the
label less well). Here each column keeps its own softmax and only the combinations are forbidden: for a
pair with bias-corrected Cramér's V >= ``forbid_min_association`` whose training rows leave some
combinations empty, the follower's values allowed with each of the leader's values are kept
(``Support.allowed``), and the generator's output head draws the follower among them:

- in training, the follower's probabilities are ``sum_a p(a) * softmax(z | allowed(a))``: the mixture over
  the leader's values of the follower's (Gumbel-)softmax restricted to the values that value allows, so
  that gradients reach both and the critic sees no forbidden combination;
- in sampling, a follower that drew a value its leader's drawn value does not allow draws again among
  the allowed ones (from its own softmax), which is the same distribution.

A follower follows one leader and may lead others (never in a circle); the head applies a column's own
support before those it leads. A support holds every linked value (``ganforge.encoding.links``) between its
two columns, which are dropped; it is applied before the other links, which stay exact: a link's follower
never leads a support, and one linked both ways never follows one. A support is plain JSON in the model
file (the two column names and, for each of the leader's codes, the follower's codes allowed with it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .base import CHOICE_ACTIVATIONS, Span
from .joints import cramers_v

#: the bias-corrected Cramér's V from which a pair's unseen combinations are forbidden
MIN_V = 0.3
#: the largest leader x follower block (a training batch holds a rows x leader x follower tensor)
MAX_CELLS = 4096
#: rows a table needs before an empty combination means anything
MIN_ROWS = 50


@dataclass(frozen=True)
class Support:
    leader: str
    follower: str
    allowed: tuple  # for each of the leader's codes, the follower's codes training rows hold with it
    v: float = 0.0

    @property
    def text(self) -> str:
        return f"{self.follower} given {self.leader}"

    @property
    def forbidden(self) -> int:
        """The combinations forbidden: of the two columns' values that training rows hold, the pairs no row holds."""
        held = [a for a in self.allowed if a]
        return len(held) * len({k for a in held for k in a}) - sum(map(len, held))

    def to_dict(self) -> dict[str, Any]:
        return {"leader": self.leader, "follower": self.follower, "allowed": [list(a) for a in self.allowed],
                "v": self.v}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Support":
        return cls(str(d["leader"]), str(d["follower"]), tuple(tuple(int(k) for k in a) for a in d["allowed"]),
                   float(d.get("v", 0.0)))


def _choices(X: np.ndarray, codecs, skip: set[str]) -> dict[str, tuple[np.ndarray, int]]:
    """Each one-column categorical block of the encoded matrix: column -> (its codes in the rows, width)."""
    out, start = {}, 0
    for c in codecs:
        spans = c.spans
        s = spans[0]
        if (c.spec.name not in skip and c.encoder is not None and c.encoder.kind == "onehot"
                and s.activation in CHOICE_ACTIVATIONS and s.width >= 2):
            out[c.spec.name] = (X[:, start:start + s.width].argmax(axis=1), s.width)
        start += sum(s.width for s in spans)
    return out


def find(X: np.ndarray, codecs, skip: set[str] = frozenset(), min_v: float = MIN_V, links=()) -> tuple[list, list]:
    """The supports of the encoded matrix ``X`` (rows as ``TableEncoder.transform`` gives them), and the
    ``links`` left: pairs of categorical columns by falling association, each with an empty combination in
    the training rows; the column of more values follows (the other way round where that one already
    follows), each column follows one other at most and never in a circle (a follower may lead: a job role
    that follows the department, and the job level the role); columns in ``skip`` take no part. A support holds
    every link between its two columns (a value that goes only with one other is a leader's value that
    allows one), so those links are dropped. The head applies supports before the other links: a linked
    value's follower leads none (its value changes after), and one linked both ways follows none (its
    draw is made again without the support's mask)."""
    kept = list(links)
    if len(X) < MIN_ROWS:
        return [], kept
    coded = _choices(X, codecs, set(skip))
    names = list(coded)
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            (ca, ka), (cb, kb) = coded[a], coded[b]
            if ka * kb > MAX_CELLS:
                continue
            v = cramers_v(ca, ka, cb, kb)
            if v >= min_v:
                pairs.append((v, a, b))
    follows: dict[str, str] = {}
    out: list[Support] = []
    for v, a, b in sorted(pairs, key=lambda p: (-p[0], names.index(p[1]), names.index(p[2]))):
        order = (a, b) if coded[a][1] <= coded[b][1] else (b, a)
        for lead, fol in (order, order[::-1]):
            rest = [ln for ln in kept if {ln.leader, ln.follower} != {lead, fol}]  # the links to other columns
            if fol in follows or _would_circle(fol, lead, follows) or lead in {ln.follower for ln in rest} or \
                    fol in {ln.follower for ln in rest if ln.both}:
                continue
            (cl, kl), (cf, kf) = coded[lead], coded[fol]
            table = np.bincount(cl * kf + cf, minlength=kl * kf).reshape(kl, kf) > 0
            held = table.any(axis=1)
            if table[held][:, table.any(axis=0)].all():  # every combination occurs: nothing to forbid
                break
            allowed = tuple(tuple(np.flatnonzero(row).tolist()) for row in table)
            out.append(Support(lead, fol, allowed, round(float(v), 4)))
            follows[fol] = lead
            kept = rest
            break
    return out, kept


def above(col, follows: dict) -> tuple[list, bool]:
    """The columns ``col`` follows, directly or through others (nearest first; ``follows``: follower -> leader),
    and whether they come back round to one already passed (a circle, which only a crafted file holds)."""
    seen, out = {col}, []
    while col in follows:
        col = follows[col]
        if col in seen:
            return out, True
        seen.add(col)
        out.append(col)
    return out, False


def _would_circle(fol: str, lead: str, follows: dict[str, str]) -> bool:
    """Whether ``fol`` following ``lead`` closes a circle: ``fol`` is ``lead`` or above it."""
    ups, circle = above(lead, follows)
    return fol == lead or fol in ups or circle


def order(pairs: list[tuple]) -> list[int]:
    """The indices of (leader, follower) pairs in an order that applies a column's own support before those it
    leads: by the number of leaders above each follower."""
    follows = {f: l for l, f in pairs}
    return sorted(range(len(pairs)), key=lambda i: len(above(pairs[i][1], follows)[0]))


def attach(spans: list[Span], first: dict[str, int], supports: list[Support]) -> list[Span]:
    """The encoder's spans with each follower's value span carrying its support: (the leader span's first
    column, its width, the follower's codes allowed with each of the leader's; ``first``: column -> the index
    in ``spans`` of its value span)."""
    if not supports:
        return spans
    starts = np.concatenate([[0], np.cumsum([s.width for s in spans])]).tolist()
    extra = {first[s.follower]: (starts[first[s.leader]], spans[first[s.leader]].width, s.allowed) for s in supports}
    return [replace(s, support=extra[i]) if i in extra else s for i, s in enumerate(spans)]


def mask(leader_width: int, width: int, allowed) -> np.ndarray:
    """The (leader's code, follower's code) combinations allowed, as a boolean matrix; a leader's code that
    training rows never hold (or a crafted empty list) allows every value."""
    m = np.zeros((leader_width, width), dtype=bool)
    for a, codes in enumerate(allowed[:leader_width]):
        codes = [k for k in codes if 0 <= k < width]
        if codes:
            m[a, codes] = True
    m[~m.any(axis=1)] = True
    return m
