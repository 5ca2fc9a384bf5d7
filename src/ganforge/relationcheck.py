"""A model file's relations between columns checked before its encoder is used: joined categories, linked
values, grouped numbers and ratios (``ganforge.modelcheck`` calls these once the encoder is rebuilt)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .encoding import TableEncoder
from .encoding.supports import above
from .errors import shown
from .schema import CATEGORICAL, INTEGER, NUMERIC, ORDINAL, Schema
from .validate import need


def category_key(v: Any) -> tuple[bool, Any]:
    """A stored category as it compares with the schema's (True is not 1)."""
    return (type(v) is bool, v)


def finite_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and bool(np.isfinite(v))


def finite_array(v: Any, where: str, length: int | None = None, min_len: int = 1) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    need(a.ndim == 1 and len(a) >= min_len and (length is None or len(a) == length), where,
         f"expected a list of {length if length is not None else f'at least {min_len}'} numbers")
    need(bool(np.isfinite(a).all()), where, "holds a value that is not a finite number")
    return a


def joints_agree(encoder: TableEncoder, schema: Schema) -> dict:
    """Joined columns are categorical columns of the schema, each in one joint, whose combinations are
    distinct codes within each member's (its categories, then missing); a joint's name is no column's."""
    seen: set[str] = set()
    for i, j in enumerate(encoder.joints_):
        where = f"meta.encoder.joints[{i}]"
        need(j.name not in schema, where, f"its name {shown(j.name)} is a column's")
        need(len(j.sizes) == len(j.columns), where, f"{len(j.sizes)} sizes for {len(j.columns)} columns")
        for m, k in zip(j.columns, j.sizes):
            spec = schema[m] if m in schema else None
            need(spec is not None and spec.kind in (CATEGORICAL, ORDINAL), where,
                 f"{shown(m)} is not a categorical column of the schema")
            need(k == len(spec.categories or []) + int(spec.has_missing), where,
                 f"{k} codes for the {len(spec.categories or [])} categories of {shown(m)}")
            need(m not in seen, where, f"column {shown(m)} is in two joints")
            seen.add(m)
        need(all(len(c) == len(j.sizes) and all(0 <= x < k for x, k in zip(c, j.sizes)) for c in j.combos), where,
             "a combination outside its columns' codes")
        need(len({tuple(c) for c in j.combos}) == len(j.combos), where, "a combination twice")
    return {j.name: j for j in encoder.joints_}


def links_agree(encoder: TableEncoder) -> None:
    """Linked values point at choice spans of encoded columns, at slots inside them; a follower follows
    one leader column and leads nothing (the output head applies them in one pass)."""
    spans = {c.spec.name: c.spans for c in encoder.codecs_}
    leaders, follows = set(), {}
    for i, ln in enumerate(encoder.links_):
        where = f"meta.encoder.links[{i}]"
        for role, col, span, slot in (("leader", ln.leader, ln.leader_span, ln.leader_slot),
                                      ("follower", ln.follower, ln.follower_span, ln.follower_slot)):
            need(col in spans, where, f"its {role} {shown(col)} is not an encoded column")
            need(span < len(spans[col]) and spans[col][span].activation in ("softmax", "gumbel"), where,
                 f"its {role}'s block {span} is not a choice of column {shown(col)}")
            need(slot < spans[col][span].width, where, f"its {role}'s value {slot} is outside its block")
        need(ln.leader != ln.follower, where, "a column linked to itself")
        leaders.add((ln.leader, ln.leader_span))
        fol = (ln.follower, ln.follower_span)
        need(follows.setdefault(fol, (ln.leader, ln.leader_span)) == (ln.leader, ln.leader_span), where,
             f"column {shown(ln.follower)} follows two columns")
    need(not leaders & set(follows), "meta.encoder.links", "a column both leads and follows")


def supports_agree(encoder: TableEncoder) -> None:
    """Forbidden combinations are between two categorical columns encoded as one-hot choices, with a list of
    the follower's codes for each of the leader's; a column follows one other at most, never in a circle; a
    linked value's follower leads none, one linked both ways follows none (the head applies supports first)."""
    codecs = {c.spec.name: c for c in encoder.codecs_}
    link_followers = {ln.follower for ln in encoder.links_}
    both_ways = {ln.follower for ln in encoder.links_ if ln.both}
    follows: dict[str, str] = {}
    for i, s in enumerate(encoder.supports_):
        where = f"meta.encoder.supports[{i}]"
        widths = []
        for role, name in (("leader", s.leader), ("follower", s.follower)):
            c = codecs.get(name)
            need(c is not None and c.encoder is not None and c.encoder.kind == "onehot"
                 and c.spans[0].activation in ("softmax", "gumbel"), where,
                 f"its {role} {shown(name)} is not an encoded categorical column")
            widths.append(c.spans[0].width)
        need(s.leader != s.follower, where, "a column that allows its own values")
        need(len(s.allowed) == widths[0], where, f"{len(s.allowed)} lists for the {widths[0]} codes of {shown(s.leader)}")
        need(all(0 <= k < widths[1] for a in s.allowed for k in a), where,
             f"a code outside the {widths[1]} of {shown(s.follower)}")
        need(s.follower not in follows, where, f"column {shown(s.follower)} follows two columns")
        need(s.leader not in link_followers, where, f"its leader {shown(s.leader)} follows a linked value")
        need(s.follower not in both_ways, where, f"its follower {shown(s.follower)} is linked both ways")
        follows[s.follower] = s.leader
    for col in follows:
        need(not above(col, follows)[1], "meta.encoder.supports", f"columns that follow each other in a circle "
                                                                  f"({shown(col)})")


