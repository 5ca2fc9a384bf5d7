"""A TableEncoder's JSON state, the model file's ``meta.encoder``: what the encoder learnt, and the encoder
rebuilt from it (the values a file may hold are checked by ``ganforge.modelcheck`` before this runs)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..config import EncodingConfig
from ..schema import Schema
from .base import ColumnEncoder
from .codec import ColumnCodec
from .condition import COLUMN, Condition
from .constraints import Constraints
from .derived import DerivedColumn
from .groups import NumberGroup
from .joints import Joint, spec_of
from .links import Link
from .ratios import Ratio
from .keyed import Lookup
from .supports import Support

#: a model file's encoder options before the typed configuration, and their names now
_OLD_OPTION_NAMES = {"numeric": "numeric_encoding", "categorical": "categorical_encoding",
                     "ordinal": "ordinal_encoding"}


def get_state(enc) -> dict[str, Any]:
    """What a ``TableEncoder`` learnt, as JSON (a model file's ``meta.encoder``)."""
    return {
        "encoding": asdict(enc.config), "seed": enc.seed, "bounds_from_schema": enc.bounds_from_schema,
        "codecs": [
            {
                "column": c.spec.name,
                "encoder": c.encoder.get_state(),
                "indicator": c.indicator.get_state() if c.indicator else None,
                "fill": c.fill,
                "categories": c.categories,
                **({"keep": c.keep, "rare": c.rare, "rare_counts": c.rare_counts} if c.keep is not None else {}),
                **({"offset": c.offset} if c.offset else {}),
            }
            for c in enc.codecs_
        ],
        "derived": [{"column": d.spec.name, "source": d.source, "values": d.values} for d in enc.derived_],
        **({"rules": enc.constraints_.get_state()} if enc.constraints_.plans else {}),
        **({"links": [ln.to_dict() for ln in enc.links_]} if enc.links_ else {}),
        **({"groups": [g.to_dict() for g in enc.groups_]} if enc.groups_ else {}),
        **({"ratios": [r.to_dict() for r in enc.ratios_]} if enc.ratios_ else {}),
        **({"joints": [j.to_dict() for j in enc.joints_]} if enc.joints_ else {}),
        **({"supports": [s.to_dict() for s in enc.supports_]} if enc.supports_ else {}),
        **({"lookups": [lk.to_dict() for lk in enc.lookups_]} if enc.lookups_ else {}),
    }


def from_state(cls, schema: Schema, state: dict[str, Any], condition: dict[str, Any] | None = None):
    """The encoder (a ``cls``, the ``TableEncoder`` class) of a model file: its schema, its encoder state and
    its condition entry."""
    if "options" in state:  # a file from before the typed configuration
        old = dict(state["options"])
        seed, bounds = old.pop("seed", 0), old.pop("bounds_from_schema", False)
        config = EncodingConfig(**{_OLD_OPTION_NAMES.get(k, k): v for k, v in old.items()})
    else:
        config, seed, bounds = EncodingConfig(**state["encoding"]), state["seed"], state["bounds_from_schema"]
    enc = cls(schema, config, seed, bounds)
    enc.condition_ = Condition.from_dict(condition)
    enc._split((COLUMN, enc.condition_.column) if enc.condition_ is not None and enc.condition_.is_column
                else None)
    enc.constraints_ = Constraints.from_state(state.get("rules"))
    gaps = enc.constraints_.gaps
    enc.joints_ = [Joint.from_dict(d) for d in state.get("joints", [])]
    joints = {j.name: spec_of(j) for j in enc.joints_}
    enc.codecs_ = [
        ColumnCodec(
            joints[c["column"]] if c["column"] in joints
            else enc.constraints_.gap_spec(schema[c["column"]]) if c["column"] in gaps else schema[c["column"]],
            ColumnEncoder.from_state(c["encoder"]),
            ColumnEncoder.from_state(c["indicator"]) if c["indicator"] else None,
            c["fill"],
            list(c["categories"]),
            c.get("keep"), c.get("rare"), c.get("rare_counts"), c.get("offset", 0.0),
        )
        for c in state["codecs"]
    ]
    enc.derived_ = [DerivedColumn(schema[d["column"]], d["source"], list(d["values"]))
                     for d in state.get("derived", [])]
    enc.links_ = [Link.from_dict(d) for d in state.get("links", [])]
    enc.groups_ = [NumberGroup.from_dict(d) for d in state.get("groups", [])]
    enc.ratios_ = [Ratio.from_dict(d) for d in state.get("ratios", [])]
    enc.supports_ = [Support.from_dict(d) for d in state.get("supports", [])]
    enc.lookups_ = [Lookup.from_dict(d) for d in state.get("lookups", [])]
    return enc
