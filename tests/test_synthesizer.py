import numpy as np
import pandas as pd
import pytest
import torch

from conftest import SMALL, adversarial_trainer, four_gaussians
from ganforge import Synthesizer
from ganforge.errors import ConfigError, DataError, ModelFileError, TrainingError
from ganforge.training import Callback


def small_table(n=300, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age": rng.integers(18, 80, n), "score": rng.normal(0, 1, n),
        "city": rng.choice(["paris", "lyon", "nice"], n), "label": rng.choice(["yes", "no"], n),
    })
    df.loc[rng.random(n) < 0.2, "score"] = np.nan
    df["city"] = df["city"].astype(object)
    df.loc[rng.random(n) < 0.1, "city"] = None
    return df


def test_same_seed_same_rows_and_after_save_load(tmp_path):
    df = small_table()
    syn = Synthesizer("wcgan", steps=30, seed=0, **SMALL).fit(df, target="label")
    a = syn.sample(200, seed=7)
    pd.testing.assert_frame_equal(a, syn.sample(200, seed=7))
    assert not a.equals(syn.sample(200, seed=8))
    syn.save(tmp_path / "m.gfm")
    # same device as the fit: CPU and CUDA draw from different random streams
    back = Synthesizer.load(tmp_path / "m.gfm", device=str(syn.device_.type))
    pd.testing.assert_frame_equal(a, back.sample(200, seed=7))
    assert len(back.history_) == 30 and back.schema_.to_dict() == syn.schema_.to_dict()


def test_same_seed_same_model():
    df = small_table()
    a = Synthesizer("gan", steps=20, seed=3, **SMALL).fit(df).sample(50, seed=0)
    b = Synthesizer("gan", steps=20, seed=3, **SMALL).fit(df).sample(50, seed=0)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_types_bounds_categories_and_missing_values_are_kept():
    df = small_table(2000)
    # wgan with its five critic steps: the plain GAN's missing share wanders by up to 0.17 between
    # seeds at this size (seeds 0-3: -0.07, -0.05, 0.15, 0.17), wgan's stays within 0.065
    syn = Synthesizer("wgan", steps=1000, seed=0, **SMALL).fit(df)
    s = syn.sample(4000, seed=0)
    assert list(s.columns) == list(df.columns)
    assert s["age"].dtype == df["age"].dtype and s["age"].between(18, 79).all()
    assert set(s["city"].dropna()) <= {"paris", "lyon", "nice"}
    # missing values regenerated near the real rates (20% and 10%)
    assert abs(s["score"].isna().mean() - df["score"].isna().mean()) < 0.08
    assert abs(s["city"].isna().mean() - df["city"].isna().mean()) < 0.06


def test_unseen_condition_value_is_a_clear_error():
    syn = Synthesizer("cgan", steps=5, **SMALL).fit(small_table(), target="label")
    with pytest.raises(DataError, match="label='maybe' was never seen"):
        syn.sample(10, condition={"label": "maybe"})
    with pytest.raises(DataError, match="unknown column"):
        syn.sample(10, condition={"nope": 1})


def test_rejection_sampling_for_a_column_the_model_was_not_conditioned_on():
    syn = Synthesizer("gan", steps=50, **SMALL).fit(small_table())
    s = syn.sample(100, condition={"city": "nice"}, seed=0)
    assert len(s) == 100 and (s["city"] == "nice").all()


def test_nan_loss_stops_training_with_a_clear_error():
    class NanSource:
        def sample(self, n):
            return torch.full((n, 3), float("nan")), None

    from ganforge.encoding.base import Span
    from ganforge.models.networks import Discriminator, Generator

    g = Generator(4, 0, [{"width": 8, "activation": "relu"}], [Span(3, "tanh")])
    d = Discriminator(3, 0, [{"width": 8, "activation": "relu"}])
    tr = adversarial_trainer(g, d, NanSource(), loss="bce", batch_size=8, log_every=5)
    with pytest.raises(TrainingError, match="diverged at step 1"):
        tr.fit(10)


