"""The Ray engine on a local Ray instance started by the command (2 CPU workers): training with Ray
Train's TorchTrainer learns like one process, and Ray Data writes the same parts as local sampling."""

import subprocess
import sys

import pandas as pd
import pytest

from conftest import four_gaussians, fidelity_ok, SMALL_SET, subprocess_env
from ganforge import Synthesizer
from ganforge.scale import partitioned

pytest.importorskip("ray")
pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]


def test_ray_train_and_ray_data_sampling(tmp_path):
    data = tmp_path / "mix.csv"
    real = four_gaussians(4000)
    real.to_csv(data, index=False)
    out = tmp_path / "ray.gfm"
    env = subprocess_env(1)
    env["RAY_TRAIN_ENABLE_PRINT_PATCH"] = "0"
    r = subprocess.run([sys.executable, "-m", "ganforge", "fit", str(data), "--target", "color", "--batch-size", "200",
                        "--seed", "0", "-q", "--steps", "800", *SMALL_SET, "-o", str(out), "--engine", "ray",
                        "--workers", "2"], env=env, capture_output=True, text=True, timeout=500, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    assert "with 2 Ray workers" in r.stdout
    syn = Synthesizer.load(out)
    assert syn.summary()["steps"] == 800
    ok, figures = fidelity_ok(real, syn.sample(4000, seed=1))
    assert ok, figures

    local = partitioned.sample_to_folder(out, 2500, tmp_path / "local", load=Synthesizer.load, seed=4, part_rows=1000)
    r = subprocess.run([sys.executable, "-m", "ganforge", "sample", str(out), "-n", "2500", "-o",
                        str(tmp_path / "viaray"), "--seed", "4", "--part-rows", "1000", "--engine", "ray",
                        "--workers", "2"], env=env, capture_output=True, text=True, timeout=500, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    assert local["parts"] == 3
    for i in range(3):
        name = f"part-{i:05d}.parquet"
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "local" / name),
                                      pd.read_parquet(tmp_path / "viaray" / name))
    assert sorted(p.name for p in (tmp_path / "viaray").iterdir() if not p.name.startswith(".")) == \
        ["_ganforge.json", "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]

    # user errors come back as one line: a column typo (caught before Ray starts) and a batch that
    # does not split over the workers (raised inside them)
    for extra, words in ((["--target", "nope"], "'nope'"), (["--target", "color", "--batch-size", "250"],
                                                            "split evenly over 2 processes")):
        r = subprocess.run([sys.executable, "-m", "ganforge", "fit", str(data), "--steps", "5", *extra,
                            "-o", str(tmp_path / "x.gfm"), "--engine", "ray", "--workers", "2", "-q"], env=env,
                           capture_output=True, text=True, timeout=500, cwd=tmp_path)
        assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr, r.stderr[-3000:]
        assert not (tmp_path / "x.gfm").exists()
