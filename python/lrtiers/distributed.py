"""Many processes with torch.distributed: the group a streamed fit runs in.

A streamed fit (streaming.py) computes each block's contribution alone and adds the
contributions in block order. With several processes each rank computes those of its own
blocks (a contiguous range: it reads only those rows) and :meth:`Group.gather` collects the
lists in block order on every rank, so the sum is the same as in one process, bit for bit,
whatever the number of processes: per-block partial sums in a fixed order, not a plain
all-reduce (whose order depends on the number of processes).

Three ways in:

- one process (:data:`LOCAL`);
- inside a ``torchrun`` launch (or any program that called ``init_process_group``):
  :func:`joined_group` uses that group (initialising it from torchrun's environment when
  needed: gloo on CPU, nccl on GPU);
- ``lr_fit(source, world_size=W)`` from Python: :func:`spawn_fit` starts W worker processes
  on this machine (gloo over localhost) and returns rank 0's fit. A worker that raises or
  dies ends the whole run with that rank's error within seconds: the others are stopped,
  never left waiting in a collective.
"""

from __future__ import annotations

import atexit
import datetime
import multiprocessing
import os
import pickle
import queue
import socket
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

#: How long a collective may wait for a rank (a rank that died makes the others fail at once;
#: this bounds a rank that hangs).
COLLECTIVE_TIMEOUT = datetime.timedelta(seconds=120)
#: How often the parent of spawned workers looks at them.
POLL_SECONDS = 0.05


class Group:
    """One process: every block is this rank's, gathering is the identity."""

    rank = 0
    size = 1

    def gather(self, local: list) -> list:
        """Every rank's list, concatenated in rank order (ranks hold blocks in order)."""
        return local

    def broadcast(self, array: np.ndarray | None, source_rank: int, shape: tuple) -> np.ndarray:
        """An array from source_rank to every rank (float64, of the given shape)."""
        assert array is not None
        return array

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on any."""
        return flag

    def first(self, value: Any) -> Any:
        """Rank 0's value, on every rank (a value each rank drew for itself, like a seed)."""
        return value


LOCAL = Group()


class TorchGroup(Group):
    """The default torch.distributed process group."""

    def __init__(self, device: str):
        self.rank = dist.get_rank()
        self.size = dist.get_world_size()
        # nccl moves CUDA tensors only; gloo CPU ones
        self.device = torch.device(device) if dist.get_backend() == "nccl" else torch.device("cpu")

    def gather(self, local: list) -> list:
        everyone: list[Any] = [None] * self.size
        dist.all_gather_object(everyone, local)
        return [item for part in everyone for item in part]

    def broadcast(self, array: np.ndarray | None, source_rank: int, shape: tuple) -> np.ndarray:
        if self.rank == source_rank:
            assert array is not None
            tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float64))
        else:
            tensor = torch.empty(shape, dtype=torch.float64)
        tensor = tensor.to(self.device)
        dist.broadcast(tensor, src=source_rank)
        return tensor.cpu().numpy()

    def first(self, value: Any) -> Any:
        shared = [value]
        dist.broadcast_object_list(shared, src=0)
        return shared[0]

    def any(self, flag: bool) -> bool:
        tensor = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return bool(tensor.item() > 0)


def _leave_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def launched_by_torchrun() -> bool:
    """True in a process torchrun started (it sets RANK, WORLD_SIZE, MASTER_ADDR/PORT)."""
    return all(k in os.environ for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"))


def joined_group(world_size: int, device: str) -> Group | None:
    """The group this process already belongs to (initialised, or launched by torchrun), or
    None. world_size, when not 1, must be the group's size."""
    if not dist.is_available():
        return None
    if not dist.is_initialized():
        if not launched_by_torchrun():
            return None
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend, timeout=COLLECTIVE_TIMEOUT)
        # the group lrtiers made, lrtiers takes down: left to the interpreter's exit, gloo's
        # threads could be destroyed still running (std::terminate, SIGABRT: 1 exit in 15
        # of `torchrun -m lrtiers fit` on busy CPUs)
        atexit.register(_leave_group)
    group = TorchGroup(device)
    if world_size not in (1, group.size):
        raise ValueError(
            f"world_size={world_size}, but this process is one of {group.size} (torchrun or "
            "init_process_group): leave world_size at 1 or set it to the group's size"
        )
    return group


