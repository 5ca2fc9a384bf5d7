"""One training step of the real Trainer on a fixed global batch, on one process or under torchrun.

Run by tests/test_distributed.py: ``python dist_worker.py OUT`` (the reference, one process, the
whole batch) and ``torchrun --nproc-per-node 2 dist_worker.py OUT`` (each rank its half). Every
random draw of the step (real rows, noise, penalty weights) is taken from fixed global tensors,
sliced by rank, so the two runs see the same global batch; each rank saves the gradients its
optimisers received and its weights afterwards.
"""

import sys

import torch
from safetensors.torch import save_file

from ganforge.models import losses
from ganforge.models.families import AdversarialFamily
from ganforge.models.networks import Discriminator, Generator, LabelClassifier
from ganforge.scale import distributed
from ganforge.training import Trainer, collectives

B, PAC, LATENT, N_LABELS = 40, 2, 8, 3


def main(out: str, reuse_fakes: bool = False, classifier: bool = False) -> None:
    ctx = distributed.context("cpu")
    world, rank = ctx.world_size, ctx.rank
    g = torch.Generator().manual_seed(123)
    blocks = 4
    real = torch.rand(blocks, B, 5, generator=g)
    cond = torch.nn.functional.one_hot(torch.randint(N_LABELS, (blocks, B), generator=g), N_LABELS).float()
    noise = torch.randn(blocks, B, LATENT, generator=g)
    alpha = torch.rand(blocks, B // PAC, generator=g)
    part = slice(rank * B // world, (rank + 1) * B // world)
    gpart = slice(rank * B // PAC // world, (rank + 1) * B // PAC // world)

    class Source:
        calls = 0

        def sample(self, n):
            assert n == B // world
            k = Source.calls
            Source.calls += 1
            return real[k, part], cond[k, part]

    class FixedNoiseFamily(AdversarialFamily):
        draws = 0

        def _noise(self, n):
            k = FixedNoiseFamily.draws
            FixedNoiseFamily.draws += 1
            return noise[k, part]

    class TorchWithFixedAlpha:  # the penalty's torch.rand reads the fixed weights
        draws = 0

        def __getattr__(self, name):
            return getattr(torch, name)

        def rand(self, n, *shape, **kw):
            k = TorchWithFixedAlpha.draws
            TorchWithFixedAlpha.draws += 1
            return alpha[k, gpart].reshape(n, *shape)

    losses.torch = TorchWithFixedAlpha()
    torch.manual_seed(0)
    from ganforge.encoding.base import Span

    spans = [Span(2, "tanh"), Span(3, "softmax")]
    gen = Generator(LATENT, N_LABELS, [{"width": 32, "activation": "relu"}] * 2, spans)
    disc = Discriminator(5, N_LABELS, [{"width": 32, "activation": "leaky_relu"}] * 2, PAC)
    clf = LabelClassifier(5, N_LABELS, [{"width": 32, "activation": "leaky_relu"}]) if classifier else None
    if ctx.active:
        collectives.broadcast_module(gen)
        collectives.broadcast_module(disc)
        if clf is not None:
            collectives.broadcast_module(clf)
    fam = FixedNoiseFamily(gen, disc, losses.get_loss("wasserstein"), Source(), batch_size=B // world, n_critic=2,
                           gp_lambda=10.0, lr_g=1e-3, lr_d=1e-3, reuse_fakes=reuse_fakes, classifier=clf,
                           classifier_weight=0.5 if classifier else 0.0, dist=ctx)
    tr = Trainer(fam, dist=ctx)
    seen, counts = {}, {"d": 0, "g": 0, "c": 0}
    nets = [("d", fam.opt_d, disc), ("g", fam.opt_g, gen)] + ([("c", fam.opt_c, clf)] if clf is not None else [])
    for name, opt, net in nets:
        orig = opt.step

        def step(*a, _orig=orig, _name=name, _net=net, **k):
            n = counts[_name]
            counts[_name] += 1
            for pname, p in _net.named_parameters():
                if p.grad is not None:
                    seen[f"{_name}_step{n}.{pname}"] = p.grad.detach().clone()
            return _orig(*a, **k)

        opt.step = step
    tr.fit(1)
    tensors = dict(seen)
    tensors.update({f"weights.g.{k}": v for k, v in gen.state_dict().items()})
    tensors.update({f"weights.d.{k}": v for k, v in disc.state_dict().items()})
    if clf is not None:
        tensors.update({f"weights.c.{k}": v for k, v in clf.state_dict().items()})
    save_file({k: v.contiguous() for k, v in tensors.items()}, f"{out}/rank{rank}_of{world}.safetensors")
    # as the CLI does: every rank done before the group is torn down (a rank that tore down while the
    # other still talked was once aborted by the C++ runtime: "terminate called without an active exception")
    distributed.barrier(ctx)
    distributed.shutdown(ctx)


if __name__ == "__main__":
    main(sys.argv[1], reuse_fakes="reuse_fakes" in sys.argv[2:], classifier="classifier" in sys.argv[2:])
    distributed.exit_rank(0)  # as ganforge's own ranks end (python -m ganforge under torchrun)
