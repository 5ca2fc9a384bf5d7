"""Model files are untrusted input: everything a loader reads is checked before anything is built.

``modelfile`` makes sure a file is a regular safetensors file whose tensors lie inside it and never
unpickles. This module checks the rest, from the header alone (no weights read yet):

1. every value of the JSON metadata that ``load``, ``sample`` and ``info`` read has its type and
   range (``ganforge.validate``): the configuration through its own checks, the schema (bounds
   finite and ordered, missing rates in [0, 1]), the encoders' learned values (finite, ordered,
   non-negative where they are spreads or weights), the condition's labels and frequencies, the
   training summary;
2. the parts agree with each other: every column decoded once, categories as the schema has them,
   derived columns' lookups as long as their source's categories;
3. every size the metadata implies is checked against the tensors' shapes: no width may exceed the
   largest dimension of any tensor in the file (so nothing built from the metadata can outgrow the
   file), then the networks are built on PyTorch's ``meta`` device, which allocates nothing, and each
   of their tensors must be in the file with the same shape and dtype.

Only then are the weights read (``modelfile.read_tensors``: the same tensors, all finite) and the
networks built. A file that fails raises one ``ModelFileError`` naming the place in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from . import modelfile
from .config import Config
from .encoding import TableEncoder
from .encoding.base import ACTIVATIONS, ENCODERS
from .encoding.condition import COLUMN, KMEANS
from .errors import GanforgeError, ModelFileError
from .models.families import FAMILIES
from .models.losses import get_loss
from .schema import CATEGORICAL, INTEGER, KINDS, NUMERIC, ORDINAL, Schema
from .relationcheck import (category_key, finite_array, finite_number, groups_agree, joints_agree, links_agree,
                            lookups_agree, ratios_agree, supports_agree)
from .validate import (Invalid, anything, choice, flag, integer, items, mapping, need, number, optional, record,
                       scalar, schema_document, shown, text)

#: keys of a training summary that a loader converts with float(): left out when a file has null there
_SECONDS = ("train_seconds", "fit_seconds", "encoder_fit_seconds")


def _param(v: Any, where: str) -> Any:
    """An encoder's constructor parameter: a scalar (never a list or an object)."""
    need(v is None or isinstance(v, str) or isinstance(v, bool) or isinstance(v, int) or
         (isinstance(v, float) and np.isfinite(v)), where, f"expected a number, text or a bool, got {shown(v)}")
    return v


def _learned(v: Any, where: str) -> Any:
    """An encoder's learned value: a finite number, text, or a flat list of finite numbers."""
    if isinstance(v, list):
        return items(number())(v, where)
    return _param(v, where)


def _category_or_missing(v: Any, where: str) -> Any:
    return None if v is None else scalar(v, where)


_ENCODER_FIELDS = record({"kind": choice(*ENCODERS), "params": mapping(_param), "learned": mapping(_learned)})


def _encoder_state(v: Any, where: str) -> Any:
    """An encoder's state: its kind's parameters only, and learned values under names that end in ``_``
    (an encoder's learned attributes), so that a file can neither pass an unknown argument to the
    encoder nor put a value where one of its methods or properties is."""
    _ENCODER_FIELDS(v, where)
    allowed = ENCODERS[v["kind"]].params
    for k in v["params"]:
        need(k in allowed, f"{where}.params", f"{shown(k)} is not a parameter of a {v['kind']} encoder")
    for k in v["learned"]:
        need(k.endswith("_") and not k.startswith("_") and k.replace("_", "").isalnum(), f"{where}.learned",
             f"{shown(k)} is not the name of a learned value")
    return v
_CODEC = record({"column": text, "encoder": _encoder_state, "categories": items(_category_or_missing)},
                {"indicator": optional(_encoder_state), "fill": optional(number()), "keep": optional(items(integer())),
                 "rare": optional(items(integer())), "rare_counts": optional(items(integer()))})
_DERIVED = record({"column": text, "source": text, "values": items(_category_or_missing)})
_LINK = record({"leader": text, "leader_span": integer(), "leader_slot": integer(), "follower": text,
                "follower_span": integer(), "follower_slot": integer(), "both": flag}, {"text": text})
