"""The study recipes, at their --quick budget on the real data: outputs exist, numbers are sane,
and the parts that are claims (real rows raise recall, the default beats the paper's preset)
hold. Skipped when ../shared/datasets is absent."""

import json

import numpy as np
import pandas as pd
import pytest

from ganforge.cli import main
from ganforge.errors import ConfigError
from ganforge.experiments.studies import run_study
from ganforge.experiments.studies.common import StudyOutput

from conftest import SHARED, require_shared

pytestmark = pytest.mark.slow  # trains models: minutes (CI runs every test)


def _results(out):
    assert (out / "README.md").exists()
    data = json.loads((out / "results.json").read_text())
    for fig in data["figures"]:
        assert (out / f"{fig}.png").stat().st_size > 5000, fig  # a drawn figure, not an empty canvas
        assert f"({fig}.png)" in (out / "README.md").read_text()
    return data


@pytest.fixture(scope="module")
def pima(tmp_path_factory):
    require_shared("pima_diabetes", "diabetes.csv")
    return run_study("pima", tmp_path_factory.mktemp("s") / "pima", data_dir=SHARED, quick=True, seeds=[0, 1])


def test_pima_counts_add_up_and_pairs_are_closest(pima):
    data = _results(pima)
    assert {"pca", "losses", "distances"} <= set(data["figures"])
    for row in data["results"]["per_seed"]:
        assert 0 <= row["n_fooled"] <= 100
    assert data["results"]["n_fooled_pooled"] + data["results"]["n_not_fooled_pooled"] == 200
    ex = pd.read_csv(pima / "closest_rows.csv")
    # each synthetic row is followed by its closest real row, both with the same distance
    syn, real = ex[ex.row == "synthetic"].reset_index(drop=True), ex[ex.row == "closest real"].reset_index(drop=True)
    assert len(syn) == len(real) > 0
    np.testing.assert_allclose(syn.distance, real.distance)
    # integers stay integers in the inspection table, as in the report
    assert (syn["Pregnancies"] == syn["Pregnancies"].round()).all()
    assert data["results"]["published"]["fooled_of_100"] == 82


@pytest.fixture(scope="module")
def fraud(tmp_path_factory):
    require_shared("credit_card_fraud", "creditcard_sample.csv")
    return run_study("fraud", tmp_path_factory.mktemp("s") / "fraud", data_dir=SHARED, quick=True)


def test_fraud_realism_and_augmentation_are_sane(fraud):
    data = _results(fraud)
    res = data["results"]
    assert len(res["top_features"]) == 2
    assert {r["model"] for r in res["realism"]} == {"GAN", "CGAN", "WGAN-GP", "WCGAN-GP"}
    curve = pd.read_csv(fraud / "realism_curve.csv")
    assert curve.xgb_accuracy.between(0, 1).all() and set(curve.step) >= {0, 50, 100, 150}
    # at step 0 (an untrained generator) the test tells fake from real almost perfectly
    assert curve[curve.step == 0].xgb_accuracy.min() > 0.9
    aug = pd.DataFrame(res["augmentation"])
    assert set(aug.source) == {"real", "trained", "untrained", "smote"}
    # the same base classifier for every source at 0 rows added
    assert aug[aug.added == 0].recall.nunique() == 1
    # genuinely new fraud rows raise recall over the base set
    assert res["real_max_recall"] > res["base_recall"]


@pytest.fixture(scope="module")
def categorical(tmp_path_factory):
    require_shared("mushroom", "agaricus-lepiota.data")
    require_shared("car_evaluation", "car.data")
    return run_study("categorical", tmp_path_factory.mktemp("s") / "cat", data_dir=SHARED, quick=True)


def test_categorical_per_variable_and_utility(categorical):
    data = _results(categorical)
    tvd = pd.DataFrame(data["results"]["per_variable_tvd"])
    assert set(tvd.dataset) == {"mushroom", "car"}
    assert len(tvd[tvd.dataset == "mushroom"].variable.unique()) == 23
    assert tvd.tvd.between(0, 1).all()
    summ = pd.DataFrame(data["results"]["summary"])
    assert (summ["values never seen in real"] == 0).all()
    # Wasserstein variant: the marginals were learned (an untrained Gumbel head is far off)
    for row in summ[summ.loss.str.startswith("Wasserstein")].itertuples():
        assert float(row[4].split()[0]) > 0.85, row


@pytest.fixture(scope="module")
def adult(tmp_path_factory):
    require_shared("adult", "adult.data")
    return run_study("adult", tmp_path_factory.mktemp("s") / "adult", data_dir=SHARED, quick=True, device="cpu")


def test_adult_tables_and_figures(adult):
    data = _results(adult)
    summ = pd.DataFrame(data["results"]["summary"])
    assert len(summ) == 9
    assert {"age_hours_numeric", "age_hours_all", "critic_losses", "tsne"} <= set(data["figures"])
    for col in ("Mann-Whitney p", "Wilcoxon p", "Kruskal p"):
        assert summ[col].between(0, 1).all()
    default = summ[summ.preset == "default"].iloc[0]
    paper = summ[(summ.preset == "ons-paper") & (summ["columns"] == "all columns") & (summ.model == "WCGAN-GP")].iloc[0]
    # on the same 100-step budget the default learns the marginals; the paper's setting barely starts
    assert default["column shapes"] > 0.85
    assert default["column shapes"] > paper["column shapes"] + 0.1


