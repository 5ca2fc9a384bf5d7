"""The evaluation as one self-contained HTML page (images embedded), a JSON, and a terminal table."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment

from ..modelfile import atomic_write, check_writable
from .plots import all_figures

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ganforge evaluation</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:0} .sub{color:#666;margin-top:.2em}
table{border-collapse:collapse;margin:1em 0;font-size:14px} td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
th{background:#f4f4f4} td.l,th.l{text-align:left}
.good{color:#1a7f37;font-weight:600} .bad{color:#b42318;font-weight:600} .unjudged{color:#57606a;font-weight:600}
.fair{color:#9a6700;font-weight:600}
table.pairs{table-layout:fixed;width:100%} table.pairs td,table.pairs th{overflow-wrap:anywhere}
td.mean{overflow-wrap:anywhere}
img{max-width:100%;border:1px solid #eee;margin:.5em 0} section{margin-top:2em}
</style></head><body>
<h1>ganforge evaluation</h1>
<p class="sub">{{ n_real }} real rows{% if n_test %}, {{ n_test }} held-out test rows{% endif %}, {{ n_synth }} synthetic rows{% if target %}; target <b>{{ target }}</b>{% endif %}</p>
<section id="summary"><h2>Summary</h2>
<p>Each measure is judged on its own scale (label_trends against a table whose label carries no information), so two values close together can get different verdicts; the colour is the verdict's.</p>
<table><tr><th class="l">measure</th><th>value</th><th class="l">verdict</th><th class="l">what it means</th></tr>
{% for v in verdicts %}{% set b = band(v) %}<tr><td class="l">{{ v.name }}</td><td>{{ '%.3f' % v.value }}</td><td class="l {{ b[1] }}">{{ b[0] }}</td><td class="l mean">{{ v.verdict }}</td></tr>
{% endfor %}</table></section>

<section id="fidelity"><h2>Fidelity</h2>
<p>column_shapes = 1 - mean(KS or TVD) = <b>{{ '%.3f' % fid.column_shapes }}</b>; pair_trends = 1 - mean(|association difference| / 2) = <b>{{ '%.3f' % fid.pair_trends }}</b> (SDMetrics' contingency-based formula: {{ '%.3f' % fid.pair_trends_sdmetrics }})</p>
<table><tr><th class="l">column</th><th class="l">kind</th><th>KS / TVD</th><th>Wasserstein (scaled)</th><th>missing real</th><th>missing synthetic</th></tr>
{% for c in fid.columns %}<tr><td class="l">{{ c.column }}</td><td class="l">{{ c.kind }}</td><td>{{ '%.3f' % c.value }} ({{ c.statistic }})</td><td>{{ '%.4f' % c.wasserstein if c.wasserstein is not none else '' }}</td><td>{{ '%.2f%%' % (100 * c.missing_real) }}</td><td>{{ '%.2f%%' % (100 * c.missing_synthetic) }}</td></tr>
{% endfor %}</table>
{% if label %}<p>label_trends = pair_trends over the pairs of <b>{{ target }}</b> alone = <b>{{ '%.3f' % label.score }}</b>; the furthest: {{ label.worst_column }} (association {{ '%.3f' % label.worst_real }} real, {{ '%.3f' % label.worst_synthetic }} synthetic). {% if label.label_free_score is defined %} The same synthetic table with {{ target }} shuffled among its rows (a label that carries no information) scores {{ '%.3f' % label.label_free_score }}: the verdict judges how far this table goes from there towards 1.{% endif %} A generator can exaggerate the label's dependence on the other columns while pair_trends barely moves.</p>
{% endif %}{% if fid.dependencies %}<p>Exact dependencies of the real table (a column that is a function of a categorical column in every real row) and the share of synthetic rows that keep them:</p>
<table><tr><th class="l">column</th><th class="l">function of</th><th>source values</th><th>synthetic rows that keep it</th></tr>
{% for d in fid.dependencies %}<tr><td class="l">{{ d.column }}</td><td class="l">{{ d.source }}</td><td>{{ d.source_values }}</td><td class="{{ 'good' if d.kept_share >= 0.99 else 'bad' }}">{{ '%.1f%%' % (100 * d.kept_share) }}</td></tr>
{% endfor %}</table>{% endif %}
{% if rules %}<h3>Rules and linked values between columns</h3>
<p>Rules every real row keeps ({% if any_detected %}detected by fit or in the real rows, {% endif %}or stated), values two columns hold in the same rows (<code>a = u &lt;=&gt; b = v</code>) or one only with the other (<code>=&gt;</code>), and the share of synthetic rows that keep them:</p>
<table><tr><th class="l">rule</th><th class="l">found</th><th>synthetic rows that keep it</th><th>rows that break it</th></tr>
{% for r in rules %}<tr><td class="l">{{ r.rule }}</td><td class="l">{{ 'detected' if r.detected else 'stated' }}</td><td class="{{ 'good' if r.kept_share >= 0.99 else 'bad' }}">{{ '%.1f%%' % (100 * r.kept_share) }}</td><td>{{ r.broken }}</td></tr>
{% endfor %}</table>{% endif %}
{% if pairs %}<h3>The strongest real associations, one by one</h3>
<p>The average of pair_trends can read well while the strongest associations collapse. Kept: the synthetic association within 0.1 of the real one.</p>
<table><tr><th class="l">pair</th><th class="l">measure</th><th>real</th><th>synthetic</th><th class="l">kept</th></tr>
{% for p in pairs %}<tr><td class="l">{{ p.column_a }} - {{ p.column_b }}</td><td class="l">{{ p.kind }}</td><td>{{ '%.3f' % p.real }}</td><td>{{ '%.3f' % p.synthetic }}</td><td class="l {{ 'good' if p.kept else 'bad' }}">{{ 'kept' if p.kept else 'lost' }}</td></tr>
{% endfor %}</table>{% endif %}
{% if unseen %}<h3>Combinations that do not exist</h3>
<p>For the pairs of associated categories (Cramér's V at least 0.3 in the real rows): the share of synthetic rows whose two values no real row holds together, beside the share of held-out real rows whose two values no training row holds (what sampling alone gives).</p>
<table><tr><th class="l">pair</th><th>Cramér's V (real)</th><th>synthetic rows</th><th>held-out real rows</th></tr>
{% for u in unseen %}<tr><td class="l">{{ u.column_a }} - {{ u.column_b }}</td><td>{{ '%.3f' % u.real_v }}</td><td>{{ '%.1f%%' % (100 * u.share) }}</td><td>{{ '%.1f%%' % (100 * u.reference) if u.reference is not none else '-' }}</td></tr>
{% endfor %}</table>{% endif %}
{% if tpairs %}<h3>Every pair with {{ target }}</h3>
<table><tr><th class="l">column</th><th class="l">measure</th><th>real</th><th>synthetic</th><th class="l">kept</th></tr>
{% for p in tpairs %}<tr><td class="l">{{ p.column_b if p.column_a == target else p.column_a }}</td><td class="l">{{ p.kind }}</td><td>{{ '%.3f' % p.real }}</td><td>{{ '%.3f' % p.synthetic }}</td><td class="l {{ 'good' if p.kept else 'bad' }}">{{ 'kept' if p.kept else 'lost' }}</td></tr>
{% endfor %}</table>{% endif %}
{% if shift %}<h3>Each column given each {{ target }}</h3>
<p>For each label, the distance between a column's real and synthetic distribution among the rows of that label (KS for numbers, TVD for categories): {{ '%.3f' % shift.score }} on average{% if shift.reference is not none %}, against {{ '%.3f' % shift.reference }} for held-out real rows (sampling noise){% endif %}. The largest:</p>
<table><tr><th class="l">{{ target }}</th><th class="l">column</th><th>synthetic</th>{% if shift.reference is not none %}<th>held-out real</th>{% endif %}</tr>
{% for lab, col, v, r in shift_rows %}<tr><td class="l">{{ lab }}</td><td class="l">{{ col }}</td><td>{{ '%.3f' % v }}</td>{% if shift.reference is not none %}<td>{{ fmt(r) }}</td>{% endif %}</tr>
{% endfor %}</table>{% endif %}
{% for key in ['marginals', 'associations', 'pair_plot'] %}{% if key in figs %}<img alt="{{ key }}" src="data:image/png;base64,{{ figs[key] }}">{% endif %}{% endfor %}
</section>

{% if det %}<section id="detection"><h2>Detection</h2>
<p>XGBoost real-vs-synthetic, stratified 5-fold on {{ det.n_real }} + {{ det.n_synthetic }} rows: accuracy <b>{{ '%.3f' % det.cv_accuracy }}</b>, ROC AUC <b>{{ '%.3f' % det.cv_auc }}</b> (0.5 = indistinguishable).
Credit-fraud study protocol (train on half the real rows + as many synthetic, test on the other half + fresh synthetic rows): accuracy {{ '%.3f' % det.holdout_accuracy }}, AUC {{ '%.3f' % det.holdout_auc }}.</p>
<p>As TabSyn and TabDiff report it, 2 x (1 - AUC) = <b>{{ '%.3f' % det.tabsyn_score }}</b> (1 = indistinguishable).</p>
<table><tr><th class="l">most telling columns</th><th>importance</th><th>AUC of the column alone</th></tr>{% for k, v in importance %}<tr><td class="l">{{ k }}</td><td>{{ '%.3f' % v }}</td><td>{{ fmt(det.column_auc.get(k)) }}</td></tr>{% endfor %}</table>
{% if alone %}<p>The columns that alone tell the rows apart best: {% for k, v in alone %}{{ k }} {{ '%.3f' % v }}{{ '; ' if not loop.last }}{% endfor %}.</p>{% endif %}
{% if det.pair_auc %}<table><tr><th class="l">pairs of columns (of the most telling six)</th><th>AUC of the two together</th><th>over the better alone</th></tr>{% for p in det.pair_auc[:5] %}<tr><td class="l">{{ p.columns[0] }} x {{ p.columns[1] }}</td><td>{{ '%.3f' % p.auc }}</td><td>{{ '%+.3f' % p.lift }}</td></tr>{% endfor %}</table>
<p>A pair far above either column alone is a relation between the two that the synthetic rows miss.</p>{% endif %}
{% if disc %}<p>The GAN's own discriminator: <b>{{ disc.fooled }} of {{ disc.n }}</b> generated rows judged real ({{ disc.rule }}).
{% if insp %}Mean distance to the closest real row: fooled {{ fmt(insp.mean_distance_fooled) }}, not fooled {{ fmt(insp.mean_distance_not_fooled) }}.{% endif %}</p>
{% if insp and insp.examples %}<table><tr><th class="l">group</th><th>distance</th><th class="l">synthetic row</th><th class="l">closest real row</th></tr>
{% for e in insp.examples %}<tr><td class="l">{{ e.group }}</td><td>{{ '%.3f' % e.distance }}</td><td class="l">{{ row(e.synthetic) }}</td><td class="l">{{ row(e.closest_real) }}</td></tr>{% endfor %}</table>{% endif %}{% endif %}
</section>{% endif %}

{% if util %}<section id="utility"><h2>Utility (target {{ util.target }})</h2>
<p>TSTR: train on synthetic, test on real; TRTS: train on real, test on synthetic; TRTR: train and test on real. Balanced class weights.</p>
<table><tr><th class="l">classifier</th>{% for s in ['trtr','tstr','trts'] %}<th>{{ s|upper }} acc</th><th>{{ s|upper }} macro F1</th><th>{{ s|upper }} AUC</th>{% endfor %}<th>TSTR/TRTR AUC</th></tr>
{% for c in util.scores['trtr'] %}<tr><td class="l">{{ c }}</td>{% for s in ['trtr','tstr','trts'] %}{% set x = util.scores[s][c] %}<td>{{ '%.3f' % x.accuracy }}</td><td>{{ '%.3f' % x.macro_f1 }}</td><td>{{ '%.3f' % x.roc_auc }}</td>{% endfor %}<td>{{ '%.3f' % ratio[c] }}</td></tr>
{% endfor %}</table></section>{% endif %}

{% if priv %}<section id="privacy"><h2>Privacy and memorisation</h2>
<p>Distance to closest record (scaled numerics + one-hot) of {{ priv.n_synthetic }} synthetic rows: median {{ '%.3f' % priv.dcr_train_median }} to train ({{ '%.3f' % priv.dcr_test_median }} to test), 5th percentile {{ '%.3f' % priv.dcr_train_p5 }};
exact copies of train rows {{ '%.2f%%' % (100 * priv.exact_copy_share) }}; share closer to train than to test <b>{{ '%.3f' % priv.closer_to_train_share }}</b> (expected without memorisation: {{ '%.3f' % priv.closer_to_train_baseline }}, the train share of train + test; 0.5 for sets of equal size).
Distances to train vs to test (equal-size sets): Mann-Whitney U p = {{ '%.3g' % priv.mann_whitney_p }}, Wilcoxon signed-rank p = {{ '%.3g' % priv.wilcoxon_p }}, Kruskal-Wallis p = {{ '%.3g' % priv.kruskal_p }} (a small p with a share above 0.5 suggests memorisation).</p>
<h3>Membership inference</h3>
{% if mem %}<p>An attacker holding the synthetic table scores {{ mem.n_members }} training rows and {{ mem.n_non_members }} held-out rows (AUC 0.5 = guessing, 1.0 = every member found).
<i>distance</i>: closer to a synthetic row means member; <i>density</i>: synthetic density over the density of {{ mem.n_reference }} other held-out rows (kNN ratio, k = {{ mem.k }}, a DOMIAS variant).</p>
<table><tr><th class="l">attack</th><th>AUC</th><th>p (one-sided)</th><th>TPR at FPR 0.1</th><th class="l">verdict</th></tr>
{% for name in ['distance', 'density'] %}{% set a = mem[name] %}<tr><td class="l">{{ name }}</td><td class="{{ 'bad' if a.at_risk else 'good' }}">{{ '%.3f' % a.auc }}</td><td>{{ '%.3g' % a.p_value }}</td><td>{{ '%.3f' % a.tpr_at_fpr_10 }}</td><td class="l">{{ a.verdict() }}</td></tr>
{% endfor %}</table>
{% else %}<p>Not measured: the attacks need real rows the generator never saw. Pass the held-out rows with <code>--test</code> (or <code>test=</code>), at least 20 of them.</p>{% endif %}
{% if 'distances' in figs %}<img alt="distances" src="data:image/png;base64,{{ figs['distances'] }}">{% endif %}
{% if closest %}<h3>The closest synthetic rows and their closest real rows</h3>
<p>One column per row (synthetic, then its closest real row), one line per column of the table, so that the page fits however many columns it has.</p>
<table class="pairs"><tr><th class="l">column</th>{% for p in closest %}<th class="l">synthetic {{ loop.index }}</th><th class="l">closest real</th>{% endfor %}</tr>
<tr><td class="l">distance</td>{% for p in closest %}<td class="l" colspan="2">{{ '%.4f' % p.distance }}</td>{% endfor %}</tr>
{% for name in closest_columns %}<tr><td class="l">{{ name }}</td>{% for p in closest %}<td class="l">{{ p.synthetic[name] }}</td><td class="l">{{ p.real[name] }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endif %}
</section>{% endif %}

<section id="pictures"><h2>Pictures</h2>
{% for key in ['pca', 'tsne', 'losses'] %}{% if key in figs %}<img alt="{{ key }}" src="data:image/png;base64,{{ figs[key] }}">{% endif %}{% endfor %}
</section>
<p class="sub">Timings (s): {% for k, v in timings.items() %}{{ k }} {{ '%.2f' % v }}; {% endfor %}</p>
</body></html>
"""


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _band(v: Any) -> tuple[str, str]:
    """A verdict's word and colour: good, fair (its sentence starts so), poor, or not judged."""
    if not getattr(v, "judged", True):
        return "not judged", "unjudged"
    if v.good:
        return "good", "good"
    return ("fair", "fair") if str(v.verdict).startswith("fair") else ("poor", "bad")


