"""Image models: what they learn (on scikit-learn's 8x8 digits), files, errors, augmentation helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from ganforge import ImageSynthesizer, Synthesizer
from ganforge.errors import ConfigError, DataError, ModelFileError
from ganforge.experiments.image_augment import crop_rotate, minority_figures
from ganforge.metrics.images import frechet_distance
from ganforge.images.networks import progressive_schedule

DIGITS = load_digits()
X, Y = DIGITS.images, DIGITS.target  # (1797, 8, 8) floats 0..16


@pytest.fixture(scope="module")
def judge():
    """A classifier trained on the real digits (about 96% accurate on held-out ones)."""
    return LogisticRegression(max_iter=2000).fit(X.reshape(len(X), -1) / 16.0, Y)


@pytest.fixture(scope="module")
def cwgan():
    return ImageSynthesizer("cwgan", "quick", steps=600, seed=0, device="cpu").fit(X, Y)


def _share_as_requested(syn, judge, n=60):
    shares = []
    for digit in range(10):
        imgs = syn.sample(n, label=digit, seed=digit)
        pred = judge.predict(imgs.reshape(n, -1) / 16.0)
        shares.append((pred == digit).mean())
    return np.array(shares)


@pytest.mark.slow
def test_conditional_generator_draws_the_requested_digit(cwgan, judge):
    shares = _share_as_requested(cwgan, judge)
    assert shares.mean() >= 0.6, shares  # chance is 0.1
    assert (shares >= 0.2).sum() >= 8, shares  # not a few easy digits carrying the mean


def test_untrained_generator_does_not(judge):
    untrained = ImageSynthesizer("cwgan", "quick", steps=0, seed=0, device="cpu").fit(X, Y)
    assert _share_as_requested(untrained, judge).mean() < 0.3


@pytest.mark.slow
def test_generated_pixels_follow_the_real_distribution(cwgan):
    fake = cwgan.sample(500, seed=3)
    assert fake.shape == (500, 8, 8) and fake.dtype == X.dtype
    assert fake.min() >= 0 and fake.max() <= 16
    # the mean image of the generated digits resembles the real mean image
    corr = np.corrcoef(fake.mean(0).ravel(), X.mean(0).ravel())[0, 1]
    assert corr > 0.8, corr


@pytest.mark.slow
def test_save_load_gives_the_same_images(cwgan, tmp_path):
    p = cwgan.save(tmp_path / "digits.gf")
    again = ImageSynthesizer.load(p, device="cpu")
    assert np.array_equal(again.sample(20, label=4, seed=1), cwgan.sample(20, label=4, seed=1))
    imgs, labels = again.sample(30, seed=2, return_labels=True)
    assert set(labels) <= set(range(10)) and len(set(labels)) > 3
    with pytest.raises(ModelFileError, match="image model"):
        Synthesizer.load(p)


def test_a_table_model_is_refused_by_image_load(tmp_path):
    import pandas as pd

    df = pd.DataFrame({"a": np.arange(40.0), "b": ["x", "y"] * 20})
    p = Synthesizer("wgan", steps=2, batch_size=20, device="cpu").fit(df).save(tmp_path / "t.gf")
    with pytest.raises(ModelFileError, match="table model"):
        ImageSynthesizer.load(p)


@pytest.mark.slow
def test_one_class_models_learn_only_that_class(judge):
    for model in ("wgan", "progan"):
        syn = ImageSynthesizer(model, "quick", steps=300, seed=1, device="cpu").fit(X, Y, label=0)
        imgs = syn.sample(100, seed=0)
        assert imgs.shape == (100, 8, 8)
        share = (judge.predict(imgs.reshape(100, -1) / 16.0) == 0).mean()
        assert share > 0.5, (model, share)
        with pytest.raises(ConfigError, match="only class 0"):
            syn.sample(3, label=1)


def test_uint8_images_come_back_as_uint8_with_channels():
    imgs = (np.random.default_rng(0).random((64, 1, 8, 12)) * 255).astype(np.uint8)
    syn = ImageSynthesizer("wgan", "quick", steps=3, device="cpu").fit(imgs)
    out = syn.sample(5, seed=0)
    assert out.shape == (5, 1, 8, 12) and out.dtype == np.uint8


def test_progressive_schedule_grows_and_fades_in():
    total = 100
    levels = [progressive_schedule(s, total, [0.2, 0.3, 0.5]) for s in range(total)]
    assert levels[0] == (0, 1.0) and levels[19] == (0, 1.0)
    assert levels[20][0] == 1 and levels[20][1] < 0.2  # fade-in starts
    assert levels[40] == (1, 1.0)
    assert levels[50][0] == 2 and levels[99] == (2, 1.0)
    alphas = [a for lv, a in levels if lv == 2]
    assert alphas == sorted(alphas)


def test_vae_latent_space_separates_digits():
    vae = ImageSynthesizer("vae", "quick", vae_epochs=15, seed=0, device="cpu").fit(X)
    z = vae.embed(X)
    assert z.shape == (len(X), 2)
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    acc = cross_val_score(KNeighborsClassifier(10), z, Y, cv=3).mean()
    assert acc > 0.4, acc  # a 2-D map where neighbours share their digit (chance 0.1)
    with pytest.raises(ConfigError, match="unconditional|learned"):
        vae.sample(3, label=2)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((10, 64)), "shape"),
    (np.zeros((10, 6, 6)), "multiples of 4"),
    (np.zeros((10, 8, 8, 3)), "channels-last"),
    (np.full((10, 8, 8), np.nan), "NaN"),
    (np.array([["a"] * 8] * 8)[None].repeat(3, 0), "numbers"),
])
def test_bad_images_get_a_clear_error(bad, match):
    with pytest.raises(DataError, match=match):
        ImageSynthesizer("wgan", "quick", steps=1, device="cpu").fit(bad)


def test_label_errors():
    with pytest.raises(ConfigError, match="give labels"):
        ImageSynthesizer("cwgan", "quick", steps=1).fit(X[:50])
    with pytest.raises(DataError, match="one label per image"):
        ImageSynthesizer("cwgan", "quick", steps=1).fit(X[:50], Y[:10])
    with pytest.raises(DataError, match="does not occur"):
        ImageSynthesizer("wgan", "quick", steps=1).fit(X[:50], Y[:50], label=42)
    syn = ImageSynthesizer("cwgan", "quick", steps=1, device="cpu").fit(X[:100], Y[:100])
    with pytest.raises(ConfigError, match="not seen in training"):
        syn.sample(3, label=11)
    with pytest.raises(ConfigError, match="unknown image option"):
        ImageSynthesizer("cwgan", "quick", stepz=3)
    with pytest.raises(ConfigError, match="unknown image model"):
        ImageSynthesizer("dcgan")


def test_crop_rotate_makes_varied_images_close_to_their_sources():
    src = torch.as_tensor(X[:20, None] / 16.0, dtype=torch.float32)
    out = crop_rotate(src, 200, seed=0)
    assert out.shape == (200, 1, 8, 8)
    assert float(out.min()) >= 0 and float(out.max()) <= 1.0 + 1e-6
    flat_o, flat_s = out.reshape(200, -1).numpy(), src.reshape(20, -1).numpy()
    best = np.corrcoef(flat_o, flat_s)[:200, 200:].max(1)
    assert np.median(best) > 0.7  # each stays recognisably one of the sources
    assert len({tuple(np.round(r, 3)) for r in flat_o}) > 150  # and they are not copies
    assert torch.equal(out, crop_rotate(src, 200, seed=0))


def test_frechet_distance_is_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3000, 8)), rng.normal(size=(3000, 8))
    assert frechet_distance(a, b) < 0.05
    assert frechet_distance(a, b + 1.0) == pytest.approx(8.0, rel=0.05)  # ||mu shift||^2


def test_minority_figures():
    y = np.array([5, 5, 5, 5, 1, 1, 2, 2])
    p = np.array([5, 5, 1, 1, 1, 5, 2, 2])
    f = minority_figures(y, p, 5)
    assert f["recall"] == 0.5 and f["precision"] == pytest.approx(2 / 3) and f["accuracy"] == 0.625


def test_stage_fractions_are_checked():
    with pytest.raises(ConfigError, match="stage_fractions"):
        ImageSynthesizer("progan", "quick", stage_fractions=[0.5, 0.5])
    with pytest.raises(ConfigError, match="stage_fractions"):
        ImageSynthesizer("progan", "quick", stage_fractions=[0, 0, 0])


@pytest.mark.slow
def test_labels_as_numpy_scalars_strings_and_arrays(cwgan):
    a = cwgan.sample(4, label=np.int64(7), seed=0)
    assert np.array_equal(a, cwgan.sample(4, label="7", seed=0))
    imgs, labels = cwgan.sample(3, label=np.array([1, 2, 3]), seed=0, return_labels=True)
    assert labels.tolist() == [1, 2, 3]
    one = ImageSynthesizer("wgan", "quick", steps=2, device="cpu").fit(X[:60], Y[:60], label=3)
    one.sample(2, label=np.int64(3))
    _, lab = one.sample(2, return_labels=True)
    assert lab.tolist() == [3, 3]


def test_a_failed_fit_leaves_the_model_unfitted():
    syn = ImageSynthesizer("wgan", "quick", steps=2, device="cpu").fit(X[:60])
    with pytest.raises(DataError):
        syn.fit(np.zeros((5, 6, 6)))
    with pytest.raises(ConfigError, match="not fitted"):
        syn.sample(2)


@pytest.mark.slow
def test_crafted_or_damaged_image_model_files_are_refused(cwgan, tmp_path):
    import pickle

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    (tmp_path / "evil.gfm").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ModelFileError):
        ImageSynthesizer.load(tmp_path / "evil.gfm")
    data = cwgan.save(tmp_path / "ok.gfm").read_bytes()
    (tmp_path / "cut.gfm").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupted|truncated"):
        ImageSynthesizer.load(tmp_path / "cut.gfm")
    assert not marker.exists()
    with pytest.raises(ConfigError, match="no CUDA GPU|unknown device"):
        ImageSynthesizer.load(tmp_path / "ok.gfm", device="cuda" if not torch.cuda.is_available() else "tpu")


def test_cli_fit_sample_info_images(tmp_path, capsys):
    from ganforge.cli import main

    model = tmp_path / "digits.gfm"
    assert main(["fit-images", "-o", str(model), "--preset", "quick", "--steps", "20", "--device", "cpu"]) == 0
    assert "8x8 digits" in capsys.readouterr().out
    assert main(["sample-images", str(model), "-n", "12", "--label", "3", "-o", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["sample-images", str(model), "-n", "12", "--label", "3", "-o", str(tmp_path / "g.npz")]) == 0
    with np.load(tmp_path / "g.npz") as z:
        assert z["images"].shape == (12, 8, 8) and set(z["labels"]) == {3}
    assert main(["info", str(model)]) == 0
    out = capsys.readouterr().out  # rich wraps long lines: look for words, not a phrase
    assert "cwgan" in out and "labels: [0, 1, 2" in out
    # bad input: one line, exit 2, nothing written
    assert main(["sample-images", str(model), "-n", "5", "--label", "12", "-o", str(tmp_path / "bad.npz")]) == 2
    assert "not seen in training" in capsys.readouterr().err and not (tmp_path / "bad.npz").exists()
    assert main(["fit-images", str(tmp_path / "none.npz"), "-o", str(tmp_path / "m2.gfm")]) == 2
    assert "not found" in capsys.readouterr().err
    (tmp_path / "flat.npy").write_bytes(b"not numpy")
    assert main(["fit-images", str(tmp_path / "flat.npy"), "-o", str(tmp_path / "m3.gfm")]) == 2
    assert "cannot read images" in capsys.readouterr().err
    assert main(["sample", str(model), "-n", "5", "-o", str(tmp_path / "t.csv")]) == 2
    assert "sample-images" in capsys.readouterr().err
