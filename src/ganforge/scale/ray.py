"""Ray for clusters (``pip install 'ganforge[ray]'``): the same training and sampling code, run by Ray.

* :func:`fit`: Ray Train's ``TorchTrainer`` starts ``workers`` processes (on any nodes of the
  cluster) and joins them in a torch.distributed group (Gloo, or NCCL with GPUs); each runs
  ``Synthesizer.fit`` / ``fit_files`` exactly as under torchrun (ganforge.scale.distributed), and rank 0
  writes the model file. The facade class is given by the caller (the command line), so that this
  module sits below it. Paths must be reachable from every worker (a shared file system).
* :func:`sample_to_folder`: Ray Data ``map_batches`` over part numbers, with an actor per worker
  that loads the model once; each actor writes its parts with the local writer, so the folder
  (part names, part seeds, atomic files, manifest) is the same as ``ganforge sample -o out/``.

``address``: a running cluster (``ray start --head`` ...), or None to join ``RAY_ADDRESS`` or start
a local instance.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError, GanforgeError, TrainingError


def _ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("`engine` ray needs Ray: pip install 'ganforge[ray]'") from None
    return ray


_STARTED = []


def _init(address: str | None, workers: int):
    ray = _ray()
    if not ray.is_initialized():
        _STARTED.append(True)
        # the workers' logs (and a failing worker's traceback) stay in Ray's session log folder; the
        # user gets ganforge's one-line error
        kw: dict[str, Any] = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        if address is None and not os.environ.get("RAY_ADDRESS"):
            kw["num_cpus"] = max(workers + 1, os.cpu_count() or 1)  # the driver-side coordinator needs a slot
        ray.init(address=address, **kw)
    return ray


def shutdown() -> None:
    """Stop the Ray instance this module started (a cluster joined by address is left running)."""
    if _STARTED:
        import ray

        ray.shutdown()
        _STARTED.clear()


def _root_message(exc: BaseException) -> str:
    """The user's error out of Ray's wrappers (a ganforge error keeps its one line)."""
    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, GanforgeError):
            return str(e)
        cause = getattr(e, "cause", None)
        e = cause if isinstance(cause, BaseException) else (e.__cause__ or e.__context__)
    text = str(exc)
    for line in text.splitlines():
        if "Error:" in line and "ganforge" in line.lower() or line.startswith(("ganforge.errors.", "DataError",
                                                                               "ConfigError")):
            return line.split(":", 1)[-1].strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def _train_loop(config: dict) -> None:
    """Runs in each Ray Train worker: Ray has set up the process group; ganforge joins it."""
    from .. import io
    from ..schema import Schema
    from . import distributed

    syn = config["synthesizer"](config["model"], config["preset"], **config["overrides"])
    kw = dict(config["fit"])
    if kw.get("schema") is not None:
        kw["schema"] = Schema.from_dict(kw["schema"])
    if config["files"]:
        syn.fit_files(config["data"], sep=config["sep"], max_rows=config["max_rows"], cache_dir=config["cache_dir"],
                      **kw)
    else:
        syn.fit(io.read_table(config["data"], sep=config["sep"]), **kw)
    if syn.dist_.is_main:
        syn.save(config["output"])
    distributed.barrier(syn.dist_)


def check_columns(data: str | Path, sep: str | None, fit_kwargs: Mapping[str, Any]) -> None:
    """The column options against the table's header, on the driver: a typo fails before any worker starts."""
    from . import streaming

    names = [str(c) for c in next(streaming.iter_frames(data, batch_rows=100, sep=sep)).columns]
    wanted = {"`target`": [fit_kwargs.get("target")], "`categorical`": fit_kwargs.get("categorical") or [],
              "`numeric`": fit_kwargs.get("numeric") or [], "`drop`": fit_kwargs.get("drop") or [],
              "`ordinal`": list(fit_kwargs.get("ordinal") or {})}
    cond = fit_kwargs.get("condition_on")
    if cond and not cond.startswith("kmeans"):
        wanted["`condition_on`"] = [cond]
    for opt, cols in wanted.items():
        unknown = [c for c in cols if c is not None and c not in names]
        if unknown:
            raise ConfigError(f"{opt}: column(s) {', '.join(map(repr, unknown))} not in {data}; columns are: "
                              f"{', '.join(names)}")


