"""Parsing the command line's option syntax into library values (lists, orders, conditions)."""

from __future__ import annotations

import json

from ..errors import ConfigError


def parse_ordinal_option(text: str) -> dict[str, list[str]]:
    """Parse the CLI form ``col=low,mid,high`` (several separated by ';')."""
    out: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        if "=" not in part:
            raise ConfigError(f"--ordinal {part!r}: expected COLUMN=v1,v2,... (e.g. \"size=small,medium,large\")")
        col, values = part.split("=", 1)
        order = [v.strip() for v in values.split(",") if v.strip()]
        if len(order) < 2:
            raise ConfigError(f"--ordinal {col.strip()}: give at least two values in order")
        out[col.strip()] = order
    return out


def split_list_option(text: str | None) -> list[str]:
    """Parse ``a,b,c`` into a list, ignoring blanks."""
    if not text:
        return []
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_set(values: list[str] | None) -> dict:
    """``--set key=value``: any preset option; the value is read as JSON when it parses."""
    out = {}
    for item in values or []:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set latent_dim=32")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v
    return out


def parse_conditions(items: list[str] | None) -> dict:
    """``COL=VALUE``, or ``COL=v1:0.3,v2:0.7`` when every part ends in ``:share``."""
    out: dict = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--condition {item!r}: expected COLUMN=VALUE, e.g. --condition income='>50K'")
        col, val = (x.strip() for x in item.split("=", 1))
        parts = [p.rpartition(":") for p in val.split(",")]
        if all(sep and is_number(share) for _, sep, share in parts):
            out[col] = {v: float(share) for v, _, share in parts}
        else:
            out[col] = val
    return out


def is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False



def int_list(text: str | None, option: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"{option} {text!r}: expected whole numbers separated by commas, e.g. 0,100,200") from None