_GROUP = record({"column": text, "parent": text, "tables": items(optional(items(number(), min_len=2))),
                 "common": items(number(), min_len=2)}, {"eta2": number(0.0, 1.0 + 1e-9)})
_RATIO = record({"column": text, "source": text}, {"share": number(0.0)})
_JOINT = record({"columns": items(text, min_len=2), "sizes": items(integer(1), min_len=2),
                 "combos": items(items(integer(0), min_len=2), min_len=1)}, {"v": number(0.0, 1.0 + 1e-9)})
_SUPPORT = record({"leader": text, "follower": text, "allowed": items(items(integer(0)))},
                  {"v": number(0.0, 1.0 + 1e-9)})
_LOOKUP = record({"key": items(text, min_len=2), "columns": items(text, min_len=1),
                  "keys": items(items(_category_or_missing)), "values": items(items(_category_or_missing))})
_CONDITION = record({"kind": choice(COLUMN, KMEANS), "column": text,
                     "categories": items(_category_or_missing, min_len=1),
                     "frequencies": items(number(0.0))})
_QUALITY = record({"best_step": integer()}, {"best_score": number(), "best_column_shapes": number(),
                                             "metric": text, "stopped_early": flag})
_DP = record({"epsilon": number(0.0, above=True), "delta": number(0.0, 1.0), "epsilon_spent": number(0.0),
              "noise_multiplier": number(0.0), "max_grad_norm": number(0.0, above=True),
              "sample_rate": number(0.0, 1.0), "critic_steps": integer()},
             {"accountant": text, "mechanism": text, "spent": mapping(number(0.0)), "schema": text})
_HISTORY = mapping(items(optional(number())))
_TRAINING = record({}, {"steps": integer(), **{k: optional(number(0.0)) for k in _SECONDS},
                        "stopped_by": optional(text), "precision": optional(choice("float32", "bfloat16")),
                        "quality": optional(_QUALITY), "history": _HISTORY, "n_rows": optional(integer()),
                        "dp": optional(_DP), "derived_columns": optional(mapping(text))})
_TABLE = record({"model": text, "preset": text, "config": mapping(anything), "schema": anything,
                 "encoder": mapping(anything)},
                {"condition": optional(_CONDITION), "n_rows": integer(), "fingerprint": optional(text),
                 "dp": optional(_DP), "training": _TRAINING, "ganforge_version": optional(text)})
_IMAGES = record({"model": text, "preset": text, "config": mapping(anything), "shape": items(integer(1), 2, 3),
                  "value_range": items(number(), 2, 2), "dtype": text, "squeeze": flag,
                  "classes": optional(items(scalar, min_len=1, unique=True)), "n_images": integer()},
                 {"fit_seconds": optional(number(0.0)), "history": _HISTORY, "ganforge_version": optional(text)})


def _invalid(path: Any, exc: Invalid) -> ModelFileError:
    return ModelFileError(f"{path}: invalid model file at {exc.where}: {exc.what}; the file is corrupted, crafted, "
                          f"or was not written by ganforge")


def _largest_dimension(shapes: dict[str, modelfile.TensorInfo]) -> int:
    return max((max(shape, default=1) for _, shape in shapes.values()), default=0)


def _history(h: dict, where: str) -> None:
    lengths = {len(v) for v in h.values()}
    need(len(lengths) <= 1, where, "its series have different lengths")


# --- tables --------------------------------------------------------------------------------------
def read_table(path: str | Path) -> tuple[dict[str, Any], dict[str, modelfile.TensorInfo]]:
    """The checked metadata and tensor shapes of a table model file (no weights read)."""
    meta, shapes = modelfile.read_meta(path, kind="model")
    if meta.get("data") == "images":
        raise ModelFileError(f"{path} is an image model: load it with ganforge.ImageSynthesizer.load "
                             f"(command line: ganforge sample-images)")
    check_table(path, meta, shapes)
    return meta, shapes


