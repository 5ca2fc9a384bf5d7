"""Model files are untrusted input: fuzzed metadata and safetensors headers, and fuzzed command-line options.

Every case must end in one of two ways: a ``GanforgeError`` of one line (exit code 2 and one ``error:``
line on the command line, no output file, no temporary file), or a correct result (rows with the
schema's columns, numbers inside its bounds, categories among its categories, missing values only
where it has them). Loading a crafted file never takes more than a bounded amount of memory: the
memory checks reset the process's peak RSS (``/proc/self/clear_refs``) and read it back.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganforge import Synthesizer
from ganforge.cli import main
from ganforge.errors import GanforgeError, ModelFileError

#: examples per fuzzed test (GANFORGE_FUZZ_EXAMPLES=2000 for a long hunt)
FUZZ = settings(max_examples=int(os.environ.get("GANFORGE_FUZZ_EXAMPLES", 60)), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
TINY = dict(batch_size=50, pac=1, latent_dim=8, seed=0, device="cpu",
            generator_layers=[{"width": 16, "activation": "relu", "batchnorm": True, "residual": True}],
            discriminator_layers=[{"width": 16, "activation": "leaky_relu", "dropout": 0.25}])


def table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Every part a model file can hold: a mixture, integers with gaps, a bucketed categorical column with
    gaps (max_categories 6), a derived column, linked values (a service "no" exactly where security is
    "none"), numbers grouped by a category (a count 0 exactly where a plan is "no", a rate in its grade's
    band), a total learnt as a multiple of months, a label."""
    rng = np.random.default_rng(seed)
    grade = rng.choice(["a", "b", "c"], n)
    plan = rng.choice(["yes", "no"], n)
    svc = rng.choice(["no", "dsl", "fiber"], n)
    months = rng.integers(1, 72, n)
    df = pd.DataFrame({"x": rng.normal(0, 1, n), "hours": rng.integers(10, 70, n).astype(float),
                       "city": rng.choice([f"c{i}" for i in range(12)], n).astype(object), "grade": grade,
                       "grade_num": pd.Series(grade).map({"a": 1, "b": 2, "c": 3}).to_numpy(),
                       "rate": pd.Series(grade).map({"a": 5.0, "b": 10.0, "c": 15.0}).to_numpy()
                       + rng.normal(0, 0.3, n).round(2),
                       "plan": plan, "count": np.where(plan == "no", 0, rng.integers(1, 40, n)),
                       "svc": svc, "security": np.where(svc == "no", "none", rng.choice(["y", "n"], n)),
                       "months": months, "total": (months * rng.uniform(20, 25, n)).round(2),
                       "label": rng.choice(["yes", "no"], n)})
    df.loc[rng.random(n) < 0.1, "hours"] = np.nan
    df.loc[rng.random(n) < 0.05, "city"] = None
    return df


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def model(folder) -> Path:
    syn = Synthesizer("wcgan", steps=2, max_categories=6, derive_columns=True, link_values=True, group_numerics=True,
                      ratio_numerics=True, **TINY)
    return syn.fit(table(), target="label").save(folder / "base.gfm")


# --- reading and writing a file's parts -------------------------------------------------------------------
def split(path: Path) -> tuple[dict, bytes]:
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def join(path: Path, header: dict, body: bytes) -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)
    return path


def with_meta(source: Path, target: Path, meta) -> Path:
    header, body = split(source)
    header["__metadata__"]["meta"] = meta if isinstance(meta, str) else json.dumps(meta)
    return join(target, header, body)


