"""Metric sanity: each measure moves the way it must when the synthetic table is made good or bad on purpose."""

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from conftest import SMALL
from ganforge import Synthesizer, evaluate
from ganforge.metrics.detection import detection
from ganforge.metrics.membership import membership_inference
from ganforge.metrics.privacy import privacy
from ganforge.metrics.utility import utility
from ganforge.report import write_report
from ganforge.schema import infer_schema


def population(n, seed):
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    income = rng.lognormal(10 + 0.01 * (age - 18), 0.5, n).round(0)
    sector = rng.choice(["public", "private", "self"], n, p=[0.3, 0.6, 0.1])
    score = 0.03 * (age - 50) + 0.8 * (sector == "self") + (np.log(income) - 10.5) + rng.normal(0, 0.7, n)
    return pd.DataFrame({"age": age, "income": income, "sector": sector,
                         "label": np.where(score > 0, "yes", "no")})


@pytest.fixture(scope="module")
def data():
    return population(3000, 0), population(1500, 1), population(3000, 2)


@pytest.mark.slow
def test_fresh_sample_is_undetectable_and_as_useful(data):
    train, test, fresh = data
    schema = infer_schema(train, target="label")
    det = detection(train, fresh, schema)
    assert 0.4 < det.cv_auc < 0.6 and 0.4 < det.holdout_auc < 0.6
    u = utility(train, test, fresh, schema, "label", classifiers=("logistic_regression", "xgboost"))
    for clf, ratio in u.ratio("roc_auc").items():
        assert ratio > 0.95, (clf, ratio)


def test_shifted_distribution_is_detected(data):
    train, _, fresh = data
    shifted = fresh.assign(age=fresh["age"] + 40, income=fresh["income"] * 1.5)
    det = detection(train, shifted, infer_schema(train, target="label"))
    assert det.cv_auc > 0.95 and max(det.feature_importance, key=det.feature_importance.get) == "age"


def test_useless_synthetic_labels_lower_tstr(data):
    train, test, fresh = data
    noise = fresh.assign(label=np.random.default_rng(0).permutation(fresh["label"].to_numpy()))
    u = utility(train, test, noise, infer_schema(train, target="label"), "label", classifiers=("logistic_regression",))
    assert u.ratio("roc_auc")["logistic_regression"] < 0.75


def test_copies_of_train_rows_are_flagged(data):
    train, test, fresh = data
    schema = infer_schema(train, target="label")
    copies = train.sample(2000, random_state=0)
    p = privacy(train, test, copies, schema)
    assert p.exact_copy_share > 0.99 and p.closer_to_train_share > 0.9 and p.mann_whitney_p < 1e-6
    q = privacy(train, test, fresh, schema)
    assert q.exact_copy_share < 0.05 and abs(q.closer_to_train_share - q.closer_to_train_baseline) < 0.06
    assert q.closer_to_train_baseline == pytest.approx(3000 / 4500)


def test_membership_attacks_catch_a_memorising_generator_and_not_a_fresh_sample(data):
    train, test, fresh = data
    schema = infer_schema(train, target="label")
    ok = membership_inference(train, test, fresh, schema)
    for attack in (ok.distance, ok.density):
        assert abs(attack.auc - 0.5) < 0.05 and not attack.at_risk, attack
    # a generator that memorised 50 training rows: it emits them again with a little noise
    few = train.head(50)
    rng = np.random.default_rng(0)
    copies = few.sample(2000, replace=True, random_state=0).reset_index(drop=True)
    copies["income"] = (copies["income"] * rng.normal(1, 0.01, len(copies))).round(0)
    leak = membership_inference(few, test, copies, schema)
    assert leak.n_members == 50
    for attack in (leak.distance, leak.density):
        assert attack.auc > 0.9 and attack.at_risk and attack.tpr_at_fpr_10 > 0.6, attack
    assert "leaks" in leak.distance.verdict() and "chance" in ok.distance.verdict()


def test_membership_needs_held_out_rows(data):
    train, _, fresh = data
    schema = infer_schema(train, target="label")
    assert membership_inference(train, train.head(5), fresh, schema) is None
    result = evaluate(train, fresh, target="label", tsne=False, utility_classifiers=("logistic_regression",))
    assert result.membership is None  # no held-out table: a split of the training rows is no test


