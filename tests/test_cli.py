import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import require_shared
from ganforge.cli import main

FAST = ["--quiet", "--set", "batch_size=100", "--set", "latent_dim=8"]


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"age": rng.integers(20, 70, n), "bmi": rng.normal(27, 4, n).round(1),
                       "smoker": rng.choice(["yes", "no"], n), "risk": rng.choice(["low", "mid", "high"], n)})
    p = tmp_path_factory.mktemp("data") / "people.csv"
    df.to_csv(p, index=False, sep=";")  # a sniffed separator
    return p


@pytest.fixture(scope="module")
def model_file(csv_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "m.gfm"
    assert main(["fit", str(csv_file), "--model", "cgan", "--target", "smoker", "--steps", "30",
                 "--ordinal", "risk=low,mid,high", "-o", str(out), *FAST]) == 0
    return out


@pytest.mark.parametrize("cmd", ["fit", "sample", "info", "demo", "evaluate"])
def test_every_command_explains_itself_with_an_example(cmd, capsys):
    code, out, _ = run([cmd, "--help"], capsys)
    assert code == 0 and "Example" in out


def test_installed_entry_point():
    r = subprocess.run([sys.executable, "-m", "ganforge", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "fit" in r.stdout and "sample" in r.stdout


def test_fit_sample_info(model_file, tmp_path, capsys):
    out = tmp_path / "syn.parquet"
    code, stdout, err = run(["sample", model_file, "-n", 500, "-o", out, "--seed", 1, "--chunk-size", 128], capsys)
    assert code == 0, err
    df = pd.read_parquet(out)
    assert list(df.columns) == ["age", "bmi", "smoker", "risk"] and len(df) == 500
    assert df["age"].dtype == np.int64 and df["age"].between(20, 69).all()
    assert set(df["risk"]) <= {"low", "mid", "high"}
    code, _, err = run(["sample", model_file, "-n", 50, "-o", tmp_path / "yes.csv", "--condition", "smoker=yes"],
                       capsys)
    assert code == 0, err
    assert (pd.read_csv(tmp_path / "yes.csv")["smoker"] == "yes").all()
    code, stdout, _ = run(["info", model_file], capsys)
    assert code == 0 and "cgan" in stdout and "risk" in stdout and "ordinal" in stdout
    assert "moving average of its weights (decay 0.999)" in stdout  # the default preset's


def test_ema_decay_option(csv_file, tmp_path, capsys):
    out = tmp_path / "last.gfm"
    code, _, err = run(["fit", csv_file, "--steps", 5, "--ema-decay", 0, "-o", out, *FAST], capsys)
    assert code == 0, err
    code, stdout, _ = run(["info", out], capsys)
    assert code == 0 and "moving average" not in stdout
    one_line_error(*run(["fit", csv_file, "--steps", 5, "--ema-decay", 1.5, "-o", tmp_path / "bad.gfm", *FAST],
                        capsys), "--ema-decay must be a number in [0, 1)")
    assert not (tmp_path / "bad.gfm").exists()


def one_line_error(code, out, err, *words):
    assert code == 2
    lines = [l for l in err.strip().splitlines() if l]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0], lines[0]


@pytest.mark.parametrize("content, words", [
    ("", ["is empty"]),
    ("a,b,c\n", ["header but no rows"]),
    ("a\n1\n2\n3\n", ["single column"]),
    ("a,b\n,1\n,2\n,3\n", ["'a' has no values"]),
    ("a,b\n" + "".join(f"{i},{i}\n" for i in range(20)) + "oops,3\n", ["'a' mixes numbers and text"]),
    ("a,b,a\n" + "".join(f"{i},{i},{i}\n" for i in range(20)), ["duplicate column names 'a'"]),
])
def test_bad_csv_gives_one_line_error_and_no_output(tmp_path, capsys, content, words):
    data = tmp_path / "bad.csv"
    data.write_text(content)
    out = tmp_path / "m.gfm"
    one_line_error(*run(["fit", data, "-o", out, "--model", "gan", "--steps", 2, *FAST], capsys), *words)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [data]  # no temporary file left either


def test_unknown_target(csv_file, tmp_path, capsys):
    one_line_error(*run(["fit", csv_file, "--target", "nope", "-o", tmp_path / "m.gfm", *FAST], capsys),
                   "--target 'nope'")


def test_unknown_option_value(csv_file, tmp_path, capsys):
    one_line_error(*run(["fit", csv_file, "--model", "vae", "-o", tmp_path / "m.gfm", *FAST], capsys),
                   "unknown model 'vae'")


def test_time_limit(csv_file, tmp_path, capsys):
    code, out, _ = run(["fit", csv_file, "--steps", "5000", "--time-limit", "0.000001", "-o", tmp_path / "m.gfm",
                        *FAST], capsys)
    assert code == 0 and "1 steps" in out and "stopped at the --time-limit" in out
    assert (tmp_path / "m.gfm").exists()
    one_line_error(*run(["fit", csv_file, "--time-limit", "-1", "-o", tmp_path / "n.gfm", *FAST], capsys),
                   "--time-limit must be a positive number")
    assert not (tmp_path / "n.gfm").exists()


def test_unwritable_output_fails_before_training(csv_file, tmp_path, capsys):
    one_line_error(*run(["fit", csv_file, "-o", tmp_path / "missing" / "m.gfm", *FAST], capsys), "does not exist")


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux's /proc, which nobody can write to")
def test_read_only_output_fails_before_training(csv_file, capsys):
    one_line_error(*run(["fit", csv_file, "-o", "/proc/m.gfm", "--steps", 100000, "-q"], capsys),
                   "cannot write model to /proc")


def test_unseen_condition_value(model_file, tmp_path, capsys):
    out = tmp_path / "s.csv"
    one_line_error(*run(["sample", model_file, "-n", 10, "-o", out, "--condition", "smoker=maybe"], capsys),
                   "smoker='maybe' was never seen")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_unreadable_model_file(tmp_path, capsys):
    bad = tmp_path / "m.gfm"
    bad.write_bytes(b"not a model at all, just text")
    out = tmp_path / "s.csv"
    one_line_error(*run(["sample", bad, "-n", 10, "-o", out], capsys), str(bad))
    one_line_error(*run(["info", tmp_path / "nope.gfm"], capsys), "not found")
    assert not out.exists()


def test_failure_while_sampling_leaves_no_partial_file(model_file, tmp_path, monkeypatch, capsys):
    from ganforge.synthesizer import Synthesizer

    real = Synthesizer.iter_sample

    def broken(self, *a, **kw):
        for i, chunk in enumerate(real(self, *a, **kw)):
            if i == 2:
                raise RuntimeError("disk on fire")
            yield chunk

    monkeypatch.setattr(Synthesizer, "iter_sample", broken)
    out = tmp_path / "s.csv"
    with pytest.raises(RuntimeError):
        main(["sample", str(model_file), "-n", "1000", "-o", str(out), "--chunk-size", "100"])
    assert list(tmp_path.iterdir()) == []


def test_adult_fit_sample_keeps_columns_types_categories(tmp_path, capsys):
    from ganforge.datasets import load_adult

    require_shared("adult", "adult.data")
    real = load_adult()
    data = tmp_path / "adult.csv"
    real.to_csv(data, index=False)
    model = tmp_path / "adult.gfm"
    code, _, err = run(["fit", data, "--model", "wcgan", "--target", "income", "--steps", 40, "-o", model, "-q"],
                       capsys)
    assert code == 0, err
    out = tmp_path / "syn.csv"
    assert run(["sample", model, "-n", 5000, "-o", out, "--seed", 0], capsys)[0] == 0
    from ganforge.io import read_table

    syn = read_table(out)
    back = read_table(data)
    assert list(syn.columns) == list(back.columns)
    for c in back.columns:
        assert syn[c].dtype == back[c].dtype, c
        if back[c].dtype.kind in "iuf":
            assert syn[c].min() >= back[c].min() and syn[c].max() <= back[c].max(), c
        else:
            assert set(syn[c].dropna()) <= set(back[c].dropna()), c


def test_written_files_get_ordinary_permissions(model_file, tmp_path, capsys):
    import os
    import stat

    out = tmp_path / "s.csv"
    assert run(["sample", model_file, "-n", 10, "-o", out], capsys)[0] == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


def test_fit_without_target_picks_an_unconditional_model_and_keeps_integers(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("age,city\n" + "".join(f"{20 + i % 30},{'ab'[i % 2]}\n" for i in range(60)) + ",a\n")
    code, out, err = run(["fit", data, "-o", tmp_path / "m.gfm", "--steps", 5, *FAST], capsys)
    assert code == 0, err
    assert "wgan/default" in out
    assert run(["sample", tmp_path / "m.gfm", "-n", 200, "-o", tmp_path / "s.csv", "--seed", 0], capsys)[0] == 0
    ages = [l.split(",")[0] for l in (tmp_path / "s.csv").read_text().splitlines()[1:]]
    assert all("." not in a for a in ages)  # 31, not 31.0, even though the real column has a gap


def test_demo_runs_end_to_end_and_says_which_precision_trained(tmp_path, capsys):
    """The README's main job, at a tenth of a percent of its steps: a model, 569 rows, and the last
    line names bfloat16 exactly when the model file records that it trained in bfloat16."""
    from ganforge import Synthesizer

    code, out, _ = run(["demo", "--steps", "20", "-o", tmp_path], capsys)
    assert code == 0
    rows = pd.read_csv(tmp_path / "synthetic.csv")
    assert rows.shape == (569, 31) and set(rows["diagnosis"]) <= {"benign", "malignant"}
    model = Synthesizer.load(next(tmp_path.glob("*.gfm")))
    assert model.summary()["steps"] == 20
    assert ("bfloat16" in out) == (model.summary()["precision"] == "bfloat16"), out
