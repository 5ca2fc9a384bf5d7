"""Linked values (``link_values``): a value of one column that every training row shows to go with a
value of another is found at fit and kept exactly by the generator's output head."""

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import SMALL, fitted_encoder
from ganforge import Synthesizer
from ganforge.encoding import links
from ganforge.encoding.base import Span
from ganforge.models.networks import OutputHead
from ganforge.schema import infer_schema


def telco(n=2000, seed=0):
    """internet "No" exactly where security is "No internet service" (and backup too); a message count
    that is 0 exactly where the plan is "no"; a husband always male and a wife always female (one way:
    other roles are either); an unrelated column."""
    rng = np.random.default_rng(seed)
    internet = rng.choice(["No", "DSL", "Fiber"], n, p=[0.25, 0.35, 0.4])
    security = np.where(internet == "No", "No internet service", rng.choice(["Yes", "No"], n))
    backup = np.where(internet == "No", "No internet service", rng.choice(["Yes", "No"], n, p=[0.3, 0.7]))
    plan = rng.choice(["yes", "no"], n, p=[0.3, 0.7])
    msgs = np.where(plan == "no", 0, rng.integers(5, 50, n))
    role = rng.choice(["husband", "wife", "child", "other"], n, p=[0.4, 0.3, 0.2, 0.1])
    sex = np.where(role == "husband", "M", np.where(role == "wife", "F", rng.choice(["M", "F"], n)))
    return pd.DataFrame({"internet": internet, "security": security, "backup": backup, "plan": plan,
                         "msgs": msgs, "role": role, "sex": sex, "noise": rng.normal(0, 1, n),
                         "churn": rng.choice(["yes", "no"], n)})


def links_of(df, **encoding):
    return fitted_encoder(df, "churn", **{"link_values": True, **encoding})


def test_finds_the_links_a_table_has_and_no_others():
    texts = {ln.text for ln in links_of(telco()).links_}
    assert texts == {
        "internet = 'No' <=> security = 'No internet service'",
        "internet = 'No' <=> backup = 'No internet service'",  # the leader of both: no chain through security
        "plan = 'no' <=> msgs = 0",
        "role = 'husband' => sex = 'M'",
        "role = 'wife' => sex = 'F'",
    }
    # mode-specific normalisation's Gaussian modes can decode to a point mass's value: not linked
    assert {ln.text for ln in links_of(telco(), numeric_encoding="mode_specific").links_} == texts - {
        "plan = 'no' <=> msgs = 0"}
    both_ways = {ln.text for ln in links_of(telco(), link_one_way=False).links_}
    assert both_ways == {t for t in texts if "<=>" in t}
    # columns drawn independently: nothing, though some values are rare
    rng = np.random.default_rng(1)
    df = pd.DataFrame({c: rng.choice(list("abcdef"), 3000, p=[0.5, 0.3, 0.1, 0.05, 0.03, 0.02]) for c in "pqrst"})
    df["churn"] = rng.choice(["yes", "no"], 3000)
    assert links_of(df).links_ == []


def test_the_evaluation_finds_the_links_in_real_rows_and_counts_the_rows_that_break_them():
    real = telco()
    schema = infer_schema(real, target="churn")
    found = links.in_table(real, schema, skip=["churn"])
    assert {ln.text for ln in found} == {ln.text for ln in links_of(real).links_}
    fake = telco(seed=2)
    broken = np.flatnonzero(fake["internet"] == "No")[:37]
    fake.loc[broken, "security"] = "Yes"
    fake.loc[fake.index[fake["role"] == "wife"][:5], "sex"] = "M"
    fake.loc[fake.index[fake["plan"] == "yes"][:11], "msgs"] = 0
    shares = {r["rule"]: (r["kept_share"], r["broken"]) for r in links.kept(found, fake, schema)}
    assert shares["internet = 'No' <=> security = 'No internet service'"] == (1 - 37 / len(fake), 37)
    assert shares["role = 'wife' => sex = 'F'"][1] == 5 and shares["plan = 'no' <=> msgs = 0"][1] == 11
    assert shares["internet = 'No' <=> backup = 'No internet service'"] == (1.0, 0)


def test_a_link_needs_enough_rows_on_each_side():
    df = telco(n=2000)
    small = df.iloc[:30]  # about 7 rows with no internet: too few to tell a link from an accident
    assert not any(ln.leader == "internet" for ln in links_of(small).links_)


def head_with_links():
    # leader: a 3-way choice (slot 0 leads), follower both ways (its slot 1), follower one way (its slot 2)
    spans = [Span(1, "tanh"), Span(3, "gumbel", 0.2), Span(3, "gumbel", 0.2, ((1, 3, 0, 1, True),)),
             Span(4, "softmax", 1.0, ((1, 3, 0, 2, False),))]
    return OutputHead(spans)


