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

Time limit: a computation that has *run* (in the worker, time spent waiting
for it not counted) longer than the limit (``KEYCITIES_JOB_SECONDS``, see
:class:`~keycities.settings.Settings`) is stopped: its worker process is
terminated, the job fails with a :class:`TimeLimitError` saying what to ask
for instead, and the next computation gets a fresh worker.  A worker that dies
otherwise (killed, out of memory) is replaced the same way, so it never leaves
the jobs stuck.

Priority: the jobs' worker runs at a lower scheduling priority (``JOB_NICENESS``
added to its niceness, as batch workers usually are), so that on a small server
the web process, which answers the cheap reads, gets the CPU first while a job
computes; a job then takes the CPU the reads leave (``benchmarks/load.py``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import CancelledError, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from keycities.errors import KeycitiesError

KEEP = 64
"""Finished jobs kept for later requests with the same parameters."""
MAX_WAITING = 8
"""Jobs that may wait for a worker; beyond that new ones are refused (503)."""
ADVICE = "ask for less at once."
"""What a stopped computation's message suggests when its caller gives no advice."""


class OneJobAtATimeError(KeycitiesError):
    """The client already has a job queued or running (429)."""


class JobsBusyError(KeycitiesError):
    """The queue is full (503): the server's state, not the request's fault."""


class TimeLimitError(KeycitiesError):
    """A computation ran longer than the server allows; its worker was stopped."""


class WorkerLostError(KeycitiesError):
    """The worker process ended before the computation did (killed, out of memory,
    or the app shutting down)."""

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
    limit_seconds: float | None = None
    """Running time allowed (None: no limit), shown so a client knows what to expect."""
    over_limit: bool = False
    """Stopped by the time limit: kept as it is (not run again) for the same parameters."""

    def report(self, fraction: float, message: str) -> None:
        """Record progress (called from the worker thread)."""
        self.progress = max(0.0, min(1.0, float(fraction)))
        self.message = message

    def payload(self) -> dict[str, Any]:
        """Plain status for the JSON API (the result is served by the page itself)."""
        return {"id": self.id, "kind": self.kind, "status": self.status,
                "progress": round(self.progress, 4), "message": self.message,
                "seconds": round((self.finished or time.time()) - self.started, 2),
                "limit_seconds": self.limit_seconds, "error": self.error}


class Jobs:
    """A bounded pool of background jobs, deduplicated by their parameters.

    Parameters
    ----------
    workers
        Jobs run at the same time (threads; their computing shares one worker
        process, see :func:`in_process`).
    limit_seconds
        Running time allowed to a job submitted with :meth:`submit_in_process`
        (None: no limit).  It is enforced in the worker process: a job whose
        ``fn`` runs in this process's threads (:meth:`submit`) cannot be stopped.
    """

    def __init__(self, workers: int = 1, *, limit_seconds: float | None = None) -> None:
        if limit_seconds is not None and not limit_seconds > 0:
            raise KeycitiesError(f"The job time limit must be positive, not {limit_seconds}.")
        self.limit_seconds = limit_seconds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="keycities-job")
        self._lock = threading.Lock()
        self._by_key: OrderedDict[str, Job] = OrderedDict()
        self._by_id: dict[str, Job] = {}

    def submit(self, kind: str, key: str, fn: Callable[[Report], Any], *,
               owner: str = "", limit_seconds: float | None = None) -> Job:
        """The job for ``key``: the existing one if any (running, done, or stopped by the
        time limit), else a new one (a job that failed otherwise is run again).

        ``fn`` receives a progress callback and returns the result.  A
        :class:`KeycitiesError` becomes the job's error message; any other
        exception too, prefixed so that it reads as the server's fault.
        ``limit_seconds`` is only recorded on a new job (for its payload): ``fn``
        enforces it, as :meth:`submit_in_process` does.

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
            if job is not None and (job.status != "failed" or job.over_limit):
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
            job = Job(id=uuid.uuid4().hex[:12], kind=kind, key=key, owner=owner,
                      limit_seconds=limit_seconds)
            self._by_key[key] = job
            self._by_id[job.id] = job
            self._trim()
        self._pool.submit(self._run, job, fn)
        return job

    def submit_in_process(self, kind: str, key: str, fn: Callable[..., Any], *args: Any,
                          owner: str = "", advice: str = ADVICE) -> Job:
        """:meth:`submit` a job that runs ``fn(report, *args)`` in the worker process
        (:func:`in_process`), stopped after :attr:`limit_seconds` of running.

        ``advice`` ends the message of a job stopped by the limit: what to ask for
        instead.  ``fn`` must be a module-level function, ``args`` picklable.
        """
        limit = self.limit_seconds

        def work(report: Report) -> Any:
            return in_process(report, fn, *args, limit=limit, advice=advice)

        return self.submit(kind, key, work, owner=owner, limit_seconds=limit)

    def _run(self, job: Job, fn: Callable[[Report], Any]) -> None:
        job.status, job.message, job.started = "running", "starting", time.time()
        try:
            job.result = fn(job.report)
            job.status, job.progress, job.message = "done", 1.0, "done"
        except TimeLimitError as exc:  # asking again would only run out of time again
            job.status, job.error, job.over_limit = "failed", str(exc), True
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

    def forget_finished(self) -> None:
        """Forget finished jobs' results (the store they came from was replaced)."""
        with self._lock:
            for key in [k for k, j in self._by_key.items() if j.status in ("done", "failed")]:
                job = self._by_key.pop(key)
                self._by_id.pop(job.id, None)

    def __len__(self) -> int:
        """Jobs known: queued, running, and the finished ones kept."""
        return len(self._by_id)

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

