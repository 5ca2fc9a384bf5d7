"""The label classifier of conditional models (``classifier_weight``): the generator's loss adds the
cross-entropy of the label each generated row was conditioned on, as a classifier trained on real
rows sees it."""

import copy

import pytest
import torch
import torch.nn.functional as F

from conftest import SMALL, adversarial_trainer, fidelity_ok, four_gaussians
from ganforge import Synthesizer
from ganforge.encoding.base import Span
from ganforge.errors import ConfigError, TrainingError
from ganforge.models.networks import Discriminator, Generator, LabelClassifier

LAYER = [{"width": 16, "activation": "leaky_relu"}]


def _tiny(weight: float):
    """A generator, critic and classifier on 40 rows of 5 columns with a 2-label condition."""
    real = torch.rand(40, 5)
    labels = (real[:, 0] > 0.5).long()
    cond = F.one_hot(labels, 2).float()

    class Source:
        def sample(self, n):
            return real[:n], cond[:n]

    torch.manual_seed(0)
    gen = Generator(8, 2, [{"width": 16, "activation": "relu", "batchnorm": True}], [Span(2, "tanh"), Span(3, "softmax")])
    disc = Discriminator(5, 2, LAYER)
    clf = LabelClassifier(5, 2, LAYER)
    tr = adversarial_trainer(gen, disc, Source(), batch_size=40, n_critic=1, reuse_fakes=True, classifier=clf,
                             classifier_weight=weight)
    return tr, real, labels, cond


@pytest.mark.parametrize("weight", [0.0, 0.7])
def test_generator_gradient_adds_the_weighted_cross_entropy_of_the_updated_classifier(weight):
    tr, real, labels, cond = _tiny(weight)
    fam = tr.family
    gen, clf = fam.generator, fam.classifier
    gen_before, clf_before, clf_init = copy.deepcopy(gen), copy.deepcopy(clf), copy.deepcopy(clf)
    torch.manual_seed(1)
    tr.train_step()
    # the classifier made one Adam step on the real rows' cross-entropy
    opt = torch.optim.Adam(clf_before.parameters(), lr=fam.opt_c.param_groups[0]["lr"])
    F.cross_entropy(clf_before(real), labels).backward()
    opt.step()
    for a, b in zip(clf_before.parameters(), clf.parameters()):
        torch.testing.assert_close(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(clf_init.parameters(), clf.parameters()))
    # the generator step's rows are the critic step's (reuse_fakes): its noise is the first draw
    torch.manual_seed(1)
    fake = gen_before(torch.randn(40, 8), cond)
    fam.discriminator.requires_grad_(False)
    loss = -fam.discriminator(fake, cond).mean() + weight * F.cross_entropy(clf.eval()(fake), labels)
    grads = torch.autograd.grad(loss, list(gen_before.parameters()))
    for g, p in zip(grads, gen.parameters()):
        torch.testing.assert_close(g, p.grad, rtol=1e-4, atol=1e-6)
    # the reported generator loss is the adversarial one, whatever the weight
    rec = tr.flush()[-1]
    assert rec["g_loss"] == pytest.approx(-fam.discriminator(fake, cond).mean().item(), rel=1e-5)
    if weight:  # the classifier's term is not zero, so the check above tells the weights apart
        assert F.cross_entropy(clf(fake), labels).item() > 0.1


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["full", "matched", "quantile"])
def test_the_classifier_teaches_the_generator_which_rows_go_with_a_label(loss):
    """Four Gaussians, colour the condition, a short budget: with the classifier's loss the generated
    rows' colour agrees with their position far more often than without it, at the same steps, whether
    the loss pushes every row (full) or only up to the real rows (matched, quantile)."""
    df = four_gaussians(2000, seed=4)
    # the classifier alone: without the default's moment loss, which teaches the same (test_conditioning.py),
    # and with the encoding the figures below were measured with (the default's mode_quantile: 0.39 -> 0.77)
    kw = dict(steps=300, seed=0, n_critic=2, moment_weight=0.0, numeric_encoding="mode_specific", **SMALL)
    without = Synthesizer("wcgan", classifier_weight=0.0, **kw).fit(df, target="color")
    with_clf = Synthesizer("wcgan", classifier_weight=1.0, classifier_loss=loss, **kw).fit(df, target="color")
    # the share of generated rows whose colour is that of their nearest mixture centre (real rows: 100%)
    a, b = (fidelity_ok(df, m.sample(4000, seed=1))[1]["colour_agrees"] for m in (without, with_clf))
    # measured: 0.40 without (chance: 0.375), 0.86 with (full; matched and quantile 0.855); at 600 steps
    # 0.69 and 0.92 (full)
    assert b > 0.8 and b - a > 0.25, (a, b)
    assert with_clf.trainer_.family.classifier is not None and without.trainer_.family.classifier is None


