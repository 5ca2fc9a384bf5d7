"""The report page as a person sees it (issue #29): it fits common screen widths, the closest synthetic and
real rows side by side included, and a verdict's colour is its verdict's."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from ganforge import evaluate
from ganforge.evaluation import Verdict
from ganforge.report import render_html
from ganforge.report.html import _band

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def wide(n: int, seed: int) -> pd.DataFrame:
    """Thirty columns with long names and long values: the closest-rows table had 61 columns of them."""
    rng = np.random.default_rng(seed)
    cols = {f"a_rather_long_measurement_name_{i}": rng.normal(1000, 300, n) for i in range(24)}
    cols.update({f"category_with_long_labels_{i}": rng.choice([f"label-number-{k}-of-this-column" for k in range(4)], n)
                 for i in range(6)})
    cols["label"] = rng.choice(["yes", "no"], n)
    return pd.DataFrame(cols)


@pytest.fixture(scope="module")
def page():
    result = evaluate(wide(400, 0), wide(400, 1), test=wide(200, 2), target="label", tsne=False,
                      utility_classifiers=("logistic_regression",))
    return result, render_html(result)


def test_a_verdict_is_coloured_by_its_verdict_not_its_number():
    assert _band(Verdict("pair_trends", 0.961, "good: pairwise associations kept", True)) == ("good", "good")
    assert _band(Verdict("label_trends", 0.963, "fair: the associations of y ...", False)) == ("fair", "fair")
    assert _band(Verdict("label_trends", 0.963, "poor: ...", False)) == ("poor", "bad")
    assert _band(Verdict("label_trends", 0.97, "not judged: ...", False, judged=False)) == ("not judged", "unjudged")


def test_the_summary_colours_the_verdict_word_and_leaves_numbers_plain(page):
    result, html = page
    summary = html.split('<section id="summary">')[1].split("</section>")[0]
    for v in result.verdicts():
        word, css = _band(v)
        row = re.search(rf'<td class="l">{v.name}</td><td>([0-9.\-]+)</td><td class="l (\w+)">([a-z ]+)</td>', summary)
        assert row, v.name
        assert row.group(1) == f"{v.value:.3f}" and (row.group(2), row.group(3)) == (css, word)


def test_closest_rows_are_one_line_per_column(page):
    result, html = page
    table = html.split('<table class="pairs">')[1].split("</table>")[0]
    rows = table.count("<tr>")
    assert rows == 2 + len(result.schema.columns)  # the header, the distances, one per column
    assert table.count("<th") == 1 + 2 * len(result.privacy.closest)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("width", [1400, 1280, 1024])
def test_the_page_fits_common_widths_in_a_real_browser(page, tmp_path, width):
    _, html = page
    probe = """<script>window.addEventListener('load', () => {
      const w = window.innerWidth;
      const over = [...document.querySelectorAll('table, img, p')].filter(e => e.getBoundingClientRect().right > w + 1);
      document.body.setAttribute('data-fit', document.documentElement.scrollWidth + '/' + w + '/' + over.length);
    });</script></body>"""
    path = tmp_path / "page.html"
    path.write_text(html.replace("</body>", probe))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--hide-scrollbars",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'ud'}",
             f"--window-size={width},900"]
    dom = subprocess.run([CHROMIUM, *flags, "--virtual-time-budget=10000", "--dump-dom", path.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'data-fit="(\d+)/(\d+)/(\d+)"', dom)
    assert m, dom[:300]
    scroll, inner, over = map(int, m.groups())
    assert inner == width and scroll <= inner and over == 0, m.groups()
