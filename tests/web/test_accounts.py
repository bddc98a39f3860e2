"""Accounts, editing, the audit trail, and refusals of unauthorised writes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from keycities.cli import app as cli
from keycities.settings import Settings
from keycities.web import create_app
from keycities.workspace import accounts, edits
from keycities.workspace.db import Workspace

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(built_store: Path, tmp_path: Path) -> Settings:
    return Settings(store=built_store, offline=True, workspace=tmp_path / "ws.sqlite")


@pytest.fixture
def client(settings: Settings) -> Any:
    ws = Workspace(settings.workspace_path)
    accounts.add_user(ws, "ada", PASSWORD, "admin", by="test")
    accounts.add_user(ws, "ed", PASSWORD, "editor", by="test")
    accounts.add_user(ws, "vi", PASSWORD, "viewer", by="test")
    ws.close()
    with TestClient(create_app(settings)) as c:
        yield c


def sign_in(c: TestClient, name: str) -> str:
    r = c.post("/login", data={"name": name, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    page = c.get("/edit").text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def members(c: TestClient, at: str = "2026-01-01") -> set[str]:
    rows = c.get(f"/api/networks/key-cities/members?at={at}").json()["data"]
    return {r["code"] for r in rows}


def test_without_accounts_the_app_is_read_only(built_store: Path, tmp_path: Path) -> None:
    with TestClient(create_app(Settings(store=built_store, workspace=tmp_path / "w.sqlite"))
                    ) as c:
        assert "keycities user add" in c.get("/login").text
        r = c.post("/login", data={"name": "ada", "password": PASSWORD})
        assert r.status_code == 403
        r = c.post("/edit/key-cities/add", data={"code": "E06000001", "csrf": "x"})
        assert r.status_code == 403 and "Sign in" in r.text


def test_unauthorised_writes_are_refused(client: TestClient) -> None:
    before = members(client)
    add = {"code": "E06000001", "joined": "2025-01-01"}
    # anonymous
    assert client.post("/edit/key-cities/add", data={**add, "csrf": "x"}).status_code == 403
    # viewer
    token = sign_in(client, "vi")
    r = client.post("/edit/key-cities/add", data={**add, "csrf": token})
    assert r.status_code == 403 and "needs editor" in r.text
    client.post("/logout", data={"csrf": token})
    # editor without / with a wrong CSRF token, and from another origin
    token = sign_in(client, "ed")
    assert client.post("/edit/key-cities/add", data=add).status_code == 403
    assert client.post("/edit/key-cities/add", data={**add, "csrf": "forged"}).status_code == 403
    r = client.post("/edit/key-cities/add", data={**add, "csrf": token},
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    # an editor cannot manage accounts
    r = client.post("/admin/users", data={"name": "x1", "password": PASSWORD * 2,
                                          "role": "admin", "csrf": token})
    assert r.status_code == 403
    # a stale session: the cookie of a session that was signed out
    cookie = client.cookies.get("kc_session")
    client.post("/logout", data={"csrf": token})
    client.cookies.set("kc_session", cookie or "")
    assert client.post("/edit/key-cities/add", data={**add, "csrf": token}).status_code == 403
    assert members(client) == before


def test_an_edit_shows_everywhere_is_audited_and_can_be_reverted(client: TestClient) -> None:
    assert "E06000001" not in members(client)
    headline = client.get("/api/networks/key-cities/headline?at=2026-01-01").json()
    token = sign_in(client, "ed")
    r = client.post("/edit/key-cities/add", data={
        "code": "E06000001", "as_published": "Hartlepool", "joined": "2025-01-01",
        "joined_basis": "board minute 2024-12", "csrf": token}, follow_redirects=False)
    assert r.status_code == 303
    assert "E06000001" in members(client)  # the cached member list was dropped
    after = client.get("/api/networks/key-cities/headline?at=2026-01-01").json()
    assert len(after["members"]) == len(headline["members"]) + 1
    history = client.get("/history").text
    assert "added Hartlepool (E06000001)" in history and "ed," in history
    change = client.app.state.resources.workspace.changes(limit=1)[0]  # type: ignore[attr-defined]
    assert change.user == "ed" and change.before is None
    assert change.after["code"] == "E06000001"
    # change the dates, then revert the add: refused until the later change is reverted
    mid = change.entity_id
    r = client.post(f"/edit/key-cities/{mid}", data={"joined": "2025-02-01", "csrf": token})
    assert r.status_code in (200, 303)
    r = client.post(f"/history/{change.id}/revert", data={"csrf": token})
    assert r.status_code == 422 and "revert that first" in r.text
    latest = client.app.state.resources.workspace.changes(limit=1)[0]  # type: ignore[attr-defined]
    assert latest.before["joined"] == "2025-01-01" and latest.after["joined"] == "2025-02-01"
    assert client.post(f"/history/{latest.id}/revert", data={"csrf": token}).status_code == 200
    assert client.post(f"/history/{change.id}/revert", data={"csrf": token}).status_code == 200
    assert "E06000001" not in members(client)
    again = client.post(f"/history/{change.id}/revert", data={"csrf": token})
    assert again.status_code == 422 and "already reverted" in again.text


@pytest.mark.parametrize(("joined", "says"), [
    ("", "already listed"), ("2026-01-01", "already listed"),  # Sunderland is a member
    ("2019-01-01", "before 2021-01-01"), ("0001-01-01", "before 2021-01-01")])
def test_edits_are_checked_with_the_network_file_rules(client: TestClient, joined: str,
                                                       says: str) -> None:
    before = client.get("/api/networks/key-cities/headline?at=2026-01-01").json()
    token = sign_in(client, "ed")
    code = "E08000024" if says == "already listed" else "E06000001"
    r = client.post("/edit/key-cities/add", data={"code": code, "joined": joined,
                                                  "csrf": token})
    assert r.status_code == 422 and says in r.text and "was not made" in r.text
    after = client.get("/api/networks/key-cities/headline?at=2026-01-01").json()
    assert after["members"] == before["members"]
    assert client.get("/").status_code == 200


def test_a_corrupt_stored_register_leaves_the_pages_working_with_a_warning(
        client: TestClient) -> None:
    token = sign_in(client, "ed")
    client.get("/edit/key-cities")  # the register is copied into the workspace
    client.post("/logout", data={"csrf": token})
    res = client.app.state.resources  # type: ignore[attr-defined]
    with res.workspace.transaction() as con:  # rows no edit can make
        for code, joined in (("E06000001", "2019-01-01"), ("E06000002", "0001-01-01"),
                             ("E08000024", "2024-01-01")):
            con.execute("INSERT INTO memberships (network, code, as_published, joined) "
                        "VALUES ('key-cities', ?, ?, ?)", (code, code, joined))
    res.changed()
    home = client.get("/")
    assert home.status_code == 200 and "Left out of the register as stored" in home.text
    for path in ("/network/key-cities?format=json", "/api/networks/key-cities/headline",
                 "/api/networks/key-cities/members"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        assert "Left out of the register as stored" in r.text
    assert {"E06000001", "E06000002"}.isdisjoint(members(client))


def test_the_cli_reads_the_register_as_edited_on_the_web(client: TestClient,
                                                        settings: Settings) -> None:
    import json

    token = sign_in(client, "ed")
    r = client.post("/edit/key-cities/add", data={"code": "E06000001", "joined": "2025-01-01",
                                                  "csrf": token})
    assert r.status_code == 200
    web = client.get("/api/networks/key-cities/headline?at=2026-01-01").json()
    out = CliRunner().invoke(cli, ["headline", "--at", "2026-01-01", "--format", "json",
                                   "--store", str(settings.store)],
                             env={"KEYCITIES_WORKSPACE": str(settings.workspace_path)})
    assert out.exit_code == 0, out.output
    cli_members = json.loads(out.stdout)["members"]
    assert "E06000001" in {m["code"] for m in cli_members}
    assert cli_members == web["members"]


def test_removing_and_restoring_a_real_member(client: TestClient) -> None:
    token = sign_in(client, "ed")
    page = client.get("/edit/key-cities").text  # an editor's visit gives each row an id
    res = client.app.state.resources  # type: ignore[attr-defined]
    rows = edits.register_rows(res.workspace, res.network("key-cities"))
    mid = next(r["id"] for r in rows if r["code"] == "E08000024" and not r["left"])
    assert f'<form id="m{mid}"' in page
    before = members(client)
    r = client.post(f"/edit/key-cities/{mid}", data={"action": "delete", "csrf": token})
    assert r.status_code == 200
    assert members(client) == before - {"E08000024"}
    change = client.app.state.resources.workspace.changes(limit=1)[0]  # type: ignore[attr-defined]
    client.post(f"/history/{change.id}/revert", data={"csrf": token})
    assert members(client) == before


def test_proposals_are_saved_listed_and_withdrawn(client: TestClient) -> None:
    token = sign_in(client, "ed")
    twin = client.get("/twin?network=key-cities&min_km=150").text
    assert 'action="/proposals"' in twin  # an editor sees the save form
    r = client.post("/proposals", data={"kind": "twinning", "name": "North-South 2026",
                                        "params": '{"network": "key-cities", "min_km": 150}',
                                        "csrf": token})
    assert r.status_code == 200
    assert "North-South 2026" in client.get("/edit").text
    r = client.post("/proposals", data={"kind": "twinning", "name": "x", "params": "[1",
                                        "csrf": token})
    assert r.status_code == 422 and "JSON" in r.text


def test_login_is_rate_limited_and_errors_do_not_say_which_part_was_wrong(
        client: TestClient) -> None:
    r1 = client.post("/login", data={"name": "ed", "password": "wrong password!"})
    r2 = client.post("/login", data={"name": "nobody", "password": PASSWORD})
    assert r1.status_code == r2.status_code == 403
    assert "Wrong name or password" in r1.text and "Wrong name or password" in r2.text
    for _ in range(accounts.MAX_FAILURES):
        client.post("/login", data={"name": "ed", "password": "wrong password!"})
    r = client.post("/login", data={"name": "ed", "password": PASSWORD})
    assert r.status_code == 429 and "Too many failed logins" in r.text


def test_session_cookie_and_security_headers(client: TestClient) -> None:
    r = client.post("/login", data={"name": "ed", "password": PASSWORD},
                    follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    page = client.get("/network/key-cities")
    csp = page.headers["content-security-policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    # a signed-in page is personal: never served from or put into the shared cache
    assert page.headers.get("cache-control") in (None, "no-store") and "ed (editor)" in page.text


@pytest.mark.parametrize("path", ["/static/../app.py", "/static/%2e%2e/app.py",
                                  "/static/..%2fapp.py", "/static//etc/passwd"])
def test_static_paths_cannot_escape(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404, (path, r.status_code)
    assert "create_app" not in r.text


def test_admin_manages_accounts_and_the_last_admin_stays(client: TestClient) -> None:
    token = sign_in(client, "ada")
    r = client.post("/admin/users", data={"name": "newbie", "password": "short",
                                          "role": "editor", "csrf": token})
    assert r.status_code == 422 and "12 characters" in r.text
    r = client.post("/admin/users", data={"name": "newbie", "password": PASSWORD,
                                          "role": "editor", "csrf": token})
    assert r.status_code == 200 and "newbie" in r.text
    r = client.post("/admin/users/ada", data={"role": "viewer", "csrf": token})
    assert r.status_code == 422 and "last admin" in r.text
    r = client.post("/admin/users/ed", data={"disabled": "yes", "csrf": token})
    assert r.status_code == 200
    r = client.post("/login", data={"name": "ed", "password": PASSWORD})
    assert r.status_code == 403 and "disabled" in r.text


def test_the_public_history_shows_account_changes_to_admins_only(client: TestClient) -> None:
    token = sign_in(client, "ed")
    client.post("/edit/key-cities/add", data={"code": "E06000001", "joined": "2025-01-01",
                                              "csrf": token})
    client.post("/logout", data={"csrf": token})
    for who in (None, "vi", "ed"):
        if who:
            token = sign_in(client, who)
        page = client.get("/history").text
        assert "added Hartlepool (E06000001)" in page, who  # the register's history is public
        assert "added account" not in page and "(admin)" not in page, who
        if who:
            client.post("/logout", data={"csrf": token})
    sign_in(client, "ada")
    page = client.get("/history").text
    assert "added account ada (admin)" in page and "added Hartlepool" in page


def test_user_add_from_the_command_line(settings: Settings, built_store: Path) -> None:
    r = CliRunner().invoke(cli, ["user", "add", "root", "--role", "admin", "--password-stdin",
                                 "--store", str(built_store)],
                           input=PASSWORD + "\n", env={"KEYCITIES_WORKSPACE":
                                                       str(settings.workspace_path)})
    assert r.exit_code == 0, r.output
    ws = Workspace(settings.workspace_path)
    assert [u["role"] for u in accounts.users(ws) if u["name"] == "root"] == ["admin"]
    ws.close()


def _built_days_ago(built_store: Path, tmp_path: Path, days: int) -> Path:
    """A copy of the store as if it had been built ``days`` days ago."""
    import shutil

    from keycities.store.store import Store

    path = tmp_path / "older.duckdb"
    shutil.copyfile(built_store, path)
    with Store(path) as s:
        for table in ("release", "release_history"):
            s.write(lambda con, t=table: con.execute(
                f"UPDATE {t} SET loaded_at = loaded_at - INTERVAL (?) DAY", [days]))
    return path


def test_export_pinned_as_published_on_a_date(settings: Settings, built_store: Path,
                                              tmp_path: Path) -> None:
    import datetime as dt
    import json

    store = _built_days_ago(built_store, tmp_path, 3)
    ws = Workspace(settings.workspace_path)
    res_net = create_app(settings).state.resources.network("key-cities")
    edits.add_membership(ws, res_net, {"code": "E06000001", "as_published": "Hartlepool",
                                       "joined": "2022-01-01"}, user="ed",
                         resolver=create_app(settings).state.resources.context.resolver)
    ws.close()
    env = {"KEYCITIES_WORKSPACE": str(settings.workspace_path)}
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    out = tmp_path / "pinned"
    r = CliRunner().invoke(cli, ["export", "site", str(out), "--places", "members",
                                 "--as-of", yesterday, "--store", str(store)], env=env)
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["as_published_on"] == yesterday
    assert manifest["register_last_change"] is None  # the edit came after the pin
    assert {rel["sha256"] for rel in manifest["releases"]} and len(manifest["releases"]) > 5
    members = json.loads((out / "network" / "key-cities" / "page.json").read_text())
    assert "E06000001" not in {m["code"] for m in members["tables"]["members"]["rows"]}
    assert not (out / "place" / "E06000001").exists()


def test_export_pinned_before_the_data_was_loaded_is_refused(built_store: Path,
                                                             tmp_path: Path) -> None:
    import datetime as dt

    store = _built_days_ago(built_store, tmp_path, 3)
    from keycities.store.store import Store

    with Store(store) as s:  # one release reloaded from another file yesterday
        rid = s.query("SELECT min(id) AS id FROM release")["id"].iloc[0]
        for table in ("release", "release_history"):
            s.write(lambda con, t=table: con.execute(
                f"UPDATE {t} SET sha256 = ?, loaded_at = loaded_at + INTERVAL 2 DAY "  # noqa: S608
                "WHERE id = ?", ["0" * 64, rid]))
        s.write(lambda con: con.execute(
            "INSERT INTO release_history SELECT id, source, ?, reader_version, "
            "loaded_at - INTERVAL 2 DAY, row_count FROM release WHERE id = ?", ["a" * 64, rid]))
    two_days_ago = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    out = tmp_path / "pinned"
    r = CliRunner().invoke(cli, ["export", "site", str(out), "--places", "members",
                                 "--as-of", two_days_ago, "--store", str(store)])
    message = str(r.exception)  # main() prints it as "Error: ..."; the runner keeps it
    assert r.exit_code != 0
    assert f"changed since {two_days_ago}" in message
    assert f"{rid} then came from file sha256 {'a' * 64}" in message
    assert not out.exists()
    four_days_ago = (dt.date.today() - dt.timedelta(days=4)).isoformat()
    r = CliRunner().invoke(cli, ["export", "site", str(out), "--places", "members",
                                 "--as-of", four_days_ago, "--store", str(store)])
    assert r.exit_code != 0 and "was first loaded on" in str(r.exception)


def test_a_member_named_as_a_formula_is_inert_in_every_download(settings: Settings,
                                                                 tmp_path: Path) -> None:
    """Issue 16 point 6: a member named ``=HYPERLINK(...)`` was a live formula in the
    XLSX and a raw ``=`` in the CSV and the static pack."""
    import io
    import zipfile

    import pandas as pd

    evil = '=HYPERLINK("http://x","y")'
    ws = Workspace(settings.workspace_path)
    res = create_app(settings).state.resources
    net = res.network("key-cities")
    edits.add_membership(ws, net, {"code": "E06000001", "as_published": evil,
                                   "joined": "2022-01-01"}, user="ed",
                         resolver=res.context.resolver)
    ws.close()

    def check_csv(data: bytes) -> None:
        df = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
        cells = [str(v) for v in df.to_numpy().ravel() if isinstance(v, str)]
        assert "'" + evil in cells
        assert not [c for c in cells if c.startswith(("=", "+", "@"))]

    def check_xlsx(data: bytes) -> None:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            xml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))
        assert "<f>" not in xml and "'=HYPERLINK" in xml.replace("&quot;", '"')

    with TestClient(create_app(settings)) as c:
        for fmt, check in (("csv", check_csv), ("xlsx", check_xlsx)):
            r = c.get(f"/network/key-cities?table=members&format={fmt}")
            assert r.status_code == 200, r.text[:300]
            check(r.content)
    out = tmp_path / "pack"
    r = CliRunner().invoke(cli, ["export", "site", str(out), "--places", "members",
                                 "--store", str(settings.store)],
                           env={"KEYCITIES_WORKSPACE": str(settings.workspace_path)})
    assert r.exit_code == 0, r.output
    folder = out / "network" / "key-cities"
    check_csv((folder / "members.csv").read_bytes())
    check_xlsx((folder / "members.xlsx").read_bytes())
    meta = (folder / "members.csv-metadata.json").read_text()
    assert "Open Government Licence v3.0" in meta