class Interrupt(Callback):
    def __init__(self, at):
        self.at = at

    def on_step_end(self, trainer, step):
        if step == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("ema_decay,extra", [(0.0, {}), (0.9, {}),
                                              # resumed at critic update 20, which carries no penalty
                                              (0.0, {"n_critic": 1, "gp_every": 3}),
                                              # the label classifier and its optimiser are in the checkpoint
                                              (0.9, {"classifier_weight": 1.0}),
                                              # bfloat16 products: the same steps again after a resume
                                              (0.9, {"precision": "bfloat16"})])
def test_resume_from_checkpoint_matches_an_uninterrupted_run(tmp_path, ema_decay, extra):
    df = four_gaussians(1000)
    kw = dict(steps=60, seed=0, ema_decay=ema_decay, **SMALL, **extra)
    full = Synthesizer("wcgan", **kw).fit(df, target="color")
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(KeyboardInterrupt):
        Synthesizer("wcgan", **kw).fit(df, target="color", checkpoint=ckpt, checkpoint_every=20,
                                       callbacks=[Interrupt(35)])
    assert ckpt.exists()
    resumed = Synthesizer("wcgan", **kw).fit(df, target="color", checkpoint=ckpt, checkpoint_every=20, resume=True)
    assert resumed.trainer_.step == 60 and len(resumed.history_) == 60
    # the losses too: the reported critic loss carries the latest penalty across the resume
    pd.testing.assert_frame_equal(full.history_, resumed.history_, check_exact=False, rtol=1e-6)
    for (k, a), b in zip(full.generator_.state_dict().items(), resumed.generator_.state_dict().values()):
        torch.testing.assert_close(a, b, msg=k)
    pd.testing.assert_frame_equal(full.sample(100, seed=1), resumed.sample(100, seed=1))


def test_resume_with_an_average_from_a_checkpoint_without_one_says_what_to_do(tmp_path):
    df = four_gaussians(500)
    ckpt = tmp_path / "last.ckpt"
    Synthesizer("gan", steps=10, ema_decay=0.0, **SMALL).fit(df, checkpoint=ckpt, checkpoint_every=5)
    with pytest.raises(TrainingError, match="no averaged generator.*resume it with ema_decay=0"):
        Synthesizer("gan", steps=20, ema_decay=0.9, **SMALL).fit(df, checkpoint=ckpt, resume=True)
    # as told: the same run goes on
    assert Synthesizer("gan", steps=20, ema_decay=0.0, **SMALL).fit(df, checkpoint=ckpt, resume=True).trainer_.step == 20


def test_resume_refuses_a_checkpoint_of_other_data(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    Synthesizer("gan", steps=10, **SMALL).fit(four_gaussians(500), checkpoint=ckpt, checkpoint_every=5)
    with pytest.raises(ModelFileError, match="different data"):
        Synthesizer("gan", steps=10, **SMALL).fit(four_gaussians(500, seed=1), checkpoint=ckpt, resume=True)


@pytest.mark.parametrize("content", [b"", b"\x80\x04\x95garbage pickle", b"x" * 100])
def test_unreadable_model_files(tmp_path, content):
    p = tmp_path / "bad.gfm"
    p.write_bytes(content)
    with pytest.raises(ModelFileError):
        Synthesizer.load(p)


def test_truncated_model_file(tmp_path):
    syn = Synthesizer("gan", steps=5, **SMALL).fit(small_table())
    p = syn.save(tmp_path / "m.gfm")
    data = p.read_bytes()
    (tmp_path / "t.gfm").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="corrupted|truncated"):
        Synthesizer.load(tmp_path / "t.gfm")


def test_pickle_payload_is_never_executed(tmp_path):
    import pickle

    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    p = tmp_path / "evil.gfm"
    p.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ModelFileError):
        Synthesizer.load(p)
    # a safetensors header whose tensor points past the end of the file
    import json
    import struct

    header = json.dumps({"__metadata__": {"format": "ganforge", "format_version": "1", "kind": "model", "meta": "{}"},
                         "generator.w": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 4000]}}).encode()
    (tmp_path / "oob.gfm").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    with pytest.raises(ModelFileError, match="outside the file"):
        Synthesizer.load(tmp_path / "oob.gfm")
    assert not marker.exists()