def load_table(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and metadata of a table model file, checked (``check_table``) before the weights are
    read."""
    meta, shapes = read_table(path)
    return modelfile.read_tensors(path, shapes), meta


def check_table(path: Any, meta: dict[str, Any], shapes: dict[str, modelfile.TensorInfo]) -> None:
    """Check a table model's metadata against itself and against its tensors' ``shapes``; raises
    ``ModelFileError``. Null durations in the training summary are dropped from ``meta``."""
    try:
        _TABLE(meta, "meta")
        biggest = _largest_dimension(shapes)
        config = _config(meta)
        schema_document(meta["schema"], KINDS, numeric=(NUMERIC, INTEGER), choices=(CATEGORICAL, ORDINAL),
                        root="meta.schema")
        schema = Schema.from_dict(meta["schema"])
        for i, spec in enumerate(schema.columns):  # generated numbers are clipped to them
            need(not spec.is_numeric or (spec.min is not None and spec.max is not None),
                 f"meta.schema.columns[{i}]", "a numeric column needs its bounds, min and max")
        cond = meta.get("condition")
        _encoder_document(meta["encoder"], biggest)
        encoder = TableEncoder.from_state(schema, meta["encoder"], cond)
        _encoder_agrees(encoder, schema, biggest)
        n_labels = _condition_agrees(encoder, schema)
        need(encoder.width <= biggest, "meta.encoder", f"its encoded width {encoder.width} is larger than any "
                                                       f"tensor in the file")
        need(n_labels <= biggest, "meta.condition", f"its {n_labels} labels are more than any tensor holds")
        training = meta.get("training") or {}
        _history(training.get("history") or {}, "meta.training.history")
        with torch.device("meta"):
            family = FAMILIES[config.family].for_table(config, encoder.spans, encoder.width, n_labels,
                                                       device=torch.device("meta"))
        same_shapes(path, family.saved_modules(), shapes)
    except Invalid as exc:
        raise _invalid(path, exc) from None
    except ModelFileError:
        raise
    except GanforgeError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError, OverflowError,
            RecursionError) as exc:
        raise ModelFileError(f"{path}: the model file is inconsistent ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    for k in _SECONDS:
        if k in training and training[k] is None:
            del training[k]


def _config(meta: dict[str, Any]) -> Config:
    """The configuration, through its own checks; the layer lists' entries typed too (their widths need no
    bound here: the networks are first built on the meta device, where a width costs nothing, and must
    match the tensors)."""
    flat = meta["config"]
    layer = record({"width": integer(1)}, {"activation": text, "dropout": number(0.0, 0.99), "batchnorm": flag,
                                          "residual": flag})
    for k in ("generator_layers", "discriminator_layers", "vae_layers"):
        if k in flat:
            items(layer, min_len=1)(flat[k], f"meta.config.{k}")
    config = Config.from_flat({**flat, "model": meta["model"], "preset": meta["preset"], "device": "cpu"})
    need(config.family in FAMILIES, "meta.config.family", f"unknown model family {shown(config.family)}")
    if config.loss is not None:
        get_loss(config.loss)
    return config


def _encoder_document(state: dict[str, Any], biggest: int) -> None:
    if "options" in state:  # a file from before the typed configuration
        record({"options": mapping(anything), "codecs": items(_CODEC)}, {"derived": items(_DERIVED)})(state, "meta.encoder")
    else:
        record({"encoding": mapping(anything), "seed": integer(), "bounds_from_schema": flag, "codecs": items(_CODEC)},
               {"derived": items(_DERIVED), "links": items(_LINK), "groups": items(_GROUP),
                "ratios": items(_RATIO), "joints": items(_JOINT),
                "supports": items(_SUPPORT), "lookups": items(_LOOKUP)})(state, "meta.encoder")
    for i, c in enumerate(state["codecs"]):
        for part in ("encoder", "indicator"):
            n = ((c.get(part) or {}).get("params") or {}).get("n_categories")
            if n is not None:
                integer(1, biggest)(n, f"meta.encoder.codecs[{i}].{part}.params.n_categories")


def _check_encoder(enc: Any, where: str, biggest: int) -> None:
    """An encoder's learned values, by kind (an encoder of a kind not listed here: finite values)."""
    for k, v in vars(enc).items():
        if k.endswith("_") and isinstance(v, np.ndarray):
            finite_array(v, f"{where}.learned.{k}", min_len=0)
    for s in enc.spans:
        need(isinstance(s.width, int) and 1 <= s.width <= biggest, where, f"a block of width {s.width}")
        need(s.activation in ACTIVATIONS and np.isfinite(s.tau) and s.tau > 0, where,
             f"activation {shown(s.activation)} with temperature {shown(s.tau)}")
    kind = enc.kind
    if kind == "minmax":
        need(np.isfinite([enc.min_, enc.max_]).all() and enc.min_ <= enc.max_, where,
             f"min {shown(enc.min_)} is above max {shown(enc.max_)}, or not finite")
    elif kind == "standard":
        need(np.isfinite([enc.mean_, enc.std_]).all() and enc.std_ >= 0, where, "a negative or infinite spread")
    elif kind == "mode_specific":
        n = len(finite_array(enc.means_, f"{where}.learned.means_"))
        stds = finite_array(enc.stds_, f"{where}.learned.stds_", n)
        weights = finite_array(enc.weights_, f"{where}.learned.weights_", n)
        need(bool((stds >= 0).all() and (weights >= 0).all()), where, "a negative spread or weight")
    elif kind == "quantile":
        q = finite_array(enc.quantiles_, f"{where}.learned.quantiles_", min_len=2)
        need(bool((np.diff(q) >= 0).all()), where, "quantiles out of order")
    elif kind == "mode_quantile":
        sizes = finite_array(enc.sizes_, f"{where}.learned.sizes_")
        need(bool((sizes >= 2).all() and (sizes == np.round(sizes)).all()), where,
             "a quantile table of under 2 values")
        finite_array(enc.tables_, f"{where}.learned.tables_", int(sizes.sum()))
        spikes = finite_array(enc.spikes_, f"{where}.learned.spikes_", len(sizes))
        bounds = finite_array(enc.bounds_, f"{where}.learned.bounds_", int((spikes == 0).sum()) - 1
                               if (spikes == 0).any() else 0, min_len=0)
        need(bool(np.isin(spikes, (0, 1)).all() and (np.diff(bounds) >= 0).all()), where, "cuts out of order")
        for k, q in enumerate(enc.mode_tables()):
            need(bool((np.diff(q) >= 0).all()), where, f"quantile table {k} out of order")
    elif kind == "gaussian_interval":
        lo = finite_array(enc.lower_, f"{where}.learned.lower_", enc.n_categories)
        hi = finite_array(enc.upper_, f"{where}.learned.upper_", enc.n_categories)
        need(bool((lo >= 0).all() and (hi <= 1).all() and (lo <= hi).all()), where, "slices outside [0, 1]")


