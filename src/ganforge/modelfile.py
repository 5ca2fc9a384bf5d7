"""Model and checkpoint files: safetensors weights plus JSON metadata, written atomically.

A file is a plain safetensors file whose metadata holds ``format`` (``ganforge``), the format
version, the file kind (model / checkpoint) and one JSON document. Loading checks the header
before safetensors reads it (a regular file, every tensor's byte range inside the file) and never
unpickles anything, so a crafted file cannot execute code. ``read_meta`` reads the metadata and the
tensors' shapes without their data, so that a reader can check every size the metadata claims
against the tensors before it builds anything (``ganforge.modelcheck``); ``read_tensors`` then reads
the weights and makes sure they are the ones checked, and finite.

A file is written to ``.NAME.HOST-PID-XXXX.tmp`` beside its target and renamed into place when
complete; a process killed before the rename leaves that file, and the next write to the same target
removes it once no process of that id runs on this host.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
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


def _temporary_prefix(p: Path) -> str:
    """The start of this process's temporary files for ``p``: ``.NAME.HOST-PID-``."""
    host = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())[:40] or "host"
    return f".{p.name}.{host}-{os.getpid()}-"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or we cannot tell: keep its file
    return True


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporary files a killed write to ``path`` left on this host (their process no
    longer runs); returns them."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    mine = _temporary_prefix(p)
    host_prefix = mine[:mine.rindex(f"-{os.getpid()}-") + 1]  # ".NAME.HOST-"
    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(host_prefix) and name.endswith(".tmp")):
            continue
        pid_text = name[len(host_prefix):].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _running(int(pid_text)):
            continue
        try:
            os.unlink(parent / name)
            removed.append(parent / name)
        except OSError:
            pass
    return removed


def atomic_write(path: str | Path, write) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path``: readers never see a partial file. Stale
    temporary files of an earlier, killed write to ``path`` are removed first."""
    p = Path(path)
    remove_stale_temporaries(p)
    fd, tmp = tempfile.mkstemp(dir=p.parent if str(p.parent) else ".", prefix=_temporary_prefix(p), suffix=".tmp")
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


def _open_regular(p: Path):
    """``p`` opened for reading, refused unless it is a regular file: a FIFO or a device would block a
    reader forever or never end (opened without blocking, then checked on the open file)."""
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {p}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ModelFileError(f"{p} is not a regular file (a pipe, socket or device): give a model file")
    return os.fdopen(fd, "rb")


#: how deeply a file's JSON may nest (ganforge writes 6 levels; Python's recursion limit is about 1,000,
#: and printing or copying a document nested near it would overflow the stack)
MAX_DEPTH = 64


def _json(raw: bytes | str, p: Path, what: str) -> Any:
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError):
        raise ModelFileError(f"{p} is not a ganforge model file ({what} is not valid JSON, or nested too "
                             f"deeply)") from None
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ModelFileError(f"{p} is not a ganforge model file ({what} nests deeper than {MAX_DEPTH} levels)")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return doc


def _read_header(p: Path) -> dict[str, Any]:
    with _open_regular(p) as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(8)
        if len(head) < 8:
            raise ModelFileError(f"{p} is not a ganforge model file (too short: truncated or empty)")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER or 8 + n > size:
            raise ModelFileError(f"{p} is not a ganforge model file (bad header: truncated or foreign file)")
        raw = f.read(n)
    header = _json(raw, p, "its header")
    if not isinstance(header, dict):
        raise ModelFileError(f"{p} is not a ganforge model file (bad header)")
    body = size - 8 - n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            start, end = (_whole(x) for x in info["data_offsets"])
            count = 1
            for d in info["shape"]:
                count *= _whole(d)
            itemsize = _DTYPE_SIZES[info["dtype"]]
        except (KeyError, TypeError, ValueError):
            raise ModelFileError(f"{p}: tensor {name!r} has a malformed entry; the file is corrupted") from None
        if not (0 <= start <= end <= body) or end - start != count * itemsize:
            raise ModelFileError(f"{p}: tensor {name!r} points outside the file; the file is corrupted or crafted")
    return header


def _whole(x: Any) -> int:
    if not isinstance(x, int) or isinstance(x, bool) or x < 0:
        raise ValueError(x)
    return x


#: a tensor as the header describes it: its safetensors dtype ("F32") and shape
TensorInfo = tuple[str, tuple[int, ...]]


def read_meta(path: str | Path, kind: str | None = None) -> tuple[dict[str, Any], dict[str, TensorInfo]]:
    """The JSON metadata of a ganforge file and its tensors' dtypes and shapes, read from the header
    alone (no weights); ``kind``: model or checkpoint, checked."""
    p = Path(path)
    if not p.exists():
        raise ModelFileError(f"model file not found: {p}")
    if p.is_dir():
        raise ModelFileError(f"{p} is a folder, not a model file")
    header = _read_header(p)
    md = header.get("__metadata__") or {}
    # safetensors metadata maps text to text
    if not isinstance(md, dict) or not all(isinstance(v, str) for v in md.values()) or md.get("format") != FORMAT:
        raise ModelFileError(f"{p} is a safetensors file but not a ganforge model (no ganforge metadata)")
    text = md.get("format_version", "0")
    version = int(text) if text.isdigit() and len(text) < 6 else -1
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{p} has model format version {text[:20]}, this ganforge reads "
                             f"version {FORMAT_VERSION}: refit the model or use the ganforge that wrote it")
    if kind is not None and md.get("kind") != kind:
        raise ModelFileError(f"{p} is a {md.get('kind')} file, expected a {kind} file")
    if not isinstance(md.get("meta"), str):
        raise ModelFileError(f"{p}: its metadata is corrupted")
    meta = _json(md["meta"], p, "its metadata")
    if not isinstance(meta, dict):
        raise ModelFileError(f"{p}: its metadata is corrupted (not a JSON object)")
    shapes = {name: (info["dtype"], tuple(info["shape"])) for name, info in header.items() if name != "__metadata__"}
    return meta, shapes


_DTYPE_NAMES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
                torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
                torch.bool: "BOOL"}


def dtype_name(dtype: torch.dtype) -> str:
    """The safetensors name of a torch dtype ("F32")."""
    return _DTYPE_NAMES.get(dtype, str(dtype))


def read_tensors(path: str | Path, shapes: dict[str, TensorInfo] | None = None) -> dict[str, torch.Tensor]:
    """The weights of a ganforge file. ``shapes`` (from ``read_meta``): they must be exactly those
    tensors (the file did not change in between); every float tensor must be finite."""
    p = Path(path)
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    with _open_regular(p):  # not a FIFO now either
        pass
    try:
        tensors = load_file(str(p))
    except (SafetensorError, OSError, RuntimeError, ValueError) as exc:
        raise ModelFileError(f"{p}: cannot read its weights ({str(exc).splitlines()[0] if str(exc) else exc}); "
                             f"the file is corrupted") from None
    if shapes is not None:
        got = {k: (dtype_name(v.dtype), tuple(v.shape)) for k, v in tensors.items()}
        if got != shapes:
            raise ModelFileError(f"{p} changed while it was read: read it again")
    for name, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise ModelFileError(f"{p}: tensor {name!r} holds NaN or infinite values; the file is corrupted "
                                 f"or crafted")
    return tensors


def load(path: str | Path, kind: str | None = None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and metadata of a ganforge file (a checkpoint, say). A model file is read through
    ``ganforge.modelcheck``, which checks the metadata against the tensors first."""
    meta, shapes = read_meta(path, kind)
    return read_tensors(path, shapes), meta
