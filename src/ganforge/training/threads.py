"""How many CPU threads a fit or a sampling call uses.

PyTorch starts one thread per core and keeps them all busy; beside other busy processes the threads
wait on each other and a fit can take many times longer than on one thread (a 200-step Pima fit:
8.2 s idle, 31.0 s with two threads beside two busy processes on two cores, 15.6 s with one thread;
docs/measurements/threads.md). So unless the user chose (``threads``, ``--threads``, or
``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` in the environment), a fit takes the cores that other
processes leave free: the cores this process may run on, less the threads of other processes running
on them (counted three times over 40 ms in ``/proc``), at least one.
Several processes on one machine (``--nproc``, Ray workers) share the free cores.

:func:`resolve` makes the choice; :func:`limited` sets PyTorch's threads (and those of the BLAS and
OpenMP libraries that numpy and scikit-learn use) for a block of code and restores them after it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import statistics
import time
from typing import Iterator

#: environment variables through which a user already chose the thread count
CHOSEN = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
_depth = 0


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _allowed(pid: str) -> set[int] | None:
    """The CPUs a process may run on (None where /proc does not say)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            line = next((x for x in f if x.startswith("Cpus_allowed_list:")), None)
    except OSError:
        return None
    if line is None:
        return None
    cpus: set[int] = set()
    for part in line.split(":", 1)[1].strip().split(","):
        lo, _, hi = part.partition("-")
        if lo.strip().isdigit():
            cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def _running_elsewhere(mine: set[int] | None) -> int:
    """Threads of other processes running now on CPUs this process may use."""
    me, count = str(os.getpid()), 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid == me:
            continue
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        running = 0
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            running += stat[stat.rfind(")") + 2:][:1] == "R"
        if running and mine is not None:
            allowed = _allowed(pid)
            if allowed is not None and not allowed & mine:
                running = 0
        count += running
    return count


def busy_elsewhere(samples: int = 3, interval: float = 0.02) -> float | None:
    """Threads of other processes running on this process's CPUs now (the median of a few counts over
    /proc; a process in another container is not seen, its CPUs are not ours); None where the system
    does not say (not Linux)."""
    if not os.path.isdir("/proc/self/task"):
        return None
    try:
        mine = set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        mine = None
    counts = []
    for i in range(samples):
        try:
            counts.append(_running_elsewhere(mine))
        except OSError:
            return None
        if i + 1 < samples:
            time.sleep(interval)
    return float(statistics.median(counts))


def free_cores() -> int:
    """The cores other processes leave free now (all of them where the system does not say)."""
    busy = busy_elsewhere()
    n = cores()
    if busy is None:
        try:
            busy = max(0.0, os.getloadavg()[0] - 1)
        except (AttributeError, OSError):
            busy = 0.0
    return max(1, min(n, int(round(n - busy))))


def choose(requested: int | None, processes: int = 1) -> int | None:
    """The threads for each of ``processes`` processes: ``requested``; else None where the environment
    chose (PyTorch's count stands); else the free cores shared among the processes."""
    if requested:
        return int(requested)
    if any(os.environ.get(v) for v in CHOSEN):
        return None
    return max(1, free_cores() // max(1, processes))


def resolve(requested: int | None, processes: int = 1) -> int | None:
    """:func:`choose`, never above PyTorch's own count unless the user asked for more; None: leave it."""
    n = choose(requested, processes)
    if n is None or requested:
        return n
    import torch

    return min(n, torch.get_num_threads())


@contextlib.contextmanager
def limited(n: int | None) -> Iterator[int]:
    """Run a block on ``n`` threads (None: as they are); yields the count in use. Nested blocks keep
    the outer one's."""
    import torch

    global _depth
    before = torch.get_num_threads()
    if _depth or n is None or n == before:
        _depth += 1
        try:
            yield before
        finally:
            _depth -= 1
        return
    from threadpoolctl import threadpool_limits

    _depth += 1
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield n
    finally:
        torch.set_num_threads(before)
        _depth -= 1


def on_threads(method):
    """A method of an object with a ``config`` (``config.runtime.threads``) run on :func:`resolve`'s count,
    recorded in the object's ``threads_`` (``Synthesizer.fit``)."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with limited(resolve(self.config.runtime.threads)) as used:
            self.threads_ = used
            return method(self, *args, **kwargs)
    return run
