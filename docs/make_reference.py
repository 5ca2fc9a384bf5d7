"""Write the API reference (docs/reference.md) from the code's signatures and docstrings, and the
generated tables of the user guide (models, presets and options in docs/guide/tables.md).

    python docs/make_reference.py            # rewrite both files
    python docs/make_reference.py --check    # exit 1, naming the stale files, when either is out of date

Only the standard library (``inspect``, ``importlib``) and ganforge itself are used. Each entry is a
signature, the first paragraph of its docstring and its public methods; configuration sections list
every option with its default and its line of documentation (``ganforge.config.option``). To
document something new, add it to ``REFERENCE`` below and rerun; ``tests/test_docs.py`` fails while
a file is stale.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_MD = ROOT / "docs" / "reference.md"
TABLES_MD = ROOT / "docs" / "guide" / "tables.md"
#: signatures longer than this are written one parameter per line
WIDE = 96

# The public API, section by section: (heading, one line about it, [(module, attribute), ...]).
REFERENCE: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("Tables and images", "The two facades: learn, sample, save, load.",
     [("ganforge", "Synthesizer"), ("ganforge", "ImageSynthesizer")]),
    ("Evaluation", "One call that measures a synthetic table; its result is plain data.",
     [("ganforge", "evaluate"), ("ganforge.evaluation", "EvaluationResult"), ("ganforge.evaluation", "Verdict")]),
    ("Configuration", ("Every option once, with its default, its check and what it does. `Synthesizer(**overrides)` "
                       "and `--set NAME=VALUE` take the flat names."),
     [("ganforge.config", "Config"), ("ganforge.config", "option_docs"), ("ganforge.config", "EncodingConfig"),
      ("ganforge.config", "NetworkConfig"), ("ganforge.config", "TrainingConfig"), ("ganforge.config", "MonitorConfig"),
      ("ganforge.config", "PrivacyConfig"), ("ganforge.config", "RuntimeConfig"), ("ganforge.config", "LatentConfig"),
      ("ganforge.config", "ImageConfig")]),
    ("Schema", "Column kinds, inferred once and shared by every later stage.",
     [("ganforge.schema", "Schema"), ("ganforge.schema", "ColumnSpec"), ("ganforge.schema", "infer_schema")]),
    ("Condition", "The label (or KMeans clusters) of a conditional model.",
     [("ganforge.encoding", "Condition"), ("ganforge.encoding", "parse_condition_on")]),
    ("Losses", "Adversarial losses as objects (`ganforge.models.losses`).",
     [("ganforge.models.losses", "AdversarialLoss"), ("ganforge.models.losses", "NonSaturating"),
      ("ganforge.models.losses", "WassersteinGP"), ("ganforge.models.losses", "LOSSES"),
      ("ganforge.models.losses", "get_loss"), ("ganforge.models.losses", "gradient_penalty")]),
    ("Model families and the registry", "A model names a family, a loss and whether it is conditional.",
     [("ganforge.models.families", "FAMILIES"), ("ganforge.models.registry", "MODELS"),
      ("ganforge.models.registry", "PRESETS")]),
    ("Training", "The one loop for every family, and what it calls back.",
     [("ganforge.training", "Family"), ("ganforge.training", "Trainer"), ("ganforge.training", "Callback"),
      ("ganforge.training", "Every"), ("ganforge.training", "ProgressBar")]),
    ("Errors", "Every error ganforge raises on purpose; the command line prints it on one line, exit code 2.",
     [("ganforge.errors", "GanforgeError"), ("ganforge.errors", "DataError"), ("ganforge.errors", "ConfigError"),
      ("ganforge.errors", "ModelFileError"), ("ganforge.errors", "TrainingError")]),
]


def _import_ganforge() -> None:
    """Document the working tree's code, not an installed copy."""
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)


# --- text ------------------------------------------------------------------------------------------
_ROLE = re.compile(r":(?:class|meth|func|mod|attr|data|obj):`~?([^`]+)`")


def markdown(text: str) -> str:
    """reStructuredText inline markup as Markdown: ``x`` and :role:`x` become `x`."""
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", text)
    return text.replace("``", "`")


def own_doc(obj: Any) -> str | None:
    """The object's docstring (a class's own, not a dataclass's generated signature)."""
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__")
        if not doc or (dataclasses.is_dataclass(obj) and doc.startswith(obj.__name__ + "(")):
            return None
        return inspect.cleandoc(doc)
    return inspect.getdoc(obj)