def _labels_agree(labels: list, spec, where: str) -> None:
    """Labels of a column's codes: its categories, then None (missing) at most once and last."""
    need(None not in labels[:-1], where, "a missing value (null) may only be the last label")
    known = [c for c in labels if c is not None]
    need(known == list(spec.categories or []), where,
         f"its labels are not the categories of column {shown(spec.name)} in the schema")


def _encoder_agrees(encoder: TableEncoder, schema: Schema, biggest: int) -> None:
    cond = encoder.condition_
    covered: dict[str, str] = {}
    if cond is not None and cond.is_column:
        covered[cond.column] = "the condition"
    joints = joints_agree(encoder, schema)
    for i, codec in enumerate(encoder.codecs_):
        where, spec = f"meta.encoder.codecs[{i}]", codec.spec
        need(spec.name not in covered, where, f"column {shown(spec.name)} is also encoded as {covered.get(spec.name)}")
        covered[spec.name] = f"codec {i}"
        _check_encoder(codec.encoder, f"{where}.encoder", biggest)
        n_categories = getattr(codec.encoder, "n_categories", None)
        if spec.kind in (NUMERIC, INTEGER):
            need(n_categories is None and not codec.categories, where, "a numeric column with a categorical encoder")
            need((codec.indicator is not None) == spec.has_missing, where,
                 "a missing-value indicator where the schema has no missing values, or none where it has")
            if codec.indicator is not None:
                need(getattr(codec.indicator, "n_categories", None) == 2, where, "its missing indicator is not 2-way")
        elif spec.kind in (CATEGORICAL, ORDINAL):
            need(codec.indicator is None, where, "a categorical column with a missing indicator")
            need(n_categories == len(codec.categories), where,
                 f"its encoder has {n_categories} categories, its list {len(codec.categories)}")
            need((None in codec.categories) == spec.has_missing, where,
                 "a code for missing values where the schema has none, or none where it has")
            if spec.name in joints:
                need(codec.categories == list(range(len(joints[spec.name].combos))), where,
                     "its labels are not its joint's combinations")
                for m in joints.pop(spec.name).columns:
                    need(m not in covered, where, f"column {shown(m)} is also encoded as {covered.get(m)}")
                    covered[m] = f"the joint of codec {i}"
            elif codec.keep is None:
                _labels_agree(codec.categories, spec, f"{where}.categories")
            else:
                _bucket_agrees(codec, f"{where}")
        if codec.indicator is not None:
            _check_encoder(codec.indicator, f"{where}.indicator", biggest)
    for i, d in enumerate(encoder.derived_):
        where = f"meta.encoder.derived[{i}]"
        need(d.spec.name not in covered, where, f"column {shown(d.spec.name)} is also encoded as "
                                                f"{covered.get(d.spec.name)}")
        covered[d.spec.name] = "a derived column"
        source = next((c for c in encoder.codecs_ if c.spec.name == d.source and c.keep is None
                       and c.spec.kind in (CATEGORICAL, ORDINAL)), None)
        need(source is not None, where, f"its source {shown(d.source)} is not an encoded categorical column")
        need(len(d.values) == len(source.categories), where,
             f"{len(d.values)} values for the {len(source.categories)} codes of {shown(d.source)}")
        allowed = None if d.spec.is_numeric else set(map(category_key, d.spec.categories or []))
        need(None not in d.values or d.spec.has_missing, where, "a missing value where the schema has none")
        for v in d.values:
            ok = v is None or (finite_number(v) if d.spec.is_numeric else allowed is None or category_key(v) in allowed)
            need(ok, where, f"value {shown(v)} is not one of column {shown(d.spec.name)}'s")
    need(not joints, "meta.encoder.joints", "a joint that no codec encodes")
    links_agree(encoder)
    supports_agree(encoder)
    lookups_agree(encoder, schema)
    groups_agree(encoder)
    ratios_agree(encoder)
    for name in encoder.constraints_.totals:  # a sum's total is computed from its parts (encoding.constraints)
        covered.setdefault(name, "a sum")
    for spec in schema.columns:
        if spec.kind in (NUMERIC, INTEGER, CATEGORICAL, ORDINAL):
            need(spec.name in covered, "meta.encoder", f"column {shown(spec.name)} is in the schema but never "
                                                       f"decoded")


