"""Long computations off the request path, with progress.

Twinning at postcode-sector level and placebo loops take seconds to a minute.
A request for one starts (or finds) a :class:`Job` keyed by its parameters and
returns at once; the page shows the job's progress and refreshes itself until
the result is there, and the same parameters later get the stored result.
Jobs run on a small thread pool, so reads are never queued behind them.

Finished jobs are kept (the most recent ``KEEP``); a failed job keeps its
error message, which the page shows in place of the result.

The computing itself runs in a separate worker process (:func:`in_process`),
so that a job's Python code never holds the web process's interpreter lock:
reads stay fast while a placebo loop or a sector twinning runs (measured in
``benchmarks/load.py``).  The job's thread only waits for the worker and
relays its progress.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from keycities.errors import KeycitiesError

KEEP = 64
"""Finished jobs kept for later requests with the same parameters."""
MAX_WAITING = 8
"""Jobs that may wait for a worker; beyond that new ones are refused (503)."""


class OneJobAtATimeError(KeycitiesError):
    """The client already has a job queued or running (429)."""


class JobsBusyError(KeycitiesError):
    """The queue is full (503): the server's state, not the request's fault."""

Report = Callable[[float, str], None]
"""Progress callback: (fraction done in [0, 1], what is happening)."""


@dataclass
class Job:
    """One background computation and what is known about it."""

    id: str
    kind: str
    key: str
    owner: str = ""
    status: str = "queued"  # queued | running | done | failed
    progress: float = 0.0
    message: str = "waiting for a free worker"
    started: float = field(default_factory=time.time)
    finished: float | None = None
    result: Any = None
    error: str | None = None

    def report(self, fraction: float, message: str) -> None:
        """Record progress (called from the worker thread)."""
        self.progress = max(0.0, min(1.0, float(fraction)))
        self.message = message

    def payload(self) -> dict[str, Any]:
        """Plain status for the JSON API (the result is served by the page itself)."""
        return {"id": self.id, "kind": self.kind, "status": self.status,
                "progress": round(self.progress, 4), "message": self.message,
                "seconds": round((self.finished or time.time()) - self.started, 2),
                "error": self.error}


class Jobs:
    """A bounded pool of background jobs, deduplicated by their parameters."""

    def __init__(self, workers: int = 1) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="keycities-job")
        self._lock = threading.Lock()
        self._by_key: OrderedDict[str, Job] = OrderedDict()
        self._by_id: dict[str, Job] = {}

    def submit(self, kind: str, key: str, fn: Callable[[Report], Any], *,
               owner: str = "") -> Job:
        """The job for ``key``: the existing one if any (running or done), else a new one.

        ``fn`` receives a progress callback and returns the result.  A
        :class:`KeycitiesError` becomes the job's error message; any other
        exception too, prefixed so that it reads as the server's fault.

        Raises
        ------
        OneJobAtATimeError
            When ``owner`` (a user or a client address) already has another job
            queued or running: one job per client, so that one cannot starve others.
        JobsBusyError
            When ``MAX_WAITING`` jobs are already waiting.
        """
        with self._lock:
            job = self._by_key.get(key)
            if job is not None and job.status != "failed":
                self._by_key.move_to_end(key)
                return job
            active = [j for j in self._by_key.values() if j.status in ("queued", "running")]
            mine = [j for j in active if owner and j.owner == owner]
            if mine:
                raise OneJobAtATimeError(
                    f"You already have a {mine[0].kind} job {mine[0].status} ({mine[0].message}"
                    f"): wait for it to finish, then ask again.")
            if sum(j.status == "queued" for j in active) >= MAX_WAITING:
                raise JobsBusyError(f"{MAX_WAITING} long computations are already waiting: try "
                               "again in a minute.")
            job = Job(id=uuid.uuid4().hex[:12], kind=kind, key=key, owner=owner)
            self._by_key[key] = job
            self._by_id[job.id] = job
            self._trim()
        self._pool.submit(self._run, job, fn)
        return job

    def _run(self, job: Job, fn: Callable[[Report], Any]) -> None:
        job.status, job.message, job.started = "running", "starting", time.time()
        try:
            job.result = fn(job.report)
            job.status, job.progress, job.message = "done", 1.0, "done"
        except KeycitiesError as exc:
            job.status, job.error = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - a job must never take the worker down
            job.status, job.error = "failed", f"Internal error ({type(exc).__name__}: {exc})."
        finally:
            job.finished = time.time()

    def _trim(self) -> None:
        done = [k for k, j in self._by_key.items() if j.status in ("done", "failed")]
        for k in done[: max(0, len(done) - KEEP)]:
            job = self._by_key.pop(k)
            self._by_id.pop(job.id, None)

    def get(self, job_id: str) -> Job | None:
        """The job with id ``job_id``, if it is still known."""
        return self._by_id.get(job_id)

    def wait(self, job: Job, timeout: float) -> Job:
        """Wait up to ``timeout`` seconds for ``job`` to finish (tests, export)."""
        end = time.time() + timeout
        while job.status in ("queued", "running") and time.time() < end:
            time.sleep(0.02)
        return job

    def shutdown(self) -> None:
        """Stop accepting jobs; running ones finish in the background."""
        self._pool.shutdown(wait=False, cancel_futures=True)


# ------------------------------------------------------------------ the worker process


class _Worker:
    """One long-lived worker process (started on first use) and a progress board."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pool: ProcessPoolExecutor | None = None
        self.manager: Any = None
        self.board: Any = None

    def start(self) -> tuple[ProcessPoolExecutor, Any]:
        with self.lock:
            if self.pool is None:
                # forkserver: a clean process, not a fork of this multi-threaded server.
                ctx = multiprocessing.get_context("forkserver")
                self.manager = ctx.Manager()
                self.board = self.manager.dict()
                self.pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
            return self.pool, self.board

    def stop(self) -> None:
        """Stop the worker at once (a running job fails; the app is shutting down)."""
        with self.lock:
            if self.pool is not None:
                procs = list((getattr(self.pool, "_processes", None) or {}).values())
                self.pool.shutdown(wait=False, cancel_futures=True)
                for proc in procs:
                    proc.terminate()
                self.manager.shutdown()
                self.pool = self.manager = self.board = None


WORKER = _Worker()


class _Failed:
    """A user error raised in the worker, carried back as its message."""

    def __init__(self, message: str) -> None:
        self.message = message


def _call(fn: Callable[..., Any], key: str, board: Any, args: tuple[Any, ...]) -> Any:
    def report(fraction: float, message: str) -> None:
        board[key] = (float(fraction), str(message))

    try:
        return fn(report, *args)
    except KeycitiesError as exc:  # its own class may not survive pickling
        return _Failed(str(exc))


def in_process(report: Report, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(report, *args)`` in the worker process and relay its progress to ``report``.

    ``fn`` must be a module-level function and ``args`` and its result picklable.
    A :class:`KeycitiesError` in the worker is raised here with the same message.
    """
    pool, board = WORKER.start()
    key = uuid.uuid4().hex
    future = pool.submit(_call, fn, key, board, args)
    while True:
        try:
            result = future.result(timeout=0.25)
            break
        except TimeoutError:
            got = board.get(key)
            if got:
                report(*got)
    board.pop(key, None)
    if isinstance(result, _Failed):
        raise KeycitiesError(result.message)
    return result