def fit(synthesizer: type, model: str, preset: str, overrides: Mapping[str, Any], data: str | Path,
        output: str | Path,
        fit_kwargs: Mapping[str, Any], *, files: bool = False, sep: str | None = None, max_rows: int | None = None,
        cache_dir: str | Path | None = None, workers: int = 2, use_gpu: bool = False,
        address: str | None = None) -> None:
    """Train ``synthesizer(model, preset, **overrides)`` (the ``Synthesizer`` class) on ``workers`` Ray
    workers; the model file is written by rank 0 to ``output``."""
    if workers < 1:
        raise ConfigError("`workers` must be at least 1")
    check_columns(data, sep, fit_kwargs)
    ray = _init(address, workers)
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    kw = dict(fit_kwargs)
    if kw.get("schema") is not None:
        kw["schema"] = kw["schema"].to_dict()
    for k in ("checkpoint",):
        if kw.get(k) is not None:
            kw[k] = str(Path(kw[k]).resolve())
    config = {"synthesizer": synthesizer, "model": model, "preset": preset, "overrides": dict(overrides), "data": str(Path(data).resolve()),
              "output": str(Path(output).resolve()), "fit": kw, "files": files, "sep": sep, "max_rows": max_rows,
              "cache_dir": None if cache_dir is None else str(Path(cache_dir).resolve())}
    storage = tempfile.mkdtemp(prefix="ganforge-ray-")
    trainer = TorchTrainer(_train_loop, train_loop_config=config,
                           torch_config=TorchConfig(backend="nccl" if use_gpu else "gloo"),
                           scaling_config=ScalingConfig(num_workers=workers, use_gpu=use_gpu),
                           run_config=RunConfig(name="ganforge-fit", storage_path=storage))
    try:
        result = trainer.fit()
    except Exception as exc:  # Ray wraps the worker's exception; the user needs its message
        raise TrainingError(f"Ray training failed: {_root_message(exc)} (worker logs: /tmp/ray/session_latest/"
                            f"logs)") from None
    if getattr(result, "error", None) is not None:
        raise TrainingError(f"Ray training failed: {_root_message(result.error)}")
    del ray


class _PartWriter:
    """A Ray Data actor: loads the model once, then writes the parts whose numbers it receives."""

    def __init__(self, load, model_path: str, folder: str, sizes: list[int], seed: int, condition: dict,
                 chunk_size: int, device: str):
        from . import parts

        parts.init_worker(load, model_path, device)
        self.folder, self.sizes, self.seed = folder, sizes, seed
        self.condition, self.chunk_size = condition, chunk_size

    def __call__(self, batch):
        import numpy as np

        from . import parts

        rows = []
        for i in batch["id"]:
            _, m = parts.make_part(self.folder, int(i), self.sizes[int(i)], self.seed, self.condition,
                                   self.chunk_size, sum(self.sizes[:int(i)]))
            rows.append(m)
        return {"part": np.asarray(batch["id"]), "rows": np.asarray(rows, dtype=np.int64)}


def run_parts(load, model_path: Path, folder: Path, todo: list[int], sizes: list[int], seed: int, condition: dict,
              chunk_size: int, workers: int, device: str, address: str | None = None) -> int:
    """Write parts ``todo`` on ``workers`` Ray actors (each loads the model with ``load``); returns the
    rows written."""
    ray = _init(address, workers)
    from ray.data import ActorPoolStrategy

    ds = ray.data.from_items([{"id": i} for i in todo], override_num_blocks=max(1, len(todo)))
    out = ds.map_batches(_PartWriter, batch_size=1, batch_format="numpy",
                         compute=ActorPoolStrategy(size=min(workers, max(1, len(todo)))), num_cpus=1,
                         fn_constructor_args=(load, str(model_path.resolve()), str(folder.resolve()), sizes, seed,
                                              condition, chunk_size, device))
    try:
        return int(sum(r["rows"] for r in out.iter_rows()))
    except Exception as exc:
        raise TrainingError(f"Ray sampling failed: {_root_message(exc)}") from None
