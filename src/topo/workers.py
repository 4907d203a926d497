"""Work spread over processes: members split by a stable hash, outputs merged back in order.

``topo replay --workers N`` and ``topo simulate --workers N`` give each of N processes the
members :func:`worker_of` assigns it (a CRC-32 of the member id: the same on every run and
machine, unlike Python's salted ``hash``). Members never affect each other in the engine, so
each process makes exactly its members' share of what one process would make. Each writes its
records to files as (key, value) pairs, in its own order, where the key places the record in
the order one process gives; :func:`merged` streams them back together by key, so the outputs
are the same bytes for any N.

:func:`run` starts the processes (see :func:`start_method`), follows their progress, and turns a
failure in any of them into one :class:`WorkerFailed` sentence; Ctrl-C (or any error) stops
them all.
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import pickle
import signal
import struct
import sys
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import IO, Any, Literal

from topo.errors import TopoError, UsageError

__all__ = [
    "Records",
    "WorkerFailed",
    "default_workers",
    "merged",
    "run",
    "sortable",
    "start_method",
    "worker_count",
    "worker_of",
]

_CHUNK = 2_000  # records pickled together: few pickle calls, little memory


class WorkerFailed(UsageError):
    """A worker process could not finish: what went wrong there, as a sentence."""


def default_workers() -> int:
    """The cores this process may run on (its affinity where the system tells it)."""
    count = getattr(os, "process_cpu_count", None)
    if count is not None:  # Python 3.13
        return int(count() or 1)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def worker_count(value: int | None, option: str = "workers") -> int:
    """``value`` checked as a number of worker processes (None: one per core)."""
    if value is None:
        return default_workers()
    if type(value) is not int or value < 1:
        raise UsageError(
            f"{option} is the number of worker processes, a whole number from 1, not {value!r}"
        )
    return value


def worker_of(member: object, count: int) -> int:
    """Which of ``count`` workers a member's events go to: a CRC-32 of its id, so the same on
    every run; anything that names no member (an unreadable line) goes to worker 0."""
    if count == 1 or type(member) is not str:
        return 0
    return zlib.crc32(member.encode("utf-8", "surrogatepass")) % count


class Records:
    """A file of (key, value) records written in key order, read back as a stream."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None
        self._chunk: list[tuple[Any, Any]] = []

    def add(self, key: Any, value: Any) -> None:
        self._chunk.append((key, value))
        if len(self._chunk) >= _CHUNK:
            self._flush()

    def close(self) -> None:
        self._flush()
        if self._file is not None:
            self._file.close()

    def _flush(self) -> None:
        if self._file is None:
            self._file = open(self.path, "wb")  # noqa: SIM115 (closed by close)
        if self._chunk:
            pickle.dump(self._chunk, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._chunk = []

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        with open(self.path, "rb") as file:
            while True:
                try:
                    chunk = pickle.load(file)
                except EOFError:
                    return
                yield from chunk


def merged(parts: Sequence[Iterable[tuple[Any, Any]]]) -> Iterator[Any]:
    """The values of every part, in key order (each part is in key order already)."""
    if len(parts) == 1:
        return (value for _, value in parts[0])
    # Keys are never equal across parts (each names a member, or a line, of its own), so the
    # records compare by key alone: no key function to call.
    return (value for _, value in heapq.merge(*parts))


def sortable(key: tuple[Any, ...]) -> bytes:
    """``key`` (a tuple of numbers and texts, as the records' keys are) as bytes that sort as
    the key does: ``sortable(a) < sortable(b)`` exactly when ``a < b``.

    Where the records of many shares are merged by a system that sorts bytes rather than
    Python tuples (``topo.spark`` sorts them in Spark), this keeps one order: the keys made
    for :func:`merged` itself. Numbers compare by value, ints and floats alike, as Python
    compares them: each is written as the float nearest it, then what a whole number differs
    from that float by (a microsecond count past 2**53, of a time after the year 2255, is not
    a float exactly; a whole number past 2**116 is refused); texts by code point, each ending before
    anything that follows it."""
    parts = []
    for value in key:
        if isinstance(value, str):
            # 0 marks the end: a text sorts before every longer text it begins; a 0 in the
            # text is written 0 1, after that end and before any other character
            text = value.encode("utf-8", "surrogatepass").replace(b"\x00", b"\x00\x01")
            parts.append(text + b"\x00\x00")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, int) and abs(value) > _LARGEST:
                raise ValueError(f"a key's whole numbers are within 2**116, got {value}")
            nearest = float(value)
            # A float's value is itself; a whole number's, the float plus what rounding lost
            rest = value - int(nearest) if isinstance(value, int) else 0
            bits = struct.unpack(">Q", struct.pack(">d", nearest))[0]
            # IEEE 754 as unsigned bytes in order: negatives flipped whole, positives' sign set
            bits = bits ^ 0xFFFF_FFFF_FFFF_FFFF if bits >> 63 else bits | 1 << 63
            parts.append(struct.pack(">QQ", bits, rest + (1 << 63)))
        else:
            raise TypeError(f"a key holds numbers and texts, got {type(value).__name__}")
    return b"".join(parts)


