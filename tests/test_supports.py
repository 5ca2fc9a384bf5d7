"""Combinations no training row holds, never generated (``forbid_unseen_combinations``): each categorical column
keeps its own output, and the output head draws a follower only among the values its leader's value allows."""

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import SMALL, fitted_encoder
from ganforge import Synthesizer
from ganforge.encoding.base import Span
from ganforge.encoding.supports import Support
from ganforge.models.networks import OutputHead

#: the roles each level allows, with their shares: every role occurs with two levels or more, so that no value
#: of one column implies one of the other (no linked value would take the pair)
ROLES = {"L1": ("abc", [0.5, 0.3, 0.2]), "L2": ("abcd", [0.1, 0.4, 0.3, 0.2]), "L3": ("cdef", [0.2, 0.3, 0.3, 0.2]),
         "L4": ("adef", [0.1, 0.2, 0.3, 0.4])}
ALLOWED = ((0, 1, 2), (0, 1, 2, 3), (2, 3, 4, 5), (0, 3, 4, 5))  # role codes a..f by level L1..L4


def staff(n=3000, seed=0):
    """A level and a role that go together (15 of 24 pairs occur), a colour unrelated to them, a pay the
    level raises and a label."""
    rng = np.random.default_rng(seed)
    level = rng.choice(list(ROLES), n, p=[0.4, 0.3, 0.2, 0.1])
    role = np.array([rng.choice(list(ROLES[x][0]), p=ROLES[x][1]) for x in level])
    pay = rng.lognormal(10, 0.3, n) * pd.Series(level).map({"L1": 1.0, "L2": 1.3, "L3": 1.7, "L4": 2.2}).to_numpy()
    label = np.where(rng.random(n) < np.where(np.isin(role, ["e", "f"]), 0.5, 0.2), "yes", "no")
    return pd.DataFrame({"level": level, "role": role, "colour": rng.choice(["red", "blue"], n),
                         "pay": pay.round(0), "label": label})


def unseen_share(real, rows, a="level", b="role"):
    seen = set(zip(real[a], real[b]))
    return float(np.mean([k not in seen for k in zip(rows[a], rows[b])]))


def test_finds_the_pair_with_empty_combinations_and_what_each_value_allows():
    df = staff()
    found = fitted_encoder(df, "label", forbid_unseen_combinations=True).supports_
    assert found == [Support("level", "role", ALLOWED, found[0].v)] and found[0].v > 0.4
    assert found[0].forbidden == 9
    assert fitted_encoder(df, "label").supports_ == []  # off by default
    assert fitted_encoder(df, "label", forbid_unseen_combinations=True, forbid_min_association=0.9).supports_ == []
    # a pair whose every combination occurs forbids nothing
    mixed = df.assign(role=np.random.default_rng(1).permutation(df["role"].to_numpy()))
    assert fitted_encoder(mixed, "label", forbid_unseen_combinations=True).supports_ == []
    # with linked values: a chain, the status leads the role (a child is never married: no link says so, only
    # the empty combinations) and the role the sex; the links between them (a husband is married and male)
    # are dropped, the supports holding them
    from test_joints import ROLES as STATUS_ROLES, households

    links = fitted_encoder(households(), "label", link_values=True).links_
    enc = fitted_encoder(households(), "label", forbid_unseen_combinations=True, link_values=True)
    assert {"role = 'husband' => status = 'married'", "role = 'wife' => sex = 'f'"} <= {ln.text for ln in links}
    assert [(s.leader, s.follower) for s in enc.supports_] == [("status", "role"), ("role", "sex")]
    assert enc.links_ == []
    roles, statuses = sorted({r for rs, _ in STATUS_ROLES.values() for r in rs}), sorted(STATUS_ROLES)
    assert {(statuses[a], roles[b]) for a, codes in enumerate(enc.supports_[0].allowed) for b in codes} == {
        (st, r) for st, (rs, _) in STATUS_ROLES.items() for r in rs}
    assert enc.supports_[1].allowed[roles.index("husband")] == (1,)  # m