def test_classifier_needs_labels_and_stays_out_of_the_model_file(tmp_path):
    df = four_gaussians(500)
    # an unconditional model has no label to predict: the option does nothing
    assert Synthesizer("wgan", steps=2, classifier_weight=1.0, **SMALL).fit(df).trainer_.family.classifier is None
    syn = Synthesizer("wcgan", steps=2, classifier_weight=1.0, **SMALL).fit(df, target="color")
    syn.save(tmp_path / "m.gfm")
    from ganforge.modelfile import load

    tensors, meta = load(tmp_path / "m.gfm", kind="model")
    assert not any(k.startswith("classifier.") for k in tensors)
    assert meta["config"]["classifier_weight"] == 1.0


@pytest.mark.parametrize("bad", [-1, "yes", True, float("inf")])
def test_classifier_weight_must_be_a_number_from_zero(bad):
    with pytest.raises(ConfigError, match="classifier_weight"):
        Synthesizer("wcgan", classifier_weight=bad)


def test_resume_with_a_classifier_from_a_checkpoint_without_one_says_what_to_do(tmp_path):
    df = four_gaussians(500)
    ckpt = tmp_path / "last.ckpt"
    Synthesizer("wcgan", steps=4, classifier_weight=0.0, **SMALL).fit(df, target="color", checkpoint=ckpt,
                                                                        checkpoint_every=2)
    with pytest.raises(TrainingError, match="no label classifier.*classifier_weight=0"):
        Synthesizer("wcgan", steps=6, classifier_weight=1.0, **SMALL).fit(df, target="color", checkpoint=ckpt,
                                                                            resume=True)
    resumed = Synthesizer("wcgan", steps=6, classifier_weight=0.0, **SMALL).fit(df, target="color",
                                                                                 checkpoint=ckpt, resume=True)
    assert resumed.trainer_.step == 6


def test_a_model_file_from_before_the_option_loads_as_trained_without_a_classifier(tmp_path):
    from ganforge import modelfile

    df = four_gaussians(500)
    Synthesizer("wcgan", steps=3, seed=0, classifier_weight=0.0, **SMALL).fit(df, target="color").save(tmp_path / "m.gfm")
    tensors, meta = modelfile.load(tmp_path / "m.gfm", kind="model")
    del meta["config"]["classifier_weight"]
    modelfile.save(tmp_path / "old.gfm", tensors, meta, kind="model")
    old = Synthesizer.load(tmp_path / "old.gfm", device="cpu")
    assert old.config["classifier_weight"] == 0.0  # the file was trained without one
    assert len(old.sample(50, seed=0)) == 50


def test_matched_loss_is_each_labels_excess_over_the_real_rows_and_stops_there():
    """classifier_loss=matched: per label, the generated rows' mean cross-entropy minus the real rows'
    (never below zero), weighted by the label's share of the generated batch."""
    from ganforge.models.families.adversarial import label_matched_loss

    torch.manual_seed(0)
    clf = LabelClassifier(5, 3, LAYER).eval()
    real, fake = torch.randn(60, 5), torch.randn(30, 5, requires_grad=True)
    y_real, y_fake = torch.arange(60) % 3, torch.tensor([0] * 20 + [1] * 10)  # label 2 not generated
    cr, cf = F.one_hot(y_real, 3).float(), F.one_hot(y_fake, 3).float()
    ce_f = F.cross_entropy(clf(fake), y_fake, reduction="none")
    ce_r = F.cross_entropy(clf(real), y_real, reduction="none").detach()
    parts = [torch.relu(ce_f[y_fake == k].mean() - ce_r[y_real == k].mean()) * (y_fake == k).sum() for k in (0, 1)]
    expected = sum(parts) / 30
    got = label_matched_loss(clf, fake, cf, real, cr)
    torch.testing.assert_close(got, expected)
    assert got.item() > 0.05  # the random rows are less recognisable than the real ones: not a zero check
    # rows as recognisable as the real ones: nothing to push, and no gradient
    same = real[:30].clone().requires_grad_(True)
    zero = label_matched_loss(clf, same, cr[:30], real[:30], cr[:30])
    assert zero.item() == 0.0
    zero.backward()
    assert same.grad is None or not same.grad.any()
    # where full cross-entropy would still push (it is not zero there)
    assert F.cross_entropy(clf(real[:30]), y_real[:30]).item() > 0.5