def test_early_stopping_keeps_the_best_generator_and_stops():
    df = four_gaussians(2000)
    kw = dict(seed=0, **SMALL)
    mon = Synthesizer("gan", steps=3000, early_stopping=True, eval_every=50, patience=3, monitor="column_shapes",
                      **kw).fit(df)
    q = mon.summary()["quality"]
    assert q["stopped_early"] and mon.trainer_.step < 3000
    scores = [h["column_shapes"] for h in q["history"]]
    assert q["best_column_shapes"] == pytest.approx(max(scores), abs=1e-4)
    # the kept generator is the best one: re-scoring it gives the best score, not the last one
    assert mon.monitor_.score() == pytest.approx(q["best_column_shapes"], abs=1e-4)
    assert scores[-1] < max(scores)


def test_fidelity_monitor_scores_column_shapes_and_pair_trends():
    from ganforge.metrics.fidelity import fidelity

    df = four_gaussians(2000)
    syn = Synthesizer("gan", steps=300, eval_every=100, monitor="fidelity", seed=0, **SMALL).fit(df)
    q = syn.summary()["quality"]
    assert q["metric"] == "fidelity" and [h["step"] for h in q["history"]] == [100, 200, 300]
    for h in q["history"]:
        assert h["score"] == pytest.approx((h["column_shapes"] + h["pair_trends"]) / 2, abs=1e-6)
    assert q["best_score"] == pytest.approx(max(h["score"] for h in q["history"]), abs=1e-4)
    # the kept generator's figures, measured again with the evaluation suite's fidelity
    # the monitor's rows are sample(quality_rows, seed=seed + 1) of the kept generator
    fake = syn.sample(syn.config.monitor.quality_rows, seed=syn.config.runtime.seed + 1)
    f = fidelity(syn.monitor_.scorer.real, fake, syn.schema_)
    assert (f.column_shapes + f.pair_trends) / 2 == pytest.approx(q["best_score"], abs=1e-4)
    with pytest.raises(ConfigError, match="monitor must be one of column_shapes, fidelity, detection, all"):
        Synthesizer("gan", steps=10, monitor="auc")


def test_time_limit_stops_at_the_first_step_boundary_after_it(monkeypatch):
    """A fake clock that moves one second per step: a 10-second limit stops the loop at step 10."""
    import ganforge.training.trainer as training

    clock = {"t": 0.0}

    class Tick(Callback):
        def on_step_end(self, trainer, step):
            clock["t"] += 1.0

    monkeypatch.setattr(training, "time", type("T", (), {"perf_counter": staticmethod(lambda: clock["t"])}))
    syn = Synthesizer("wgan", steps=1, seed=0, **SMALL).fit(four_gaussians(400))  # networks to train
    tr = adversarial_trainer(syn.generator_, syn.discriminator_, _source(syn, four_gaussians(400)), batch_size=200,
                             callbacks=[Tick()])
    tr.fit(1000, deadline=10.0)
    assert tr.step == 10 and tr.stop_reason == "time_limit"
    tr2 = adversarial_trainer(syn.generator_, syn.discriminator_, _source(syn, four_gaussians(400)), batch_size=200,
                              callbacks=[Tick()])
    tr2.fit(5, deadline=clock["t"] + 100)  # the step budget comes first
    assert tr2.step == 5 and tr2.stop_reason is None


def _source(syn, df):
    from ganforge.training.sources import TensorSource

    return TensorSource(torch.as_tensor(syn.encoder_.transform(df)), None, 0)


def test_time_limit_already_passed_trains_one_step_and_keeps_the_reason(tmp_path):
    """Reading and encoding count: a limit shorter than them leaves one step, a model that samples,
    and a summary (also after save / load) that says why training stopped."""
    df = small_table()
    syn = Synthesizer("wcgan", steps=5000, time_limit=1e-6, seed=0, **SMALL).fit(df, target="label")
    s = syn.summary()
    assert s["steps"] == 1 and s["stopped_by"] == "time_limit" and s["quality"] is None
    assert len(syn.sample(50, seed=0)) == 50
    syn.save(tmp_path / "m.gfm")
    assert Synthesizer.load(tmp_path / "m.gfm").summary()["stopped_by"] == "time_limit"
    full = Synthesizer("wcgan", steps=3, time_limit=3600, seed=0, **SMALL).fit(df, target="label")
    assert full.summary()["steps"] == 3 and full.summary()["stopped_by"] is None