def _head(activation):
    spans = [Span(1, "tanh"), Span(4, activation), Span(2, "gumbel"), Span(6, activation, support=(1, 4, ALLOWED))]
    return OutputHead(spans)


@pytest.mark.parametrize("activation", ["gumbel", "softmax"])
def test_the_head_draws_a_follower_among_the_values_its_leader_allows(activation):
    head = _head(activation)
    allowed = torch.zeros(4, 6, dtype=torch.bool)
    for a, codes in enumerate(ALLOWED):
        allowed[a, list(codes)] = True
    # sampling: the leader's draw decides; the follower's own logits favour forbidden values
    x = torch.zeros(100_000, 13)
    x[:, 7:13] = torch.tensor([0.5, 0.0, -0.5, 1.0, 0.2, 2.0])
    if activation == "softmax":  # decoded by argmax: each level in turn
        x[:, 1:5] = torch.nn.functional.one_hot(torch.arange(100_000) % 4, 4).float()
    with torch.no_grad():
        out = head(x, generator=torch.Generator().manual_seed(0), hard=True)
    lead, fol = out[:, 1:5].argmax(1), out[:, 7:13].argmax(1)
    assert not (~allowed[lead, fol]).any()
    assert torch.bincount(lead, minlength=4).min() > 10_000
    if activation == "gumbel":  # each level's roles in the shares of the follower's softmax over those it allows
        for a in range(4):
            want = torch.softmax(x[0, 7:13].masked_fill(~allowed[a], float("-inf")), 0)
            got = torch.bincount(fol[lead == a], minlength=6).float() / (lead == a).sum()
            assert float((got - want).abs().max()) < 0.015, (a, got, want)
    else:  # a softmax span is decoded by its argmax: the most likely value the leader allows
        assert fol.tolist() == [[0, 3, 5, 5][a] for a in lead.tolist()]
    # training: with a sure leader, the follower's probabilities stay on what it allows; gradients reach both
    x = torch.randn(4000, 13)
    x[:, 1:5] = torch.nn.functional.one_hot(torch.arange(4000) % 4, 4) * 30.0
    x.requires_grad_(True)
    soft = head(x)
    fol = soft[:, 7:13]
    assert torch.allclose(fol.sum(1), torch.ones(4000), atol=1e-5)
    assert float(fol.detach()[~allowed[torch.arange(4000) % 4]].max()) < 1e-6
    x = torch.randn(4000, 13, requires_grad=True)  # an unsure leader: its gradient too
    (head(x)[:, 12] - head(x)[:, 7]).sum().backward()
    assert x.grad[:, 7:13].abs().sum() > 0 and x.grad[:, 1:5].abs().sum() > 0


def test_a_chain_of_supports_is_applied_leader_first():
    """A column that follows one and leads another (level -> role -> kind): the role is drawn among what the
    level allows before the kind among what the role allows, in sampling and in training, whatever the
    order of the spans."""
    kinds = ((0,), (0, 1), (1,), (1, 2), (2,), (0, 2))  # role a..f -> the kinds it goes with
    layouts = {  # the columns' first columns, and the spans: the role before its level, or the kind first
        "role first": ({"role": 1, "level": 7, "kind": 11},
                       [Span(1, "tanh"), Span(6, "gumbel", support=(7, 4, ALLOWED)), Span(4, "gumbel"),
                        Span(3, "gumbel", support=(1, 6, kinds))]),
        "kind first": ({"kind": 1, "role": 4, "level": 10},
                       [Span(1, "tanh"), Span(3, "gumbel", support=(4, 6, kinds)),
                        Span(6, "gumbel", support=(10, 4, ALLOWED)), Span(4, "gumbel")])}
    for at, spans in layouts.values():
        head = OutputHead(spans)
        block = {c: slice(at[c], at[c] + w) for c, w in (("level", 4), ("role", 6), ("kind", 3))}
        with torch.no_grad():
            out = head(torch.zeros(20_000, 14), generator=torch.Generator().manual_seed(0), hard=True)
        lv, ro, ki = (out[:, block[c]].argmax(1).tolist() for c in ("level", "role", "kind"))
        assert all(r in ALLOWED[v] for v, r in zip(lv, ro)) and all(k in kinds[r] for r, k in zip(ro, ki))
        assert len(set(zip(lv, ro, ki))) > 20  # every chain drawn, not a few
        # training, a sure level L1 (roles a, b, c): no kind 2, which only roles L1 forbids go with
        x = torch.randn(1000, 14)
        x[:, block["level"]] = torch.nn.functional.one_hot(torch.zeros(1000, dtype=torch.long), 4) * 30.0
        soft = head(x)
        assert float(soft[:, block["role"]][:, 3:].max()) < 1e-6
        assert float(soft[:, block["kind"]][:, 2].max()) < 1e-6 and float(soft[:, block["kind"]][:, 0].min()) > 0