def paths(doc, prefix=()):
    """Every place in a JSON document: (path of keys and indices)."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):  # the first few items of long lists stand for the rest
            yield from paths(v, prefix + (i,))


def put(doc, path, value, delete=False):
    *head, last = path
    node = doc
    for k in head:
        node = node[k]
    if delete and isinstance(node, dict):
        del node[last]
    else:
        node[last] = value


# --- what a correct result is -----------------------------------------------------------------------------
def check_rows(rows: pd.DataFrame, syn: Synthesizer, n: int) -> None:
    schema = syn.schema_
    assert list(rows.columns) == schema.names and len(rows) == n
    for spec in schema.columns:
        col = rows[spec.name]
        if not spec.has_missing:
            assert not col.isna().any(), spec.name
        vals = col.dropna()
        if spec.is_numeric:
            v = vals.astype(float).to_numpy()
            assert np.isfinite(v).all() and (v >= spec.min).all() and (v <= spec.max).all(), spec.name
        elif spec.categories is not None:
            assert set(map(str, vals)) <= set(map(str, spec.categories)), spec.name


def run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(args)
    return rc, out.getvalue(), err.getvalue()


def one_error_line(rc: int, err: str) -> None:
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1, (rc, err)
    assert "Traceback" not in err


def load_or_refuse(path: Path):
    """The loaded model, or None when it is refused with a one-line ModelFileError."""
    try:
        return Synthesizer.load(path, device="cpu")
    except GanforgeError as exc:
        assert isinstance(exc, ModelFileError) and "\n" not in str(exc), exc
        return None


def vm(field: str) -> int:
    return int(re.search(rf"{field}:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) * 1024


def peak_growth(fn) -> int:
    """Bytes the process's resident memory rose to above where it was, while ``fn`` ran."""
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM) to the current RSS
    except OSError:
        pytest.skip("cannot reset the peak RSS here")
    before = vm("VmRSS")
    fn()
    return vm("VmHWM") - before


# --- every model writes files that load ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["gan", "cgan", "wgan", "wcgan", "latent-wgan", "latent-wcgan"])
def test_every_model_writes_a_file_that_passes_the_checks_and_samples_the_same_rows(name, folder):
    kw = dict(TINY, vae_epochs=0.2, vae_latent=4, vae_layers=[{"width": 16, "activation": "relu"}])
    if not name.startswith("latent"):
        kw = {k: v for k, v in kw.items() if not k.startswith("vae")}
    syn = Synthesizer(name, steps=2, **kw).fit(table(), target="label")
    path = syn.save(folder / f"{name}.gfm")
    again = Synthesizer.load(path, device="cpu")
    pd.testing.assert_frame_equal(again.sample(30, seed=1), syn.sample(30, seed=1))
    check_rows(again.sample(30, seed=2), again, 30)


# --- the cases of issue #28 -------------------------------------------------------------------------------
def _wide(m):
    m["config"]["generator_layers"][0]["width"] = 20_000


def _labels(m):
    labels = [str(i) for i in range(200_000)]
    m["condition"].update(categories=labels, frequencies=[1.0] * 200_000)
    _column(m, "label")["categories"] = labels