@pytest.mark.parametrize("bad", [0, -5, "soon", True])
def test_time_limit_must_be_a_positive_number(bad):
    from ganforge.errors import ConfigError

    with pytest.raises(ConfigError, match="time_limit must be a positive number"):
        Synthesizer("wcgan", time_limit=bad)


def test_monitoring_does_not_change_the_training_run():
    df = four_gaussians(1000)
    plain = Synthesizer("wgan", steps=60, seed=0, **SMALL).fit(df)
    watched = Synthesizer("wgan", steps=60, seed=0, eval_every=20, **SMALL).fit(df)
    pd.testing.assert_frame_equal(plain.history_, watched.history_)


@pytest.mark.slow
def test_averaged_generator_is_monitored_kept_and_learns():
    """With ema_decay the quality monitor scores the averaged generator (not the live one), the model
    keeps it, and it has learned the four clusters."""
    from ganforge.metrics.fidelity import column_fidelity

    df = four_gaussians(2000)
    seen = []

    class Probe(Callback):  # runs just before the monitor, on the same weights
        def on_step_end(self, trainer, step):
            if step % 100 == 0:
                real, rows, seed = syn.monitor_.scorer.real, syn.config.monitor.quality_rows, syn.config.runtime.seed + 1

                def shapes(fake):
                    return float(np.mean([c.score for c in column_fidelity(real, fake, syn.schema_)]))

                # sampling during training reads the averaged generator; the live one, asked for by name
                live = trainer.family.generate(rows, None, torch.Generator().manual_seed(seed),
                                               network=trainer.family.generator)
                seen.append((shapes(syn.sample(rows, seed=seed)), shapes(syn.encoder_.inverse_transform(live))))

    syn = Synthesizer("wgan", steps=600, eval_every=100, ema_decay=0.99, monitor="column_shapes", seed=0, **SMALL)
    syn.fit(df, callbacks=[Probe()])
    q = syn.summary()["quality"]
    assert len(seen) == len(q["history"]) == 6
    for h, (averaged, live) in zip(q["history"], seen):
        assert h["column_shapes"] == pytest.approx(averaged, abs=1e-6) and averaged != live
    # the kept generator is the monitor's best averaged one
    assert syn.monitor_.score() == pytest.approx(q["best_column_shapes"], abs=1e-4)
    # what it learned: the four clusters' shares and the coordinates' spread
    s = syn.sample(4000, seed=1)
    share = s["color"].value_counts(normalize=True).reindex(df["color"].unique()).fillna(0)
    real = df["color"].value_counts(normalize=True).reindex(df["color"].unique())
    assert (share - real).abs().max() < 0.06
    assert q["best_column_shapes"] > 0.9
    with pytest.raises(ConfigError, match="ema_decay must be a number in \\[0, 1\\)"):
        Synthesizer("gan", steps=10, ema_decay=1.0)


def test_the_all_monitor_scores_detection_and_utility_beside_fidelity():
    """monitor='all': the mean of column shapes, pair trends, TabSyn's detection score and TSTR/TRTR;
    each part is on [0, 1], and an untrained generator's rows score lower than the kept ones."""
    from ganforge.metrics.monitoring import QualityScorer

    rng = np.random.default_rng(0)
    n = 2000
    x = rng.normal(0, 1, n)
    df = pd.DataFrame({"x": x, "z": x + rng.normal(0, 0.5, n), "label": np.where(x + rng.normal(0, 0.5, n) > 0, "yes", "no")})
    syn = Synthesizer("wcgan", steps=300, eval_every=100, monitor="all", seed=0, **SMALL).fit(df, target="label")
    q = syn.summary()["quality"]
    assert [h["step"] for h in q["history"]] == [100, 200, 300]
    for h in q["history"]:
        parts = [h["column_shapes"], h["pair_trends"], h["detection"], h["utility"]]
        assert all(0 <= p <= 1 for p in parts) and h["score"] == pytest.approx(np.mean(parts), abs=1e-5)
    scorer = QualityScorer(df, syn.schema_, "all", 2000, seed=1)
    untrained = Synthesizer("wcgan", steps=0, seed=0, **SMALL).fit(df, target="label").sample(2000, seed=1)
    assert scorer(syn.sample(2000, seed=1))["score"] > scorer(untrained)["score"] + 0.1
