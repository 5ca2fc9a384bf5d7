"""The command line as a person meets it (issue #29): --version, help that shows what the flags take and
their defaults, start-up without torch, what fit says, progress without a terminal, and threads."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import SMALL, SMALL_SET, subprocess_env
from ganforge import Synthesizer
from ganforge.training import Callback, threads


def run(*args: str, threads_env: int = 1, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganforge", *args], capture_output=True, text=True,
                          env=env or subprocess_env(threads_env), timeout=600)


def test_version():
    from ganforge.version import __version__

    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"ganforge {__version__}"


def test_help_shows_flags_as_flags_literal_brackets_and_defaults():
    r = run("fit", "--help", env={**subprocess_env(1), "COLUMNS": "200"})
    text = r.stdout
    assert r.returncode == 0
    assert "pip install 'ganforge[ray]'" in text  # not eaten as markup
    assert "<bool>" not in text  # --resume, --stream, --quiet take no value
    assert "{DATA}" in text
    assert "default: 30, at least 1,000 steps" in text and "default: 500" in text and "default: 0.0002" in text
    assert "--rule RULE" in text and "--threads N" in text
    assert "{MODEL}" in run("sample", "--help").stdout
    assert "-n, --rows" in run("sample-images", "--help").stdout


def test_help_and_version_do_not_import_torch():
    for args in (["--help"], ["fit", "--help"], ["--version"]):
        r = subprocess.run([sys.executable, "-X", "importtime", "-m", "ganforge", *args], capture_output=True,
                           text=True, env=subprocess_env(1), timeout=120)
        imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time")}
        assert r.returncode == 0 and "torch" not in imported and "pandas" not in imported, args


@pytest.fixture(scope="module")
def people_file(tmp_path_factory):
    from test_columns import people

    p = tmp_path_factory.mktemp("people") / "people.parquet"
    people().to_parquet(p)
    return p


def test_fit_says_what_it_did_with_each_column_and_info_too(people_file, tmp_path):
    model = tmp_path / "m.gfm"
    r = run("fit", str(people_file), "--target", "label", "--steps", "30", "--batch-size", "200", *SMALL_SET,
            "--threads", "1", "--rule", "low in [0, 100]", "-o", str(model))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "on 1 CPU thread" in out
    for line in ("column customer_id: id, generated, not learnt: new keys numbered on from the largest",
                 "column email: pii, generated, not learnt", "column start: date: %Y-%m-%d, learnt in days",
                 "column size: ordinal: S < M < L", "rule start <= end: detected; kept by learning end - start >= 0",
                 "rule low in [0, 100]: stated; kept by clipping"):
        assert line in out, line
    # without a terminal the progress comes as lines, with rows per second
    assert "wcgan/default: step 30/30 (100%)" in out and "rows/s" in out
    info = run("info", str(model), env={**subprocess_env(1), "COLUMNS": "200"}).stdout
    assert "column email: pii, generated, not learnt" in info and "rule start <= end" in info
    assert "label classifier in training: weight 1, quantile loss" in info  # the default since 0.5
    sample = tmp_path / "s.csv"
    assert run("sample", str(model), "-n", "200", "-o", str(sample), "--seed", "0", "--threads", "1").returncode == 0
    rows = pd.read_csv(sample)
    assert (pd.to_datetime(rows["end"]) >= pd.to_datetime(rows["start"])).all()
    assert rows["low"].between(0, 100).all()


def test_a_bad_rule_is_one_line(people_file, tmp_path):
    r = run("fit", str(people_file), "--steps", "1", "--rule", "low <= nowhere", "-o", str(tmp_path / "m.gfm"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "column nowhere is not in the table" in r.stderr


@pytest.mark.slow
def test_the_goal_table_with_defaults(people_file, tmp_path):
    """Dates, a key, e-mails, an ordered category and an inequality through fit, sample and evaluate with
    the default model, preset and threads (a budget of 300 steps instead of the preset's 1,000, for time)."""
    from test_columns import people

    model, rows, report = tmp_path / "m.gfm", tmp_path / "s.parquet", tmp_path / "r.json"
    env = {k: v for k, v in subprocess_env(1).items() if k != "OMP_NUM_THREADS"}  # ganforge chooses
    r = run("fit", str(people_file), "--target", "label", "--steps", "300", "-o", str(model), env=env)
    assert r.returncode == 0 and "CPU thread" in r.stdout, r.stderr
    assert run("sample", str(model), "-n", "1000", "-o", str(rows), "--seed", "0").returncode == 0
    real, out = people(), pd.read_parquet(rows)
    assert not set(out["customer_id"]) & set(real["customer_id"]) and not set(out["email"]) & set(real["email"])
    assert out["start"].between(real["start"].min(), real["start"].max()).all()
    assert (pd.to_datetime(out["end"]) >= pd.to_datetime(out["start"])).all() and (out["low"] <= out["high"]).all()
    assert out["size"].cat.ordered and list(out["size"].cat.categories) == ["S", "M", "L"]
    r = run("evaluate", "--real", str(people_file), "--synthetic", str(rows), "--model", str(model), "--no-tsne",
            "--json", str(report))
    assert r.returncode == 0, r.stderr
    import json

    kept = {x["rule"]: x["kept_share"] for x in json.loads(report.read_text())["rules"]}
    assert kept["start <= end"] == 1.0 and kept["low <= high"] == 1.0


# --- threads -------------------------------------------------------------------------------------
def test_threads_take_the_free_cores_unless_chosen(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "cores", lambda: 8)
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: 5.0)
    assert threads.choose(None) == 3 and threads.choose(None, processes=2) == 1 and threads.choose(6) == 6
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: 12.0)  # overloaded: one thread, never none
    assert threads.choose(None) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "4")  # the user chose in the environment: left alone
    assert threads.choose(None) is None and threads.choose(2) == 2


