"""Declarative checks of JSON documents that come from outside: a model file's metadata, a schema file.

A check is a function ``(value, where) -> value`` that returns the value or raises :class:`Invalid`
naming the place (``where``, a path such as ``schema.columns[2].min``) and what was expected there.
They compose: ``record({"name": text(), "min": optional(number())})`` checks a dict, ``items(scalar)``
a list. Whoever reads the document turns :class:`Invalid` into the ``GanforgeError`` of its kind, so
that a malformed value is one error naming its place instead of a ``TypeError`` far from it.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

Check = Callable[[Any, str], Any]


class Invalid(Exception):
    """A value is not what its place in the document needs: ``where`` it is and ``what`` was expected."""

    def __init__(self, where: str, what: str):
        super().__init__(f"{where}: {what}")
        self.where, self.what = where, what


def need(condition: bool, where: str, what: str) -> None:
    if not condition:
        raise Invalid(where, what)


def shown(value: Any, limit: int = 60) -> str:
    """A value as a message shows it: its repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def number(lo: float = -math.inf, hi: float = math.inf, *, above: bool = False) -> Check:
    """A finite number in [lo, hi] (in (lo, hi] with ``above``)."""
    def check(v: Any, where: str) -> float:
        ok = is_number(v) and math.isfinite(v) and (v > lo if above else v >= lo) and v <= hi
        if not ok:
            span = "" if (lo, hi) == (-math.inf, math.inf) else (
                f" {'above' if above else 'at least'} {lo:g}" + ("" if hi == math.inf else f" and at most {hi:g}"))
            raise Invalid(where, f"expected a finite number{span}, got {shown(v)}")
        return v
    return check


def integer(lo: int = 0, hi: int | None = None) -> Check:
    """A whole number (not a bool) in [lo, hi]."""
    def check(v: Any, where: str) -> int:
        if not (isinstance(v, int) and not isinstance(v, bool) and v >= lo and (hi is None or v <= hi)):
            raise Invalid(where, f"expected a whole number >= {lo}" + ("" if hi is None else f" and <= {hi}")
                          + f", got {shown(v)}")
        return v
    return check


def text(v: Any, where: str) -> str:
    need(isinstance(v, str), where, f"expected text, got {shown(v)}")
    return v


def flag(v: Any, where: str) -> bool:
    need(isinstance(v, bool), where, f"expected true or false, got {shown(v)}")
    return v


def choice(*values: Any) -> Check:
    def check(v: Any, where: str) -> Any:
        ok = isinstance(v, (str, int, float, bool, type(None))) and any(v == c and type(v) is type(c) for c in values)
        need(ok, where, f"expected one of {', '.join(map(str, values))}, got {shown(v)}")
        return v
    return check


def scalar(v: Any, where: str) -> Any:
    """A value a category can take: text, a whole or finite number, a bool."""
    ok = isinstance(v, (str, bool, int)) or (isinstance(v, float) and math.isfinite(v))
    need(ok, where, f"expected text, a number or a bool, got {shown(v)}")
    return v


def optional(check: Check) -> Check:
    """``None`` or what ``check`` accepts."""
    return lambda v, where: None if v is None else check(v, where)


def items(check: Check, min_len: int = 0, max_len: int | None = None, unique: bool = False) -> Check:
    """A list whose every item ``check`` accepts; ``unique``: no two equal items."""
    def run(v: Any, where: str) -> list:
        need(isinstance(v, list), where, f"expected a list, got {shown(v)}")
        need(len(v) >= min_len and (max_len is None or len(v) <= max_len), where,
             f"expected {min_len}" + ("" if max_len is None else f" to {max_len}") + f" items, got {len(v)}")
        out = [check(x, f"{where}[{i}]") for i, x in enumerate(v)]
        if unique:
            seen: set = set()
            for i, x in enumerate(out):
                key = (type(x) is bool, x)  # True and 1 are one value to Python, two to a reader
                need(key not in seen, f"{where}[{i}]", f"{shown(x)} appears twice")
                seen.add(key)
        return out
    return run


def record(required: Mapping[str, Check], optional_keys: Mapping[str, Check] | None = None) -> Check:
    """A dict (``where`` names it) with every key of ``required`` and any of ``optional_keys``, each
    accepted by its check; other keys are left alone (a newer ganforge may add some)."""
    optional_keys = optional_keys or {}

    def run(v: Any, where: str) -> dict:
        need(isinstance(v, dict), where, f"expected an object, got {shown(v)}")
        for k, check in required.items():
            need(k in v, where, f"{k!r} is missing")
            check(v[k], f"{where}.{k}")
        for k, check in optional_keys.items():
            if k in v:
                check(v[k], f"{where}.{k}")
        return v
    return run


def mapping(values: Check) -> Check:
    """A dict of text keys whose every value ``values`` accepts."""
    def run(v: Any, where: str) -> dict:
        need(isinstance(v, dict), where, f"expected an object, got {shown(v)}")
        for k, x in v.items():
            values(x, f"{where}.{k}")
        return v
    return run


def anything(v: Any, where: str) -> Any:
    return v


def schema_document(data: Any, kinds: tuple[str, ...], numeric: tuple[str, ...], choices: tuple[str, ...],
                    root: str = "schema") -> None:
    """Types and ranges of a schema document (a schema file, or a model file's copy of one) before
    anything reads it: ``numeric`` kinds have finite bounds with min <= max, ``choices`` kinds a list of
    distinct categories; other kinds' fields are their readers' to check."""
    import pandas.api.types as ptypes

    def dtype(v: Any, where: str) -> str:
        text(v, where)
        try:
            ptypes.pandas_dtype(v)
        except (TypeError, ValueError):
            raise Invalid(where, f"{shown(v)} is not a pandas dtype") from None
        return v

    column = record({"name": text, "kind": choice(*kinds), "dtype": dtype},
                    {"missing_rate": number(0.0, 1.0), "categories": optional(items(scalar, unique=True))})
    record({"columns": items(column, min_len=1)},
           {"target": optional(text), "version": integer(1), "extra": optional(mapping(anything)), "public": flag,
            "rules": optional(items(anything))})(data, root)
    names: set[str] = set()
    for i, c in enumerate(data["columns"]):
        where = f"{root}.columns[{i}]"
        need(c["name"] not in names, where, f"column {shown(c['name'])} appears twice")
        names.add(c["name"])
        if c["kind"] in numeric:
            for k in ("min", "max"):  # 1e100: beyond it ganforge's arithmetic overflows (encoding.codes.LARGEST)
                optional(number(-1e100, 1e100))(c.get(k), f"{where}.{k}")
            if c.get("min") is not None and c.get("max") is not None:
                need(c["min"] <= c["max"], where, f"min {c['min']:g} is above max {c['max']:g}")
        if c["kind"] in choices:
            need(c.get("categories") is not None, where, "a categorical column needs its list of categories")
    need(data.get("target") is None or data["target"] in names, f"{root}.target",
         f"{shown(data.get('target'))} is not one of its columns")