POLL = 0.25
"""Seconds between looks at the worker's progress (and at the time limit)."""


class WorkerProcess:
    """Worker processes (one by default), started on first use and replaced on demand.

    forkserver: a clean process, not a fork of this multi-threaded server.
    :meth:`replace` ends a pool's process (a computation over its time limit, or
    a broken pool) so that the next use starts a fresh one; :meth:`stop` ends it
    for good.  The jobs' worker and the app's chart worker
    (:data:`keycities.web.render.SVG_WORKER`) are one each.
    """

    def __init__(self, workers: int = 1, *, niceness: int = 0) -> None:
        self._lock = threading.Lock()
        self.workers = workers
        self.niceness = niceness
        """Added to the worker processes' niceness (higher: a lower priority)."""
        self.pool: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor:
        """The current pool, made if need be."""
        with self._lock:
            if self.pool is None:
                self.pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("forkserver"),
                    initializer=_lower_priority, initargs=(self.niceness,))
            return self.pool

    def replace(self, pool: ProcessPoolExecutor) -> None:
        """Terminate ``pool``'s process (if it is still the current one): the next
        use starts a fresh worker."""
        with self._lock:
            if self.pool is not pool:
                return
            self.pool = None
        _terminate(pool)

    def stop(self) -> None:
        """End the worker process now (work in it fails)."""
        with self._lock:
            pool, self.pool = self.pool, None
        if pool is not None:
            _terminate(pool)


JOB_NICENESS = 10
"""Added to the jobs' worker's niceness (see the module docstring): 10, the usual
default of ``nice``."""


def _lower_priority(niceness: int) -> None:
    """Run this worker process at a lower priority (where the OS has ``nice``; 0: as it is)."""
    if niceness:
        with contextlib.suppress(AttributeError, OSError):
            os.nice(niceness)


class _Worker:
    """The jobs' worker process (:class:`WorkerProcess`) and a progress board.

    The board's manager is made on demand too; :meth:`stop` drops both (the app
    is shutting down).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process = WorkerProcess(niceness=JOB_NICENESS)
        self.manager: Any = None
        self.board: Any = None
        self.stops = 0
        """How many times :meth:`stop` ran: a computation never restarts the worker
        after one (a stopped app must not leave a process behind)."""

    @property
    def pool(self) -> ProcessPoolExecutor | None:
        """The worker's pool, if one is running."""
        return self.process.pool

    def start(self, *, stops: int | None = None) -> tuple[ProcessPoolExecutor, Any]:
        """The pool and the board, made if need be; ``stops``: refuse (WorkerLostError)
        when :meth:`stop` has run since that count was read."""
        with self.lock:
            if stops is not None and stops != self.stops:
                raise WorkerLostError(LOST)
            if self.manager is None:
                self.manager = multiprocessing.get_context("forkserver").Manager()
                self.board = self.manager.dict()
            return self.process.get(), self.board

    def replace(self, pool: ProcessPoolExecutor) -> None:
        """Terminate ``pool``'s process (if it is still the current one): the next
        computation starts a fresh worker."""
        self.process.replace(pool)

    def stop(self) -> None:
        """Stop the worker at once (a running job fails; the app is shutting down)."""
        with self.lock:
            manager = self.manager
            self.manager = self.board = None
            self.stops += 1
        self.process.stop()
        if manager is not None:
            manager.shutdown()


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Shut ``pool`` down and end its processes now, not after their work."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.join(timeout=5)
        if proc.is_alive():  # SIGTERM caught or ignored by the job's code
            proc.kill()
            proc.join(timeout=5)