def test_the_head_keeps_links_in_sampling_and_training():
    head = head_with_links()
    torch.manual_seed(0)
    x = torch.randn(20000, 11) * 2
    g = torch.Generator().manual_seed(0)
    out = head(x, generator=g, hard=True)
    lead = out[:, 1:4].argmax(1) == 0
    a, b = out[:, 4:7].argmax(1), out[:, 7:11].argmax(1)
    assert bool((a[lead] == 1).all()) and bool((a[~lead] != 1).all())  # both ways
    assert bool((b[lead] == 2).all()) and bool((b[~lead] == 2).any())  # one way: 2 also without the leader
    # without its leader the follower draws its other values in the generator's proportions
    p = torch.softmax(x[~lead][:, 4:7], dim=1)
    p[:, 1] = 0
    expected = (p / p.sum(1, keepdim=True)).mean(0)
    got = torch.bincount(a[~lead], minlength=3).float() / int((~lead).sum())
    assert torch.allclose(got, expected, atol=0.02), (got, expected)
    # training: the follower's probabilities are mixed by the leader's, and gradients reach the leader
    x.requires_grad_(True)
    soft = head(x, generator=torch.Generator().manual_seed(1))
    p_lead = soft[:, 1]
    assert torch.allclose(soft[:, 5], p_lead, atol=1e-5)  # slot 1 of the both-ways follower is the leader's
    assert torch.allclose(soft[:, 4:7].sum(1), torch.ones(len(x)), atol=1e-5)
    assert bool((soft[:, 9] >= p_lead - 1e-5).all())
    soft[:, 5].sum().backward()
    assert float(x.grad[:, 1:4].abs().sum()) > 0 and float(x.grad[:, 4:7].abs().sum()) == 0


@pytest.mark.slow
def test_generated_rows_keep_the_links_and_the_leader_share(tmp_path):
    df = telco(n=3000)
    syn = Synthesizer("wcgan", "default", link_values=True, seed=0, device="cpu", **SMALL).fit(df, target="churn")
    # four links; the default preset groups the message count by the plan, which keeps its zeros as a link would
    assert len(syn.encoder_.links_) == 4 and syn.summary()["grouped_numerics"] == {"msgs": "plan"}
    rows = syn.sample(4000, seed=1)
    assert ((rows["internet"] == "No") == (rows["security"] == "No internet service")).all()
    assert ((rows["internet"] == "No") == (rows["backup"] == "No internet service")).all()
    assert ((rows["plan"] == "no") == (rows["msgs"] == 0)).all()
    assert (rows.loc[rows["role"] == "husband", "sex"] == "M").all()
    assert (rows.loc[rows["role"] == "wife", "sex"] == "F").all()
    # what the generator learnt: the leaders' shares, and the followers' other values
    assert abs((rows["internet"] == "No").mean() - 0.25) < 0.05
    assert abs((rows["plan"] == "no").mean() - 0.7) < 0.05
    assert abs((rows.loc[rows["role"] == "child", "sex"] == "M").mean() - 0.5) < 0.1
    assert abs((rows.loc[rows["internet"] != "No", "security"] == "Yes").mean() - 0.5) < 0.1
    # and the file keeps them: the same rows after loading
    path = syn.save(tmp_path / "m.gfm")
    again = Synthesizer.load(path, device="cpu")
    assert [ln.text for ln in again.encoder_.links_] == [ln.text for ln in syn.encoder_.links_]
    pd.testing.assert_frame_equal(again.sample(500, seed=3), syn.sample(500, seed=3))
    # conditional sampling keeps them too
    yes = syn.sample(1000, condition={"churn": "yes"}, seed=4)
    assert ((yes["plan"] == "no") == (yes["msgs"] == 0)).all()


def test_fit_and_info_name_the_links(tmp_path):
    from conftest import SMALL_SET
    from test_cli_polish import run

    data, model = tmp_path / "telco.csv", tmp_path / "m.gfm"
    telco().to_csv(data, index=False)
    r = run("fit", str(data), "--target", "churn", "--steps", "20", "--batch-size", "200", *SMALL_SET,
            "--set", "link_values=true", "--threads", "1", "-o", str(model))
    assert r.returncode == 0, r.stderr
    line = "values linked as every training row links them (--set link_values=false to learn them freely): "
    said = next(x for x in r.stdout.splitlines() if x.startswith(line))
    # the default preset groups the message count by the plan: its zeros for plan "no" are kept by the group
    assert set(said[len(line):].split("; ")) == {ln.text for ln in links_of(telco(), group_numerics=True).links_}
    assert {ln.text for ln in links_of(telco()).links_} - set(said[len(line):].split("; ")) == {
        "plan = 'no' <=> msgs = 0"}
    assert any(x.startswith("learnt within the categories") and "msgs by plan" in x for x in r.stdout.splitlines())
    info = run("info", str(model)).stdout
    assert "internet = 'No' <=> backup = 'No internet service'" in " ".join(info.split())  # wrapped
