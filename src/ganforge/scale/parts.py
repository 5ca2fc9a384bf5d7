"""Parts of a folder output: their names and seeds, and the writing of one part in a worker.

Shared by the local writer (``ganforge.scale.partitioned``) and Ray Data actors (``ganforge.scale.ray``),
so that both write the same folder.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .. import io

MANIFEST = "_ganforge.json"
PART = "part-{:05d}.parquet"


def part_seed(seed: int, index: int) -> int:
    """The seed of part ``index``: independent streams for every part, from one user seed."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1, np.uint64)[0] >> np.uint64(2))


def model_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def plan(n: int, part_rows: int) -> list[int]:
    parts = math.ceil(n / part_rows) if n else 0
    return [min(part_rows, n - i * part_rows) for i in range(parts)]


# --- worker processes: the model is loaded once per process ------------------------------------
WORKER: dict[str, Any] = {}


def _terminated(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through the part's writer, which removes its temporary file


def init_worker(load: Callable[..., Any], model_path: str, device: str, threads: int | None = None) -> None:
    """Load the model once in this process (``load(path, device=...)``: ``Synthesizer.load``); SIGTERM
    ends it as it ends the command (no temporary file left)."""
    import signal

    signal.signal(signal.SIGTERM, _terminated)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    WORKER["syn"] = load(model_path, device=device)


def make_part(folder: str, index: int, rows: int, seed: int, condition: Mapping[str, Any] | None,
              chunk_size: int, first_row: int = 0) -> tuple[int, int]:
    """Write part ``index`` (its rows from ``first_row`` of the whole output) with the model this
    process loaded; returns its number and rows. Generated keys come from the output's seed and the
    row number, so no two parts repeat one, whichever process writes them."""
    syn = WORKER["syn"]
    path = Path(folder) / PART.format(index)
    written = io.write_table(syn.iter_sample(rows, condition=condition, seed=part_seed(seed, index),
                                             chunk_size=chunk_size, id_stream=(seed, first_row)), path)
    return index, written


