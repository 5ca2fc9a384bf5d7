"""Generation at any size: ``n`` rows into a folder of Parquet parts, on one or several processes.

Part ``i`` holds rows ``[i * part_rows, (i + 1) * part_rows)`` and is generated from its own
seed, derived from the run's seed and ``i``; so the parts (and the whole folder) are the same
whatever the number of worker processes, and a run that was stopped can be finished with
``resume=True``: parts already on disk are complete (each one is written to a hidden temporary
file and renamed), so they are kept and only the missing ones are made. Rows are produced in
chunks of ``chunk_size`` that are written as they come and never concatenated, so peak memory
does not grow with ``n``. ``_ganforge.json`` in the folder records the request; it says
``"complete": true`` once every part is there.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .. import modelfile
from ..errors import ConfigError, DataError
from .parts import MANIFEST, PART, WORKER, init_worker, make_part, model_digest, plan

def sample_to_folder(model_path: str | Path, n: int, folder: str | Path, *, load: Callable[..., Any],
                     seed: int | None = None,
                     condition: Mapping[str, Any] | None = None, part_rows: int = 1_000_000,
                     chunk_size: int = 100_000, workers: int = 1, device: str = "cpu", resume: bool = False,
                     progress=None, engine: str = "local", address: str | None = None) -> dict[str, Any]:
    """Write ``n`` rows from the model file at ``model_path`` to ``folder/part-NNNNN.parquet``.

    ``load(path, device=...)`` loads the model (``Synthesizer.load``; every worker process calls it).
    Returns the manifest (rows, parts, seconds). ``progress(done_rows)`` is called after each part.
    ``engine="ray"``: the parts are written by Ray Data actors (ganforge.scale.ray), same files.
    """
    model_path, folder = Path(model_path), Path(folder)
    if n < 0:
        raise ConfigError("-n must be at least 0")
    if part_rows < 1:
        raise ConfigError("`part_rows` must be at least 1")
    if workers < 1:
        raise ConfigError("`workers` must be at least 1")
    if engine not in ("local", "ray"):
        raise ConfigError(f"`engine` {engine!r}: use local or ray")
    if seed is not None and seed < 0:
        raise ConfigError("`seed` must be >= 0")
    if folder.exists() and not folder.is_dir():
        raise DataError(f"output {folder} is a file; a partitioned output is a folder (give a new folder name, "
                        f"or a .parquet / .csv file name for one file)")
    if not folder.parent.exists():
        raise DataError(f"output folder {folder.parent} does not exist: create it first")
    if not model_path.exists():
        raise DataError(f"model file {model_path} does not exist")
    # load once here: a bad model file or a bad condition fails before any process starts
    syn = load(model_path, device=device)
    list(syn.iter_sample(0, condition=condition, seed=0))
    if seed is None:
        seed = int(np.random.default_rng().integers(2**62))
    request = {"model": str(model_path.resolve()), "model_sha256": model_digest(model_path), "rows": int(n),
               "part_rows": int(part_rows), "seed": int(seed), "condition": dict(condition or {}),
               "chunk_size": int(chunk_size)}
    folder.mkdir(exist_ok=True)
    existing = sorted(p.name for p in folder.glob("part-*.parquet"))
    manifest_path = folder / MANIFEST
    if existing or manifest_path.exists():
        if not resume:
            raise DataError(f"output folder {folder} already holds generated parts; remove them, choose another "
                            f"folder, or pass `resume` (with the same model, `n`, `seed` and `part_rows`) to finish "
                            f"a stopped run")
        try:
            old = json.loads(manifest_path.read_text())
        except (OSError, ValueError):
            raise DataError(f"{folder} has parts but no readable {MANIFEST}: it was not written by ganforge "
                            f"sample; choose another folder") from None
        differs = [k for k in request if k != "model" and old.get(k) != request[k]]
        if differs:
            raise DataError(f"`resume`: {folder} was generated with other settings ({', '.join(differs)} differ); "
                            f"use the same model, `n`, `seed`, `part_rows`, `chunk_size` and `condition`, or a new folder")
    sizes = plan(n, part_rows)
    todo = [i for i in range(len(sizes)) if PART.format(i) not in existing]
    stray = sorted(set(existing) - {PART.format(i) for i in range(len(sizes))})
    if stray:
        raise DataError(f"{folder} holds parts beyond this run's {len(sizes)} ({stray[0]}, ...); choose a new folder")
    modelfile.atomic_write(manifest_path, lambda tmp: Path(tmp).write_text(
        json.dumps({**request, "parts": len(sizes), "complete": False}, indent=1)))

    t0 = time.perf_counter()
    done = sum(sizes) - sum(sizes[i] for i in todo)
    cond = dict(condition or {})
    if engine == "ray" and todo:
        from . import ray

        done += ray.run_parts(load, model_path, folder, todo, sizes, seed, cond, chunk_size, workers, device,
                              address)
    elif workers == 1 or len(todo) <= 1:
        WORKER["syn"] = syn
        try:
            for i in todo:
                make_part(str(folder), i, sizes[i], seed, cond, chunk_size, sum(sizes[:i]))
                done += sizes[i]
                if progress:
                    progress(done)
        finally:
            WORKER.clear()
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=mp.get_context("spawn"),
                                 initializer=init_worker, initargs=(load, str(model_path), device, threads)) as pool:
            futures = [pool.submit(make_part, str(folder), i, sizes[i], seed, cond, chunk_size, sum(sizes[:i]))
                       for i in todo]
            try:
                for fut in as_completed(futures):
                    _, m = fut.result()
                    done += m
                    if progress:
                        progress(done)
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
    seconds = time.perf_counter() - t0
    final = {**request, "parts": len(sizes), "complete": True, "seconds": round(seconds, 3), "workers": workers,
             "engine": engine}
    modelfile.atomic_write(manifest_path, lambda tmp: Path(tmp).write_text(json.dumps(final, indent=1)))
    return final


def is_folder_output(path: str | Path) -> bool:
    """A trailing slash, an existing folder, or a name without a suffix means a folder of parts."""
    text = str(path)
    p = Path(path)
    return text.endswith(("/", os.sep)) or p.is_dir() or p.suffix == ""
