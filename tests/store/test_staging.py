"""Builds write a copy of the store and swap it in (keycities.store.staging)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from keycities.errors import KeycitiesError
from keycities.store.staging import staged
from keycities.store.store import Store


def _put(store: Store, value: int) -> None:
    store.write(lambda con: con.execute(
        "CREATE OR REPLACE TABLE probe AS SELECT ? AS value", [value]))


def _value(path: Path) -> int:
    with Store(path, read_only=True) as s:
        return int(s.query("SELECT value FROM probe")["value"].iloc[0])


def _leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.endswith((".building",
                                                                            ".building.wal")))


def test_a_build_runs_while_a_reader_has_the_store_open(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    with staged(path) as s:
        _put(s, 1)
    reader = Store(path, read_only=True)
    assert int(reader.query("SELECT value FROM probe")["value"].iloc[0]) == 1
    # Another process (as `keycities build` beside `keycities serve`) cannot write the
    # file in place while the reader has it open...
    in_place = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r})"],
        capture_output=True, text=True, check=False)
    assert in_place.returncode != 0 and "lock" in in_place.stderr.lower()
    # ...but a staged build goes ahead, and the reader keeps its consistent old view.
    build = ("from keycities.store.staging import staged\n"
             f"with staged({str(path)!r}) as s:\n"
             "    assert s.query('SELECT value FROM probe')['value'].iloc[0] == 1\n"
             "    s.write(lambda con: con.execute(\n"
             "        'CREATE OR REPLACE TABLE probe AS SELECT 2 AS value'))\n")
    subprocess.run([sys.executable, "-c", build], check=True)
    assert int(reader.query("SELECT value FROM probe")["value"].iloc[0]) == 1
    reader.close()
    assert _value(path) == 2
    assert _leftovers(path) == []
    assert not path.with_name(path.name + ".wal").exists()


def test_a_failed_build_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    with staged(path) as s:
        _put(s, 1)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="boom"), staged(path) as s:
        _put(s, 2)
        raise RuntimeError("boom")
    assert path.read_bytes() == before
    assert _value(path) == 1
    assert _leftovers(path) == []


def test_a_first_build_that_fails_leaves_no_store(tmp_path: Path) -> None:
    path = tmp_path / "new" / "k.duckdb"
    with pytest.raises(RuntimeError), staged(path) as s:
        _put(s, 1)
        raise RuntimeError("boom")
    assert not path.exists()
    assert _leftovers(path) == []


def test_a_second_build_at_the_same_time_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    lock = path.with_name(path.name + ".lock")
    with lock.open("a+") as fh:  # another build holds the lock
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write("process 4242\n")
        fh.flush()
        with pytest.raises(KeycitiesError, match=r"Another build .* \(process 4242\)"), \
                staged(path):
            pytest.fail("the block must not run")
        fcntl.flock(fh, fcntl.LOCK_UN)
    with staged(path) as s:  # free again
        _put(s, 3)
    assert _value(path) == 3


def test_a_copy_left_by_a_killed_build_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    stale = path.with_name(f".{path.name}.99999.building")
    stale.write_bytes(b"half a database")
    stale.with_name(stale.name + ".wal").write_bytes(b"x")
    with staged(path) as s:
        _put(s, 1)
    assert _leftovers(path) == []
    assert _value(path) == 1


def test_a_store_with_a_write_ahead_log_keeps_its_last_writes(tmp_path: Path) -> None:
    # A store written in place by an older keycities may have committed rows only in its WAL.
    path = tmp_path / "k.duckdb"
    con = duckdb.connect(str(path))
    con.execute("SET checkpoint_threshold = '1GB'")
    con.execute("CREATE TABLE probe AS SELECT 7 AS value")
    wal = path.with_name(path.name + ".wal")
    if not wal.exists():
        con.close()
        pytest.skip("DuckDB checkpointed on its own; no WAL to carry")
    os.sync()
    # Copy the files as a crash would leave them: the WAL beside the database.
    crashed = tmp_path / "crashed.duckdb"
    crashed.write_bytes(path.read_bytes())
    crashed.with_name(crashed.name + ".wal").write_bytes(wal.read_bytes())
    con.close()
    with staged(crashed) as s:
        assert s.query("SELECT value FROM probe")["value"].iloc[0] == 7
    assert _value(crashed) == 7
    assert not crashed.with_name(crashed.name + ".wal").exists()


def test_memory_stores_are_not_staged() -> None:
    with staged(":memory:") as s:
        _put(s, 5)
        assert s.query("SELECT value FROM probe")["value"].iloc[0] == 5


def test_a_build_that_writes_nothing_keeps_the_file_readers_have(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    with staged(path) as s:
        _put(s, 1)
    before = path.stat()
    with staged(path) as s:
        assert s.query("SELECT value FROM probe")["value"].iloc[0] == 1
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert _leftovers(path) == []


def test_a_symlinked_store_has_its_target_updated(tmp_path: Path) -> None:
    target = tmp_path / "data" / "k.duckdb"
    target.parent.mkdir()
    with staged(target) as s:
        _put(s, 1)
    link = tmp_path / "store.duckdb"
    link.symlink_to(target)
    with staged(link) as s:
        _put(s, 2)
    assert link.is_symlink() and link.resolve() == target
    assert _value(target) == 2 and _value(link) == 2
    assert _leftovers(target) == [] and _leftovers(link) == []
