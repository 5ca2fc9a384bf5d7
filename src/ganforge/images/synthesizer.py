"""The image facade: ``ImageSynthesizer(model).fit(images, labels).sample(n, label=...)``.

An image model is another pair of networks and another batch source for the one trainer that
tables use (``training.Trainer``); only the VAE, which is not adversarial, has its own few-line
loop. Images come in as ``(n, height, width)`` or ``(n, channels, height, width)`` arrays of any
numeric dtype; samples go out in the same layout, dtype and value range. Model files are
safetensors weights plus JSON, as for tables: loading one never executes code from it.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from .. import modelfile
from ..version import __version__
from ..config import ImageConfig
from ..encoding.condition import COLUMN, Condition
from ..errors import ConfigError, DataError, ModelFileError
from ..models.families import AdversarialFamily
from ..models.losses import get_loss
from ..models.registry import IMAGE_MODELS
from ..schema import jsonable
from ..training import Callback, ProgressBar, Trainer
from ..training.kernels import resolve_device
from .families import ImageVAEFamily
from .networks import LEVELS, VAE, ImageCritic, ImageGenerator, progressive_schedule, resize_to_level, set_level

DATA_KIND = "images"


class _ImageSource:
    """Real images (and one-hot labels) sampled by index on the device. ``balance`` 1 draws labels
    uniformly, so a class with 54 images is seen as often as one with 700; 0 draws images
    uniformly. For progressive models the images come at the current level's resolution."""

    def __init__(self, X: torch.Tensor, codes: torch.Tensor | None, n_classes: int, balance: float, seed: int,
                 onehot=None):
        self.X, self.codes, self.n_classes, self.onehot = X, codes, n_classes, onehot
        self.g = torch.Generator(device=X.device).manual_seed(seed + 7)
        self.level, self.alpha = LEVELS - 1, 1.0
        if codes is not None:
            counts = torch.bincount(codes, minlength=n_classes).float()
            p_img = (1 - balance) / len(codes) + balance / (n_classes * counts[codes])
            self.weights = p_img / p_img.sum()

    def sample(self, batch_size: int):
        if self.codes is None:
            idx = torch.randint(len(self.X), (batch_size,), device=self.X.device, generator=self.g)
            cond = None
        else:
            idx = torch.multinomial(self.weights, batch_size, replacement=True, generator=self.g)
            cond = self.onehot(self.codes[idx]).to(self.X.dtype)
        x = self.X[idx]
        if self.level < LEVELS - 1 or self.alpha < 1.0:
            x = resize_to_level(x, self.level, self.alpha)
        return x, cond


class _Grow(Callback):
    """Moves the networks and the source through the progressive schedule before each step."""

    def __init__(self, total: int, fractions: Sequence[float], *targets):
        self.total, self.fractions, self.targets = total, fractions, targets

    def _set(self, step: int) -> None:
        level, alpha = progressive_schedule(step, self.total, self.fractions)
        set_level(level, alpha, *self.targets)

    def on_train_begin(self, trainer):
        self._set(trainer.step)

    def on_step_end(self, trainer, step):
        self._set(step)

    def on_train_end(self, trainer):
        set_level(LEVELS - 1, 1.0, *self.targets)