def _bucket_agrees(codec, where: str) -> None:
    n = len(codec.spec.categories or [])
    keep, rare, counts = codec.keep, codec.rare or [], codec.rare_counts or []
    for name, idx in (("keep", keep), ("rare", rare)):
        need(all(0 <= i < n for i in idx) and len(set(idx)) == len(idx), f"{where}.{name}",
             f"indices outside the {n} categories, or repeated")
    need(not set(keep) & set(rare) and len(counts) == len(rare), where, "its rare bucket does not add up")
    from .encoding.codec import RARE

    want = [codec.spec.categories[i] for i in keep] + [RARE]
    need([c for c in codec.categories if c is not None] == want and None not in codec.categories[:-1], where,
         "its categories are not the kept ones and the rare code")


def _condition_agrees(encoder: TableEncoder, schema: Schema) -> int:
    cond = encoder.condition_
    if cond is None:
        return 0
    where = "meta.condition"
    need(len(cond.frequencies) == len(cond.categories), where, "as many frequencies as labels are needed")
    need(sum(cond.frequencies) > 0, f"{where}.frequencies", "they add up to zero")
    if cond.is_column:
        spec = schema[cond.column]
        need(spec.kind in (CATEGORICAL, ORDINAL), where, f"column {shown(cond.column)} is not categorical")
        _labels_agree(cond.categories, spec, f"{where}.categories")
        need((None in cond.categories) == spec.has_missing, f"{where}.categories",
             "a label for missing values where the schema has none, or none where it has")
    else:
        need(cond.categories == list(range(len(cond.categories))), f"{where}.categories", "clusters are 0..K-1")
    return len(cond.categories)


