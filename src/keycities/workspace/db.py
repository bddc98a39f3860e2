"""The workspace: what people change, kept apart from the evidence store.

The evidence store is rebuilt from official files and is read-only while the
app runs; what a network's secretariat maintains - accounts, the member
register, named twinning proposals and testbed designs, networks saved from a
CSV - lives here, in one
SQLite file, with the audit trail of every change.

Durability: the file is in WAL mode with ``synchronous=FULL``; every edit
and its audit record are written in one ``BEGIN IMMEDIATE`` transaction, so
a process killed at any point leaves either the state before the edit or the
state after it, with its record (SQLite's atomic commit; see
https://sqlite.org/atomiccommit.html).  No SQL is built from user input:
every value is a bound parameter.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    pw_hash TEXT NOT NULL,
    created TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    pw_changed TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures(key, at);
CREATE TABLE IF NOT EXISTS networks (
    id TEXT PRIMARY KEY,
    seeded TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
    id INTEGER PRIMARY KEY,
    network TEXT NOT NULL REFERENCES networks(id),
    code TEXT NOT NULL,
    as_published TEXT NOT NULL,
    joined TEXT,
    left TEXT,
    joined_basis TEXT NOT NULL DEFAULT '',
    left_basis TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS proposals (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('twinning', 'testbed')),
    name TEXT NOT NULL,
    params TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS saved_networks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    csv TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before TEXT,
    after TEXT,
    summary TEXT NOT NULL,
    reverts INTEGER REFERENCES changes(id),
    reverted_by INTEGER REFERENCES changes(id)
);
"""


def now() -> str:
    """The current UTC time, ISO 8601 to the microsecond (sortable)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Change:
    """One recorded change."""

    id: int
    at: str
    user: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    summary: str
    reverts: int | None
    reverted_by: int | None


class Workspace:
    """The workspace file (see the module docstring); thread-safe."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._con: sqlite3.Connection | None = None

    @property
    def exists(self) -> bool:
        """True when the file has been made (by the first account)."""
        return self.path.exists()

    def _connect(self) -> sqlite3.Connection:
        if self._con is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # It holds password hashes: readable by its owner only (SQLite gives its
            # -wal and -shm files the same permissions).
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                  timeout=10)
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            con.execute("PRAGMA foreign_keys=ON")
            con.executescript(SCHEMA)
            self._con = con
        return self._con

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything inside commits together or not at all."""
        with self._lock:
            con = self._connect()
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Rows of a read (``sql`` is ours; values are bound parameters)."""
        if not self.exists:
            return []
        with self._lock:
            return list(self._connect().execute(sql, params))

    def record(self, con: sqlite3.Connection, *, user: str, action: str, entity: str,
               entity_id: object, before: dict[str, Any] | None,
               after: dict[str, Any] | None, summary: str, reverts: int | None = None) -> int:
        """Add a change to the audit trail, in the caller's transaction."""
        cur = con.execute(
            "INSERT INTO changes (at, user, action, entity, entity_id, before, after, summary, "
            "reverts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (now(), user, action, entity, str(entity_id),
             None if before is None else json.dumps(before, default=str, sort_keys=True),
             None if after is None else json.dumps(after, default=str, sort_keys=True),
             summary, reverts))
        return int(cur.lastrowid or 0)

    def changes(self, *, limit: int = 200, entity: str | None = None,
                hide: tuple[str, ...] = ()) -> list[Change]:
        """The audit trail, newest first: every change, or those of ``entity``, less
        those of the entities in ``hide`` (``("user",)``: account changes)."""
        where, params = [], []
        if entity:
            where.append("entity = ?")
            params.append(entity)
        if hide:
            where.append(f"entity NOT IN ({', '.join('?' * len(hide))})")
            params += list(hide)
        sql = "SELECT * FROM changes" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self.query(sql + " ORDER BY id DESC LIMIT ?", (*params, int(limit)))
        return [_change(r) for r in rows]

    def integrity(self) -> str:
        """SQLite's own integrity check ("ok" when the file is sound)."""
        rows = self.query("PRAGMA integrity_check")
        return str(rows[0][0]) if rows else "ok"

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None


def _change(r: sqlite3.Row) -> Change:
    return Change(id=r["id"], at=r["at"], user=r["user"], action=r["action"],
                  entity=r["entity"], entity_id=r["entity_id"],
                  before=json.loads(r["before"]) if r["before"] else None,
                  after=json.loads(r["after"]) if r["after"] else None,
                  summary=r["summary"], reverts=r["reverts"], reverted_by=r["reverted_by"])
