"""Tables read from disk in bounded memory: the scan, the encoded cache, the sharded block reader
and training from a folder of Parquet parts."""

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import SMALL, four_gaussians, fidelity_ok
from ganforge import Synthesizer
from ganforge.scale import streaming
from ganforge.cli import main
from ganforge.errors import ConfigError, DataError


def _write_parts(df, folder, parts):
    folder.mkdir()
    bounds = np.linspace(0, len(df), parts + 1).astype(int)
    for i in range(parts):
        df.iloc[bounds[i]:bounds[i + 1]].to_parquet(folder / f"part-{i:03d}.parquet", index=False)
    return folder


def test_scan_counts_every_row_and_samples_uniformly(tmp_path):
    n = 20_000
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": np.arange(n), "v": rng.normal(size=n), "c": rng.choice(["a", "b"], n)})
    df.loc[n - 1, "c"] = "only-in-the-last-row"
    df.loc[n - 2, "v"] = 1e6
    df.loc[5, "v"] = np.nan
    folder = _write_parts(df, tmp_path / "t", 5)
    sc = streaming.scan(folder, 1000, seed=0, batch_rows=1500)
    assert sc.rows == n and len(sc.sample) == 1000 and sc.nulls["v"] == 1
    assert sc.maxs["v"] == 1e6 and sc.counts["c"]["only-in-the-last-row"] == 1
    # uniform: ids spread over the whole table (mean within 4 standard errors of n/2), every part drawn
    ids = sc.sample["id"].to_numpy()
    assert abs(ids.mean() - n / 2) < 4 * (n / np.sqrt(12)) / np.sqrt(1000)
    assert len(set(ids // 4000)) == 5 and len(set(ids)) == 1000
    # the sample does not depend on how rows were batched
    again = streaming.scan(folder, 1000, seed=0, batch_rows=7000)
    assert np.array_equal(np.sort(again.sample["id"].to_numpy()), np.sort(ids))
    # the schema takes bounds and categories from every row, though the sample lacks them
    from ganforge.schema import infer_schema

    schema = infer_schema(sc.sample, categorical=["c"])
    sc.apply(schema)
    assert "only-in-the-last-row" in schema["c"].categories and schema["v"].max == 1e6


def test_blocks_cover_each_row_once_per_epoch_across_2_ranks_x_2_workers(tmp_path):
    rows, width = 10_003, 3
    x = np.arange(rows * width, dtype=np.float32).reshape(rows, width)
    folder = tmp_path / "cache"
    folder.mkdir()
    x.tofile(folder / "encoded.f32")
    cache = streaming.Cache(folder, rows, width, conditional=False)
    for epochs in (1, 2):
        seen = []
        for rank in (0, 1):
            ds = streaming.EncodedBlocks(cache, block_rows=257, rank=rank, world=2, seed=3, epochs=epochs)
            loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2,
                                                 collate_fn=streaming.collate_none)
            for xb, _, ids in loader:
                assert torch.equal(xb, torch.from_numpy(x[ids.numpy()]))  # rows are what the ids say
                seen.append(ids.numpy())
        ids = np.concatenate(seen)
        assert np.array_equal(np.bincount(ids, minlength=rows), np.full(rows, epochs))
    # each epoch has its own block order
    ds = streaming.EncodedBlocks(cache, 257, seed=3, epochs=2)
    firsts = [ids[0].item() for _, _, ids in ds][:: ds.n_blocks]
    assert firsts[0] != firsts[1]


@pytest.mark.slow
def test_training_from_parquet_parts_learns_and_leaves_no_cache(tmp_path, mixture):
    folder = _write_parts(mixture, tmp_path / "parts", 3)
    cache = tmp_path / "cache"
    syn = Synthesizer("wcgan", "default", steps=1000, seed=0, n_critic=2, stream_sample_rows=1000,
                      stream_block_rows=256, stream_buffer_rows=2048, **SMALL)
    syn.fit_files(folder, target="color", cache_dir=cache)
    assert syn.n_rows_ == len(mixture) and syn.scan_rows_ == len(mixture)
    assert not cache.exists()
    ok, figures = fidelity_ok(mixture, syn.sample(4000, seed=1))
    assert ok, figures
    # label frequencies come from the counts of every row
    freq = dict(zip(syn.condition_["categories"], syn.condition_["frequencies"]))
    assert freq["red"] == pytest.approx((mixture["color"] == "red").mean())


def test_cli_folder_max_rows_and_errors(tmp_path, capsys):
    df = four_gaussians(3000)
    folder = _write_parts(df, tmp_path / "parts", 2)
    out = tmp_path / "m.gfm"
    assert main(["fit", str(folder), "--target", "color", "--steps", "20", "-o", str(out), "-q",
                 "--set", "stream_sample_rows=500"]) == 0
    assert "on 3000 rows" in capsys.readouterr().out
    csv = tmp_path / "t.csv"
    df.to_csv(csv, index=False)
    assert main(["fit", str(csv), "--target", "color", "--steps", "5", "--max-rows", "700", "-o", str(out), "-q"]) == 0
    assert "on 700 rows" in capsys.readouterr().out
    # a CSV whose numeric column turns to text after the first chunk
    bad = tmp_path / "bad.csv"
    rows = ["x,y,color"] + [f"{i},{i},red" for i in range(70_000)] + ["oops,1,red"]
    bad.write_text("\n".join(rows) + "\n")
    assert main(["fit", str(bad), "--stream", "--steps", "5", "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "must hold numbers" in err
    (tmp_path / "empty").mkdir()
    assert main(["fit", str(tmp_path / "empty"), "--steps", "5", "-o", str(out), "-q"]) == 2
    assert "no .parquet files" in capsys.readouterr().err
    other = tmp_path / "mixed"
    other.mkdir()
    df.iloc[:10].to_parquet(other / "a.parquet")
    df.iloc[:10].rename(columns={"x": "z"}).to_parquet(other / "b.parquet")
    assert main(["fit", str(other), "--steps", "5", "-o", str(out), "-q"]) == 2
    assert "same columns" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="add max_rows"):
        Synthesizer("wcgan", steps=5, condition_balance=0.5, stream_sample_rows=100).fit_files(folder, target="color")
    with pytest.raises(DataError, match="not found"):
        Synthesizer("wgan", steps=5).fit_files(tmp_path / "nothing")
