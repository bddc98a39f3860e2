"""A user's own network in the web app: saved in the workspace by an editor, or a CSV
uploaded for the session (in memory, for its visitor only); both validated by the CLI's
loader and offered wherever a page offers a network."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from keycities.cli import app as cli
from keycities.errors import RegisterError
from keycities.network.loader import load_network
from keycities.settings import Settings
from keycities.web import create_app
from keycities.web.resources import Resources
from keycities.web.uploads import COOKIE, MAX_BYTES, PRIVATE
from keycities.workspace import accounts, saved_networks
from keycities.workspace.db import Workspace

pytestmark = pytest.mark.mirror

PASSWORD = "correct horse battery"
GOOD = b"place,joined\nSunderland,\nPlymouth,2020-01-01\nWakefield,\n"
BAD = b"place,joined\nSunderland,\nPlymouth,2020-01-01\nAtlantis,\nWakefield,2020-13-01\n"
IND = "gross-median-weekly-pay"
SELECTORS = ["/network/key-cities", f"/indicator/{IND}", "/scatter?x=claimant-count&y="
             f"{IND}", "/twin", "/testbeds/design", "/testbeds/rollout"]


@pytest.fixture
def client(built_store: Path, tmp_path: Path) -> Any:
    settings = Settings(store=built_store, offline=True, workspace=tmp_path / "ws.sqlite")
    ws = Workspace(settings.workspace_path)
    accounts.add_user(ws, "ed", PASSWORD, "editor", by="test")
    ws.close()
    with TestClient(create_app(settings)) as c:
        yield c


def res_of(c: TestClient) -> Resources:
    return c.app.state.resources  # type: ignore[attr-defined,no-any-return]


def sign_in(c: TestClient) -> str:
    r = c.post("/login", data={"name": "ed", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    found = re.search(r'name="csrf" value="([^"]+)"', c.get("/networks/own").text)
    assert found
    return found.group(1)


def cli_json(store: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, [*args, "--store", str(store), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def loader_problems(c: TestClient, path: Path) -> list[str]:
    """The problems the CLI's loader finds in the file at ``path``."""
    res = res_of(c)
    with res.ready:
        resolver = res.context.resolver
    with pytest.raises(RegisterError) as err:
        load_network(path, resolver)
    return err.value.problems


def offered(text: str, network_id: str) -> bool:
    return f'<option value="{network_id}"' in text