@pytest.fixture(scope="module")
def report(data, tmp_path_factory):
    train, test, _ = data
    syn = Synthesizer("cgan", steps=300, seed=0, **SMALL).fit(train, target="label")
    fake = syn.sample(3000, seed=1)
    result = evaluate(train, fake, test=test, model=syn, tsne=True,
                      utility_classifiers=("logistic_regression", "xgboost"))
    out = tmp_path_factory.mktemp("report")
    write_report(result, out / "r.html", out / "r.json")
    return result, out


@pytest.mark.slow
def test_report_json_holds_every_section(report):
    result, out = report
    js = json.loads((out / "r.json").read_text())
    assert set(js["summary"]) >= {"column_shapes", "pair_trends", "detection_auc", "tstr_trtr_auc_ratio",
                                  "exact_copy_share", "closer_to_train_share", "fooled_discriminator",
                                  "membership_distance_auc", "membership_density_auc"}
    mem = js["membership"]
    assert mem["n_members"] == mem["n_non_members"] == 750 and mem["n_reference"] == 750
    for attack in ("distance", "density"):  # a small GAN on 3,000 rows does not leak its members
        assert 0.4 < mem[attack]["auc"] < 0.6 and isinstance(mem[attack]["verdict"], str)
    assert js["summary"]["column_shapes"]["value"] == pytest.approx(result.column_shapes)
    d = js["discriminator"]
    assert d["n"] == 100 and 0 <= d["fooled"] <= 100
    insp = js["fooled_inspection"]
    assert insp["n_fooled"] + insp["n_not_fooled"] == 100 and insp["n_fooled"] == d["fooled"]
    assert len(js["history"]["g_loss"]) == 300


def test_report_html_embeds_all_pictures(report):
    _, out = report
    html = (out / "r.html").read_text()
    for key in ("marginals", "associations", "pair_plot", "pca", "tsne", "distances", "losses"):
        assert f'alt="{key}" src="data:image/png;base64,' in html, key
    assert "http://" not in html and "https://" not in html  # self-contained
    assert "Membership inference" in html and "kNN ratio" in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_report_renders_in_a_real_browser_with_every_image_loaded(report, tmp_path):
    _, out = report
    probe = """<script>window.addEventListener('load', () => {
      const imgs = [...document.images];
      const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
      document.body.setAttribute('data-images', ok + '/' + imgs.length);
    });</script></body>"""
    page = tmp_path / "probe.html"
    page.write_text((out / "r.html").read_text().replace("</body>", probe))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'ud'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    import re

    m = re.search(r'data-images="(\d+)/(\d+)"', dom)
    assert m, dom[:500]
    assert m.group(1) == m.group(2) and int(m.group(2)) >= 7


def test_report_draws_nullable_integer_columns(tmp_path):
    from ganforge.report import render_html

    train = population(500, 0)
    synth = population(500, 1)
    synth["age"] = synth["age"].astype("Int64")
    synth.loc[:4, "age"] = pd.NA
    result = evaluate(train, synth, target="label", tsne=False, utility_classifiers=("logistic_regression",))
    assert 'alt="marginals"' in render_html(result)


def test_pictures_skip_an_empty_set_of_fooled_rows():
    """When the discriminator judges every generated row fake (or every one real), one of the two sets
    drawn in the pictures is empty: it is left out, not a ValueError from PCA (found on ISLR's Caravan)."""
    from ganforge.metrics.projection import projections
    from ganforge.schema import infer_schema

    rng = np.random.default_rng(0)
    real = pd.DataFrame({"a": rng.normal(size=200), "b": rng.choice(["x", "y"], 200)})
    fake = pd.DataFrame({"a": rng.normal(size=200), "b": rng.choice(["x", "y"], 200)})
    schema = infer_schema(real)
    out = projections(real, fake, schema, groups={"fooled": fake.iloc[:0], "not fooled": fake.iloc[:50]})
    assert [p.method for p in out] == ["pca", "tsne"]
    for p in out:
        assert list(p.groups) == ["not fooled"] and p.groups["not fooled"].shape == (50, 2)
        assert p.real.shape == (200, 2) and p.synthetic.shape == (200, 2)
