"""Build into a copy of the store and swap it in: readers never wait, never see half a build.

DuckDB lets one process write a database file, and none may read it meanwhile
(a writer takes the file's lock).  So a build that wrote the store in place
could not run while ``keycities serve`` (or a notebook) had it open, and the
readers could not open it while a build ran.  :func:`staged` instead copies the
store to a file beside it, lets the build write the copy, checkpoints and
closes it, and then renames it over the store (``os.replace``: atomic on one
file system).  A reader that has the old file open keeps reading it; the web
app notices the new file and opens it (:mod:`keycities.web.app`).  A build
that wrote nothing (every release unchanged) keeps the old file.

A build that fails or is killed leaves the store exactly as it was; the copy it
left is removed by the next build.  Two builds of one store at a time are
refused (a lock file beside it), since the second would overwrite the first's
work.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from keycities.errors import KeycitiesError
from keycities.sources.base import fsync_path
from keycities.store.store import Store, prepare_store_path

STAGE_SUFFIX = ".building"
"""Suffix of the copy a build writes (``.<store name>.<pid>.building``)."""


@contextmanager
def staged(path: Path | str) -> Iterator[Store]:
    """A writable copy of the store at ``path``, swapped in when the block ends normally.

    Parameters
    ----------
    path
        The store file (it need not exist yet).  ``":memory:"`` yields a plain
        in-memory store.

    Yields
    ------
    Store
        The copy, open for writing.

    Raises
    ------
    KeycitiesError
        When another build of the same store is running.
    """
    if str(path) == ":memory:":
        with Store(":memory:") as store:
            yield store
        return
    # A symlinked store: build beside its target and replace the target (the link stays).
    path = Path(os.path.realpath(path))
    prepare_store_path(path)
    with _build_lock(path):
        for stale in path.parent.glob(f".{path.name}.*{STAGE_SUFFIX}*"):
            stale.unlink(missing_ok=True)  # left by a build that was killed
        copy = path.with_name(f".{path.name}.{os.getpid()}{STAGE_SUFFIX}")
        try:
            if path.exists():
                _copy_with_wal(path, copy)
            store = Store(copy)
            try:
                yield store
                store.connect().execute("CHECKPOINT")
            finally:
                store.close()
            if path.exists() and not store.written:
                return  # nothing changed: keep the file readers have open (and their caches)
            fsync_path(copy)
            os.replace(copy, path)
            path.with_name(path.name + ".wal").unlink(missing_ok=True)
            fsync_path(path.parent)
        finally:
            copy.unlink(missing_ok=True)
            copy.with_name(copy.name + ".wal").unlink(missing_ok=True)


@contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    lock = path.with_name(path.name + ".lock")
    with lock.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            who = fh.read().strip() or "another process"
            raise KeycitiesError(
                f"Another build of {path} is running ({who}): wait for it to finish, then "
                "run this one (it would otherwise undo the other's work).") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"process {os.getpid()}\n")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)


def _copy_with_wal(path: Path, copy: Path) -> None:
    """Copy the store and its write-ahead log (a store written in place may have one)."""
    shutil.copyfile(path, copy)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
