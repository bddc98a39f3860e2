"""Long computations off the request path, with progress.

Twinning at postcode-sector level and placebo loops take seconds to a minute.
A request for one starts (or finds) a :class:`Job` keyed by its parameters and
returns at once; the page shows the job's progress and refreshes itself until
the result is there, and the same parameters later get the stored result.
Jobs run on a small thread pool, so reads are never queued behind them.

Finished jobs are kept (the most recent ``KEEP``); a failed job keeps its
error message, which the page shows in place of the result.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from keycities.errors import KeycitiesError

KEEP = 64
"""Finished jobs kept for later requests with the same parameters."""

Report = Callable[[float, str], None]
"""Progress callback: (fraction done in [0, 1], what is happening)."""


@dataclass
class Job:
    """One background computation and what is known about it."""

    id: str
    kind: str
    key: str
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

    def submit(self, kind: str, key: str, fn: Callable[[Report], Any]) -> Job:
        """The job for ``key``: the existing one if any (running or done), else a new one.

        ``fn`` receives a progress callback and returns the result.  A
        :class:`KeycitiesError` becomes the job's error message; any other
        exception too, prefixed so that it reads as the server's fault.
        """
        with self._lock:
            job = self._by_key.get(key)
            if job is not None and job.status != "failed":
                self._by_key.move_to_end(key)
                return job
            job = Job(id=uuid.uuid4().hex[:12], kind=kind, key=key)
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

    def find(self, key: str) -> Job | None:
        """The job for ``key``, if any."""
        return self._by_key.get(key)

    def wait(self, job: Job, timeout: float) -> Job:
        """Wait up to ``timeout`` seconds for ``job`` to finish (tests, export)."""
        end = time.time() + timeout
        while job.status in ("queued", "running") and time.time() < end:
            time.sleep(0.02)
        return job

    def shutdown(self) -> None:
        """Stop accepting jobs; running ones finish in the background."""
        self._pool.shutdown(wait=False, cancel_futures=True)
