"""The layout the design promises, checked on the source: no import cycle (between modules, or between
the packages of src/ganforge), no private name used across packages, the forbidden arrows of
../shared/DESIGN.md absent, and no source file over 500 lines."""

from __future__ import annotations

import ast
import collections
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "ganforge"
#: data only (models and presets): a leaf of its own, whatever package holds it
LEAVES = {"ganforge.models.registry"}


def modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = p.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def imports(mods: dict[str, Path]) -> dict[str, set[tuple[str, str]]]:
    """module -> {(imported module, imported name)} for imports of ganforge, at any depth of the code."""
    edges: dict[str, set[tuple[str, str]]] = collections.defaultdict(set)
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)] if node.level else []
                target = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module
                if not target or not target.startswith("ganforge"):
                    continue
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    edges[mod].add((full if full in mods else target, alias.name))
            elif isinstance(node, ast.Import):
                edges[mod].update((a.name, "") for a in node.names if a.name.startswith("ganforge"))
    return edges


def package(mod: str) -> str:
    if mod in LEAVES:
        return mod
    parts = mod.split(".")
    return ".".join(parts[:2])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_modules_or_packages():
    mods = modules()
    edges = imports(mods)
    graph = {m: {t for t, _ in ts if t in mods and t != m} for m, ts in edges.items()}
    assert cycles(graph) == []
    packages: dict[str, set[str]] = collections.defaultdict(set)
    for m, ts in graph.items():
        for t in ts:
            if package(m) != package(t) and package(t) != "ganforge":  # the root holds the lazy public names
                packages[package(m)].add(package(t))
    assert cycles(packages) == []


def test_no_private_name_is_used_across_packages():
    mods = modules()
    crossing = []
    for m, ts in imports(mods).items():
        for target, name in ts:
            private = [p for p in target.split(".")[1:] + [name] if p.startswith("_") and not p.startswith("__")]
            if private and package(target) != package(m):
                crossing.append((m, target, name))
    assert crossing == []


def test_the_forbidden_arrows_of_the_design_are_absent():
    forbidden = {"ganforge.training": {"ganforge.encoding", "ganforge.schema"},
                 "ganforge.models": {"ganforge.metrics", "ganforge.report", "ganforge.cli"},
                 "ganforge.metrics": {"ganforge.training"},
                 "ganforge.report": {"ganforge.models"}}
    found = []
    for m, ts in imports(modules()).items():
        for t, _ in ts:
            if package(t) == "ganforge.cli" and package(m) != "ganforge.cli" and m != "ganforge.__main__":
                found.append((m, t))
            if package(t) in forbidden.get(package(m), ()):
                found.append((m, t))
    assert found == []


def test_no_source_file_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py") if (n := len(p.read_text().splitlines())) > 500}
    assert long == {}