_LARGEST = 2**116  # rounding a whole number to a float loses less than 2**63 up to here


Progress = Callable[[list[float]], object]
"""Told, a few times a second, the two numbers each worker last reported, one after the other."""


def run(
    target: Callable[..., Any],
    tasks: Sequence[tuple[Any, ...]],
    *,
    progress: Progress | None = None,
) -> list[Any]:
    """``target(*task, report)`` for each task, each in a process of its own; their results in
    task order. ``report(done, count)`` lets a worker tell its progress (two numbers of its
    own measure) to ``progress``, which gets every worker's pair, one after the other.

    A :class:`topo.errors.TopoError` raised in a worker is raised here with its message (as
    :class:`WorkerFailed`); anything else becomes a :class:`WorkerFailed` naming the worker.
    Ctrl-C (or an error) stops every worker before it is raised."""
    context: Any = multiprocessing.get_context(start_method())  # fork's or spawn's
    shared = context.Array("d", 2 * len(tasks), lock=False)
    started: list[tuple[Any, Connection]] = []
    try:
        for number, task in enumerate(tasks):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_work,
                args=(target, task, send, shared, number),
                name=f"topo worker {number + 1} of {len(tasks)}",
                daemon=True,
            )
            process.start()
            send.close()
            started.append((process, receive))
        return _results(started, shared, progress)
    finally:
        for process, receive in started:
            if process.is_alive():
                process.terminate()
            process.join()
            receive.close()


def start_method() -> Literal["fork", "spawn"]:
    """How :func:`run` starts its processes: ``fork`` on Linux when this process runs no
    other thread, else ``spawn``.

    A forked worker starts at once with what this process has imported; a spawned one is a
    new interpreter that imports topo, numpy and the rest again (most of a second, which a
    run with two workers waits for). Forking a process that runs other threads may copy a
    lock one of them held (the child then waits for it forever), and macOS's system libraries
    do not survive a fork: there, and on Windows, spawn."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _results(
    started: list[tuple[Any, Connection]], shared: Any, progress: Progress | None
) -> list[Any]:
    results: dict[int, Any] = {}
    waiting = {receive: number for number, (_, receive) in enumerate(started)}
    while waiting:
        for ready in wait(list(waiting), timeout=0.2):
            assert isinstance(ready, Connection)
            number = waiting.pop(ready)
            try:
                outcome, value = ready.recv()
            except EOFError:  # it died without a word: killed, or out of memory
                code = started[number][0]
                code.join()
                raise WorkerFailed(
                    f"worker {number + 1} of {len(started)} stopped unexpectedly (exit code "
                    f"{code.exitcode}); run again, or with fewer --workers if memory is short"
                ) from None
            if outcome == "failed":
                raise WorkerFailed(value)
            results[number] = value
        if progress is not None:
            progress(list(shared))
    return [results[number] for number in range(len(started))]


def _work(
    target: Callable[..., Any], task: tuple[Any, ...], send: Connection, shared: Any, number: int
) -> None:
    """A worker process: run the task, send back ("done", result) or ("failed", message)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops us

    def report(done: float, count: float) -> None:
        shared[2 * number], shared[2 * number + 1] = done, count

    try:
        result = target(*task, report)
    except TopoError as exc:
        send.send(("failed", str(exc)))
    except MemoryError:
        send.send(("failed", f"worker {number + 1} ran out of memory; use fewer --workers"))
    except Exception as exc:
        send.send(("failed", f"worker {number + 1} failed: {type(exc).__name__}: {exc}"))
    else:
        send.send(("done", result))
    send.close()
