"""Signing in under attack (issue 16, point 5): a bounded loopback test on a real server.

The app is served by uvicorn on 127.0.0.1 in a background thread, as ``keycities serve``
serves it (no trust in forwarded headers).  Forty failed logins are sent at once from one
address; the test counts the password checks running at once and in all, samples this
process's memory meanwhile, and then signs the account's owner in from another loopback
address (127.0.0.2).  Its latency target (cheap reads during the attack) is measured by
``benchmarks/login.py``; nothing here is timed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from keycities.settings import Settings
from keycities.web import create_app
from keycities.workspace import accounts
from keycities.workspace.db import Workspace

PASSWORD = "correct horse battery"
ATTACK = 40


def rss_mb() -> float:
    """This process's resident memory, MB (from /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture
def served(built_store: Path, tmp_path: Path, serve: Any) -> Iterator[tuple[str, Any]]:
    settings = Settings(store=built_store, offline=True, workspace=tmp_path / "ws.sqlite")
    ws = Workspace(settings.workspace_path)
    accounts.add_user(ws, "ada", PASSWORD, "admin", by="test")
    ws.close()
    app = create_app(settings)
    with serve(app, probe="/static/favicon.svg", proxy_headers=False) as url:
        yield url, app


class Counting:
    """Wraps :func:`accounts.verify`: how many run at once, at most, and in all."""

    def __init__(self, verify: Any) -> None:
        self.verify, self.now, self.peak, self.total = verify, 0, 0, 0
        self.lock = threading.Lock()

    def __call__(self, *args: Any) -> bool:
        with self.lock:
            self.now += 1
            self.total += 1
            self.peak = max(self.peak, self.now)
        try:
            ok: bool = self.verify(*args)
            return ok
        finally:
            with self.lock:
                self.now -= 1


async def _attack(url: str, names: list[str]) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=120,
                                 limits=httpx.Limits(max_connections=ATTACK)) as client:
        answers = await asyncio.gather(*[
            client.post("/login", data={"name": n, "password": "wrong password!!"})
            for n in names])
    return [a.status_code for a in answers]


@pytest.mark.parametrize("spread", ["one name", "many names"])
def test_forty_concurrent_failed_logins_are_bounded_and_the_owner_still_signs_in(
        served: tuple[str, Any], monkeypatch: pytest.MonkeyPatch, spread: str) -> None:
    url, _ = served
    counting = Counting(accounts.verify)
    monkeypatch.setattr(accounts, "verify", counting)
    names = ["ada"] * ATTACK if spread == "one name" else [f"user{i}" for i in range(ATTACK)]
    peak_mb, start_mb, done = 0.0, rss_mb(), threading.Event()

    def sample() -> None:
        nonlocal peak_mb
        while not done.is_set():
            peak_mb = max(peak_mb, rss_mb())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    statuses = asyncio.run(_attack(url, names))
    done.set()
    sampler.join()
    assert set(statuses) <= {403, 429} and 429 in statuses
    # counted before checking: no more checks than the limits allow, and few at once
    limit = accounts.MAX_FAILURES if spread == "one name" else accounts.CLIENT_FAILURES
    assert counting.total == statuses.count(403) <= limit
    assert counting.peak <= accounts.PASSWORD_CHECKS
    assert peak_mb - start_mb < 300, f"memory grew by {peak_mb - start_mb:.0f} MB"
    # the owner, from another address, is not locked out by a stranger's guesses
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=url, transport=transport, timeout=60) as owner:
        r = owner.post("/login", data={"name": "ada", "password": PASSWORD},
                       follow_redirects=False)
        assert r.status_code == 303 and "kc_session" in r.headers["set-cookie"]
    # ... while the attacker's address stays refused, even with the right password
    r = httpx.post(url + "/login", data={"name": "ada", "password": PASSWORD}, timeout=60)
    assert r.status_code == 429


@pytest.mark.parametrize(("peer", "trusted", "client"), [
    ("10.0.0.1", "", "10.0.0.1"),  # not believed by default
    ("10.0.0.1", "10.0.0.0/8", "198.51.100.7"),  # the address the proxy heard from
    ("10.0.0.1", "10.0.0.0/8, 198.51.100.7", "203.0.113.9"),  # through two trusted proxies
    ("192.0.2.1", "10.0.0.0/8", "192.0.2.1"),  # a stranger posing as a proxy
    ("10.0.0.1", "10.0.0.0/8, 198.51.100.7, 203.0.113.9", "10.0.0.1"),  # all trusted
])
def test_forwarded_for_is_believed_only_from_a_trusted_proxy(
        tmp_path: Path, peer: str, trusted: str, client: str) -> None:
    from starlette.requests import Request

    from keycities.web.session import client_address

    app = create_app(Settings(store=tmp_path / "none.duckdb", trusted_proxies=trusted))
    request = Request({"type": "http", "method": "POST", "path": "/login", "app": app,
                       "query_string": b"", "client": (peer, 40000), "headers": [
                           (b"x-forwarded-for", b"203.0.113.9, 198.51.100.7")]})
    assert client_address(request) == client


def test_a_bad_trusted_proxy_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        Settings(store=tmp_path / "s.duckdb", trusted_proxies="10.0.0.0/8, proxy.local")