def test_quantile_loss_matches_each_labels_sorted_log_probabilities_both_ways():
    """classifier_loss=quantile: per label, the mean gap between the generated rows' sorted
    log-probabilities and the real rows' at the same quantiles; it pushes over-confident rows back."""
    from ganforge.models.families.adversarial import label_quantile_loss

    torch.manual_seed(0)
    clf = LabelClassifier(5, 2, LAYER).eval()
    real = torch.randn(40, 5)
    y = torch.arange(40) % 2
    c = F.one_hot(y, 2).float()
    assert label_quantile_loss(clf, real, c, real, c).item() < 1e-6  # the real rows themselves
    # by hand: one label, 3 generated rows against 5 real ones
    fake = torch.randn(3, 5, requires_grad=True)
    cf, cr = F.one_hot(torch.zeros(3, dtype=torch.long), 2).float(), c[:10]
    lf = -F.cross_entropy(clf(fake), torch.zeros(3, dtype=torch.long), reduction="none")
    lr = -F.cross_entropy(clf(real[:10]), y[:10], reduction="none").detach()
    lr0 = torch.sort(lr[y[:10] == 0]).values  # 5 values: quantiles 0, 0.5, 1 are the 1st, 3rd and 5th
    expected = (torch.sort(lf).values - lr0[[0, 2, 4]]).abs().mean()
    torch.testing.assert_close(label_quantile_loss(clf, fake, cf, real[:10], cr), expected)
    # rows the classifier is surer of than of any real row are pushed down (their log-probability falls)
    logits = clf(real)
    sure = real[(logits[:, 0] - logits[:, 1]).argsort(descending=True)[:4]].clone().requires_grad_(True)
    loss = label_quantile_loss(clf, sure, F.one_hot(torch.zeros(4, dtype=torch.long), 2).float(), real, c)
    loss.backward()
    step = sure - 0.1 * sure.grad
    before = -F.cross_entropy(clf(sure), torch.zeros(4, dtype=torch.long)).item()
    after = -F.cross_entropy(clf(step), torch.zeros(4, dtype=torch.long)).item()
    assert loss.item() > 0 and after < before


def test_classifier_loss_must_be_full_or_matched():
    with pytest.raises(ConfigError, match="classifier_loss"):
        Synthesizer("wcgan", classifier_loss="capped")


def test_the_matched_loss_takes_its_reference_from_rows_the_classifier_never_trains_on():
    """With classifier_loss=matched the classifier learns from 80% of the rows and the reference
    cross-entropy comes from the other 20% (a classifier overfits its own rows, and the reference would
    ask for rows more typical of their label than real ones); the split is the same on every run."""
    from ganforge.training.sources import TensorSource

    X = torch.arange(100, dtype=torch.float32)[:, None].repeat(1, 3)
    codes = (torch.arange(100) % 2)
    src = TensorSource(X, codes, 2, onehot=lambda c: F.one_hot(c, 2).float())
    a, b = src.split(0.2)
    rows_a, rows_b = set(a.X[:, 0].tolist()), set(b.X[:, 0].tolist())
    assert len(rows_a) == 80 and len(rows_b) == 20 and not rows_a & rows_b
    assert torch.equal(src.split(0.2)[1].X, b.X) and not torch.equal(src.split(0.2, seed=1)[1].X, b.X)
    assert torch.equal(a.codes, a.X[:, 0].long() % 2)  # each row keeps its label
    df = four_gaussians(500)
    syn = Synthesizer("wcgan", steps=2, classifier_weight=1.0, classifier_loss="matched", **SMALL).fit(df, target="color")
    train, ref = syn.trainer_.family._classifier_sources
    assert len(train.X) + len(ref.X) == len(syn.trainer_.family.source.X) and len(ref.X) == round(0.2 * len(df))
    full = Synthesizer("wcgan", steps=2, classifier_weight=1.0, classifier_loss="full", **SMALL).fit(df, target="color")
    assert full.trainer_.family._classifier_sources[0] is full.trainer_.family.source  # full: every row
