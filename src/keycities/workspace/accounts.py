"""Accounts, roles, sessions and login limits.

Roles: ``viewer`` reads (as anyone may), ``editor`` changes the register and
saves proposals, ``admin`` also manages accounts.  With no account at all the
app is read-only.  Passwords are hashed with Argon2id (argon2-cffi's defaults,
RFC 9106); sessions are random 256-bit tokens of which only the SHA-256 is
stored, with a per-session CSRF token, and end after ``SESSION_HOURS``, on
logout, or when the account is disabled or its password changes.  Logins are
limited per address and name, per address and per name in
``WINDOW_MINUTES`` (see :func:`reserve`), each attempt counted before its password is
checked; at most ``PASSWORD_CHECKS`` passwords are checked at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
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
"""Failed logins of one name from one address in the window before that pair is locked."""
CLIENT_FAILURES = 20
"""Failed logins from one address in the window, whatever the names, before it is locked."""
NAME_FAILURES = 20
"""Failed logins of one name in the window after which only addresses that have not failed
on it may try it."""
WINDOW_MINUTES = 15
PASSWORD_CHECKS = 2
"""Password checks (Argon2id, 64 MiB each) run at once by :func:`login`."""
NAME = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")

_hasher = PasswordHasher()
_checks = threading.BoundedSemaphore(PASSWORD_CHECKS)
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


@dataclass(frozen=True)
class Attempt:
    """A login attempt, counted (as a failure, until it succeeds) before the password is
    checked: see :func:`reserve`."""

    name: str
    client: str
    reserved: tuple[int, ...]
    """Rowids of the attempt's rows in ``login_failures``."""
    user: tuple[int, str, str, str, bool] | None
    """id, name, role, password hash and disabled of the account, if it exists."""


def _limit_keys(name: str, client: str) -> dict[str, str]:
    name = name.lower()[:64]
    return {"pair": f"pair:{client}|{name}", "client": f"client:{client}",
            "name": f"name:{name}"}


def reserve(ws: Workspace, name: str, *, client: str) -> Attempt:
    """Count a login attempt before its password is checked (one transaction), so that
    concurrent guesses cannot all pass the limits before any is recorded.

    Limits, each over the last ``WINDOW_MINUTES``: ``MAX_FAILURES`` failures of one name
    from one address (that pair is locked); ``CLIENT_FAILURES`` from one address, whatever
    the names; ``NAME_FAILURES`` of one name from anywhere, after which only addresses
    that have not failed on that name may try it - so a stranger's guesses cannot lock the
    account's owner out, who signs in from an address of their own.

    Raises
    ------
    TooManyAttemptsError
        When a limit is reached; nothing is recorded.
    """
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=WINDOW_MINUTES)).isoformat()
    keys = _limit_keys(name, client)
    with ws.transaction() as con:
        con.execute("DELETE FROM login_failures WHERE at < ?", (since,))

        def count(key: str) -> int:
            return int(con.execute("SELECT COUNT(*) FROM login_failures WHERE key = ?",
                                   (key,)).fetchone()[0])

        pair = count(keys["pair"])
        if (pair >= MAX_FAILURES or count(keys["client"]) >= CLIENT_FAILURES
                or (pair and count(keys["name"]) >= NAME_FAILURES)):
            raise TooManyAttemptsError(f"Too many failed logins: try again in "
                                       f"{WINDOW_MINUTES} minutes.")
        stamp = now()
        rows = tuple(int(con.execute("INSERT INTO login_failures (key, at) VALUES (?, ?)",
                                     (key, stamp)).lastrowid or 0) for key in keys.values())
        row = con.execute("SELECT id, name, role, pw_hash, disabled FROM users WHERE name = ?",
                          (name,)).fetchone()
    user = None if row is None else (row["id"], row["name"], row["role"], row["pw_hash"],
                                     bool(row["disabled"]))
    return Attempt(name, client, rows, user)


def verify(attempt: Attempt, password: str) -> bool:
    """Check the attempt's password (Argon2id: the one slow, memory-hungry step, about
    64 MiB while it runs; callers bound how many run at once).  An unknown name is checked
    against a dummy hash, as slow as a real one."""
    try:
        ok = _hasher.verify(attempt.user[3] if attempt.user else _DUMMY, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return bool(ok) and attempt.user is not None


def complete(ws: Workspace, attempt: Attempt, ok: bool) -> Session:
    """Open a session for an attempt whose password was right; its reserved rows are
    dropped (a success is no failure).

    Raises
    ------
    AuthError
        For a wrong name or password (the same message for both) or a disabled account.
    """
    if not ok or attempt.user is None or attempt.user[4]:
        raise AuthError("Wrong name or password." if not ok else "This account is disabled.")
    uid, name, role = attempt.user[:3]
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=SESSION_HOURS)).isoformat()
    with ws.transaction() as con:
        con.executemany("DELETE FROM login_failures WHERE rowid = ?",
                        [(r,) for r in attempt.reserved])
        con.execute("INSERT INTO sessions (token_hash, user_id, csrf, created, expires) "
                    "VALUES (?, ?, ?, ?, ?)", (_digest(token), uid, csrf, now(), expires))
    return Session(token, csrf, User(uid, name, role))


def login(ws: Workspace, name: str, password: str, *, client: str) -> Session:
    """Check a name and password and open a session: :func:`reserve`, :func:`verify`
    (at most ``PASSWORD_CHECKS`` at once in this process), :func:`complete`.

    Raises
    ------
    TooManyAttemptsError
        When a limit of :func:`reserve` is reached.
    AuthError
        For a wrong name or password (the same message for both) or a disabled account.
    """
    attempt = reserve(ws, name, client=client)
    with _checks:
        ok = verify(attempt, password)
    return complete(ws, attempt, ok)


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
