"""Hypothesis against the form routes (issue 16): no form post may produce a server error.

The form routes (signing in and out, register edits, proposals, reverts, accounts) are
not in the OpenAPI spec that ``test_schemathesis.py`` fuzzes, so they are fuzzed here:
each is posted generated fields - text of any kind, numbers, dates real and absurd, JSON
that is deep, huge or not JSON - by a signed-in admin with the right CSRF token, so that
the requests reach the code behind the checks of the session.  Every answer must be
below 500 and carry no internal error.  The budget is fixed and derandomised.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keycities.settings import Settings
from keycities.web import create_app
from keycities.workspace import accounts
from keycities.workspace.db import Workspace

PASSWORD = "correct horse battery"
FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

DATES = st.one_of(st.dates().map(str), st.sampled_from(
    ["", "2019-01-01", "0001-01-01", "2021-01-01", "2024-13-01", "9999-12-31", "today",
     "2022-02-30"]), st.text(max_size=20))
CODES = st.one_of(st.sampled_from(["E08000024", "E06000001", "E06000010", "S12000036",
                                   "W06000015", "N09000003", "e06000001 ", ""]),
                  st.text(max_size=20))
JSON_TEXT = st.one_of(
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                 max_leaves=10).map(lambda v: __import__("json").dumps(v)),
    st.sampled_from(["[" * 3000 + "]" * 3000, '{"n": ' + "9" * 4500 + "}", "{", "NaN",
                     '{"x": 1e999}', "{}"]),
    st.text(max_size=50))
TEXT = st.text(max_size=60)


@pytest.fixture(scope="module")
def client(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    workspace = tmp_path_factory.mktemp("forms") / "ws.sqlite"
    ws = Workspace(workspace)
    accounts.add_user(ws, "ada", PASSWORD, "admin", by="test")
    ws.close()
    with TestClient(create_app(Settings(store=built_store, offline=True,
                                        workspace=workspace))) as c:
        yield c


@pytest.fixture(scope="module")
def csrf(client: TestClient) -> str:
    r = client.post("/login", data={"name": "ada", "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303
    client.get("/edit/key-cities")  # the register gets its row ids
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/edit").text)
    assert found
    return found.group(1)


def post(client: TestClient, url: str, data: dict[str, Any]) -> None:
    r = client.post(url, data=data)
    assert r.status_code < 500, (url, data, r.text[:500])
    assert "Internal Server Error" not in r.text and "Traceback" not in r.text


@FUZZ
@given(code=CODES, name=TEXT, joined=DATES, left=DATES, basis=TEXT)
def test_add_member(client: TestClient, csrf: str, code: str, name: str, joined: str,
                    left: str, basis: str) -> None:
    post(client, "/edit/key-cities/add", {"csrf": csrf, "code": code, "as_published": name,
                                          "joined": joined, "left": left,
                                          "joined_basis": basis})


@FUZZ
@given(mid=st.integers(-5, 400), joined=DATES, left=DATES, basis=TEXT,
       action=st.sampled_from(["save", "delete", "", "other"]))
def test_change_member(client: TestClient, csrf: str, mid: int, joined: str, left: str,
                       basis: str, action: str) -> None:
    post(client, f"/edit/key-cities/{mid}", {"csrf": csrf, "joined": joined, "left": left,
                                             "left_basis": basis, "action": action})


@FUZZ
@given(kind=st.sampled_from(["twinning", "testbed", "", "other"]) | TEXT, name=TEXT,
       params=JSON_TEXT)
def test_proposals(client: TestClient, csrf: str, kind: str, name: str, params: str) -> None:
    post(client, "/proposals", {"csrf": csrf, "kind": kind, "name": name, "params": params})
    r = client.get("/edit")  # where saved proposals are listed, each with its link
    assert r.status_code == 200, r.text[:500]


@FUZZ
@given(pid=st.integers(-5, 200), change=st.integers(-5, 200))
def test_withdraw_and_revert(client: TestClient, csrf: str, pid: int, change: int) -> None:
    post(client, f"/proposals/{pid}/delete", {"csrf": csrf})
    post(client, f"/history/{change}/revert", {"csrf": csrf})
    assert client.get("/history").status_code == 200


@FUZZ
@given(name=st.sampled_from(["ed", "new.user", "x"]) | TEXT, password=TEXT,
       role=st.sampled_from(["viewer", "editor", "admin", ""]) | TEXT,
       disabled=st.sampled_from(["yes", "no", ""]) | TEXT)
def test_accounts(client: TestClient, csrf: str, name: str, password: str, role: str,
                  disabled: str) -> None:
    post(client, "/admin/users", {"csrf": csrf, "name": name, "password": password,
                                  "role": role})
    if name.strip() and name != "ada":
        post(client, f"/admin/users/{quote(name, safe='')}", {"csrf": csrf, "role": role,
                                                              "disabled": disabled})


@FUZZ
@given(name=TEXT, password=TEXT)
def test_login(built_store: Path, client: TestClient, name: str, password: str) -> None:
    other = TestClient(client.app, client=("fuzz-login", 50002))  # not the admin's session
    post(other, "/login", {"name": name, "password": password})