def same_shapes(path: Any, modules: dict[str, torch.nn.Module], shapes: dict[str, modelfile.TensorInfo]) -> None:
    """Every tensor of ``modules`` (built on the meta device) must be in the file under ``name.key``
    with its shape and dtype, and the file holds no other tensor under those names."""
    want = {f"{name}.{k}": (modelfile.dtype_name(v.dtype), tuple(v.shape))
            for name, m in modules.items() for k, v in m.state_dict().items()}
    for key, (dtype, shape) in want.items():
        if key not in shapes:
            raise ModelFileError(f"{path}: tensor {key!r} is missing; the file is corrupted or crafted")
        if shapes[key] != (dtype, shape):
            raise ModelFileError(f"{path}: tensor {key!r} is {shapes[key][0]} {list(shapes[key][1])} but its metadata "
                                 f"needs {dtype} {list(shape)}; the file is corrupted or crafted")
    extra = [k for k in shapes if k.split(".", 1)[0] in modules and k not in want]
    if extra:
        raise ModelFileError(f"{path}: tensor {extra[0]!r} belongs to no network its metadata describes; the file is "
                             f"corrupted or crafted")


# --- images ----------------------------------------------------------------------------------------
def read_images(path: str | Path) -> tuple[dict[str, Any], dict[str, modelfile.TensorInfo]]:
    """The checked metadata and tensor shapes of an image model file (no weights read)."""
    meta, shapes = modelfile.read_meta(path, kind="model")
    if meta.get("data") != "images":
        raise ModelFileError(f"{path} is a table model: load it with ganforge.Synthesizer.load")
    check_images(path, meta, shapes)
    return meta, shapes


def check_images(path: Any, meta: dict[str, Any], shapes: dict[str, modelfile.TensorInfo]) -> None:
    """Types and ranges of an image model's metadata; its networks' shapes are checked by the loader,
    which builds them on the meta device (``same_shapes``)."""
    try:
        _IMAGES(meta, "meta")
        biggest = _largest_dimension(shapes)
        for i, d in enumerate(meta["shape"]):
            integer(1, max(biggest, 1) * 16)(d, f"meta.shape[{i}]")
        lo, hi = meta["value_range"]
        need(lo < hi, "meta.value_range", f"{lo:g} is not below {hi:g}")
        try:
            kind = np.dtype(meta["dtype"]).kind
        except TypeError:
            kind = ""
        need(kind in "biuf" and kind != "", "meta.dtype", f"{shown(meta['dtype'])} is not a numeric dtype")
        _history(meta.get("history") or {}, "meta.history")
        for k in ("latent_dim", "vae_latent"):
            if k in meta["config"]:
                integer(1, max(biggest, 1))(meta["config"][k], f"meta.config.{k}")
        for k in ("g_channels", "d_channels"):
            if k in meta["config"]:
                items(integer(1, max(biggest, 1)), 3, 3)(meta["config"][k], f"meta.config.{k}")
    except Invalid as exc:
        raise _invalid(path, exc) from None


def tensor_shapes(tensors: dict[str, torch.Tensor]) -> dict[str, modelfile.TensorInfo]:
    return {k: (modelfile.dtype_name(v.dtype), tuple(v.shape)) for k, v in tensors.items()}
