"""The cases of issue #28 beyond model files (those are in test_modelfile_fuzz.py) and privacy (test_dp.py):
odd names and values, odd options, odd files, memory that must not grow with -n, and signals. Each ends in
a correct result, said when ganforge did something on the user's behalf, or in one ``error:`` line with
exit code 2 and no file left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ganforge import Synthesizer
from ganforge.cli import main
from ganforge.errors import DataError

from conftest import subprocess_env
from test_modelfile_fuzz import TINY, peak_growth


def pima(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"Glucose": rng.integers(40, 200, n), "BMI": rng.normal(32, 7, n).round(1),
                         "Outcome": rng.integers(0, 2, n)})


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hard")
    return Synthesizer("wcgan", steps=2, **TINY).fit(pima(), target="Outcome").save(d / "m.gfm")


def one_line(capsys, rc: int) -> str:
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, (rc, err)
    return err


def no_temporaries(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]


# --- names ----------------------------------------------------------------------------------------------
def test_info_prints_names_with_brackets_as_they_are(tmp_path, capsys):
    df = pima().rename(columns={"BMI": "weight [kg]", "Glucose": "[/x]"})
    folder = tmp_path / "["
    folder.mkdir()
    path = Synthesizer("wgan", steps=1, **TINY).fit(df).save(folder / "x].gfm")  # the path holds "[/x]"
    assert main(["info", str(path)]) == 0  # rich.errors.MarkupError before
    out = capsys.readouterr().out
    assert "weight [kg]" in out and "│ [/x]" in out and "[/x].gfm" in out


def test_a_name_with_a_newline_stays_on_one_line(tmp_path, capsys):
    data = tmp_path / "d.csv"
    pima().rename(columns={"BMI": "B\nMI"}).to_csv(data, index=False)
    err = one_line(capsys, main(["fit", str(data), "-o", str(tmp_path / "m.gfm"), "--target", "nope"]))
    assert "B\\nMI" in err


def test_control_characters_in_messages_are_escaped():
    err = DataError("column `x` 'a\x1b[31mb\rc\u2028d'")
    assert str(err) == "column x 'a\\x1b[31mb\\rc\\u2028d'"


# --- values and options ---------------------------------------------------------------------------------
def test_values_near_the_largest_float_are_one_clear_error(tmp_path, capsys):
    data = tmp_path / "big.csv"
    pima().assign(big=np.random.default_rng(0).normal(1e307, 1e306, 300)).to_csv(data, index=False)
    err = one_line(capsys, main(["fit", str(data), "-o", str(tmp_path / "m.gfm"), "--steps", "1", "-q"]))
    assert "rescale" in err and "--drop big" in err and not (tmp_path / "m.gfm").exists()


@pytest.mark.parametrize("shares", ["Outcome=0:nan,1:1", "Outcome=0:inf,1:1", "Outcome=0:-1,1:1", "Outcome=0:0,1:0"])
def test_bad_label_shares_are_one_error_line(model, tmp_path, capsys, shares):
    out = tmp_path / "s.csv"
    one_line(capsys, main(["sample", str(model), "-n", "10", "-o", str(out), "--condition", shares]))
    assert not out.exists()


def test_shares_near_the_largest_float_give_those_shares(model, tmp_path):
    out = tmp_path / "s.csv"
    assert main(["sample", str(model), "-n", "10", "-o", str(out), "--condition", "Outcome=0:1e308,1:1e308"]) == 0
    assert pd.read_csv(out)["Outcome"].value_counts().to_dict() == {0: 5, 1: 5}  # an IndexError before


def test_a_condition_on_a_numeric_column_is_checked_before_any_row_is_made(model, monkeypatch, capsys, tmp_path):
    made = []
    real = Synthesizer._generate
    monkeypatch.setattr(Synthesizer, "_generate", lambda self, n, *a, **k: made.append(n) or real(self, n, *a, **k))
    for cond in ("Glucose=abc", "Glucose=1e9", "Glucose=nan"):  # 101,000 rows made before the error
        one_line(capsys, main(["sample", str(model), "-n", "10", "-o", str(tmp_path / "s.csv"), "--condition", cond]))
    assert made == []
    syn = Synthesizer.load(model)
    glucose = int(syn.sample(200, seed=0)["Glucose"].mode()[0])
    rows = syn.sample(5, condition={"Glucose": str(glucose)}, seed=0)  # a number as text, as the CLI gives it
    assert (rows["Glucose"] == glucose).all()


# --- files read -----------------------------------------------------------------------------------------
def test_a_latin1_file_is_read_as_latin1_and_said_so(tmp_path, capsys):
    data = tmp_path / "l.csv"
    pima().assign(city=np.random.default_rng(0).choice(["café", "Zürich", "naïve"], 300)).to_csv(
        data, index=False, encoding="latin-1")
    out = tmp_path / "m.gfm"
    assert main(["fit", str(data), "-o", str(out), "--steps", "1", "-q", "--batch-size", "50"]) == 0
    err = capsys.readouterr().err
    assert "warning: " in err and "not UTF-8" in err and "Traceback" not in err
    assert set(Synthesizer.load(out).schema_["city"].categories) == {"café", "Zürich", "naïve"}  # not "caf\ufffd"


def test_an_unnamed_first_column_is_kept_unless_it_is_a_row_counter(tmp_path, capsys):
    from ganforge import io

    df = pima(50)
    df.index = np.random.default_rng(0).integers(1000, 2000, 50)  # data without a name in the header
    df.to_csv(tmp_path / "ids.csv")
    with pytest.warns(UserWarning, match="no name"):
        assert list(io.read_table(tmp_path / "ids.csv").columns) == ["Unnamed: 0", "Glucose", "BMI", "Outcome"]
    pima(50).to_csv(tmp_path / "counter.csv")  # pandas' own 0, 1, 2, ...
    with pytest.warns(UserWarning, match="row counter"):
        assert list(io.read_table(tmp_path / "counter.csv").columns) == ["Glucose", "BMI", "Outcome"]


def test_thousands_separators_are_read_as_numbers_and_said_so(tmp_path):
    from ganforge import io

    df = pima(50).assign(income=[f"{v:,}" for v in range(100_000, 150_000, 1000)])
    df.to_csv(tmp_path / "t.csv", index=False)
    with pytest.warns(UserWarning, match="thousands separators"):
        got = io.read_table(tmp_path / "t.csv")
    assert got["income"].tolist() == list(range(100_000, 150_000, 1000))


def test_a_schema_file_with_bounds_out_of_order_is_one_error_line(tmp_path, capsys):
    import json

    data = tmp_path / "d.csv"
    pima().to_csv(data, index=False)
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"columns": [{"name": "BMI", "kind": "numeric", "dtype": "float64", "min": 50,
                                               "max": 10}, {"name": "Glucose", "kind": "integer",
                                                            "dtype": "int64", "min": 0, "max": "x"}]}))
    err = one_line(capsys, main(["fit", str(data), "-o", str(tmp_path / "m.gfm"), "--schema", str(schema)]))
    assert "above max" in err


# --- files written --------------------------------------------------------------------------------------
def test_zero_rows_give_readable_files_with_the_columns(model, tmp_path):
    assert main(["sample", str(model), "-n", "0", "-o", str(tmp_path / "z.parquet")]) == 0
    got = pd.read_parquet(tmp_path / "z.parquet")  # a 0-byte file before
    assert list(got.columns) == ["Glucose", "BMI", "Outcome"] and len(got) == 0
    assert main(["sample", str(model), "-n", "0", "-o", str(tmp_path / "z.csv")]) == 0
    assert (tmp_path / "z.csv").read_text().strip() == "Glucose,BMI,Outcome"  # no header before
    empty = Synthesizer.load(model).sample(0, condition={"Glucose": 100}, seed=0)
    assert list(empty.columns) == ["Glucose", "BMI", "Outcome"] and len(empty) == 0


# --- memory that does not grow with n -------------------------------------------------------------------
@pytest.mark.parametrize("condition", [None, {"Outcome": {0: 0.3, 1: 0.7}}, {"Outcome": 1}])
def test_conditional_sampling_draws_codes_a_chunk_at_a_time(model, condition):
    syn = Synthesizer.load(model)
    rows = {}
    # 10**12 rows: 8 TB of label codes drawn up front before
    grew = peak_growth(lambda: rows.update(first=next(syn.iter_sample(10**12, condition, seed=0, chunk_size=2000))))
    assert len(rows["first"]) == 2000 and grew < 100 * 2**20


def test_shares_stay_exact_over_chunks_and_one_chunk_is_one_draw(model):
    syn = Synthesizer.load(model)
    want = {"Outcome": {0: 0.3, 1: 0.7}}
    rows = pd.concat(syn.iter_sample(25_003, want, seed=0, chunk_size=1000))
    assert (rows["Outcome"] == 0).sum() == round(0.3 * 25_003)
    # up to chunk_size rows the codes are one draw, as before chunked drawing: the same rows for any larger chunk
    pd.testing.assert_frame_equal(syn.sample(900, want, seed=4, chunk_size=900), syn.sample(900, want, seed=4))


# --- signals --------------------------------------------------------------------------------------------
def _start_sampling(model: Path, out: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "ganforge", "sample", str(model), "-n", "50000000", "-o", str(out),
                             "--chunk-size", "20000"], env=subprocess_env(1), stderr=subprocess.PIPE, text=True)
    for _ in range(600):  # until the first chunk is being written
        if any(p.name.startswith(f".{out.name}.") for p in out.parent.iterdir()) or proc.poll() is not None:
            return proc
        time.sleep(0.1)
    return proc


@pytest.mark.slow
def test_sigterm_removes_the_partial_file_and_a_later_run_removes_a_killed_ones(model, tmp_path):
    out = tmp_path / "big.csv"
    proc = _start_sampling(model, out)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 128 + signal.SIGTERM and "Traceback" not in proc.stderr.read()
    assert not out.exists()
    no_temporaries(tmp_path)
    proc = _start_sampling(model, out)
    proc.kill()  # SIGKILL: nothing can clean up
    proc.wait(60)
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".big.csv.")]
    assert main(["sample", str(model), "-n", "5", "-o", str(out)]) == 0
    no_temporaries(tmp_path)


def test_a_stale_temporary_file_of_a_running_process_is_kept(tmp_path):
    from ganforge import modelfile

    target = tmp_path / "out.csv"
    ours = tmp_path / (modelfile._temporary_prefix(target) + "abc.tmp")  # this process: running
    dead = tmp_path / ours.name.replace(f"-{os.getpid()}-", "-999999999-")
    other = tmp_path / ".out.csv.otherhost-1-abc.tmp"  # another host's: not ours to judge
    for p in (ours, dead, other):
        p.write_text("partial")
    modelfile.atomic_write(target, lambda tmp: Path(tmp).write_text("done"))
    assert ours.exists() and other.exists() and not dead.exists() and target.read_text() == "done"


def test_a_thread_count_no_cpu_runs_is_refused_before_torch_sees_it():
    # hypothesis found it in a model file's config: torch.set_num_threads(10**12) overflowed deep inside
    from ganforge import Synthesizer
    from ganforge.errors import ConfigError

    with pytest.raises(ConfigError, match="threads must be a whole number from 1 to 4096"):
        Synthesizer("wcgan", threads=10**12)
