"""Accounts, roles, sessions and login limits.

Roles: ``viewer`` reads (as anyone may), ``editor`` changes the register and
saves proposals, ``admin`` also manages accounts.  With no account at all the
app is read-only.  Passwords are hashed with Argon2id (argon2-cffi's defaults,
RFC 9106); sessions are random 256-bit tokens of which only the SHA-256 is
stored, with a per-session CSRF token, and end after ``SESSION_HOURS``, on
logout, or when the account is disabled or its password changes.  Logins are
limited to ``MAX_FAILURES`` failures per name and per client in
``WINDOW_MINUTES``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from keycities.errors import KeycitiesError
from keycities.workspace.db import Workspace, now

ROLES = ("viewer", "editor", "admin")
RANK = {r: i for i, r in enumerate(ROLES)}
MIN_PASSWORD = 12
SESSION_HOURS = 8
MAX_FAILURES = 5
WINDOW_MINUTES = 15
NAME = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")

_hasher = PasswordHasher()
# Verifying against this keeps an unknown name as slow as a wrong password.
_DUMMY = _hasher.hash("not a real password")


class AuthError(KeycitiesError, PermissionError):
    """Not signed in, or not allowed to do this."""


class TooManyAttemptsError(KeycitiesError):
    """Too many failed logins: wait before trying again."""


@dataclass(frozen=True)
class User:
    """A signed-in account."""

    id: int
    name: str
    role: str

    def can(self, role: str) -> bool:
        """True when this account has ``role`` or a higher one."""
        return RANK[self.role] >= RANK[role]


@dataclass(frozen=True)
class Session:
    """A signed-in session: its token (for the cookie), its CSRF token and its user."""

    token: str
    csrf: str
    user: User


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    """An account name: 2-64 letters, digits or ``. _ @ -``."""
    if not NAME.match(name or ""):
        raise KeycitiesError("An account name has 2 to 64 letters, digits or . _ @ - "
                             f"(got {name!r}).")
    return name


def check_password(password: str) -> str:
    """A password of at least ``MIN_PASSWORD`` characters."""
    if len(password or "") < MIN_PASSWORD:
        raise KeycitiesError(f"A password needs at least {MIN_PASSWORD} characters.")
    return password


def check_role(role: str) -> str:
    """One of :data:`ROLES`."""
    if role not in ROLES:
        raise KeycitiesError(f"Unknown role {role!r}: use one of {', '.join(ROLES)}.")
    return role


def add_user(ws: Workspace, name: str, password: str, role: str, *, by: str) -> User:
    """Create an account (recorded in the audit trail).

    Raises
    ------
    KeycitiesError
        For a bad name, a short password, an unknown role or a name in use.
    """
    check_name(name)
    check_password(password)
    check_role(role)
    with ws.transaction() as con:
        if con.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            raise KeycitiesError(f"There is already an account called {name!r}.")
        stamp = now()
        cur = con.execute("INSERT INTO users (name, role, pw_hash, created, pw_changed) "
                          "VALUES (?, ?, ?, ?, ?)",
                          (name, role, _hasher.hash(password), stamp, stamp))
        uid = int(cur.lastrowid or 0)
        ws.record(con, user=by, action="add", entity="user", entity_id=uid, before=None,
                  after={"name": name, "role": role, "disabled": False},
                  summary=f"added account {name} ({role})")
    return User(uid, name, role)


def set_user(ws: Workspace, name: str, *, by: str, role: str | None = None,
             disabled: bool | None = None) -> None:
    """Change an account's role or disable/enable it (recorded); its sessions end."""
    with ws.transaction() as con:
        row = con.execute("SELECT id, role, disabled FROM users WHERE name = ?",
                          (name,)).fetchone()
        if row is None:
            raise KeycitiesError(f"No account called {name!r}.")
        before = {"name": name, "role": row["role"], "disabled": bool(row["disabled"])}
        after = dict(before)
        if role is not None:
            after["role"] = check_role(role)
        if disabled is not None:
            after["disabled"] = disabled
        if after == before:
            return
        if before["role"] == "admin" and (after["role"] != "admin" or after["disabled"]):
            admins = con.execute("SELECT COUNT(*) FROM users WHERE role = 'admin' AND "
                                 "disabled = 0").fetchone()[0]
            if admins <= 1:
                raise KeycitiesError("This is the last admin account: make another admin "
                                     "first.")
        con.execute("UPDATE users SET role = ?, disabled = ? WHERE id = ?",
                    (after["role"], int(after["disabled"]), row["id"]))
        con.execute("DELETE FROM sessions WHERE user_id = ?", (row["id"],))
        ws.record(con, user=by, action="update", entity="user", entity_id=row["id"],
                  before=before, after=after, summary=f"changed account {name}: " + ", ".join(
                      f"{k} {before[k]} -> {after[k]}" for k in after if after[k] != before[k]))