def first_paragraph(obj: Any) -> str:
    doc = own_doc(obj)
    if not doc:
        return ""
    para = doc.strip().split("\n\n", 1)[0]
    if para.lstrip().startswith(">>>"):
        return ""
    return markdown(" ".join(line.strip() for line in para.splitlines()))


# --- signatures ------------------------------------------------------------------------------------
def annotation(a: Any) -> str | None:
    if a is inspect.Parameter.empty or a is inspect.Signature.empty:
        return None
    text = a if isinstance(a, str) else inspect.formatannotation(a)
    return text.strip("'\"")


def default(d: Any) -> str:
    text = repr(d)
    return "..." if " at 0x" in text else text


def signature(fn: Callable, name: str) -> str:
    """``name(params) -> return``; one parameter per line when it is long."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return f"{name}(...)"
    params = list(sig.parameters.values())
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    parts, star = [], False
    for i, p in enumerate(params):
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        if p.kind is p.VAR_POSITIONAL:
            star = True
        text = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name
        ann = annotation(p.annotation)
        if ann:
            text += f": {ann}"
        if p.default is not p.empty:
            text += f" = {default(p.default)}" if ann else f"={default(p.default)}"
        parts.append(text)
        if p.kind is p.POSITIONAL_ONLY and (i + 1 == len(params) or params[i + 1].kind is not p.POSITIONAL_ONLY):
            parts.append("/")
    ret = annotation(sig.return_annotation)
    tail = f" -> {ret}" if ret and ret != "None" else ""
    one = f"{name}({', '.join(parts)}){tail}"
    if len(one) <= WIDE or not parts:
        return one
    return f"{name}(\n" + "".join(f"    {p},\n" for p in parts) + f"){tail}"


def code(text: str) -> str:
    return f"```python\n{text}\n```\n"


# --- members ---------------------------------------------------------------------------------------
def public_members(cls: type) -> list[tuple[str, Any, str]]:
    """(name, object, kind) of the methods and properties a class defines itself, in source order."""
    fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    out = []
    for name, value in vars(cls).items():
        if name.startswith("_") or name in fields:
            continue
        if isinstance(value, property):
            out.append((name, value.fget, "property"))
        elif isinstance(value, classmethod):
            out.append((name, value.__func__, "classmethod"))
        elif isinstance(value, staticmethod):
            out.append((name, value.__func__, "staticmethod"))
        elif inspect.isfunction(value):
            out.append((name, value, "method"))
    return out


def field_default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        return _value(f.default)
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        factory = f.default_factory  # type: ignore[misc]
        if inspect.isclass(factory):
            return f"{factory.__name__}()"
        return _value(factory())
    return "required"


def _value(v: Any) -> str:
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return default(v)


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def options_table(cls: type) -> str:
    """A configuration section: option, type, default, what it does."""
    rows = ["| option | type | default | what it does |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        rows.append(f"| `{f.name}` | `{cell(str(f.type))}` | `{cell(field_default(f))}` | "
                    f"{cell(f.metadata.get('doc', ''))} |")
    return "\n".join(rows) + "\n"


def fields_table(cls: type) -> str:
    rows = ["| field | type | default |", "|---|---|---|"]
    for f in dataclasses.fields(cls):
        rows.append(f"| `{f.name}` | `{cell(str(f.type))}` | `{cell(field_default(f))}` |")
    return "\n".join(rows) + "\n"


def document_class(cls: type, shown: str) -> str:
    from ganforge.config import Section

    out = [f"### `{shown}`\n"]
    bases = [b for b in cls.__bases__ if b.__module__.startswith("ganforge") and b is not Section]
    section = dataclasses.is_dataclass(cls) and issubclass(cls, Section)
    if section:  # the table below is the signature: every field is an option, set by its flat name
        from ganforge.config import SECTIONS

        where = next((f"`Config.{k}`" for k, v in SECTIONS.items() if v is cls), None)
        how = ("`Synthesizer(name=value)`, `--set name=value`" if where else "`ImageSynthesizer(model, preset, "
               "name=value)`")
        out.append((f"The {where} section of a table model's configuration. " if where else "")
                   + f"Each field is an option, set by its name ({how}).\n")
    elif issubclass(cls, BaseException):  # raised, not built: the class and its base say it all
        out.append(code(f"class {cls.__name__}({cls.__bases__[0].__name__})"))
        bases = []
    else:
        out.append(code(signature(cls, f"class {cls.__name__}")))
    note = first_paragraph(cls)
    if bases:
        note = (note + " " if note else "") + "Subclass of " + ", ".join(f"`{b.__name__}`" for b in bases) + "."
    if note:
        out.append(note + "\n")
    if section:
        out.append(options_table(cls))
    elif dataclasses.is_dataclass(cls) and cls.__name__ != "Trainer":
        out.append(fields_table(cls))
    members = [m for m in public_members(cls) if not (section and m[0] == "validate")]
    if members:
        lines = []
        for name, fn, kind in members:
            if kind == "property":
                ret = annotation(inspect.signature(fn).return_annotation)
                sig = f"{name}" + (f": {ret}" if ret else "")
                label = "property"
            else:
                sig = signature(fn, name)
                label = kind
            doc = first_paragraph(fn)
            if "\n" not in sig:
                lines.append(f"- `{sig}`")
            else:
                lines.append(f"- {label} `{name}`:\n\n" + _indent(code(sig)).rstrip("\n"))
            if "\n" not in sig and label != "method":
                lines[-1] += f" ({label})"
            if doc:
                lines[-1] += (" — " if "\n" not in sig else "\n\n  ") + doc
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def _indent(text: str) -> str:
    return "".join(f"  {line}\n" if line else "\n" for line in text.rstrip("\n").split("\n"))


def document_function(fn: Callable, shown: str) -> str:
    out = [f"### `{shown}`\n", code(signature(fn, fn.__name__))]
    doc = first_paragraph(fn)
    if doc:
        out.append(doc + "\n")
    return "\n".join(out)


def document_mapping(value: dict, shown: str, module: str, attr: str) -> str:
    out = [f"### `{shown}`\n"]
    if attr == "FAMILIES":
        out.append("Model families by name; a model in `MODELS` names its family. Each is one class:\n")
        for name, cls in value.items():
            about = first_paragraph(sys.modules[cls.__module__])
            out.append(f"- `{name}`: `{cls.__module__}.{cls.__name__}` — {about}")
        out.append("")
        for cls in dict.fromkeys(value.values()):
            out.append(document_class(cls, f"{cls.__module__}.{cls.__name__}").replace("### ", "#### ", 1))
    elif attr == "LOSSES":
        out.append("Losses by the name a model gives (`loss`):\n")
        out.extend(f"- `{name}`: `{type(obj).__name__}`" for name, obj in value.items())
        out.append("")
    elif attr == "MODELS":
        out.append("Model names (`Synthesizer(model)`, `ganforge fit --model`): the family that trains it, its "
                   "loss, whether a condition is fed to the networks, and the options it sets.\n")
        out.append("| model | family | loss | conditional | sets |\n|---|---|---|---|---|")
        for name, m in value.items():
            sets = ", ".join(f"{k}={_value(v)}" for k, v in m.items() if k not in ("family", "loss", "conditional"))
            family = m.get("family", "adversarial")
            out.append(f"| `{name}` | {family} | {m.get('loss')} | {m['conditional']} | {sets} |")
        out.append("")
    elif attr == "PRESETS":
        out.append("Preset names (`Synthesizer(model, preset)`, `ganforge fit --preset`): plain dicts of option "
                   "values, merged as defaults <- preset <- model <- overrides. Their values are tabled in "
                   "[guide/tables.md](guide/tables.md#presets).\n")
        out.append(", ".join(f"`{name}`" for name in value) + "\n")
    else:
        out.append(", ".join(f"`{k}`" for k in value) + "\n")
    return "\n".join(out)


def reference() -> str:
    _import_ganforge()
    intro = ("Generated from the code's signatures and docstrings by `python docs/make_reference.py`: do not edit "
             "by hand (`tests/test_docs.py` fails when this page is stale). The user guide, with examples, is "
             "[guide/](guide/); the index of all pages is [README.md](README.md).\n")
    out = ["# API reference\n", intro]
    toc = []
    body = []
    for heading, about, items in REFERENCE:
        anchor = re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        toc.append(f"- [{heading}](#{anchor}): " + ", ".join(f"`{attr}`" for _, attr in items))
        body.append(f"## {heading}\n\n{about}\n")
        for module, attr in items:
            value = getattr(importlib.import_module(module), attr)
            shown = f"{module}.{attr}"
            if inspect.isclass(value):
                body.append(document_class(value, shown))
            elif callable(value):
                body.append(document_function(value, shown))
            elif isinstance(value, dict):
                body.append(document_mapping(value, shown, module, attr))
            else:
                raise TypeError(f"cannot document {shown} ({type(value).__name__})")
    return "\n".join(out + toc + [""] + body).rstrip() + "\n"


# --- the generated tables of the user guide ---------------------------------------------------------
def _layers(layers: list[dict]) -> str:
    """[{"width": 256, "activation": "relu", ...}, ...] as "256-256 relu, batchnorm, residual"."""
    def traits(layer: dict) -> list[str]:
        t = [layer.get("activation", "relu")]
        if layer.get("dropout"):
            t.append(f"dropout {layer['dropout']:g}")
        if layer.get("batchnorm"):
            t.append("batchnorm")
        if layer.get("residual"):
            t.append("residual")
        return t

    kinds = {tuple(traits(layer)) for layer in layers}
    if len(kinds) == 1:
        return "-".join(str(layer["width"]) for layer in layers) + " " + ", ".join(kinds.pop())
    return "; ".join(f"{layer['width']} " + ", ".join(traits(layer)) for layer in layers)


def _shown(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return _layers(value)
    if isinstance(value, list):
        return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return "none" if value is None else str(value)


def models_table() -> str:
    from ganforge.models.registry import MODELS

    rows = ["| model | family | loss | condition | critic steps per generator step |", "|---|---|---|---|---|"]
    for name, m in MODELS.items():
        rows.append(f"| `{name}` | {m.get('family', 'adversarial')} | {m.get('loss')} | "
                    f"{'label or kmeans:K' if m['conditional'] else 'none'} | {m.get('n_critic', 'the preset')} |")
    return "\n".join(rows) + "\n"


def presets_table() -> str:
    from ganforge.config import SECTIONS
    from ganforge.models.registry import PRESETS

    names = ["default"] + [p for p in PRESETS if p != "default"]
    set_by_any = {k for p in PRESETS.values() for k in p}
    rows = ["| option | built-in default | " + " | ".join(f"`{n}`" for n in names) + " |",
            "|---|---|" + "---|" * len(names)]
    for cls in SECTIONS.values():
        defaults = cls()
        for f in dataclasses.fields(cls):
            if f.name not in set_by_any:
                continue
            cells = [_shown(PRESETS[n][f.name]) if f.name in PRESETS[n] else "" for n in names]
            rows.append(f"| `{f.name}` | {_shown(getattr(defaults, f.name))} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def options_tables() -> str:
    from ganforge.cli.app import FLAGS
    from ganforge.config import SECTIONS, option_docs

    docs = option_docs()
    out = []
    for section, cls in SECTIONS.items():
        defaults = cls()
        out.append(f"**{section}** (`ganforge.config.{cls.__name__}`)\n")
        out.append("| option | default | command line | what it does |\n|---|---|---|---|")
        for f in dataclasses.fields(cls):
            doc = docs[f.name].split("] ", 1)[1] if "] " in docs[f.name] else ""
            flag = FLAGS.get(f.name, f"--set {f.name}=...")
            out.append(f"| `{f.name}` | {cell(_shown(getattr(defaults, f.name)))} | `{flag}` | {cell(doc)} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


BLOCKS: dict[str, Callable[[], str]] = {"models": models_table, "presets": presets_table, "options": options_tables}


def _block(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- BEGIN generated: {name} \(docs/make_reference.py\) -->\n).*?"
                      rf"(<!-- END generated: {name} -->)", re.DOTALL)


def tables(text: str) -> str:
    """``text`` (the user guide's tables.md) with each generated block rewritten."""
    _import_ganforge()
    for name, make in BLOCKS.items():
        pattern = _block(name)
        if not pattern.search(text):
            raise ValueError(f"{TABLES_MD} has no generated block {name!r}")
        block = make()
        text = pattern.sub(lambda m, block=block: m.group(1) + "\n" + block + "\n" + m.group(2), text)
    return text


# --- entry points ----------------------------------------------------------------------------------
def expected() -> dict[Path, str]:
    """Each generated file and the text it should hold."""
    return {REFERENCE_MD: reference(), TABLES_MD: tables(TABLES_MD.read_text(encoding="utf-8"))}


def check() -> list[Path]:
    """The generated files that differ from what the code gives now (empty when all are current)."""
    return [p for p, text in expected().items() if not p.exists() or p.read_text(encoding="utf-8") != text]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when a generated file is stale; write nothing")
    args = ap.parse_args(argv)
    if args.check:
        stale = check()
        for p in stale:
            print(f"stale: {p.relative_to(ROOT)} (run: python docs/make_reference.py)")
        return 1 if stale else 0
    for p, text in expected().items():
        if not p.exists() or p.read_text(encoding="utf-8") != text:
            p.write_text(text, encoding="utf-8")
            print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