def _modes(m):
    """The default's numeric encoder (mode_quantile) with 100,000 modes."""
    enc = m["encoder"]["codecs"][0]["encoder"]
    assert enc["kind"] == "mode_quantile"
    enc["learned"].update(sizes_=[2.0] * 100_000, tables_=[float(i // 2) for i in range(200_000)],
                          spikes_=[1.0] * 100_000, bounds_=[])


def _mode_specific_modes(m):
    """A mode-specific encoder (the default of 0.3) with 100,000 modes in its place."""
    m["encoder"]["codecs"][0]["encoder"] = {
        "kind": "mode_specific",
        "params": {"max_modes": 10, "weight_threshold": 0.005, "sample_size": 5000, "seed": 0, "tau": 0.2,
                   "mode_activation": "gumbel", "spike_share": 0.05},
        "learned": {"means_": [float(i) for i in range(100_000)], "stds_": [1.0] * 100_000,
                    "weights_": [1e-5] * 100_000}}


def _column(m, name):
    return next(c for c in m["schema"]["columns"] if c["name"] == name)


CRAFTED = {
    "a 20,000-wide generator layer": (_wide, "needs F32 \\[20000"),
    "200,000 condition labels": (_labels, "more than any tensor"),
    "100,000 mixture modes": (_modes, "width|sizes_"),
    "100,000 mixture modes (mode_specific)": (_mode_specific_modes, "width|means_"),
    "min above max": (lambda m: _column(m, "x").update(min=5.0, max=-5.0), "above max"),
    "NaN bound": (lambda m: _column(m, "x").update(max=float("nan")), "finite"),
    "infinite bound": (lambda m: _column(m, "x").update(min=float("-inf")), "finite"),
    "missing rate 2": (lambda m: _column(m, "hours").update(missing_rate=2), "missing_rate"),
    "negative frequency": (lambda m: m["condition"].update(frequencies=[-1.0, 2.0]), "frequencies"),
    "NaN frequency": (lambda m: m["condition"].update(frequencies=[float("nan"), 1.0]), "frequencies"),
    "frequencies adding up to 0": (lambda m: m["condition"].update(frequencies=[0.0, 0.0]), "zero"),
    "negative rare counts": (lambda m: next(c for c in m["encoder"]["codecs"] if "rare_counts" in c)
                             .update(rare_counts=[-5] * 7), "rare_counts"),
    "a list where a number goes": (lambda m: _column(m, "x").update(min=[1, 2]), "min"),
    "a missing key": (lambda m: m.pop("schema"), "schema"),
    "a string for the encoder": (lambda m: m.update(encoder="x"), "encoder"),
    "an unknown encoder kind": (lambda m: m["encoder"]["codecs"][0]["encoder"].update(kind="pickle"), "kind"),
    # a learned value is set on the encoder as an attribute: named as a method it would replace it
    "a learned value named as a method": (lambda m: m["encoder"]["codecs"][0]["encoder"]["learned"]
                                          .update(inverse_transform=1.0), "not the name of a learned value"),
    "an unknown encoder parameter": (lambda m: m["encoder"]["codecs"][0]["encoder"]["params"].update(bogus=1),
                                     "not a parameter"),
    "unequal history": (lambda m: m["training"]["history"].update(g_loss=[1.0]), "history"),
    "a link to a value outside its column's": (lambda m: m["encoder"]["links"][0].update(follower_slot=99),
                                               "outside its block"),
    "a link to a number's value block": (lambda m: m["encoder"]["links"][0].update(follower="x", follower_span=0),
                                         "not a choice"),
    "a link to the condition": (lambda m: m["encoder"]["links"][0].update(follower="label"), "not an encoded"),
    "a group whose parent is a number": (lambda m: m["encoder"]["groups"][0].update(parent="x"),
                                         "not an encoded categorical"),
    "a grouped column that is categorical": (lambda m: m["encoder"]["groups"][0].update(column="grade"),
                                             "not an encoded plain number"),
    "a group with a table too few": (lambda m: m["encoder"]["groups"][0]["tables"].pop(), "quantile tables for"),
    "a group's table out of order": (lambda m: m["encoder"]["groups"][0].update(common=[3.0, 1.0, 2.0]),
                                     "out of order"),
    "a group's table with NaN": (lambda m: m["encoder"]["groups"][0].update(common=[1.0, float("nan")]),
                                 "groups.0..common.1.: expected a finite number"),
    "a ratio of itself": (lambda m: m["encoder"]["ratios"][0].update(source=m["encoder"]["ratios"][0]["column"]),
                          "is a ratio"),
    "a ratio of a category": (lambda m: m["encoder"]["ratios"][0].update(source="grade"), "not an encoded number"),
    "a ratio of a number with missing values": (lambda m: m["encoder"]["ratios"][0].update(source="hours"),
                                                "has missing values"),
    "a ratio of two sources": (lambda m: m["encoder"]["ratios"].append({**m["encoder"]["ratios"][0], "source": "x"}),
                               "ratio of two sources"),
    "a column linked to itself": (lambda m: m["encoder"]["links"][0].update(
        follower=m["encoder"]["links"][0]["leader"], follower_span=m["encoder"]["links"][0]["leader_span"]), "itself"),
}


@pytest.fixture(scope="module")
def joint_model(folder) -> Path:
    """The table's model with categories learnt together (the service and security columns joined)."""
    syn = Synthesizer("wcgan", steps=2, max_categories=6, join_categories=True, **TINY)
    path = syn.fit(table(), target="label").save(folder / "joint.gfm")
    assert [j["columns"] for j in json.loads(split(path)[0]["__metadata__"]["meta"])["encoder"]["joints"]] \
        == [["svc", "security"]]
    return path


def _joint(m):
    return m["encoder"]["joints"][0]


def _rejoin(m, columns, sizes):
    """The joint of other columns, its codec renamed to match."""
    codec = next(c for c in m["encoder"]["codecs"] if c["column"] == " & ".join(_joint(m)["columns"]))
    _joint(m).update(columns=columns, sizes=sizes)
    codec["column"] = " & ".join(columns)


JOINTS = {
    "a joint of a number": (lambda m: _rejoin(m, ["svc", "x"], [3, 3]), "joints.0.: x is not a categorical column"),
    "a joint of an unknown column": (lambda m: _rejoin(m, ["svc", "nope"], [3, 3]), "joints.0.: nope is not a categorical"),
    "a joint's size not its column's": (lambda m: _joint(m)["sizes"].__setitem__(0, 7), "codes for the 3"),
    "a combination outside its codes": (lambda m: _joint(m)["combos"][0].__setitem__(1, 9), "outside its columns"),
    "a combination twice": (lambda m: _joint(m)["combos"].__setitem__(1, list(_joint(m)["combos"][0])),
                            "a combination twice"),
    "a joint without its codec": (lambda m: m["encoder"]["joints"].append(
        {"columns": ["grade", "plan"], "sizes": [3, 2], "combos": [[0, 0]]}), "no codec encodes|also encoded"),
    "a column in a joint and a codec": (lambda m: _rejoin(m, ["svc", "grade"], [3, 3]), "also encoded"),
    "a joint whose name is a column's": (lambda m: _joint(m).update(columns=["x"], sizes=[1]), "columns|min"),
}


@pytest.fixture(scope="module")
def forbid_model(folder) -> Path:
    """The table's model with the combinations no training row holds forbidden (security's values by the
    service's: no links, which would take the pair)."""
    syn = Synthesizer("wcgan", steps=2, max_categories=6, link_values=False, forbid_unseen_combinations=True, **TINY)
    path = syn.fit(table(), target="label").save(folder / "forbid.gfm")
    assert [(s["leader"], s["follower"]) for s in json.loads(split(path)[0]["__metadata__"]["meta"])["encoder"]
            ["supports"]] == [("svc", "security")]
    return path


def _support(m):
    return m["encoder"]["supports"][0]


SUPPORTS = {
    "a forbidden combination outside the follower's codes": (lambda m: _support(m)["allowed"][0].append(9),
                                                             "supports.0.: a code outside the 3"),
    "a support of a number": (lambda m: _support(m).update(leader="x"), "leader x is not an encoded categorical"),
    "a support of an unknown column": (lambda m: _support(m).update(follower="nope"), "follower nope is not an"),
    "a support short of a leader's code": (lambda m: _support(m)["allowed"].pop(), "2 lists for the 3 codes of svc"),
    "a support's codes not a list": (lambda m: _support(m).update(allowed="all"), "supports"),
    "a column that follows two": (lambda m: m["encoder"]["supports"].append(
        {"leader": "grade", "follower": "security", "allowed": [[0], [0], [0]]}), "security follows two columns"),
    "columns that follow each other": (lambda m: m["encoder"]["supports"].append(
        {"leader": "security", "follower": "svc", "allowed": [[0], [0], [0]]}), "follow each other in a circle"),
}


@pytest.fixture(scope="module")
def lookup_model(folder) -> Path:
    """A model whose price is looked up by its store and week (a function of the pair in every row)."""
    rng = np.random.default_rng(0)
    price = np.round(rng.uniform(1.5, 2.5, size=(3, 10)), 2)  # 30 values: a number
    df = pd.DataFrame([{"store": f"s{s}", "week": 100 + w, "price": price[s, w], "age": int(rng.integers(20, 70)),
                        "label": "yes" if rng.random() < 0.4 else "no"}
                       for s in range(3) for w in range(10) for _ in range(3)])
    path = Synthesizer("wcgan", steps=2, lookup_pairs=True, **TINY).fit(df, target="label").save(folder / "lookup.gfm")
    (lk,) = json.loads(split(path)[0]["__metadata__"]["meta"])["encoder"]["lookups"]
    assert (sorted(lk["key"]), lk["columns"]) == (["store", "week"], ["price"])
    return path


def _lookup(m):
    return m["encoder"]["lookups"][0]


LOOKUPS = {
    "a looked-up column that is a key": (lambda m: _lookup(m).update(columns=[_lookup(m)["key"][0]]),
                                         "both looked up and a key"),
    "a lookup of an unknown column": (lambda m: _lookup(m).update(columns=["nope"]), "nope is not an encoded column"),
    "a lookup's key of one column twice": (lambda m: _lookup(m).update(key=["store", "store"]), "not two distinct"),
    "a looked-up number that is not one": (lambda m: _lookup(m)["values"][0].__setitem__(0, "x"),
                                           "is not a finite number"),
    "a key value outside its categories": (lambda m: _lookup(m)["keys"][0].__setitem__(
        _lookup(m)["key"].index("store"), "s9"), "s9 is not one of column store"),
    "pairs without their values": (lambda m: _lookup(m)["values"].pop(), "pairs for"),
    "a missing value where there is none": (lambda m: _lookup(m)["values"][0].__setitem__(0, None), "which has none"),
}
FIXTURES = {**{k: "joint_model" for k in JOINTS}, **{k: "forbid_model" for k in SUPPORTS},
            **{k: "lookup_model" for k in LOOKUPS}}


@pytest.mark.parametrize("case", sorted(CRAFTED) + sorted(JOINTS) + sorted(SUPPORTS) + sorted(LOOKUPS))
def test_crafted_metadata_is_refused_in_one_line_without_building_anything(case, request, folder):
    """Each crafted change of the base model's metadata (a joint's, of the model with joined categories; a
    support's, of the model with forbidden combinations)."""
    model = request.getfixturevalue(FIXTURES.get(case, "model"))
    change, match = {**CRAFTED, **JOINTS, **SUPPORTS, **LOOKUPS}[case]
    meta = json.loads(split(model)[0]["__metadata__"]["meta"])
    change(meta)
    path = with_meta(model, folder / "crafted.gfm", meta)
    size = path.stat().st_size

    def load():
        with pytest.raises(ModelFileError, match=match) as info:
            Synthesizer.load(path, device="cpu")
        assert "\n" not in str(info.value)

    # the 20,000-wide layer took 1.9 GB, the 200,000 labels 2.7 GB before the checks
    assert peak_growth(load) < 64 * 2**20 + 20 * size
    for command in (["info", str(path)], ["sample", str(path), "-n", "5", "-o", str(folder / "s.csv")]):
        rc, _, err = run_cli(command)
        one_error_line(rc, err)
    assert not (folder / "s.csv").exists()


def test_deeply_nested_metadata_is_refused(model, folder):
    path = with_meta(model, folder / "nested.gfm", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFileError, match="nested|JSON"):
        Synthesizer.load(path)
    meta = json.loads(split(model)[0]["__metadata__"]["meta"])
    meta["schema"]["extra"]["deep"] = json.loads("[" * 900 + "]" * 900)  # loads, but would not print
    path = with_meta(model, folder / "nested.gfm", meta)
    rc, _, err = run_cli(["info", "--json", str(path)])
    one_error_line(rc, err)


def test_a_tensor_relabelled_to_another_dtype_is_refused(model, folder):
    header, body = split(model)
    name = next(k for k, v in header.items() if k != "__metadata__" and v["dtype"] == "F32")
    header[name]["dtype"] = "I32"  # the same bytes, read as integers: garbage rows with exit 0 before
    with pytest.raises(ModelFileError, match="I32"):
        Synthesizer.load(join(folder / "relabelled.gfm", header, body))


def test_non_finite_weights_are_refused(model, folder):
    header, body = split(model)
    name, info = next((k, v) for k, v in header.items() if k != "__metadata__" and v["dtype"] == "F32")
    start = info["data_offsets"][0]
    body = body[:start] + struct.pack("<f", float("nan")) + body[start + 4:]
    with pytest.raises(ModelFileError, match="NaN or infinite"):
        Synthesizer.load(join(folder / "nan.gfm", header, body))


def test_a_fifo_is_refused_at_once(folder):
    import os

    fifo = folder / "pipe.gfm"
    if not fifo.exists():
        os.mkfifo(fifo)
    for command in (["info", str(fifo)], ["sample", str(fifo), "-n", "5", "-o", str(folder / "f.csv")]):
        rc, _, err = run_cli(command)  # blocked forever before
        one_error_line(rc, err)
        assert "not a regular file" in err


def test_the_golden_file_of_release_0_1_0_passes_the_checks():
    from ganforge import modelcheck

    meta, shapes = modelcheck.read_table(Path(__file__).parent / "golden" / "model-0.1.0.gfm")
    assert meta["model"] == "wcgan" and shapes


# --- fuzzed metadata ------------------------------------------------------------------------------------
NASTY = st.sampled_from([None, True, 0, -1, 1.5, 2**63, -2**63, 20_000, 200_000, 10**12, float("nan"),
                         float("inf"), -float("inf"), 1e308, -0.0, "", "[/x]", "a\nb", "\x1b[31m", "float64",
                         "category", "onehot", "mode_specific", [], {}, [None], [1, 2], {"a": 1}, ["a", "a"]])
JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**64, 2**64) | st.floats() | st.text(max_size=8),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4),
                    max_leaves=8)