def _closest_pairs(closest) -> tuple[list[dict[str, Any]], list[str]]:
    """The privacy section's closest rows, each synthetic row beside its closest real one, by column."""
    syn_cols = [c for c in closest.columns if c.endswith(" (synthetic)")]
    names = [c[: -len(" (synthetic)")] for c in syn_cols]
    shown = closest.round(4).astype(object).where(closest.notna(), "")
    pairs = [{"distance": float(row["distance"]),
              "synthetic": {n: row[f"{n} (synthetic)"] for n in names},
              "real": {n: row.get(f"{n} (closest real)", "") for n in names}}
             for _, row in shown.iterrows()]
    return pairs, names


def _row(d: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in d.items())


def render_html(result: Any) -> str:
    figs = {k: base64.b64encode(v).decode("ascii") for k, v in all_figures(result).items()}
    det = result.detection
    importance = sorted(det.feature_importance.items(), key=lambda kv: -kv[1])[:5] if det else []
    env = Environment(autoescape=True)
    env.globals.update(fmt=_fmt, row=_row, band=_band)
    alone = sorted(det.column_auc.items(), key=lambda kv: -kv[1])[:5] if det else []
    shift = result.conditional
    shift_rows = []
    if shift is not None:
        cells = [(lab, col, v, shift.reference_distances.get(lab, {}).get(col))
                 for lab, d in shift.distances.items() for col, v in d.items()]
        shift_rows = sorted(cells, key=lambda c: -c[2])[:10]
    closest, closest_columns = None, []
    if result.privacy is not None and result.privacy.closest is not None and len(result.privacy.closest):
        closest, closest_columns = _closest_pairs(result.privacy.closest)
    return env.from_string(TEMPLATE).render(
        n_real=len(result.real) if result.real is not None else "?", n_test=result.n_test,
        n_synth=len(result.synthetic) if result.synthetic is not None else "?", target=result.target,
        verdicts=result.verdicts(), fid=result.fidelity, label=result.label_trends, det=det, importance=importance,
        alone=alone, pairs=result.pairs, tpairs=result.target_pairs,
        unseen=[u for u in result.unseen if u["share"] > 0], shift=shift, shift_rows=shift_rows,
        disc=result.discriminator, insp=result.fooled_inspection, util=result.utility,
        ratio=result.utility.ratio("roc_auc") if result.utility else {}, priv=result.privacy, mem=result.membership, closest=closest,
        closest_columns=closest_columns, rules=getattr(result, "rules", None) or [],
        any_detected=any(r.get("detected") for r in getattr(result, "rules", None) or []),
        figs=figs, timings=result.timings)


def write_report(result: Any, html_path: str | Path | None = None, json_path: str | Path | None = None) -> None:
    """Write the HTML page and/or the JSON, each atomically."""
    for p in (html_path, json_path):
        if p is not None:
            check_writable(p, "report")
    if json_path is not None:
        text = json.dumps(result.to_dict(), indent=1, allow_nan=False)
        atomic_write(json_path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    if html_path is not None:
        page = render_html(result)
        atomic_write(html_path, lambda tmp: Path(tmp).write_text(page, encoding="utf-8"))


def _strip_band(text: str) -> str:
    for word in ("good: ", "fair: ", "poor: ", "not judged: "):
        if text.startswith(word):
            return text[len(word):]
    return text


def terminal_summary(result: Any):
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="ganforge evaluation")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_column("verdict")
    for v in result.verdicts():
        word, css = _band(v)
        colour = {"good": "green", "fair": "yellow", "bad": "red", "unjudged": "dim"}[css]
        t.add_row(v.name, f"{v.value:.3f}", f"[{colour}]{word}: {escape(_strip_band(v.verdict))}[/]")
    return t
