"""The store: transactional loads, provenance, idempotent reloads."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import pytest

from keycities.errors import KeycitiesError, StoreNotBuiltError
from keycities.sources.base import Release
from keycities.store.store import Store


def rel(rid: str = "r1", vintage: int | None = 2021) -> Release:
    return Release(id=rid, publisher="ONS", title="T", url="https://example.org/x",
                   published=dt.date(2023, 4, 25), reference_period="2021",
                   geography_vintage=vintage, sha256=hashlib.sha256(rid.encode()).hexdigest(),
                   mirror_path=f"{rid}.csv")


def facts(n: int = 2) -> pd.DataFrame:
    return pd.DataFrame({"area_code": [f"E0800002{i}" for i in range(n)],
                         "measure": "population", "period": 2021,
                         "value": [float(i) for i in range(n)], "unit": "persons"})


def test_load_release_adds_release_id_and_vintage() -> None:
    with Store(":memory:") as s:
        assert s.load_release(rel(), source="t", table="fact", rows=facts(),
                              reader_version="1") == 2
        df = s.table("fact")
        assert set(df["release_id"]) == {"r1"} and set(df["geography_vintage"]) == {2021}
        prov = s.loaded_releases()
        assert prov.loc[0, "id"] == "r1" and prov.loc[0, "row_count"] == 2


def test_reload_replaces_not_duplicates() -> None:
    with Store(":memory:") as s:
        s.load_release(rel(), source="t", table="fact", rows=facts(3), reader_version="1")
        s.load_release(rel(), source="t", table="fact", rows=facts(2), reader_version="1")
        assert len(s.table("fact")) == 2
        assert len(s.loaded_releases()) == 1


def test_failed_load_leaves_store_unchanged() -> None:
    with Store(":memory:") as s:
        s.load_release(rel(), source="t", table="fact", rows=facts(3), reader_version="1")
        bad = facts(2).assign(value=["x", "y"])
        with pytest.raises(ValueError):
            s.load_release(rel(), source="t", table="fact", rows=bad, reader_version="1")
        assert len(s.table("fact")) == 3


def test_reader_columns_are_checked() -> None:
    with Store(":memory:") as s, pytest.raises(KeycitiesError, match="lacks columns"):
        s.load_release(rel(), source="t", table="fact", rows=facts().drop(columns="unit"),
                       reader_version="1")


def test_per_row_vintage_wins_over_release() -> None:
    with Store(":memory:") as s:
        rows = facts(2).assign(geography_vintage=[2016, 2019])
        s.load_release(rel(vintage=2021), source="t", table="fact", rows=rows,
                       reader_version="1")
        assert sorted(s.table("fact")["geography_vintage"]) == [2016, 2019]


def test_read_only_store_that_does_not_exist(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StoreNotBuiltError, match="keycities build"):
        Store(tmp_path / "none.duckdb", read_only=True).connect()


def test_store_survives_reopen(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "k.duckdb"
    with Store(path) as s:
        s.load_release(rel(), source="t", table="fact", rows=facts(), reader_version="1")
    with Store(path, read_only=True) as s:
        assert len(s.table("fact")) == 2


def test_store_path_problems_are_readable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KeycitiesError, match="is a directory"):
        Store(tmp_path).connect()
    bad = tmp_path / "not.duckdb"
    bad.write_text("not a database")
    with pytest.raises(KeycitiesError, match="Is it a keycities store"):
        Store(bad).connect()


def test_release_history_says_which_version_was_in_force_when() -> None:
    import time

    from keycities.store.queries import releases_in_force

    with Store(":memory:") as s:
        s.load_release(rel("r1"), source="t", table="fact", rows=facts(), reader_version="1")
        s.load_release(rel("r2"), source="t", table="fact", rows=facts(), reader_version="1")
        first = s.query("SELECT max(loaded_at) AS t FROM release")["t"].iloc[0]
        later = first + dt.timedelta(microseconds=500)
        time.sleep(0.002)  # every load below comes after `later`
        then, diffs = releases_in_force(s, later)
        assert list(then["id"]) == ["r1", "r2"] and diffs == []
        # Reloaded from the same file (a --force build): the data is what it was.
        s.load_release(rel("r1"), source="t", table="fact", rows=facts(), reader_version="1")
        assert releases_in_force(s, later)[1] == []
        # A new file for r2, and a new release r3, loaded after `later`:
        newer = rel("r2").model_copy(update={"sha256": "f" * 64})
        s.load_release(newer, source="t", table="fact", rows=facts(3), reader_version="2")
        s.load_release(rel("r3"), source="t", table="fact", rows=facts(), reader_version="1")
        then, diffs = releases_in_force(s, later)
        assert list(then["id"]) == ["r1", "r2"]
        assert then.set_index("id").at["r2", "sha256"] == rel("r2").sha256
        assert len(diffs) == 2
        assert diffs[0].startswith("r2 then came from file sha256 " + rel("r2").sha256)
        assert "now holds sha256 " + "f" * 64 + ", reader 2" in diffs[0]
        assert diffs[1].startswith("r3 was first loaded on ")
        # Everything as it is now, an hour later:
        assert releases_in_force(s, later + dt.timedelta(hours=1))[1] == []
        # Before anything was loaded: every release is new since.
        then, diffs = releases_in_force(s, first - dt.timedelta(days=1))
        assert then.empty and len(diffs) == 3


def test_a_store_made_before_release_history_gets_its_releases_as_history(
        tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "old.duckdb"
    with Store(path) as s:
        s.load_release(rel("r1"), source="t", table="fact", rows=facts(), reader_version="1")
        s.write(lambda con: con.execute("DROP TABLE release_history"))
    with Store(path) as s:  # opened for writing by this version: the table is made
        hist = s.table("release_history")
        assert list(hist["id"]) == ["r1"] and hist["sha256"].iloc[0] == rel("r1").sha256