@FUZZ
@given(data=st.data())
def test_fuzzed_metadata_is_refused_in_one_line_or_gives_correct_rows(model, folder, data):
    meta = json.loads(split(model)[0]["__metadata__"]["meta"])
    places = [p for p in paths(meta) if p]
    place = data.draw(st.sampled_from(places))
    value = data.draw(st.one_of(NASTY, JSON))
    put(meta, place, value, delete=data.draw(st.booleans()))
    path = with_meta(model, folder / "fuzzed.gfm", meta)
    holder = {}
    growth = peak_growth(lambda: holder.update(syn=load_or_refuse(path)))
    assert growth < 64 * 2**20 + 20 * path.stat().st_size
    syn = holder["syn"]
    if syn is not None:
        try:
            rows = syn.sample(40, seed=0)
        except GanforgeError as exc:
            assert "\n" not in str(exc)
        else:
            check_rows(rows, syn, 40)
    rc, _, err = run_cli(["info", str(path)])
    if rc != 0:
        one_error_line(rc, err)


# --- fuzzed safetensors headers -------------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_fuzzed_headers_are_refused_in_one_line_or_load(model, folder, data):
    header, body = split(model)
    names = sorted(k for k in header if k != "__metadata__")
    name = data.draw(st.sampled_from(names))
    what = data.draw(st.sampled_from(["dtype", "shape", "data_offsets", "entry", "drop", "extra", "metadata"]))
    if what == "dtype":
        header[name]["dtype"] = data.draw(st.sampled_from(["F64", "F16", "BF16", "I64", "I32", "U8", "BOOL", "X",
                                                           None, 3]))
    elif what == "shape":
        header[name]["shape"] = data.draw(st.lists(st.integers(-3, 10**12) | NASTY, max_size=3))
    elif what == "data_offsets":
        header[name]["data_offsets"] = data.draw(st.lists(st.integers(-10, 2**64) | NASTY, max_size=3))
    elif what == "entry":
        header[name] = data.draw(NASTY | JSON)
    elif what == "drop":
        del header[name]
    elif what == "extra":
        header["z.extra"] = {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}
    else:
        header["__metadata__"][data.draw(st.sampled_from(["format", "format_version", "kind", "meta"]))] = \
            data.draw(NASTY | JSON)
    path = join(folder / "header.gfm", header, body)
    syn = load_or_refuse(path)
    if syn is not None:
        check_rows(syn.sample(20, seed=0), syn, 20)
    rc, _, err = run_cli(["info", str(path)])
    if rc != 0:
        one_error_line(rc, err)