def users(ws: Workspace) -> list[dict[str, object]]:
    """Every account (no hashes)."""
    return [{"name": r["name"], "role": r["role"], "disabled": bool(r["disabled"]),
             "created": r["created"]}
            for r in ws.query("SELECT name, role, disabled, created FROM users ORDER BY name")]


def has_accounts(ws: Workspace) -> bool:
    """True once any account exists (until then the app is read-only)."""
    return bool(ws.query("SELECT 1 FROM users LIMIT 1"))


def login(ws: Workspace, name: str, password: str, *, client: str) -> Session:
    """Check a name and password and open a session.

    Raises
    ------
    TooManyAttemptsError
        After ``MAX_FAILURES`` failures for this name or this client in the window.
    AuthError
        For a wrong name or password (the same message for both) or a disabled account.
    """
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=WINDOW_MINUTES)).isoformat()
    keys = (f"name:{name.lower()[:64]}", f"client:{client}")
    with ws.transaction() as con:
        con.execute("DELETE FROM login_failures WHERE at < ?", (since,))
        for key in keys:
            n = con.execute("SELECT COUNT(*) FROM login_failures WHERE key = ? AND at >= ?",
                            (key, since)).fetchone()[0]
            if n >= MAX_FAILURES:
                raise TooManyAttemptsError(f"Too many failed logins: try again in "
                                      f"{WINDOW_MINUTES} minutes.")
        row = con.execute("SELECT id, name, role, pw_hash, disabled FROM users WHERE name = ?",
                          (name,)).fetchone()
    ok = False
    try:
        ok = _hasher.verify(row["pw_hash"] if row else _DUMMY, password or "") and row is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or row["disabled"]:
        with ws.transaction() as con:
            for key in keys:
                con.execute("INSERT INTO login_failures (key, at) VALUES (?, ?)", (key, now()))
        raise AuthError("Wrong name or password." if not ok else "This account is disabled.")
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=SESSION_HOURS)).isoformat()
    with ws.transaction() as con:
        con.execute("INSERT INTO sessions (token_hash, user_id, csrf, created, expires) "
                    "VALUES (?, ?, ?, ?, ?)", (_digest(token), row["id"], csrf, now(), expires))
    return Session(token, csrf, User(row["id"], row["name"], row["role"]))


def session(ws: Workspace, token: str | None) -> Session | None:
    """The live session of a cookie's token, or None (unknown, expired, disabled account,
    or password changed since the session began)."""
    if not token or not ws.exists:
        return None
    rows = ws.query(
        "SELECT s.csrf, s.expires, s.created, u.id, u.name, u.role, u.disabled, u.pw_changed "
        "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        (_digest(token),))
    if not rows:
        return None
    r = rows[0]
    if r["disabled"] or r["expires"] < now() or r["pw_changed"] > r["created"]:
        return None
    return Session(token, r["csrf"], User(r["id"], r["name"], r["role"]))


def logout(ws: Workspace, token: str | None) -> None:
    """End a session."""
    if token and ws.exists:
        with ws.transaction() as con:
            con.execute("DELETE FROM sessions WHERE token_hash = ?", (_digest(token),))


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens (False when either is missing)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