def test_busy_elsewhere_counts_other_processes_not_this_one():
    busy = threads.busy_elsewhere()
    assert busy is not None and busy >= 0


def test_a_fit_runs_on_its_threads_and_gives_them_back():
    before = torch.get_num_threads()
    df = pd.DataFrame({"x": np.random.default_rng(0).normal(0, 1, 300), "y": np.arange(300.0)})
    syn = Synthesizer("wgan", steps=20, threads=1, **SMALL)
    seen = []

    class Probe(Callback):
        def on_step_end(self, trainer, step):
            seen.append(torch.get_num_threads())

    syn.fit(df, callbacks=[Probe()])
    assert set(seen) == {1} and syn.summary()["threads"] == 1
    assert torch.get_num_threads() == before


def test_progress_lines_without_a_terminal_carry_the_monitor_score(capsys):
    df = pd.DataFrame({"x": np.random.default_rng(0).normal(0, 1, 300), "y": np.arange(300.0)})
    Synthesizer("wgan", steps=40, eval_every=20, **SMALL).fit(df, quiet=False)
    out = capsys.readouterr().out
    last = [line for line in out.splitlines() if line.startswith("wgan/default: step")][-1]
    assert "step 40/40 (100%)" in last and "rows/s" in last and "elapsed" in last
    assert "fidelity 0." in last and "(step 40)" in last  # the default preset's monitor


def test_evaluate_writes_both_reports_into_a_folder_with_o(tmp_path):
    """``-o DIR`` as fit and sample take it: report.html and report.json in a folder made for them; a
    path that is a file is one error line, and a failed evaluation leaves no folder behind."""
    import json

    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(["a", "b"], 300)})
    fake = pd.DataFrame({"x": rng.normal(0.5, 1, size=300), "c": rng.choice(["a", "b"], 300)})
    real.to_csv(tmp_path / "real.csv", index=False)
    fake.to_csv(tmp_path / "fake.csv", index=False)
    out = tmp_path / "report"
    r = run("evaluate", "--real", str(tmp_path / "real.csv"), "--synthetic", str(tmp_path / "fake.csv"),
            "--no-tsne", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert (out / "report.html").read_text().lstrip().lower().startswith("<!doctype html")
    shapes = json.loads((out / "report.json").read_text())
    assert shapes and f"wrote {out / 'report.json'}" in r.stdout
    (tmp_path / "afile").write_text("x")
    r = run("evaluate", "--real", str(tmp_path / "real.csv"), "--synthetic", str(tmp_path / "fake.csv"),
            "-o", str(tmp_path / "afile"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "is a file" in r.stderr
    r = run("evaluate", "--real", str(tmp_path / "real.csv"), "--synthetic", str(tmp_path / "missing.csv"),
            "-o", str(tmp_path / "never"))
    assert r.returncode == 2 and not (tmp_path / "never").exists()
