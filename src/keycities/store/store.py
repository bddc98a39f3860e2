"""The evidence store: one DuckDB file, one writer.

All database access goes through :class:`Store`.  Writes are serialised by a
lock and each runs in one transaction, so a failure part-way through loading a
release leaves the store exactly as it was.  Tests use ``Store(":memory:")``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar, cast

import duckdb
import pandas as pd

from keycities.errors import KeycitiesError, StoreNotBuiltError
from keycities.sources.base import READER_COLUMNS, Release, Rows
from keycities.store._indicator_rows import indicator_rows, indicator_value_rows
from keycities.store.schema import DDL, SCHEMA_VERSION

T = TypeVar("T")


class Store:
    """A DuckDB evidence store.

    Parameters
    ----------
    path
        The database file, or ``":memory:"``.
    read_only
        Open without write access (several readers may share a file).
    """

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = str(path)
        self.read_only = read_only
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._memo: dict[Hashable, Any] = {}
        self.written = False
        """True once anything was written (a schema made or changed, or a :meth:`write`)."""

    # -------------------------------------------------------------- lifecycle
    def connect(self) -> duckdb.DuckDBPyConnection:
        """Open (once) and return the connection."""
        if self._con is None:
            if self.path != ":memory:":
                self._check_path()
            try:
                self._con = duckdb.connect(self.path, read_only=self.read_only)
            except duckdb.Error as exc:
                hint = ("Another process is writing it (builds write a copy and swap it in, "
                        "so this is a program of your own, or an older keycities): wait for "
                        "it, and try again."
                        if "lock" in str(exc).lower() else
                        "Is it a keycities store (a DuckDB file)? Give another --store path.")
                raise KeycitiesError(f"Cannot open the store {self.path}: {exc}. {hint}") from exc
            if not self.read_only:
                self.ensure_schema()
        return self._con

    def _check_path(self) -> None:
        path = Path(self.path)
        if self.read_only and not path.exists():
            raise StoreNotBuiltError(f"No evidence store at {path}. Run `keycities build` first.")
        prepare_store_path(path)

    def close(self) -> None:
        """Close the connection."""
        self._memo.clear()
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Store:
        self.connect()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def ensure_schema(self) -> None:
        """Create missing tables, all in one transaction (a killed first run leaves none)."""
        con = self.connect()
        try:
            version = con.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except duckdb.CatalogException:
            version = None
        if version is None or version[0] != str(SCHEMA_VERSION):
            self.written = True
        con.execute("BEGIN TRANSACTION")
        try:
            for ddl in DDL.values():
                con.execute(ddl)
            con.execute(
                "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                        [str(SCHEMA_VERSION)])
            # A store made before release_history existed: its releases as loaded.
            con.execute(
                "INSERT INTO release_history SELECT id, source, sha256, reader_version, "
                "loaded_at, row_count FROM release "
                "WHERE NOT EXISTS (SELECT 1 FROM release_history)")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    # ------------------------------------------------------------------ reads
    def query(self, sql: str,
              params: Sequence[Any] | Mapping[str, Any] | None = None) -> pd.DataFrame:
        """Run a read query and return a DataFrame."""
        cur = self.connect().cursor()
        try:
            return cur.execute(sql, params or []).df()
        except duckdb.CatalogException as exc:
            raise StoreNotBuiltError(
                f"The store {self.path} lacks a table ({exc}). Run `keycities build`."
            ) from exc
        finally:
            cur.close()

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, kept for later calls with the same ``key`` while the store is unchanged.

        For tables derived from the store's rows that many analyses share (the
        geography, say).  Every write empties the memo, so a result never outlives
        the rows it came from.  Two threads asking at once may both compute; the
        result is the same.
        """
        try:
            return cast(T, self._memo[key])
        except KeyError:
            pass
        value = compute()
        self._memo[key] = value
        return value

    def table(self, name: str) -> pd.DataFrame:
        """A whole table."""
        if name not in DDL:
            raise KeycitiesError(f"Unknown table {name!r}")
        return self.query(f"SELECT * FROM {name}")  # noqa: S608 - name checked above

    def loaded_releases(self) -> pd.DataFrame:
        """The provenance table: one row per loaded release."""
        return self.query("SELECT * FROM release ORDER BY source, id")

    # ----------------------------------------------------------------- writes
    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``fn(connection)`` in one transaction, serialised with other writes."""
        if self.read_only:
            raise KeycitiesError(f"The store {self.path} is open read-only.")
        with self._lock:
            con = self.connect()
            self._memo.clear()
            self.written = True
            con.execute("BEGIN TRANSACTION")
            try:
                result = fn(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            finally:
                self._memo.clear()
            con.execute("COMMIT")
            return result

    def load_release(self, release: Release, *, source: str, table: str, rows: Rows,
                     reader_version: str, also: Sequence[Release] = ()) -> int:
        """Replace every row of ``release`` in ``table`` with ``rows``; record provenance.

        ``rows`` may hold rows for several tables (table name -> rows), all
        replaced in the same transaction; ``also`` are releases read with this
        one (a metadata file beside a data file), recorded as loaded with it.
        """
        tables = dict(rows) if isinstance(rows, Mapping) else {table: rows}
        prepared = {t: self._prepare(release, t, r) for t, r in tables.items()}

        def _load(con: duckdb.DuckDBPyConnection) -> int:
            n = 0
            for name, frame in prepared.items():
                con.execute(f"DELETE FROM {name} WHERE release_id = ?", [release.id])  # noqa: S608
                con.register("_incoming", frame)
                con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _incoming")  # noqa: S608
                con.unregister("_incoming")
                n += len(frame)
            _record_release(con, release, source, reader_version, n)
            for other in also:
                _record_release(con, other, source, reader_version, 0)
            return n

        return self.write(_load)

    def _prepare(self, release: Release, table: str, rows: pd.DataFrame) -> pd.DataFrame:
        if table == "indicator_value":
            changes = self.table("change")
            return indicator_value_rows(release, rows, changes if len(changes) else None)
        if table == "indicator":
            return indicator_rows(release, rows)
        return _with_release_columns(release, table, rows)

    def replace_derived(self, table: str, rows: pd.DataFrame, release_ids: Sequence[str],
                        *, releases: Sequence[tuple[Release, str, str]] = ()) -> int:
        """Replace the rows of a derived table that carry any of ``release_ids``.

        ``releases`` are (release, source, reader_version) provenance rows to
        record in the same transaction.
        """

        def _load(con: duckdb.DuckDBPyConnection) -> int:
            ids = list(release_ids)
            con.execute(f"DELETE FROM {table} WHERE release_id IN (SELECT UNNEST(?))",  # noqa: S608
                        [ids])
            con.register("_incoming", rows)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")  # noqa: S608
            con.unregister("_incoming")
            for release, source, version in releases:
                _record_release(con, release, source, version, len(rows))
            return len(rows)

        return self.write(_load)


def _with_release_columns(release: Release, table: str, rows: pd.DataFrame) -> pd.DataFrame:
    want = READER_COLUMNS.get(table)
    if want is not None:
        missing = [c for c in want if c not in rows.columns]
        if missing:
            raise KeycitiesError(f"{release.id}: reader output lacks columns {missing}")
    rows = rows.copy()
    rows["release_id"] = release.id
    if table == "boundary" and "geography_vintage" not in rows.columns:
        rows["geography_vintage"] = release.geography_vintage
    if table == "fact":
        if "geography_vintage" not in rows.columns:
            if release.geography_vintage is None:
                raise KeycitiesError(f"{release.id}: fact rows need a geography vintage")
            rows["geography_vintage"] = release.geography_vintage
        rows["geography_vintage"] = rows["geography_vintage"].astype("int32")
        rows["period"] = rows["period"].astype("int32")
        rows["value"] = rows["value"].astype("float64")
    return rows


def prepare_store_path(path: Path) -> None:
    """Make the folder of a store file at ``path``.

    Raises
    ------
    KeycitiesError
        When ``path`` is a directory or its folder cannot be made.
    """
    if path.is_dir():
        raise KeycitiesError(f"The store path {path} is a directory; give a file path.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KeycitiesError(
            f"Cannot create the folder for the store {path}: {exc.strerror}. "
            "Give a writable --store path."
        ) from exc


def _record_release(con: duckdb.DuckDBPyConnection, release: Release, source: str,
                    reader_version: str, n: int) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("DELETE FROM release WHERE id = ?", [release.id])
    con.execute(
        "INSERT INTO release VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [release.id, source, release.publisher, release.title, release.url,
         release.landing_page, release.published, release.reference_period,
         release.geography_vintage, release.licence, release.sha256, release.mirror_path,
         release.notes, reader_version, now, n],
    )
    con.execute("INSERT INTO release_history VALUES (?, ?, ?, ?, ?, ?)",
                [release.id, source, release.sha256, reader_version, now, n])
