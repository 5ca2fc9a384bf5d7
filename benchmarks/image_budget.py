"""How the image presets were chosen: step time of the conditional WGAN-GP on MNIST, and the
quality of 1,000 generated minority digits per training setting (the mnist study's set-up, seed 0).

    python benchmarks/image_budget.py steptime
    python benchmarks/image_budget.py quality 'cwgan:1500:{"n_critic":1,"lr_g":1e-3,"lr_d":1e-3}' \
        'wgan:1000:{"n_critic":2,"lr_g":2e-4,"lr_d":2e-4}' ...

Quality: Frechet distance and the share classified as the digit, with the features of a CNN
trained on the balanced 7,000-image split, against the test split's fives (docs/studies/mnist.md).
"""

import json
import sys
import time

import numpy as np
import torch

from ganforge.datasets import load_mnist
from ganforge.experiments.image_augment import crop_rotate, features, predict_proba, train_classifier
from ganforge.images import ImageSynthesizer
from ganforge.metrics.images import image_quality
from ganforge.experiments.studies.mnist import split_images


def steptime() -> None:
    X, y = load_mnist()
    X, y = X[:7000], y[:7000]

    def bench(label, bs=64, ch=(64, 32, 16), channels_last=False, mkldnn=True, n_critic=2):
        torch.backends.mkldnn.enabled = mkldnn
        syn = ImageSynthesizer("cwgan", "default", steps=2, batch_size=bs, n_critic=n_critic, g_channels=list(ch),
                               d_channels=list(ch), device="cpu").fit(X, y)
        tr = syn.trainer_
        fam = tr.family
        if channels_last:
            fam.generator.to(memory_format=torch.channels_last)
            fam.discriminator.to(memory_format=torch.channels_last)
            fam.source.X = fam.source.X.contiguous(memory_format=torch.channels_last)
        fam.train(True)
        for _ in range(3):
            tr.train_step()
        timings = {}
        for name, fn in (("step", tr.train_step), ("critic", fam.critic_step), ("generator", fam._generator_step)):
            t = time.perf_counter()
            for _ in range(10):
                fn()
            timings[name] = (time.perf_counter() - t) / 10 * 1000
        print(f"{label}: step {timings['step']:.0f} ms (critic step {timings['critic']:.0f}, generator step "
              f"{timings['generator']:.0f}); {bs / timings['step'] * 1000:.0f} images/s", flush=True)

    bench("widths 64/32/16, batch 64, 2 critic steps")
    bench("  + channels_last", channels_last=True)
    bench("  without oneDNN", mkldnn=False)
    bench("  batch 128", bs=128)
    bench("  widths 32/16/8", ch=(32, 16, 8))
    bench("  1 critic step", n_critic=1)


def quality(settings: list[str]) -> None:
    X, y = load_mnist()
    y = y.astype(np.int64)
    tr, te = split_images(X, y)
    X01 = torch.as_tensor(X[:, None] / 255.0, dtype=torch.float32)
    yt = torch.as_tensor(y)
    clf = train_classifier(X01[tr], yt[tr], X01[te], yt[te], 10, epochs=5)
    ref = features(clf.model, X01[te][yt[te] == 5])
    rng = np.random.default_rng(1000)
    fives = tr[y[tr] == 5]
    kept = rng.choice(fives, 54, replace=False)
    mask = (y[tr] != 5) | np.isin(tr, kept)
    Xim, yim = X[tr][mask], y[tr][mask]

    def judge(name, imgs):
        q = image_quality(features(clf.model, imgs), predict_proba(clf.model, imgs), 5, ref)
        print(name, {k: round(v, 3) for k, v in q.to_dict().items()}, flush=True)

    judge("real 5s not kept", X01[np.setdiff1d(fives, kept)])
    judge("crop/rotate", crop_rotate(X01[kept], 1000, 0))
    for item in settings:
        model, steps, extra = item.split(":", 2)
        t = time.perf_counter()
        syn = ImageSynthesizer(model, "default", steps=int(steps), device="cpu", **json.loads(extra))
        if model == "cwgan":
            syn.fit(Xim, yim)
        else:
            syn.fit(X[kept], np.full(54, 5), label=5)
        fake = syn.sample(1000, label=5, seed=1)
        judge(f"{model} {steps} steps {extra} ({time.perf_counter() - t:.0f} s)",
              torch.as_tensor(fake[:, None] / 255.0, dtype=torch.float32))


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("steptime", "quality"):
        sys.exit(__doc__)
    steptime() if sys.argv[1] == "steptime" else quality(sys.argv[2:])
