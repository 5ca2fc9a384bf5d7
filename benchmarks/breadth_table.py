"""The breadth benchmark's table: means and spreads over seeds, and who is ahead on how many tables.

Called by ``python benchmarks/breadth.py table --dir DIR [--out FILE] [--systems ...]``; reads every cell's
``fit.json`` and ``eval.json`` under DIR.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

#: measure -> (column title, direction: +1 higher is better, -1 lower is better, 0 nearer 0 is better)
MEASURES = {
    "column_shapes": ("column shapes", +1),
    "pair_trends_sdmetrics": ("pair trends (SDMetrics)", +1),
    "strong_pairs_kept": ("top-10 pairs kept", +1),
    "detection_auc": ("detection AUC", -1),
    "tstr_auc": ("TSTR AUC", +1),
    "tstr_ratio": ("TSTR / TRTR", +1),
    "dcr_excess": ("closer-to-train excess", 0),
    "membership_distance_auc": ("membership AUC (distance)", -1),
    "conditional_shift": ("conditional shift", -1),
    "fit_seconds": ("fit s", -1),
}
#: in the means over tables only: the share of real pairs with the label kept (within 0.1 of the real
#: strength) and the per-label shift of rows sampled with a label as their condition
MEANS_ONLY = {
    "target_pairs_kept": ("pairs with the label kept", +1),
    "sampled_by_label_shift": ("sampled-by-label shift", -1),
}


def load_cells(root: Path) -> list[dict]:
    cells = []
    for ev in sorted(root.glob("*/*/*/eval.json")):
        d = ev.parent
        fit = json.loads((d / "fit.json").read_text())
        e = json.loads(ev.read_text())
        e["tstr_ratio"] = e["tstr_auc"] / e["trtr_auc"] if e.get("trtr_auc") else float("nan")
        e["dcr_excess"] = e["closer_to_train"] - e["closer_to_train_baseline"]
        cells.append({"table": d.parent.parent.name, "system": d.parent.name, "seed": int(d.name),
                      "fit_seconds": fit["fit_seconds"], **e})
    return cells


def summarise(cells: list[dict]) -> dict[tuple[str, str], dict[str, tuple[float, float, int]]]:
    """(table, system) -> measure -> (mean, standard deviation, seeds)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for c in cells:
        groups.setdefault((c["table"], c["system"]), []).append(c)
    out = {}
    for key, cs in groups.items():
        out[key] = {}
        for m in list(MEASURES) + list(MEANS_ONLY) + ["trtr_auc"]:
            vals = [float(c[m]) for c in cs if c.get(m) is not None and c[m] == c[m]]
            if vals:
                out[key][m] = (statistics.fmean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0, len(vals))
    return out


def better(a: float, b: float, direction: int) -> bool:
    return a > b if direction > 0 else a < b if direction < 0 else abs(a) < abs(b)


def write_table(args) -> None:
    root = Path(args.dir)
    summ = summarise(load_cells(root))
    systems = sorted({s for _, s in summ}) if not args.systems or args.systems.startswith("ctgan,tvae,gaussian") \
        else args.systems.split(",")
    tables = sorted({t for t, _ in summ})
    lines = ["| table | system | seeds | TRTR AUC | " + " | ".join(t for t, _ in MEASURES.values()) + " |",
             "|---|---|---:|---:|" + "---:|" * len(MEASURES)]
    for t in tables:
        for s in systems:
            if (t, s) not in summ:
                continue
            row = summ[(t, s)]
            n = max(v[2] for v in row.values())
            cells = []
            for m in MEASURES:
                if m not in row:
                    cells.append("")
                    continue
                mean, sd, _ = row[m]
                fmt = "{:.0f} ± {:.0f}" if m == "fit_seconds" else "{:.3f} ± {:.3f}"
                cells.append(fmt.format(mean, sd) if n > 1 else (fmt.split(" ")[0]).format(mean))
            trtr = row.get("trtr_auc", (float("nan"),))[0]
            lines.append(f"| {t} | {s} | {n} | {trtr:.3f} | " + " | ".join(cells) + " |")
    # each system's means over the tables that every system listed has cells for
    common = [t for t in tables if all((t, s) in summ for s in systems)]
    shown = {**MEASURES, **MEANS_ONLY}
    means = ["", f"Means over the {len(common)} tables that every system here has (table by table, the means "
                 "over seeds first):", "",
             "| system | tables | " + " | ".join(t for t, _ in shown.values()) + " |",
             "|---|---:|" + "---:|" * len(shown)]
    for s in systems:
        vals = []
        for m in shown:
            xs = [summ[(t, s)][m][0] for t in common if m in summ[(t, s)]]
            fmt = "{:.0f}" if m == "fit_seconds" else "{:.3f}"
            vals.append(fmt.format(statistics.fmean(xs)) if len(xs) == len(common) and xs else "")
        means.append(f"| {s} | {len(common)} | " + " | ".join(vals) + " |")
    lines += means
    # who is ahead, table by table, on the means
    ours = [s for s in systems if s.startswith("ganforge")]
    peers = [s for s in systems if not s.startswith("ganforge")]
    counts = ["", "Tables on which each ganforge system is ahead of each peer, and of the first ganforge system "
              "listed (on three-seed means where a table has them; ties count for neither):", ""]
    # and each later ganforge system against the first one listed (a candidate against the default)
    pairs = [(o, p) for o in ours for p in peers] + [(o, ours[0]) for o in ours[1:]]
    for o, p in pairs:
        parts = []
        for m, (title, direction) in MEASURES.items():
            both = [t for t in tables if m in summ.get((t, o), {}) and m in summ.get((t, p), {})]
            ahead = sum(better(summ[(t, o)][m][0], summ[(t, p)][m][0], direction) for t in both)
            parts.append(f"{title} {ahead}/{len(both)}")
        counts.append(f"- {o} vs {p}: " + "; ".join(parts))
    text = "\n".join(lines + counts) + "\n"
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)
