"""One parallel map for every grid of independent fits: local processes or a Dask cluster.

The placebo runs of an evaluation, the injected-effect grid of ``testbed design`` and
the per-place power grids of ``testbed choose`` are many independent fits that share
one large input (the outcome panel and its donor pools).  They all go through
:func:`parallel_map`:

* ``workers <= 1`` and no cluster: a plain loop in this process;
* ``workers > 1``: a :class:`concurrent.futures.ProcessPoolExecutor` of that many
  local processes; the shared input is sent once to each process (its initializer),
  not once per task;
* ``cluster="tcp://HOST:8786"`` (or any address a :class:`distributed.Client`
  accepts): the tasks run on that Dask cluster; the shared input is scattered to
  every worker once (``Client.scatter(..., broadcast=True)``).  The workers must be
  able to import ``keycities`` (the same version: the tasks are module-level
  functions of the package, pickled by reference).

Tasks are sent in chunks (``chunk`` items each) so that a cheap fit does not pay a
round trip of its own; results come back in the order of ``items`` whatever the
order they finish in, so a result never depends on the engine or the number of
workers.  ``progress(done, total)`` is called as chunks finish.

No scheduler is written here: local processes are the standard library's pool, and
scale-out is Dask's (``distributed``), which brings its own scheduling, retries and
dashboard.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any, TypeVar

from keycities.errors import KeycitiesError

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int, int], None]
CONNECT_SECONDS = 5.0
"""How long to wait for a Dask scheduler to answer before giving up."""

_SHARED: dict[str, Any] = {}


class ClusterError(KeycitiesError):
    """The Dask cluster named by ``--cluster`` (or ``KEYCITIES_CLUSTER``) cannot be used."""


def _set_shared(shared: Any) -> None:
    _SHARED["value"] = shared


def _run_chunk(fn: Callable[[Any, Any], Any], chunk: Sequence[Any]) -> list[Any]:
    """``fn(shared, item)`` for each item of a chunk, in a local worker process."""
    return [fn(_SHARED["value"], item) for item in chunk]


def _run_chunk_with(fn: Callable[[Any, Any], Any], shared: Any, chunk: Sequence[Any]
                    ) -> list[Any]:
    """``fn(shared, item)`` for each item of a chunk, on a Dask worker."""
    return [fn(shared, item) for item in chunk]


def _chunks(n: int, size: int) -> list[range]:
    size = max(1, int(size))
    return [range(i, min(i + size, n)) for i in range(0, n, size)]


def parallel_map(fn: Callable[[Any, T], R], items: Sequence[T], *, shared: Any = None,
                 workers: int = 1, cluster: str | None = None, chunk: int = 8,
                 progress: Progress | None = None) -> list[R]:
    """``[fn(shared, item) for item in items]``, in parallel (see the module docstring).

    Parameters
    ----------
    fn
        A module-level function (it is pickled by reference) of the shared input and
        one item.
    items
        The tasks' inputs (picklable).
    shared
        One input every task reads (picklable), sent once per worker.
    workers
        Local processes (1: in this process).  Ignored with ``cluster``.
    cluster
        Address of a Dask scheduler (``tcp://HOST:8786``); None for local processes.
    chunk
        Items per task.
    progress
        Called as ``progress(done, total)`` after each chunk.

    Returns
    -------
    list
        The results, in the order of ``items``.

    Raises
    ------
    ClusterError
        The cluster cannot be reached (nothing has run: no partial result).
    """
    items = list(items)
    if not items:
        return []
    parts = _chunks(len(items), chunk)
    if cluster:
        return _on_cluster(fn, items, parts, shared, cluster, progress)
    if workers <= 1:
        out: list[R] = []
        for part in parts:
            out += [fn(shared, items[i]) for i in part]
            if progress is not None:
                progress(len(out), len(items))
        return out
    return _on_processes(fn, items, parts, shared, workers, progress)


def _on_processes(fn: Callable[[Any, Any], Any], items: list[Any], parts: list[range],
                  shared: Any, workers: int, progress: Progress | None) -> list[Any]:
    # fork (where available) starts at once and needs no importable __main__; spawn is
    # the portable fallback.
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(parts)), mp_context=ctx,
                             initializer=_set_shared, initargs=(shared,)) as pool:
        futures = {pool.submit(_run_chunk, fn, [items[i] for i in part]): part
                   for part in parts}
        return _gather(as_completed(futures), futures, len(items), progress)


def _gather(finished: Iterable[Any], futures: Mapping[Any, range], n: int,
            progress: Progress | None) -> list[Any]:
    """Results of chunk futures in the order of the items, reporting progress as each
    chunk finishes (``finished`` yields the futures in the order they complete)."""
    results: list[Any] = [None] * n
    done = 0
    for fut in finished:
        part = futures[fut]
        for i, r in zip(part, fut.result(), strict=True):
            results[i] = r
        done += len(part)
        if progress is not None:
            progress(done, n)
    return results


@contextmanager
def dask_client(address: str) -> Iterator[Any]:
    """A :class:`distributed.Client` connected to ``address``, closed on exit.

    Raises
    ------
    ClusterError
        When nothing answers at ``address`` within :data:`CONNECT_SECONDS`.
    """
    # deferred: distributed takes about a second to import, and only a cluster run needs it
    from distributed import Client

    try:
        client = Client(address, timeout=f"{CONNECT_SECONDS:g}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(
            f"Cannot reach the Dask cluster at {address!r} ({type(exc).__name__}: {exc}). "
            "Start a scheduler and workers there (`dask scheduler`, then `dask worker "
            f"{address}` on each machine, with keycities installed), check the address "
            "and port, or leave --cluster (KEYCITIES_CLUSTER) out to use local "
            "processes.") from None
    try:
        yield client
    finally:
        client.close()


def check_cluster(address: str | None) -> None:
    """Connect to ``address`` and disconnect: a :class:`ClusterError` now, before any
    long work or any output, when it cannot be reached."""
    if address:
        with dask_client(address):
            pass


def _on_cluster(fn: Callable[[Any, Any], Any], items: list[Any], parts: list[range],
                shared: Any, address: str, progress: Progress | None) -> list[Any]:
    # deferred: distributed takes about a second to import, and only a cluster run needs it
    from distributed import as_completed as dask_completed

    with dask_client(address) as client:
        [held] = client.scatter([shared], broadcast=True)
        futures = {client.submit(_run_chunk_with, fn, held, [items[i] for i in part],
                                 pure=False): part for part in parts}
        return _gather(dask_completed(list(futures), loop=client.loop), futures, len(items),
                       progress)


__all__ = ["ClusterError", "check_cluster", "dask_client", "parallel_map"]