def test_study_failure_leaves_no_folder(tmp_path, monkeypatch):
    from ganforge.experiments.studies import paper

    require_shared("pima_diabetes", "diabetes.csv")

    def boom(*a, **k):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(paper, "_one_seed", boom)
    with pytest.raises(RuntimeError):
        paper.run("pima", tmp_path / "out", data_dir=SHARED, quick=True)
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []  # no partial folder either


def test_study_output_refuses_a_foreign_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="holds other files"):
        StudyOutput("x", tmp_path, quick=True, seeds=[0], title="x")


def test_cli_study_errors(capsys):
    assert main(["study", "mnist", "--keep-fraction", "2"]) == 2
    assert "--keep-fraction" in capsys.readouterr().err
    assert main(["study", "mnist", "--models", "cwgan,dcgan"]) == 2
    assert "dcgan" in capsys.readouterr().err
    assert main(["study", "pima", "--keep", "3"]) == 2
    assert "only the mnist study" in capsys.readouterr().err
    assert main(["study", "nope"]) == 2
    assert "choose one of" in capsys.readouterr().err
    assert main(["study", "pima", "--seeds", "a,b"]) == 2
    assert "--seeds" in capsys.readouterr().err


def _toy(n=600, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    x1 = rng.normal(y * 2.0, 1.0)
    x2 = rng.normal(-y * 1.5, 1.0)
    return pd.DataFrame({"x1": x1, "x2": x2, "g": np.where(rng.random(n) < 0.5, "a", "b"), "y": y})


def test_cli_augment_writes_table_and_figure(tmp_path, capsys):
    csv = tmp_path / "toy.csv"
    _toy().to_csv(csv, index=False)
    out = tmp_path / "aug"
    rc = main(["augment", str(csv), "--target", "y", "--minority", "1", "--add", "20,40", "--base-minority", "20",
               "--model", "wgan", "--steps", "30", "--seeds", "0", "-o", str(out)])
    assert rc == 0, capsys.readouterr()
    summ = pd.read_csv(out / "summary.csv")
    assert set(summ.source) == {"real", "trained", "untrained", "smote"}
    assert set(summ.added) == {0, 20, 40}
    assert (out / "recall.png").exists()
    smote_rows = pd.read_csv(out / "per_seed.csv")
    assert smote_rows.recall.between(0, 1).all()


def test_cli_augment_bad_input(tmp_path, capsys):
    csv = tmp_path / "toy.csv"
    df = _toy()
    df["y3"] = np.arange(len(df)) % 3
    df.to_csv(csv, index=False)
    assert main(["augment", str(csv), "--target", "nope", "--minority", "1", "-o", str(tmp_path / "a")]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["augment", str(csv), "--target", "y3", "--minority", "1", "-o", str(tmp_path / "b")]) == 2
    assert "binary" in capsys.readouterr().err
    assert main(["augment", str(csv), "--target", "y", "--minority", "7", "-o", str(tmp_path / "c")]) == 2
    assert "--minority" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_zero_steps_is_an_untrained_baseline():
    from ganforge import Synthesizer

    df = _toy(200)
    syn = Synthesizer("wgan", "default", steps=0, seed=0, device="cpu").fit(df)
    assert syn.trainer_.step == 0 and len(syn.history_) == 0
    rows = syn.sample(50, seed=0)
    assert list(rows.columns) == list(df.columns) and len(rows) == 50
    with pytest.raises(ConfigError, match="steps"):
        Synthesizer("wgan", "default", steps=-1)


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    require_shared("mnist", "t10k-images-idx3-ubyte.gz")
    return run_study("mnist", tmp_path_factory.mktemp("s") / "mnist", data_dir=SHARED, quick=True)


def test_mnist_study_tables_figures_and_sanity(mnist):
    data = _results(mnist)
    res = data["results"]
    assert res["options"]["keep"] == 54 and res["options"]["train_images"] == 7000
    runs = pd.DataFrame(res["runs"])
    assert set(runs.method) == {"balanced real (ceiling)", "imbalanced (baseline)", "cwgan", "wgan", "progan",
                                "crop/rotate"}
    assert set(runs[runs.method == "crop/rotate"].added) == {100, 1000}
    base = runs[runs.method == "imbalanced (baseline)"].iloc[0]
    ceiling = runs[runs.method == "balanced real (ceiling)"].iloc[0]
    # with 54 fives of ~6,400 images, the baseline misses most test fives; the full split does not
    assert ceiling.recall > base.recall + 0.2
    assert runs.train_images.max() == 7000 - 624 + 54 + 1000
    # image quality: real held-out fives are the closest set and almost all classified as fives
    q = pd.DataFrame(res["image_quality"]).set_index("images")
    ref = q.loc["real 5s not kept (reference; seen by the feature network)"]
    assert ref.share_as_intended > 0.7  # after one epoch of the quick budget (chance: 0.1)
    assert ref.frechet < q.loc["cwgan"].frechet  # a 30-step generator is far from real fives
    assert {"generated_grids", "confusion_matrices", "classifier_curves", "vae_latent",
            "recall_vs_added"} <= set(data["figures"])
    assert "crop/rotate" in (mnist / "README.md").read_text()
