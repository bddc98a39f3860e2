"""Background jobs: deduplication, progress, failures, one job per client, a bounded queue."""

from __future__ import annotations

import threading

import pytest

from keycities.errors import KeycitiesError
from keycities.web.jobs import MAX_WAITING, Jobs, JobsBusyError, OneJobAtATimeError


def test_same_parameters_share_one_job_and_progress_is_reported() -> None:
    jobs, gate = Jobs(workers=1), threading.Event()

    def work(report):  # type: ignore[no-untyped-def]
        report(0.5, "half way")
        gate.wait(5)
        return 42

    a = jobs.submit("twin", "k", work, owner="client:1")
    assert jobs.submit("twin", "k", work, owner="client:2") is a
    for _ in range(100):
        if a.message == "half way":
            break
        threading.Event().wait(0.01)
    assert a.payload()["progress"] == 0.5
    gate.set()
    assert jobs.wait(a, 5).status == "done" and a.result == 42
    jobs.shutdown()


def test_errors_become_the_jobs_message() -> None:
    jobs = Jobs()

    def user_error(report):  # type: ignore[no-untyped-def]
        raise KeycitiesError("no such outcome")

    def bug(report):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("division by zero")

    a, b = jobs.submit("t", "a", user_error), jobs.submit("t", "b", bug)
    assert jobs.wait(a, 5).error == "no such outcome"
    assert "Internal error (ZeroDivisionError" in (jobs.wait(b, 5).error or "")
    jobs.shutdown()


def test_one_job_per_client_and_a_bounded_queue() -> None:
    jobs, gate = Jobs(workers=1), threading.Event()

    def slow(report):  # type: ignore[no-untyped-def]
        gate.wait(10)

    first = jobs.submit("twin", "first", slow, owner="client:1")
    for _ in range(500):  # until the worker has taken it
        if first.status == "running":
            break
        threading.Event().wait(0.01)
    with pytest.raises(OneJobAtATimeError, match="already have a twin job"):
        jobs.submit("twin", "second", slow, owner="client:1")
    for i in range(MAX_WAITING):  # one running, the rest wait for the single worker
        jobs.submit("twin", f"other-{i}", slow, owner=f"client:{i + 2}")
    with pytest.raises(JobsBusyError, match="already waiting"):
        jobs.submit("twin", "one-too-many", slow, owner="client:99")
    gate.set()
    jobs.shutdown()