def test_a_linked_value_stays_exact_over_a_support():
    """A follower that a third column's value links (one way) takes the linked value where that value is
    drawn, whatever its support allows; elsewhere its support holds."""
    link = (13, 2, 1, 5, False)  # the last span's value 1 => the follower's value 5 (f)
    head = OutputHead([Span(1, "tanh"), Span(4, "gumbel"), Span(2, "gumbel"),
                       Span(6, "gumbel", links=(link,), support=(1, 4, ALLOWED)), Span(2, "gumbel")])
    with torch.no_grad():
        out = head(torch.zeros(20_000, 15), generator=torch.Generator().manual_seed(0), hard=True)
    lead, fol, linked = out[:, 1:5].argmax(1), out[:, 7:13].argmax(1), out[:, 13:15].argmax(1) == 1
    assert (fol[linked] == 5).all()
    allowed = torch.tensor([[k in codes for k in range(6)] for codes in ALLOWED])
    assert allowed[lead[~linked], fol[~linked]].all()
    assert (~allowed[lead[linked], fol[linked]]).any()  # f where L1 or L2 was drawn: the link's fact wins


def role_by_level_tvd(real, rows):
    """The total variation between the real and generated role shares of each level, weighted by the level's."""
    a = pd.crosstab(real["level"], real["role"], normalize="index")
    b = pd.crosstab(rows["level"], rows["role"], normalize="index").reindex(index=a.index, columns=a.columns,
                                                                             fill_value=0)
    return float((0.5 * (a - b).abs().sum(axis=1) * real["level"].value_counts(normalize=True)).sum())


def test_generated_rows_hold_no_combination_the_training_rows_lack(tmp_path):
    from conftest import cli_fit
    from test_cli_polish import run

    df = staff()
    rows = {}
    for forbid in (True, False):
        syn = Synthesizer("wcgan", "default", forbid_unseen_combinations=forbid, seed=0, device="cpu", epochs=10,
                          min_steps=300, **SMALL).fit(df, target="label")
        rows[forbid] = syn.sample(4000, seed=1)
    assert syn.summary()["forbidden_combinations"] == {}
    # seeds 0-2: learnt one by one, the same fits put 0.29 of their rows in combinations no real row holds and
    # the roles of each level 0.35-0.37 away from the real ones (total variation); forbidden: none, 0.15-0.16
    assert unseen_share(df, rows[False]) > 0.1 and role_by_level_tvd(df, rows[False]) > 0.3
    assert unseen_share(df, rows[True]) == 0.0 and role_by_level_tvd(df, rows[True]) < 0.22
    for c in ("level", "role"):  # each column's shares are still learnt
        real, gen = df[c].value_counts(normalize=True), rows[True][c].value_counts(normalize=True)
        assert 0.5 * real.sub(gen, fill_value=0).abs().sum() < 0.06, c
    r, model = cli_fit(tmp_path, df, "label", "forbid_unseen_combinations=true")
    line = ("combinations no training row holds are never generated (--set forbid_unseen_combinations=false to "
            "allow them), of: role given level (9)")
    assert line in r.stdout.splitlines()
    assert "role given level (9)" in " ".join(run("info", str(model)).stdout.split())
    again = Synthesizer.load(model, device="cpu")
    assert unseen_share(df, again.sample(2000, seed=2)) == 0.0