def groups_agree(encoder: TableEncoder) -> None:
    """A grouped number is an encoded plain number (not a date, nor a rule's column), grouped once, by an
    encoded categorical column, with a sorted quantile table for each of its parent's codes or none."""
    codecs = {c.spec.name: c for c in encoder.codecs_}
    special = encoder.constraints_.columns | set(encoder.constraints_.gaps)
    seen = set()
    for i, g in enumerate(encoder.groups_):
        where = f"meta.encoder.groups[{i}]"
        codec, parent = codecs.get(g.column), codecs.get(g.parent)
        need(codec is not None and codec.spec.kind in (NUMERIC, INTEGER) and not codec.spec.is_datetime
             and g.column not in special, where, f"{shown(g.column)} is not an encoded plain number")
        need(g.column not in seen, where, f"column {shown(g.column)} is grouped twice")
        seen.add(g.column)
        need(parent is not None and parent.spec.kind in (CATEGORICAL, ORDINAL), where,
             f"its parent {shown(g.parent)} is not an encoded categorical column")
        need(len(g.tables) == len(parent.categories), where,
             f"{len(g.tables)} quantile tables for the {len(parent.categories)} codes of {shown(g.parent)}")
        for k, t in enumerate([g.common, *[t for t in g.tables if t is not None]]):
            q = finite_array(t, f"{where}.tables", min_len=2)
            need(bool((np.diff(q) >= 0).all()), where, f"quantile table {k} out of order")


def ratios_agree(encoder: TableEncoder) -> None:
    """A ratio's number is an encoded plain number, its source a number of the schema (a rule's too) never
    missing; a number is the ratio of one source and is not a source itself (decoding takes one step)."""
    codecs = {c.spec.name: c for c in encoder.codecs_}
    special = encoder.constraints_.columns | set(encoder.constraints_.gaps)
    columns = [r.column for r in encoder.ratios_]
    for i, r in enumerate(encoder.ratios_):
        where = f"meta.encoder.ratios[{i}]"
        codec = codecs.get(r.column)
        need(codec is not None and codec.spec.kind in (NUMERIC, INTEGER) and not codec.spec.is_datetime
             and r.column not in special, where, f"its number {shown(r.column)} is not an encoded plain number")
        src = encoder.schema[r.source] if r.source in encoder.schema else None
        need(src is not None and src.kind in (NUMERIC, INTEGER) and not src.is_datetime
             and (r.source in codecs or r.source in encoder.constraints_.totals), where,
             f"its source {shown(r.source)} is not an encoded number")
        need(not src.has_missing, where, f"its source {shown(r.source)} has missing values")
        need(r.column != r.source and r.source not in columns, where, f"its source {shown(r.source)} is a ratio")
        need(columns.count(r.column) == 1, where, f"column {shown(r.column)} is the ratio of two sources")


def lookups_agree(encoder: TableEncoder, schema: Schema) -> None:
    """Columns looked up by a pair (``encoding.keyed``): two distinct encoded columns as the key, encoded
    columns looked up, none of them a key or looked up twice; each stored pair of two values and a value for
    each column, numbers where the column is a number, one of its categories where it has them, missing only
    where the schema says a column has missing values."""
    encoded = {c.spec.name for c in encoder.codecs_}
    looked: set[str] = set()
    keys = {k for lk in encoder.lookups_ for k in lk.key}
    for i, lk in enumerate(encoder.lookups_):
        where = f"meta.encoder.lookups[{i}]"
        need(len(lk.key) == 2 and lk.key[0] != lk.key[1], where, "its key is not two distinct columns")
        for name in lk.key + lk.columns:
            need(name in encoded, where, f"column {shown(name)} is not an encoded column")
        for name in lk.columns:
            need(name not in keys, where, f"column {shown(name)} is both looked up and a key")
            need(name not in looked, where, f"column {shown(name)} is looked up twice")
            looked.add(name)
        need(len(lk.keys) == len(lk.values), where, f"{len(lk.keys)} pairs for {len(lk.values)} lists of values")
        specs = [schema[n] for n in lk.key + lk.columns]
        allowed = [None if s.is_numeric or s.categories is None else set(map(category_key, s.categories))
                   for s in specs]
        for row, (pair, values) in enumerate(zip(lk.keys, lk.values)):
            need(len(pair) == 2 and len(values) == len(lk.columns), f"{where}.keys[{row}]",
                 f"expected 2 key values and {len(lk.columns)} values")
            for j, (spec, cats, v) in enumerate(zip(specs, allowed, list(pair) + list(values))):
                _value_agrees(spec, cats, v, f"{where}.keys[{row}]" if j < 2 else f"{where}.values[{row}]")


def _value_agrees(spec, allowed: set | None, v: Any, where: str) -> None:
    """A stored value of column ``spec``: missing only where it has missing values, a finite number where it
    is a number, else one of its categories (``allowed``, as ``category_key`` gives them) where it has them."""
    if v is None:
        need(spec.has_missing, where, f"a missing value of column {shown(spec.name)}, which has none")
    elif spec.is_numeric:
        need(finite_number(v), where, f"value {shown(v)} of column {shown(spec.name)} is not a finite number")
    elif allowed is not None:
        need(category_key(v) in allowed, where, f"value {shown(v)} is not one of column {shown(spec.name)}'s")