def as_image_array(images: Any, what: str = "images") -> tuple[np.ndarray, bool]:
    """(n, c, h, w) float array and whether the input had no channel axis."""
    try:
        arr = np.asarray(images)
    except Exception as exc:  # noqa: BLE001 - any array-like failure is the caller's data
        raise DataError(f"{what}: cannot be read as an array ({exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DataError(f"{what}: expected numbers (pixel values), got dtype {arr.dtype}")
    squeeze = arr.ndim == 3
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4:
        raise DataError(f"{what}: expected an array of shape (n, height, width) or (n, channels, height, width), "
                        f"got shape {arr.shape}; reshape flat rows first, e.g. X.reshape(-1, 8, 8)")
    if arr.shape[1] > 4 and arr.shape[3] in (1, 3, 4):
        raise DataError(f"{what}: shape {arr.shape} looks channels-last; give (n, channels, height, width), "
                        f"e.g. np.moveaxis(images, -1, 1)")
    if len(arr) == 0:
        raise DataError(f"{what}: no images")
    if arr.shape[2] % 4 or arr.shape[3] % 4 or min(arr.shape[2:]) < 4:
        raise DataError(f"{what}: height and width must be multiples of 4 (the generator doubles a base map "
                        f"twice), got {arr.shape[2]}x{arr.shape[3]}; pad or crop the images")
    arrf = arr.astype(np.float32)
    if not np.isfinite(arrf).all():
        raise DataError(f"{what}: contains NaN or infinite pixel values")
    return arrf, squeeze


class ImageSynthesizer:
    """Learn images (optionally with labels) and generate new ones.

    >>> syn = ImageSynthesizer("cwgan").fit(images, labels)
    >>> fives = syn.sample(100, label=5, seed=0)
    """

    def __init__(self, model: str = "cwgan", preset: str = "default", **overrides: Any):
        if model not in IMAGE_MODELS:
            raise ConfigError(f"unknown image model {model!r}; choose one of {', '.join(IMAGE_MODELS)}")
        self.model, self.preset = model, preset
        self.config = ImageConfig.build(preset, **overrides)
        self.spec = IMAGE_MODELS[model]

    # --- fitting ------------------------------------------------------------------------
    def fit(self, images: Any, labels: Any = None, *, label: Any = None, quiet: bool = True,
            callbacks: Sequence[Callback] = ()) -> "ImageSynthesizer":
        """Learn ``images``. ``labels`` (one per image) condition the ``cwgan`` model; for the
        unconditional models ``label`` picks the one class to learn."""
        t0 = time.perf_counter()
        self._fitted = False
        arr, squeeze = as_image_array(images)
        lab = None
        if labels is not None:
            lab = np.asarray(labels)
            if lab.ndim != 1 or len(lab) != len(arr):
                raise DataError(f"labels: expected one label per image ({len(arr)}), got shape {lab.shape}")
            if pd.isna(pd.Series(lab)).any():
                raise DataError("labels: contains missing values; drop those images or give them a label")
        if label is not None:
            if self.spec["conditional"]:
                raise ConfigError(f"label={label!r} picks one class for an unconditional model; the {self.model} "
                                  f"model learns every class from labels: leave label out")
            if lab is None:
                raise ConfigError(f"label={label!r} needs the labels of the images (fit(images, labels, label=...))")
            keep = lab == label
            if not keep.any():
                raise DataError(f"label {label!r} does not occur in labels; present: {_few(np.unique(lab))}")
            arr, lab = arr[keep], lab[keep]
        if self.spec["conditional"]:
            if lab is None:
                raise ConfigError(f"the {self.model} model is conditional: give labels (fit(images, labels))")
            classes = np.unique(lab)
            if len(classes) < 2:
                raise DataError(f"labels: the conditional model needs at least 2 classes, found {_few(classes)}; "
                                f"use model='wgan' for one class")
            self.classes_ = [c.item() if hasattr(c, "item") else c for c in classes]
            codes = self._labels().codes(pd.Series(lab))
        else:
            self.classes_ = [label.item() if hasattr(label, "item") else label] if label is not None else None
            codes = None
        lo, hi = float(arr.min()), float(arr.max())
        if np.issubdtype(np.asarray(images).dtype, np.integer) and np.asarray(images).dtype == np.uint8:
            lo, hi = 0.0, 255.0
        if hi <= lo:
            raise DataError(f"images: every pixel has the value {lo}; there is nothing to learn")
        self.value_range_ = (lo, hi)
        self.dtype_ = str(np.asarray(images).dtype)
        self.squeeze_ = squeeze
        self.shape_ = tuple(int(s) for s in arr.shape[1:])
        self.n_images_ = len(arr)
        self.device_ = resolve_device(self.config.device)
        seed = self.config.seed
        torch.manual_seed(seed)
        X = torch.as_tensor(self._to_unit(arr), device=self.device_)
        self._build()
        if self.model == "vae":
            self._fit_vae((X + 1) / 2, seed, quiet)
        else:
            self._fit_gan(X, None if codes is None else torch.as_tensor(codes, device=self.device_), seed,
                          quiet, callbacks)
        self.fit_seconds_ = time.perf_counter() - t0
        self._fitted = True
        return self

    def _to_unit(self, arr: np.ndarray) -> np.ndarray:
        lo, hi = self.value_range_
        return (2.0 * (arr - lo) / (hi - lo) - 1.0).clip(-1, 1).astype(np.float32)

    def _labels(self) -> Condition:
        """The classes of a conditional model as a condition (codes, one-hot vectors, values back)."""
        k = len(self.classes_)
        return Condition(COLUMN, "label", list(self.classes_), [1.0 / k] * k)

    def _build(self) -> None:
        c = self.config
        cond_dim = len(self.classes_) if self.spec["conditional"] else 0
        if self.model == "vae":
            self.vae_ = VAE(self.shape_, c.vae_latent, c.d_channels).to(self.device_)
            return
        self.generator_ = ImageGenerator(c.latent_dim, cond_dim, self.shape_, c.g_channels).to(self.device_)
        self.discriminator_ = ImageCritic(cond_dim, self.shape_, c.d_channels).to(self.device_)

    def _fit_gan(self, X, codes, seed, quiet, callbacks) -> None:
        c = self.config
        steps = c.steps
        onehot = self._labels().onehot if self.spec["conditional"] else None
        source = _ImageSource(X, codes, len(self.classes_ or []), c.class_balance, seed, onehot)
        family = AdversarialFamily(self.generator_, self.discriminator_, get_loss(self.spec["loss"]), source,
                                   batch_size=c.batch_size, n_critic=c.n_critic, gp_lambda=c.gp_lambda, lr_g=c.lr_g,
                                   lr_d=c.lr_d, betas=tuple(c.betas), device=self.device_)
        cbs: list[Callback] = []
        if self.spec["progressive"]:
            cbs.append(_Grow(steps, c.stage_fractions, self.generator_, self.discriminator_, source))
        cbs.extend(callbacks)
        if not quiet:
            cbs.append(ProgressBar(steps, f"{self.model} on {self.n_images_} images"))
        self.trainer_ = Trainer(family, cbs, self.device_, log_every=c.log_every)
        self.trainer_.fit(steps)
        set_level(LEVELS - 1, 1.0, self.generator_, self.discriminator_)
        self.history_ = pd.DataFrame(self.trainer_.history)

    def _fit_vae(self, X01: torch.Tensor, seed: int, quiet: bool) -> None:
        c = self.config
        family = ImageVAEFamily(self.vae_, X01, c.batch_size, c.vae_lr,
                                torch.Generator(device=self.device_).manual_seed(seed + 11))
        steps = family.steps(c.vae_epochs)
        cbs = [] if quiet else [ProgressBar(steps, f"vae on {self.n_images_} images")]
        self.trainer_ = Trainer(family, cbs, self.device_, log_every=c.log_every)
        self.trainer_.fit(steps)
        self.vae_.eval()
        self.history_ = pd.DataFrame(self.trainer_.history)

    # --- sampling -----------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not getattr(self, "_fitted", False):
            raise ConfigError("this ImageSynthesizer is not fitted: call fit(images, labels) or load a model file")

    def _label_codes(self, n: int, label: Any, g: torch.Generator) -> torch.Tensor | None:
        if label is not None and np.ndim(label) == 0 and hasattr(label, "item"):
            label = label.item()  # numpy or torch scalar
        if not self.spec["conditional"]:
            if label is not None and (np.ndim(label) > 0 or self.classes_ is None
                                      or str(label) != str(self.classes_[0])):
                trained = f"only class {self.classes_[0]!r}" if self.classes_ else "images without labels"
                raise ConfigError(f"the {self.model} model learned {trained}; it cannot generate label {label!r} "
                                  f"(use the cwgan model to choose among classes)")
            return None
        k = len(self.classes_)
        if label is None:
            return torch.randint(k, (n,), device=self.device_, generator=g)
        labels = np.asarray(label).tolist() if np.ndim(label) > 0 else None
        if labels is not None:
            if len(labels) != n:
                raise ConfigError(f"label: give one label or {n} labels, got {len(labels)}")
            return torch.as_tensor([self._code(v) for v in labels], device=self.device_)
        return torch.full((n,), self._code(label), device=self.device_, dtype=torch.long)

    def _code(self, value: Any) -> int:
        try:
            return self._labels().index(value)
        except DataError:
            raise ConfigError(f"label {value!r} was not seen in training; known labels: {_few(self.classes_)}") from None

    @torch.inference_mode()
    def sample(self, n: int, label: Any = None, seed: int | None = None, return_labels: bool = False,
               chunk_size: int = 2048):
        """``n`` new images (of ``label``, or of labels drawn uniformly for a conditional model),
        in the layout, dtype and value range of the training images."""
        self._check_fitted()
        if int(n) < 0:
            raise ConfigError(f"n must be 0 or more, got {n}")
        n = int(n)
        g = torch.Generator(device=self.device_).manual_seed(self.config.seed + 1 if seed is None else int(seed))
        codes = self._label_codes(n, label, g)
        parts = []
        for i in range(0, n, chunk_size):
            m = min(chunk_size, n - i)
            if self.model == "vae":
                z = torch.randn(m, self.vae_.latent_dim, device=self.device_, generator=g)
                x = torch.sigmoid(self.vae_.decode_logits(z)) * 2 - 1
            else:
                z = torch.randn(m, self.generator_.latent_dim, device=self.device_, generator=g)
                cond = None
                if codes is not None:
                    cond = self._labels().onehot(codes[i:i + m])
                x = self.generator_(z, cond)
            parts.append(x.float().cpu().numpy())
        out = self._from_unit(np.concatenate(parts) if parts else np.zeros((0, *self.shape_), np.float32))
        if return_labels:
            if not self.classes_:
                return out, None
            classes = np.asarray(self.classes_)
            lab = classes[np.zeros(n, dtype=np.int64) if codes is None else codes.cpu().numpy()]
            return out, lab
        return out

    def _from_unit(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.value_range_
        x = (x + 1.0) / 2.0 * (hi - lo) + lo
        dt = np.dtype(self.dtype_)
        if dt == bool:
            x = x >= (lo + hi) / 2
        elif np.issubdtype(dt, np.integer):
            x = np.rint(x).clip(lo, hi)
        x = x.astype(dt)
        return x[:, 0] if self.squeeze_ else x

    @torch.inference_mode()
    def embed(self, images: Any) -> np.ndarray:
        """The VAE's latent means of ``images`` (n, latent): a map of the dataset."""
        self._check_fitted()
        if self.model != "vae":
            raise ConfigError(f"embed() needs the vae model; this is a {self.model} model")
        arr, _ = as_image_array(images)
        if tuple(arr.shape[1:]) != self.shape_:
            raise DataError(f"images: shape {arr.shape[1:]} differs from the training images' {self.shape_}")
        x01 = torch.as_tensor((self._to_unit(arr) + 1) / 2, device=self.device_)
        return torch.cat([self.vae_.encode(x01[i:i + 4096])[0] for i in range(0, len(x01), 4096)]).cpu().numpy()

    @torch.inference_mode()
    def critic_scores(self, images: Any, labels: Any = None) -> np.ndarray:
        """The critic's score of each image (higher: more real to it)."""
        self._check_fitted()
        if self.model == "vae":
            raise ConfigError("the vae model has no critic")
        arr, _ = as_image_array(images)
        x = torch.as_tensor(self._to_unit(arr), device=self.device_)
        cond = None
        if self.spec["conditional"]:
            if labels is None:
                raise ConfigError("critic_scores of a conditional model needs the labels")
            codes = torch.as_tensor([self._code(v) for v in np.asarray(labels)], device=self.device_)
            cond = self._labels().onehot(codes)
        return self.discriminator_(x, cond).cpu().numpy()

    # --- files --------------------------------------------------------------------------
    def _modules(self) -> dict[str, torch.nn.Module]:
        if self.model == "vae":
            return {"vae": self.vae_}
        return {"generator": self.generator_, "discriminator": self.discriminator_}

    def save(self, path: str | Path) -> Path:
        self._check_fitted()
        p = modelfile.check_writable(path, "model")
        tensors = {f"{name}.{k}": v for name, m in self._modules().items() for k, v in m.state_dict().items()}
        meta = {"data": DATA_KIND, "ganforge_version": __version__, "model": self.model, "preset": self.preset,
                "config": dataclasses.asdict(self.config), "shape": list(self.shape_), "value_range": list(self.value_range_),
                "dtype": self.dtype_, "squeeze": self.squeeze_, "classes": self.classes_,
                "n_images": self.n_images_, "fit_seconds": self.fit_seconds_,
                "history": self.history_.to_dict("list")}
        modelfile.save(p, tensors, jsonable(meta), kind="model")
        return p

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> "ImageSynthesizer":
        from .. import modelcheck

        dev = resolve_device(device)  # a wrong device is the caller's option, not a file error
        meta, shapes = modelcheck.read_images(path)  # the metadata's types and ranges, before anything is built
        tensors = modelfile.read_tensors(path, shapes)
        try:
            known = {f.name for f in dataclasses.fields(ImageConfig)}
            cfg = {k: v for k, v in dict(meta["config"]).items() if k in known}
            self = cls(meta["model"], meta["preset"], **{**cfg, "device": device})
            self.shape_ = tuple(int(s) for s in meta["shape"])
            self.value_range_ = tuple(float(v) for v in meta["value_range"])
            self.dtype_ = str(np.dtype(meta["dtype"]))
            self.squeeze_ = bool(meta["squeeze"])
            self.classes_ = meta["classes"]
            self.n_images_ = int(meta["n_images"])
            self.fit_seconds_ = float(meta.get("fit_seconds") or float("nan"))
            self.device_ = torch.device("meta")
            with torch.device("meta"):  # allocates nothing: the networks' shapes, checked against the file's
                self._build()
            modelcheck.same_shapes(path, self._modules(), shapes)
            self.device_ = dev
            self._build()
            for name, m in self._modules().items():
                m.load_state_dict(modelfile.with_prefix(tensors, name))
                m.eval()
            self.history_ = pd.DataFrame(meta.get("history") or {})
            self._fitted = True
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
            if isinstance(exc, ModelFileError):
                raise
            if isinstance(exc, (DataError, ConfigError)):
                raise ModelFileError(f"{path}: {exc}") from None
            raise ModelFileError(f"{path}: the image model file is inconsistent ({type(exc).__name__}: {exc})") from None
        return self


def _few(values: Sequence[Any], k: int = 12) -> str:
    vals = [repr(v.item() if hasattr(v, "item") else v) for v in list(values)[:k]]
    return ", ".join(vals) + (", ..." if len(values) > k else "")
