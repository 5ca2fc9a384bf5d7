"""Model and checkpoint files: safetensors weights plus JSON metadata, written atomically.

A file is a plain safetensors file whose metadata holds ``format`` (``ganforge``), the format
version, the file kind (model / checkpoint) and one JSON document. Loading checks the header
before safetensors reads it (every tensor's byte range must lie inside the file) and never
unpickles anything, so a crafted file cannot execute code.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import torch

from .errors import ModelFileError

FORMAT = "ganforge"
FORMAT_VERSION = 1
_MAX_HEADER = 512 * 1024 * 1024
_DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def check_writable(path: str | Path, what: str = "output") -> Path:
    """Fail early (before any training) when ``path`` cannot be written."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.exists() and p.is_dir():
        raise ModelFileError(f"{what} path {p} is a folder: give a file name")
    if not parent.exists():
        raise ModelFileError(f"{what} folder {parent} does not exist: create it first")
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".ganforge-write-test-"):
            pass
    except OSError as exc:
        raise ModelFileError(f"cannot write {what} to {parent}: {exc.strerror}") from None
    return p


def atomic_write(path: str | Path, write) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``: readers never see a partial file."""
    p = Path(path)
    fd, tmp = tempfile.mkstemp(dir=p.parent if str(p.parent) else ".", prefix=f".{p.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        # mkstemp creates 0600; give the file the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors stored under ``prefix.``, with the prefix removed (a module's state dict)."""
    cut = len(prefix) + 1
    return {k[cut:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def save(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any], kind: str = "model") -> None:
    from safetensors.torch import save_file

    flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "kind": kind,
                "meta": json.dumps(meta, ensure_ascii=False)}
    atomic_write(path, lambda tmp: save_file(flat, tmp, metadata=metadata))


def _read_header(p: Path) -> dict[str, Any]:
    size = p.stat().st_size
    with open(p, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ModelFileError(f"{p} is not a ganforge model file (too short: truncated or empty)")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER or 8 + n > size:
            raise ModelFileError(f"{p} is not a ganforge model file (bad header: truncated or foreign file)")
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelFileError(f"{p} is not a ganforge model file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{p} is not a ganforge model file (bad header)")
    body = size - 8 - n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            start, end = (int(x) for x in info["data_offsets"])
            count = 1
            for d in info["shape"]:
                count *= int(d)
            itemsize = _DTYPE_SIZES[info["dtype"]]
        except (KeyError, TypeError, ValueError):
            raise ModelFileError(f"{p}: tensor {name!r} has a malformed entry; the file is corrupted") from None
        if not (0 <= start <= end <= body) or end - start != count * itemsize:
            raise ModelFileError(f"{p}: tensor {name!r} points outside the file; the file is corrupted or crafted")
    return header


def load(path: str | Path, kind: str | None = None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    p = Path(path)
    if not p.exists():
        raise ModelFileError(f"model file not found: {p}")
    if p.is_dir():
        raise ModelFileError(f"{p} is a folder, not a model file")
    header = _read_header(p)
    md = header.get("__metadata__") or {}
    if md.get("format") != FORMAT:
        raise ModelFileError(f"{p} is a safetensors file but not a ganforge model (no ganforge metadata)")
    try:
        version = int(md.get("format_version", "0"))
    except ValueError:
        version = -1
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{p} has model format version {md.get('format_version')}, this ganforge reads "
                             f"version {FORMAT_VERSION}: refit the model or use the ganforge that wrote it")
    if kind is not None and md.get("kind") != kind:
        raise ModelFileError(f"{p} is a {md.get('kind')} file, expected a {kind} file")
    try:
        meta = json.loads(md["meta"])
    except (KeyError, json.JSONDecodeError):
        raise ModelFileError(f"{p}: its metadata is corrupted") from None
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(p))
    except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
        raise ModelFileError(f"{p}: cannot read its weights ({exc}); the file is corrupted") from None
    return tensors, meta