# --- fuzzed command-line options -------------------------------------------------------------------------
CONDITION = st.one_of(
    st.builds(lambda c, v: f"{c}={v}", st.sampled_from(["label", "x", "hours", "city", "grade", "nope", "", "x[/x]"]),
              st.one_of(st.sampled_from(["yes", "no", "0", "1.5", "abc", "nan", "inf", "-1e308", "1e308", "c3", ""]),
                        st.text(max_size=6))),
    st.builds(lambda a, b: f"label=yes:{a},no:{b}",
              *[st.sampled_from(["0", "1", "-1", "nan", "inf", "1e308", "0.3", "x", ""])] * 2),
    st.text(max_size=12),
)


@FUZZ
@given(n=st.integers(-5, 300), conditions=st.lists(CONDITION, max_size=2),
       chunk=st.sampled_from(["0", "-1", "1", "7", "100000", "x"]), seed=st.sampled_from(["0", "-1", "2**70", "7"]),
       suffix=st.sampled_from([".csv", ".parquet", ".tsv", ".xlsx", ""]))
def test_fuzzed_sample_options_give_one_error_line_or_the_rows(model, folder, n, conditions, chunk, seed, suffix):
    out = folder / f"out{suffix}"
    if out.is_dir():
        import shutil

        shutil.rmtree(out)
    elif out.exists():
        out.unlink()
    args = ["sample", str(model), "-n", str(n), "-o", str(out), "--chunk-size", chunk, "--seed", seed]
    for c in conditions:
        args += ["--condition", c]
    rc, _, err = run_cli(args)
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
    assert not leftovers
    if rc != 0:
        assert rc == 2 and err.count("\n") >= 1 and "Traceback" not in err
        if err.startswith("error: "):  # typer's own usage errors (a word for -n) are several lines, exit 2
            assert err.count("\n") == 1
        assert not (out.exists() and out.is_file())
        return
    syn = Synthesizer.load(model)
    rows = (pd.read_parquet(out) if out.is_dir() or suffix == ".parquet"
            else pd.read_csv(out, sep="\t" if suffix == ".tsv" else ",", keep_default_na=True))
    assert len(rows) == n and list(rows.columns) == syn.schema_.names


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(options=st.lists(st.sampled_from([
    ["--steps", "0"], ["--steps", "-1"], ["--epochs", "nan"], ["--epochs", "1e308"], ["--batch-size", "0"],
    ["--lr", "inf"], ["--seed", "-3"], ["--set", "latent_dim=1e9"], ["--set", "pac=7"], ["--set", "gumbel_tau=nan"],
    ["--set", "generator_layers=[]"], ["--set", "max_modes=0"], ["--dp-epsilon", "nan"], ["--dp-delta", "2"],
    ["--categorical", "nope"], ["--drop", "x,hours,city,grade,grade_num,label"], ["--time-limit", "-1"],
    ["--condition-on", "kmeans:1"], ["--target", "a\nb"], ["--ordinal", "grade="]]), max_size=2))
def test_fuzzed_fit_options_give_one_error_line_or_a_model(folder, options):
    data = folder / "fit.csv"
    if not data.exists():
        table(120).to_csv(data, index=False)
    out = folder / "fitted.gfm"
    if out.exists():
        out.unlink()
    args = ["fit", str(data), "-o", str(out), "--steps", "1", "--batch-size", "40", "-q", "--set", "latent_dim=8",
            "--set", 'generator_layers=[{"width": 8}]', "--set", 'discriminator_layers=[{"width": 8}]']
    rc, _, err = run_cli(args + [a for o in options for a in o])
    if rc == 0:
        assert Synthesizer.load(out).sample(5, seed=0).shape[0] == 5
    else:
        assert rc == 2 and "Traceback" not in err and not out.exists()
        if err.startswith("error: "):
            assert err.count("\n") == 1
