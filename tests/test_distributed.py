"""Training on 2 processes (torch.distributed, Gloo, CPU), launched by torchrun as a user would."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import four_gaussians, fidelity_ok, SMALL_SET, subprocess_env
from ganforge import Synthesizer

HERE = Path(__file__).resolve().parent
pytestmark = [pytest.mark.skipif(not torch.distributed.is_available(), reason="no torch.distributed"), pytest.mark.slow]


def _run(cmd, threads=1, **kw):
    r = subprocess.run(cmd, env=subprocess_env(threads), capture_output=True, text=True, timeout=300, **kw)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return r


@pytest.mark.parametrize("extra", [[], ["reuse_fakes"], ["classifier"]])
def test_one_step_on_two_ranks_is_one_step_on_the_global_batch(tmp_path, extra):
    """The real Trainer with the penalty's double backward: each rank's optimisers receive the
    gradient of the whole batch, and the ranks' weights are bit-for-bit identical after the step
    (also when the generator step reuses the critic step's fake rows, and with the label classifier)."""
    _run([sys.executable, str(HERE / "dist_worker.py"), str(tmp_path)] + extra, threads=2)
    _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
          str(HERE / "dist_worker.py"), str(tmp_path)] + extra)
    ref = load_file(tmp_path / "rank0_of1.safetensors")
    r0 = load_file(tmp_path / "rank0_of2.safetensors")
    r1 = load_file(tmp_path / "rank1_of2.safetensors")
    assert set(ref) == set(r0) == set(r1)
    # two critic steps and one generator step (and one classifier step), each with gradients on every layer
    assert {k.split(".")[0] for k in ref} == {"d_step0", "d_step1", "g_step0", "weights"} | (
        {"c_step0"} if "classifier" in extra else set())
    for k in ref:
        assert torch.equal(r0[k], r1[k]), f"{k} differs between the ranks"
        a, b = r0[k], ref[k]
        if k.startswith("weights."):
            # Adam moves a weight by about lr * sign(gradient): where the gradient is zero up to
            # rounding (the critic's output bias, whose gradient is exactly 0 in exact arithmetic: 1e-9 here),
            # the two summation orders may take opposite signs. Those elements are left out; the
            # gradients themselves are compared everywhere.
            net, name = k.split(".", 2)[1:]
            grads = [ref[g] for g in ref if g.split(".", 1)[0].startswith(net + "_step") and g.split(".", 1)[1] == name]
            if grads:
                tiny = torch.stack([g.abs() < 1e-6 for g in grads]).any(0)  # real gradients here: 1e-3 to 1
                a, b = a[~tiny], b[~tiny]
        scale = b.abs().max().item() if b.numel() else 0.0
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6 * max(scale, 1.0)), \
            f"{k}: 2 ranks {a.flatten()[:4]} vs 1 process {b.flatten()[:4]}"
    # the critic's gradient carries the penalty: without it (lambda 0) it would be another gradient
    assert ref["d_step0.body.0.weight"].abs().max() > 0


def test_cli_nproc_2_learns_like_one_process_and_resumes(tmp_path):
    data = tmp_path / "mix.csv"
    real = four_gaussians(4000)
    real.to_csv(data, index=False)
    base = [sys.executable, "-m", "ganforge", "fit", str(data), "--target", "color", "--batch-size", "200",
            "--seed", "0", "-q", *SMALL_SET]
    _run(base + ["--steps", "800", "-o", str(tmp_path / "one.gfm")], threads=2)
    r = _run(base + ["--steps", "800", "-o", str(tmp_path / "two.gfm"), "--nproc", "2",
                     "--checkpoint-every", "400"], threads=2)
    assert r.stdout.count("saved ") == 1  # rank 0 speaks for the group
    two_syn = Synthesizer.load(tmp_path / "two.gfm")
    assert two_syn.summary()["steps"] == 800
    ok1, fig1 = fidelity_ok(real, Synthesizer.load(tmp_path / "one.gfm").sample(4000, seed=1))
    ok2, fig2 = fidelity_ok(real, two_syn.sample(4000, seed=1))
    # both learned the mixture (an untrained generator fails this check: test_models), and
    # 2 processes with the same global batch as well as 1, within tolerance
    assert ok1 and ok2, (fig1, fig2)
    for k in ("near_centre", "colour_agrees", "x", "y"):
        assert abs(fig1[k] - fig2[k]) < 0.1, (k, fig1, fig2)

    # a distributed run stopped at its step-100 checkpoint and resumed is the uninterrupted run
    _run(base + ["--steps", "400", "-o", str(tmp_path / "part.gfm"), "--nproc", "2", "--checkpoint-every", "400",
                 "--checkpoint", str(tmp_path / "resumable.ckpt")], threads=2)
    _run(base + ["--steps", "800", "-o", str(tmp_path / "resumed.gfm"), "--nproc", "2", "--checkpoint-every", "400",
                 "--checkpoint", str(tmp_path / "resumable.ckpt"), "--resume"], threads=2)
    resumed = Synthesizer.load(tmp_path / "resumed.gfm")
    for k, v in two_syn.generator_.state_dict().items():
        assert torch.equal(v, resumed.generator_.state_dict()[k]), k
    # resuming on another number of processes is refused with what to do
    r = subprocess.run(base + ["--steps", "800", "-o", str(tmp_path / "x.gfm"), "--checkpoint",
                               str(tmp_path / "resumable.ckpt"), "--resume"], env=subprocess_env(2), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 2 and "--nproc 2" in r.stderr


def test_batch_that_does_not_split_is_refused(tmp_path):
    data = tmp_path / "mix.csv"
    four_gaussians(500).to_csv(data, index=False)
    r = subprocess.run([sys.executable, "-m", "ganforge", "fit", str(data), "--target", "color", "--batch-size",
                        "250", "--steps", "5", "-o", str(tmp_path / "m.gfm"), "--nproc", "2", "-q"],
                       env=subprocess_env(1), capture_output=True, text=True, timeout=300)
    # one line, once, not torchrun's report of a failed child
    assert r.returncode == 2 and r.stderr.count("must split evenly over 2 processes") == 1, r.stderr
    assert "Traceback" not in r.stderr and "ChildFailedError" not in r.stderr
    assert not (tmp_path / "m.gfm").exists()