def test_editor_saves_a_network_that_every_page_offers_audited_and_deletable(
        client: TestClient, built_store: Path, tmp_path: Path) -> None:
    before = client.get("/network/key-cities").text  # now in the response cache
    assert not offered(before, "my-towns")
    csrf = sign_in(client)
    r = client.post("/networks/saved", data={"csrf": csrf, "id": "my-towns",
                                             "name": "Three towns"},
                    files={"file": ("towns.csv", GOOD, "text/csv")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/network/my-towns", r.text[:500]
    history = client.get("/history").text
    assert "saved network &#39;my-towns&#39; (Three towns, 3 memberships)" in history
    assert "ed" in history
    client.cookies.clear()  # an anonymous reader sees it too, cached pages forgotten
    for url in SELECTORS:
        assert offered(client.get(url).text, "my-towns"), url
    page = client.get("/network/my-towns")
    assert page.status_code == 200
    assert all(name in page.text for name in ("Three towns", "Sunderland", "Plymouth",
                                             "Wakefield"))
    members = client.get("/api/networks/my-towns/members").json()["data"]
    assert {m["code"] for m in members} == {"E08000024", "E06000026", "E08000036"}
    # the indicator page marks the same members with the same values as the CLI given
    # the same file
    path = tmp_path / "towns.csv"
    path.write_bytes(GOOD)
    expected = cli_json(built_store, "indicator", IND, "--network", str(path))
    data = client.get(f"/indicator/{IND}?network=my-towns&format=json").json()["data"]
    assert data["members"] == expected["members"] and len(data["members"]) == 3
    assert data["network"]["value"] == expected["network"]["value"]
    assert data["network"]["name"] == "Three towns"
    assert client.get(f"/api/indicators/{IND}?network=my-towns").status_code == 200
    assert client.get("/scorecard/my-towns").status_code == 200
    # deleted: gone from every page, and the deletion is in the history
    csrf = sign_in(client)
    r = client.post("/networks/saved/my-towns/delete", data={"csrf": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "deleted saved network &#39;my-towns&#39;" in client.get("/history").text
    assert client.get("/network/my-towns").status_code == 404
    assert not offered(client.get(f"/indicator/{IND}").text, "my-towns")
    # the deletion reverted from the history: the network is back
    deletion = res_of(client).workspace.changes(limit=1)[0]
    assert deletion.summary.startswith("deleted saved network")
    r = client.post(f"/history/{deletion.id}/revert", data={"csrf": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/network/my-towns").status_code == 200


def test_saving_needs_an_editor_and_the_csrf_token(client: TestClient) -> None:
    files = {"file": ("towns.csv", GOOD, "text/csv")}
    r = client.post("/networks/saved", data={"id": "my-towns"}, files=files)
    assert r.status_code == 403
    sign_in(client)
    r = client.post("/networks/saved", data={"id": "my-towns", "csrf": "wrong"}, files=files)
    assert r.status_code == 403
    assert saved_networks.listed(res_of(client).workspace) == []


@pytest.mark.parametrize("how", ["saved", "upload"])
def test_an_invalid_csv_gives_the_loaders_message_and_nothing_is_kept(
        client: TestClient, tmp_path: Path, how: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(BAD)
    problems = loader_problems(client, path)
    assert len(problems) == 2
    data = {"name": "Bad", "id": "bad-towns"}
    if how == "saved":
        data["csrf"] = sign_in(client)
    r = client.post(f"/networks/{how}", data=data, files={"file": ("bad.csv", BAD, "text/csv")},
                    follow_redirects=False)
    assert r.status_code == 422
    text = html.unescape(r.text)
    assert "2 problem(s); nothing was loaded" in text
    for problem in problems:
        assert problem in text, problem
    res = res_of(client)
    assert saved_networks.listed(res.workspace) == []
    assert not any(c.summary.startswith("saved network") for c in res.workspace.changes())
    assert res.uploads.of(client.cookies.get(COOKIE)) == []


def test_an_upload_over_the_size_limit_is_refused_unread(client: TestClient) -> None:
    big = GOOD + b"Sunderland,\n" * (MAX_BYTES // 10)
    r = client.post("/networks/upload", data={"name": "Big"},
                    files={"file": ("big.csv", big, "text/csv")}, follow_redirects=False)
    assert r.status_code == 422 and "too large" in r.text
    assert COOKIE not in client.cookies


def test_an_uploaded_network_is_seen_only_by_its_session_and_never_cached(
        client: TestClient) -> None:
    client.get(f"/indicator/{IND}")  # in the response cache, for readers without uploads
    r = client.post("/networks/upload", data={"name": "Three towns"},
                    files={"file": ("towns.csv", GOOD, "text/csv")}, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    url = r.headers["location"]
    network_id = url.rsplit("/", 1)[1]
    assert PRIVATE.fullmatch(network_id)
    mine = client.cookies[COOKIE]
    page = client.get(url)
    assert page.status_code == 200 and "Sunderland" in page.text and "Three towns" in page.text
    assert page.headers["cache-control"] == "private, no-store"
    assert offered(client.get(f"/indicator/{IND}").text, network_id)
    data = client.get(f"/indicator/{IND}?network={network_id}&format=json").json()["data"]
    assert {m["code"] for m in data["members"]} == {"E08000024", "E06000026", "E08000036"}
    res = res_of(client)
    kept = [*res.pages.values, *res.responses, *res.headline.values,
            *res.indicator_view.values]
    assert not any(network_id in repr(k) for k in kept)
    # a second visitor, with no cookie or another one, is told there is no such network
    for other in (None, "someone-else"):
        client.cookies.clear()
        if other:
            client.cookies.set(COOKIE, other)
        for probe in (url, f"/indicator/{IND}?network={network_id}",
                      f"/api/networks/{network_id}/members", f"/scorecard/{network_id}",
                      f"/api/indicators/{IND}?network={network_id}"):
            assert client.get(probe).status_code == 404, (other, probe)
        assert not offered(client.get(f"/indicator/{IND}").text, network_id)
        assert network_id not in client.get("/networks/own").text
    client.cookies.clear()
    client.cookies.set(COOKIE, mine)
    assert client.get(url).status_code == 200
    assert network_id in client.get("/networks/own").text
