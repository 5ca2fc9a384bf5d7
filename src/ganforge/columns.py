"""What a fit does with each column, in words: ``fit`` prints it, ``info`` reads it from a model file.

Only columns that are not learnt as they are get a line (dates, ordered categories, generated keys and
text; derived columns have their own line), and each rule with how it is kept. Reads a schema and an encoder's state (plain
JSON), so that ``info`` needs no model built.
"""

from __future__ import annotations

from typing import Any

from . import dates
from .identifiers import describe as describe_generated
from .rules import LE, LT, parse
from .schema import ORDINAL

#: how a rule is kept (``ganforge.encoding.constraints``)
TRANSFORM, CLIP, REJECT = "transform", "clip", "reject"


def describe_rules(state: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """``(rule, how it is kept)`` for each rule of an encoder's state."""
    out = []
    for d in state:
        rule = parse(d)
        mode = d.get("mode")
        if mode == TRANSFORM:
            how = (f"kept by learning {rule.columns[1]} - {rule.columns[0]} >= 0" if rule.kind in (LE, LT)
                   else f"kept by computing {rule.columns[-1]}")
        elif mode == CLIP:
            how = "kept by clipping"
        else:
            how = "kept by drawing the rows that break it again"
        out.append((rule.text, ("detected; " if rule.detected else "stated; ") + how))
    return out


def describe_columns(schema, rules_state: list[dict[str, Any]] | None) -> dict[str, str]:
    """Column (or ``rule TEXT``) -> what the fit did with it, for the columns not learnt as they are;
    ``rules_state``: the encoder's planned rules (``Constraints.get_state``, a model file's
    ``encoder.rules``)."""
    out: dict[str, str] = {}
    for c in schema.columns:
        if c.is_datetime:
            out[c.name] = f"date: {dates.describe(c)}"
        elif c.is_generated:
            out[c.name] = f"{c.kind}, generated, not learnt: {describe_generated(c.kind, c.pattern or {})}"
        elif c.kind == ORDINAL:
            cats = list(c.categories or [])
            out[c.name] = "ordinal: " + " < ".join(map(str, cats[:8])) + (" < ..." if len(cats) > 8 else "")
    for text, how in describe_rules(rules_state or []):
        out[f"rule {text}"] = how
    return out
