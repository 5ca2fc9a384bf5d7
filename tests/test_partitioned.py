"""Generation to a folder of Parquet parts: same parts for any number of workers, no partial part,
finishing a stopped run, refusals."""

import json

import numpy as np
import pandas as pd
import pytest

from conftest import SMALL
from ganforge import Synthesizer
from ganforge.scale import partitioned
from ganforge.cli import main
from ganforge.errors import DataError

pytestmark = pytest.mark.slow  # trains models: minutes (CI runs every test)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, mixture):
    syn = Synthesizer("wcgan", "default", steps=150, seed=0, **SMALL).fit(mixture, target="color")
    p = tmp_path_factory.mktemp("model") / "m.gfm"
    syn.save(p)
    return p


def _parts(folder):
    return sorted(p.name for p in folder.iterdir())


def test_parts_independent_of_workers_and_complete(model_file, tmp_path, mixture):
    one = partitioned.sample_to_folder(model_file, 2500, tmp_path / "one", load=Synthesizer.load, seed=5, part_rows=1000, chunk_size=300)
    two = partitioned.sample_to_folder(model_file, 2500, tmp_path / "two", load=Synthesizer.load, seed=5, part_rows=1000, chunk_size=300,
                                       workers=2)
    assert one["complete"] and two["complete"] and one["parts"] == 3
    assert _parts(tmp_path / "one") == ["_ganforge.json", "part-00000.parquet", "part-00001.parquet",
                                        "part-00002.parquet"]
    sizes = []
    for i in range(3):
        a = pd.read_parquet(tmp_path / "one" / f"part-{i:05d}.parquet")
        b = pd.read_parquet(tmp_path / "two" / f"part-{i:05d}.parquet")
        pd.testing.assert_frame_equal(a, b)
        sizes.append(len(a))
    assert sizes == [1000, 1000, 500]
    whole = pd.read_parquet(tmp_path / "one")  # the folder reads as one table
    assert len(whole) == 2500 and list(whole.columns) == list(mixture.columns)
    # parts are not copies of one another: each has its own seed
    first = pd.read_parquet(tmp_path / "one" / "part-00000.parquet")
    second = pd.read_parquet(tmp_path / "one" / "part-00001.parquet")
    assert not np.allclose(first["x"].to_numpy(), second["x"].to_numpy())
    # and they are the model's rows: label shares follow training (no part is degenerate)
    share = whole["color"].value_counts(normalize=True)
    assert abs(share["red"] - 0.5) < 0.05


def test_stopped_run_leaves_whole_parts_and_resume_finishes_it(model_file, tmp_path, monkeypatch):
    clean = tmp_path / "clean"
    partitioned.sample_to_folder(model_file, 2500, clean, load=Synthesizer.load, seed=9, part_rows=1000, chunk_size=100)
    real_make = partitioned.make_part
    calls = []

    def failing(folder, index, rows, seed, condition, chunk_size, first_row):
        calls.append(index)
        if index == 1:
            # fail in the middle of writing part 1: after its first chunk has gone to the temporary file
            syn = partitioned.WORKER["syn"]

            def chunks():
                yield from syn.iter_sample(300, seed=1, chunk_size=100)
                raise KeyboardInterrupt

            from ganforge import io
            io.write_table(chunks(), f"{folder}/part-00001.parquet")
        return real_make(folder, index, rows, seed, condition, chunk_size, first_row)

    monkeypatch.setattr(partitioned, "make_part", failing)
    stopped = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        partitioned.sample_to_folder(model_file, 2500, stopped, load=Synthesizer.load, seed=9, part_rows=1000, chunk_size=100)
    # part 0 whole, nothing of part 1 (not even a hidden temporary file), the manifest says incomplete
    assert _parts(stopped) == ["_ganforge.json", "part-00000.parquet"]
    assert json.loads((stopped / "_ganforge.json").read_text())["complete"] is False
    monkeypatch.setattr(partitioned, "make_part", real_make)

    with pytest.raises(DataError, match="pass resume"):
        partitioned.sample_to_folder(model_file, 2500, stopped, load=Synthesizer.load, seed=9, part_rows=1000, chunk_size=100)
    with pytest.raises(DataError, match="seed"):
        partitioned.sample_to_folder(model_file, 2500, stopped, load=Synthesizer.load, seed=10, part_rows=1000, chunk_size=100,
                                     resume=True)
    man = partitioned.sample_to_folder(model_file, 2500, stopped, load=Synthesizer.load, seed=9, part_rows=1000, chunk_size=100,
                                       resume=True)
    assert man["complete"]
    for i in range(3):
        pd.testing.assert_frame_equal(pd.read_parquet(stopped / f"part-{i:05d}.parquet"),
                                      pd.read_parquet(clean / f"part-{i:05d}.parquet"))


def test_cli_folder_output_and_refusals(model_file, tmp_path, capsys):
    out = tmp_path / "synthetic"
    assert main(["sample", str(model_file), "-n", "1200", "-o", str(out) + "/", "--seed", "1", "--part-rows", "500",
                 "--condition", "color=green"]) == 0
    df = pd.read_parquet(out)
    assert len(df) == 1200 and set(df["color"]) == {"green"}
    capsys.readouterr()
    assert main(["sample", str(model_file), "-n", "10", "-o", str(tmp_path / "x.csv"), "--workers", "2"]) == 2
    assert "folder output" in capsys.readouterr().err
    (tmp_path / "afile").write_text("x")
    assert main(["sample", str(model_file), "-n", "10", "-o", str(tmp_path / "afile")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["sample", str(model_file), "-n", "10", "-o", str(tmp_path / "new"), "--resume"]) == 2
    assert "--seed" in capsys.readouterr().err
    assert main(["sample", str(model_file), "-n", "10", "-o", str(tmp_path / "bad"), "-c", "color=purple"]) == 2
    assert "purple" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").glob("part-*"))


def test_generated_keys_never_repeat_across_parts(tmp_path):
    """A key column and e-mail addresses, written in parts by two processes: every key and address is
    new and unique over the whole folder (each part continues the keys where the one before ends), and a
    second run with the same seed writes the same keys."""
    from test_columns import people

    real = people()
    syn = Synthesizer("wcgan", steps=20, seed=0, **SMALL).fit(real, target="label")
    model = tmp_path / "people.gfm"
    syn.save(model)
    kw = dict(load=Synthesizer.load, seed=3, part_rows=700, chunk_size=250)
    partitioned.sample_to_folder(model, 2000, tmp_path / "a", workers=2, **kw)
    partitioned.sample_to_folder(model, 2000, tmp_path / "b", **kw)
    a, b = pd.read_parquet(tmp_path / "a"), pd.read_parquet(tmp_path / "b")
    assert len(a) == 2000 and a["customer_id"].notna().sum() > 1900
    for col in ("customer_id", "email"):
        present = a[col].dropna()
        assert present.is_unique, col  # part by part the keys used to start again from the first one
        assert not set(present) & set(real[col])
    pd.testing.assert_frame_equal(a, b)