# ------------------------------------------------------------------------ spawned workers


class WorkerError(RuntimeError):
    """A spawned worker failed: which rank, and how."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(
    rank: int,
    world_size: int,
    port: int,
    run: Callable[..., Any],
    args: tuple,
    results: Any,
) -> None:
    try:
        dist.init_process_group(
            "gloo",
            init_method=f"tcp://127.0.0.1:{port}",
            rank=rank,
            world_size=world_size,
            timeout=COLLECTIVE_TIMEOUT,
        )
        try:
            out = run(TorchGroup("cpu"), *args)
        finally:
            dist.destroy_process_group()
        results.put(("done", rank, pickle.dumps(out) if rank == 0 else None))
    except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent
        try:
            payload = pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception that does not pickle: its text
            payload = None
        results.put(("error", rank, (payload, repr(exc), traceback.format_exc())))


def spawn(world_size: int, run: Callable[..., Any], args: Sequence[Any] = ()) -> Any:
    """run(group, *args) in world_size spawned processes (gloo over localhost); rank 0's
    result. run and args must pickle (module-level functions). The first rank to fail ends
    the run: the others are terminated and its exception is raised here (with a note naming
    the rank), or WorkerError when it died without one (killed, out of memory)."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    port = _free_port()
    workers = [
        context.Process(
            target=_worker,
            args=(rank, world_size, port, run, tuple(args), results),
            name=f"lrtiers-rank-{rank}",
            daemon=True,
        )
        for rank in range(world_size)
    ]
    for worker in workers:
        worker.start()
    done: set[int] = set()
    answer: Any = None
    try:
        while len(done) < world_size:
            try:
                kind, rank, payload = results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                _check_alive(workers, done)
                continue
            if kind == "error":
                raise _first_cause(workers, results, (rank, payload), world_size)
            done.add(rank)
            if rank == 0:
                answer = pickle.loads(payload)
        return answer
    finally:
        _stop(workers)
        results.close()


def _check_alive(workers: list, done: set[int]) -> None:
    for rank, worker in enumerate(workers):
        code = worker.exitcode
        if code is not None and code != 0 and rank not in done:
            # a last look at the queue is not needed: a worker that raised exits 0 after
            # putting its error; a non-zero exit is a death (signal, os._exit, OOM)
            how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
            hint = (
                ""
                if code < 0
                else (
                    " (its output above says why; workers are spawned, so they import the "
                    "script that started them: its top level must be guarded by "
                    "if __name__ == '__main__':)"
                )
            )
            raise WorkerError(f"rank {rank} of {len(workers)} {how} during the fit{hint}")


def _first_cause(workers: list, results: Any, first: tuple, world_size: int) -> BaseException:
    """The error to report once a rank has failed. A rank that died or raised makes the
    others fail in their next collective ("connection closed"): wait a moment for every
    report and name the cause, not the echo."""
    errors = [first]
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and any(w.exitcode is None for w in workers):
        try:
            kind, rank, payload = results.get(timeout=POLL_SECONDS)
            if kind == "error":
                errors.append((rank, payload))
        except queue.Empty:
            pass
    try:
        _check_alive(workers, {rank for rank, _ in errors})
    except WorkerError as death:
        return death
    built = [_rank_error(rank, world_size, *payload) for rank, payload in errors]
    causes = [e for e in built if not isinstance(e, dist.DistError)]
    return (causes or built)[0]


def _rank_error(
    rank: int, world_size: int, payload: bytes | None, text: str, trace: str
) -> BaseException:
    error: BaseException | None = None
    if payload is not None:
        try:
            error = pickle.loads(payload)
        except Exception:  # noqa: BLE001
            error = None
    if not isinstance(error, BaseException):
        error = WorkerError(f"rank {rank} of {world_size} failed: {text}")
    error.add_note(f"(raised on rank {rank} of {world_size}; its traceback:\n{trace.rstrip()})")
    return error


def _stop(workers: list) -> None:
    """End the workers still running (after a failure): SIGKILL, as a worker blocked in a
    collective may not answer SIGTERM; they hold nothing that needs cleaning up."""
    for worker in workers:
        if worker.is_alive():
            worker.kill()
    for worker in workers:
        worker.join()
