"""A running app follows `keycities build`: the build swaps a new store file in, the app
opens it and forgets what it computed from the old one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from keycities.settings import Settings
from keycities.store.staging import staged
from keycities.web import create_app


def test_an_app_started_before_the_first_build_serves_the_built_store(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    with TestClient(create_app(Settings(store=path, offline=True))) as c:
        assert c.get("/api/releases").status_code == 503
        with staged(path):  # an empty but built store
            pass
        c.app.state.resources.recheck = 0.0  # type: ignore[attr-defined]
        r = c.get("/api/releases")
        assert r.status_code == 200, r.text
        assert r.json()["data"] == []


@pytest.mark.mirror
def test_the_app_opens_a_rebuilt_store_and_forgets_the_old_results(
        built_store: Path, tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    shutil.copyfile(built_store, path)
    with TestClient(create_app(Settings(store=path, offline=True))) as c:
        res = c.app.state.resources  # type: ignore[attr-defined]
        before = c.get("/api/releases").json()["data"]
        page = c.get("/data")
        assert page.status_code == 200
        gone = before[0]["id"]
        assert gone in page.text
        # A rebuild while the app has the store open: it is not blocked, and until the
        # app looks again it keeps serving the old store, whole.
        with staged(path) as s:
            s.write(lambda con: con.execute("DELETE FROM release WHERE id = ?", [gone]))
        assert c.get("/api/releases").json()["data"] == before
        res.recheck = 0.0
        after = c.get("/api/releases").json()["data"]
        assert [r["id"] for r in after] == [r["id"] for r in before if r["id"] != gone]
        assert gone not in c.get("/data").text  # the cached page was forgotten too
        assert c.get("/network/key-cities").status_code == 200


def test_a_result_computed_while_the_cache_is_emptied_is_not_kept() -> None:
    from keycities.web.resources import Memo

    calls: list[int] = []

    def compute(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            memo.cache_clear()  # as a rebuild being noticed meanwhile
        return x * len(calls)

    memo = Memo(compute)
    assert memo(2) == 2  # answered, but from the old store: not kept
    assert memo(2) == 4 and memo(2) == 4  # computed again, then kept
    assert calls == [2, 2]
