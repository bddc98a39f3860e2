"""Awkward and hostile requests (issue 16, point 8): each answered as a person expects."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from keycities.settings import Settings
from keycities.web import create_app
from keycities.workspace import accounts
from keycities.workspace.db import Workspace

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def client(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    workspace = tmp_path_factory.mktemp("hard") / "ws.sqlite"
    ws = Workspace(workspace)
    accounts.add_user(ws, "ed", PASSWORD, "editor", by="test")
    ws.close()
    with TestClient(create_app(Settings(store=built_store, offline=True,
                                        workspace=workspace))) as c:
        yield c


def _csrf(c: TestClient) -> str:
    import re

    r = c.post("/login", data={"name": "ed", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303
    found = re.search(r'name="csrf" value="([^"]+)"', c.get("/edit").text)
    assert found
    return found.group(1)


@pytest.mark.parametrize("params", [
    "[" * 4_999 + "]" * 4_999,  # deeper than Python's recursion limit, within the form's
    '{"a": ' * 1_400 + "1" + "}" * 1_400,  # limit of 10,000 characters
    '{"n": ' + "9" * 5_000 + "}",  # more digits than Python turns into an int
    '{"n": ' + "9" * 4_000 + "}",  # an int, but no parameter is that large
    '{"x": 1e999}',  # infinity
    '{"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}',
])
def test_hostile_proposal_json_is_refused_not_a_server_error(client: TestClient,
                                                             params: str) -> None:
    token = _csrf(client)
    r = client.post("/proposals", data={"kind": "twinning", "name": "deep", "params": params,
                                        "csrf": token})
    assert r.status_code == 422, r.text[:300]
    assert "The proposal&#39;s parameters" in r.text
    ok = client.post("/proposals", data={"kind": "twinning", "name": "fine", "csrf": token,
                                         "params": '{"min_km": 150, "contrast": ["a"]}'})
    assert ok.status_code == 200


def test_the_workspace_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws.sqlite")
    accounts.add_user(ws, "ada", PASSWORD, "admin", by="test")
    for path in tmp_path.iterdir():  # the file and SQLite's -wal and -shm beside it
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    ws.close()


@pytest.mark.parametrize("path", ["/network/key-cities", "/api/releases", "/data",
                                  "/static/favicon.svg", "/openapi.json", "/login"])
def test_head_answers_like_get_without_a_body(client: TestClient, path: str) -> None:
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers.get("content-length") == get.headers.get("content-length")


def test_unknown_paths_answer_a_page_unless_json_is_asked_for(client: TestClient) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "There is no page at this address" in page.text and "<nav" in page.text
    api = client.get("/api/no-such-thing")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
    asked = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert asked.status_code == 404 and asked.json() == {"detail": "Not Found"}
    missing = client.get("/static/no-such-file.css")
    assert missing.status_code == 404
    wrong = client.post("/network/key-cities")
    assert wrong.status_code == 405 and "does not answer" in wrong.text


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_load_their_assets_from_this_app(client: TestClient, path: str) -> None:
    html = client.get(path).text
    assert "cdn.jsdelivr.net" not in html and "fastapi.tiangolo.com" not in html
    assets = [a for a in ("/static-docs/swagger-ui-bundle.js", "/static-docs/swagger-ui.css",
                          "/static-docs/redoc.js") if a in html]
    assert assets
    for asset in assets:
        r = client.get(asset)
        assert r.status_code == 200 and len(r.content) > 100_000


# ------------------------------------------------------------------ a fast first impression
@pytest.mark.parametrize("path", ["/network/key-cities",
                                  "/network/key-cities?table=members&format=csv",
                                  "/api/networks/key-cities/headline"])
def test_pages_and_downloads_carry_validators_and_answer_304(client: TestClient,
                                                             path: str) -> None:
    client.cookies.clear()  # a signed-in page is personal: neither kept nor validated
    first = client.get(path)
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    changed = client.get(path, headers={"If-None-Match": 'W/"something-else"'})
    assert changed.status_code == 200 and changed.content == first.content


def test_pages_are_compressed_for_clients_that_accept_it(client: TestClient) -> None:
    client.cookies.clear()
    plain = client.get("/network/key-cities", headers={"Accept-Encoding": "identity"})
    packed = client.get("/network/key-cities", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert packed.text == plain.text  # httpx undoes the gzip
    assert int(packed.headers["content-length"]) < len(plain.content) / 3


def test_serve_warms_what_every_visitor_needs_while_answering(built_store: Path) -> None:
    app = create_app(Settings(store=built_store, offline=True), warm_up=True)
    res = app.state.resources
    with TestClient(app) as c:
        assert c.get("/static/favicon.svg").status_code == 200  # answering meanwhile
        task = app.state.warming
        deadline = time.monotonic() + 600  # a bound on waiting, not a speed target
        while not task.done() and time.monotonic() < deadline:
            time.sleep(0.2)
        warmed = task.result()
        assert [status for _, status in warmed] == [200] * len(warmed)
        assert {url for url, _ in warmed} >= {"/network/key-cities", "/claims"}
        assert any(url.startswith("/place/") for url, _ in warmed)
        # the first visitor's pages come from the cache: built before they asked
        for url, _ in warmed:
            assert (url if "?" in url else url + "?") in res.responses
        assert any("/network/key-cities?at=" in url for url, _ in warmed)  # other dates
        assert "Key Cities" in c.get("/").text