WORKER = _Worker()


class _Failed:
    """A user error raised in the worker, carried back as its message."""

    def __init__(self, message: str) -> None:
        self.message = message


def _call(fn: Callable[..., Any], key: str, board: Any, args: tuple[Any, ...]) -> Any:
    def report(fraction: float, message: str) -> None:
        board[key] = (float(fraction), str(message))

    report(0.0, "starting")  # the running time (and the time limit) counts from here
    try:
        return fn(report, *args)
    except KeycitiesError as exc:  # its own class may not survive pickling
        return _Failed(str(exc))


class _LostError(Exception):
    """The worker ended under a computation; ``started`` when the computation had begun."""

    def __init__(self, started: bool) -> None:
        super().__init__("worker lost")
        self.started = started


class _OverLimitError(Exception):
    """The computation has run longer than its limit."""


LOST = ("The worker process ended before this computation finished (the server may be "
        "short of memory, or restarting): try again in a minute.")


def in_process(report: Report, fn: Callable[..., Any], *args: Any,
               limit: float | None = None, advice: str = ADVICE) -> Any:
    """Run ``fn(report, *args)`` in the worker process and relay its progress to ``report``.

    ``fn`` must be a module-level function and ``args`` and its result picklable.
    A :class:`KeycitiesError` in the worker is raised here with the same message.

    Parameters
    ----------
    report
        Progress callback of the job.
    fn, args
        The computation.
    limit
        Seconds ``fn`` may run (None: no limit).  Time spent waiting for the
        worker (another computation in it) does not count.
    advice
        What to ask for instead, ending the message of a computation stopped
        by ``limit``.

    Raises
    ------
    TimeLimitError
        When ``fn`` ran longer than ``limit``: its worker process is terminated
        and the next computation gets a fresh one.
    WorkerLostError
        When the worker process ended before ``fn`` did (it is replaced).  A
        computation that had not begun when another one's worker was stopped is
        run again once, in the new worker.
    """
    stops = WORKER.stops
    for attempt in range(2):
        pool, board = WORKER.start(stops=stops)
        try:
            result = _wait(pool, board, report, fn, args, limit)
        except _LostError as lost:
            WORKER.replace(pool)
            if lost.started or attempt:
                raise WorkerLostError(LOST) from None
            continue  # it was only waiting: once more, in a fresh worker
        except _OverLimitError:
            WORKER.replace(pool)
            raise TimeLimitError(f"Stopped after {limit or 0:g} s, the limit for one "
                                 f"computation on this server: {advice}") from None
        if isinstance(result, _Failed):
            raise KeycitiesError(result.message)
        return result
    raise AssertionError("unreachable")  # pragma: no cover


def _wait(pool: ProcessPoolExecutor, board: Any, report: Report, fn: Callable[..., Any],
          args: tuple[Any, ...], limit: float | None) -> Any:
    """``fn``'s result from the worker, relaying progress; _OverLimitError past ``limit``,
    _LostError when the worker (or the board) is gone.  ``fn``'s own errors pass through."""
    key = uuid.uuid4().hex
    started: float | None = None
    try:
        future = pool.submit(_call, fn, key, board, args)
    except RuntimeError as exc:  # BrokenProcessPool, or a pool already shut down
        raise _LostError(False) from exc
    try:
        while True:
            if wait_for([future], timeout=POLL).done:
                try:
                    return future.result()
                except (BrokenProcessPool, CancelledError) as exc:
                    raise _LostError(started is not None) from exc
            try:
                got = board.get(key)
            except (OSError, EOFError) as exc:  # the manager is gone: the app is stopping
                raise _LostError(started is not None) from exc
            if got:
                started = started if started is not None else time.monotonic()
                report(*got)
            if limit is not None and started is not None and time.monotonic() - started > limit:
                raise _OverLimitError
    finally:
        with contextlib.suppress(OSError, EOFError):
            board.pop(key, None)


def pause(report: Report, seconds: float) -> int:
    """Wait ``seconds`` in the worker and return its process id (checks the time limit
    and the worker's replacement; module-level, so the worker can import it)."""
    report(0.5, f"waiting {seconds:g} s in process {os.getpid()}")
    time.sleep(seconds)
    return os.getpid()
