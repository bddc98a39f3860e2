"""Edits to the member register and saved proposals, each with its audit record.

The register of a built-in network starts as the shipped history
(:func:`keycities.network.register.builtin_network`); the first edit copies it
into the workspace, and from then on the workspace's rows are the register.
Every edit records who, when, and the row before and after; any change can be
reverted, which is itself a recorded change.  A revert is refused when a later
change touched the same row (revert that one first), so history is never
silently overwritten.

:func:`register_at` rebuilds the register as it stood at a past moment by
undoing, newest first, every change made after it - what "as published on"
pins an export to.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import sqlite3
import weakref
from typing import Any

from keycities._util.numbers import iso_date
from keycities.errors import KeycitiesError
from keycities.network.register import Membership, Network
from keycities.network.rules import Resolver, check_memberships
from keycities.workspace.db import Workspace, now

FIELDS = ("code", "as_published", "joined", "left", "joined_basis", "left_basis")


class RevertError(KeycitiesError):
    """A change that cannot be reverted (already reverted, or overtaken)."""


def _date(value: Any, what: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return iso_date(str(value)).isoformat()
    except ValueError:
        raise KeycitiesError(f"{what}: {value!r} is not a date (YYYY-MM-DD).") from None


def _row(r: sqlite3.Row | dict[str, Any]) -> dict[str, Any]:
    return {k: r[k] for k in ("id", *FIELDS)}


def _seed(con: sqlite3.Connection, net: Network) -> None:
    """Copy the shipped register into the workspace at the first edit of ``net``."""
    if con.execute("SELECT 1 FROM networks WHERE id = ?", (net.id,)).fetchone():
        return
    con.execute("INSERT INTO networks (id, seeded) VALUES (?, ?)", (net.id, now()))
    for m in net.memberships:
        con.execute("INSERT INTO memberships (network, code, as_published, joined, left, "
                    "joined_basis, left_basis) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (net.id, m.code, m.as_published, _date(m.joined, "joined"),
                     _date(m.left, "left"), m.joined_basis, m.left_basis))


def seed(ws: Workspace, net: Network) -> None:
    """Copy the shipped register of ``net`` into the workspace, if not done yet (so that
    each row has an id to be edited by); the register itself does not change."""
    if ws.query("SELECT 1 FROM networks WHERE id = ?", (net.id,)):
        return
    with ws.transaction() as con:
        _seed(con, net)


def _memberships(rows: list[dict[str, Any]]) -> tuple[Membership, ...]:
    def d(v: str | None) -> dt.date | None:
        try:
            return dt.date.fromisoformat(v) if v else None
        except (TypeError, ValueError):  # not a date: out of any register's range, so
            return dt.date.min           # that the check leaves the row out
    return tuple(Membership(code=r["code"], as_published=r["as_published"],
                            joined=d(r["joined"]), left=d(r["left"]),
                            joined_basis=r["joined_basis"] or "",
                            left_basis=r["left_basis"] or "") for r in rows)


def edited(ws: Workspace, net: Network, resolver: Resolver | None = None) -> Network:
    """``net`` with the workspace's register, if it has been edited (else ``net``).

    With a ``resolver``, the stored rows are checked by the rules every edit is
    checked with (:func:`~keycities.network.loader.check_memberships`): a row
    that breaks them (a file changed by hand, or by an older version) is left
    out and named in the network's ``problems``, so that readers see a warning
    rather than an error.
    """
    if not ws.query("SELECT 1 FROM networks WHERE id = ?", (net.id,)):
        return net
    rows = [dict(r) for r in ws.query("SELECT * FROM memberships WHERE network = ? "
                                      "ORDER BY id", (net.id,))]
    return _sound(dataclasses.replace(net, memberships=_memberships(rows)), resolver)


_CHECKED: weakref.WeakKeyDictionary[Any, dict[Any, list[tuple[int, str]]]] = \
    weakref.WeakKeyDictionary()
"""Problems found per resolver and register: a page reads the register many times, and
checking it takes tens of milliseconds (each council is resolved in two vintages)."""


def _problems_of(net: Network, resolver: Resolver) -> list[tuple[int, str]]:
    try:
        known = _CHECKED.setdefault(resolver, {})
    except TypeError:  # a resolver that cannot be weakly referenced: not cached
        known = {}
    key = (net.earliest, net.memberships)
    found = known.get(key)
    if found is None:
        found = check_memberships(net.memberships, resolver, earliest=net.earliest)
        if len(known) >= 64:
            known.clear()
        known[key] = found
    return found


def _sound(net: Network, resolver: Resolver | None) -> Network:
    """``net`` without the rows that break the register's rules (see :func:`edited`)."""
    if resolver is None:
        return net
    problems = _problems_of(net, resolver)
    if not problems:
        return net
    bad = {i for i, _ in problems}
    return dataclasses.replace(
        net, memberships=tuple(m for i, m in enumerate(net.memberships) if i not in bad),
        problems=tuple(f"Left out of the register as stored: {p}." for _, p in problems))


def register_rows(ws: Workspace, net: Network) -> list[dict[str, Any]]:
    """The register's rows with their ids (ids exist once the register is in the workspace)."""
    if not ws.query("SELECT 1 FROM networks WHERE id = ?", (net.id,)):
        return [{"id": None, **{k: getattr(m, k) for k in FIELDS}} for m in net.memberships]
    return [dict(r) for r in ws.query("SELECT * FROM memberships WHERE network = ? ORDER BY "
                                      "code, joined", (net.id,))]


def _check(values: dict[str, Any]) -> dict[str, Any]:
    code = str(values.get("code") or "").strip().upper()
    if not code:
        raise KeycitiesError("Give the GSS code of a local authority district (see /places).")
    joined = _date(values.get("joined"), "joined")
    left = _date(values.get("left"), "left")
    basis = {k: str(values.get(k) or "").strip()[:500] for k in ("joined_basis", "left_basis")}
    name = str(values.get("as_published") or "").strip()[:200] or code
    return {"code": code, "as_published": name, "joined": joined, "left": left, **basis}


def _rows_of(con: sqlite3.Connection, net: Network) -> list[dict[str, Any]]:
    return [dict(r) for r in con.execute("SELECT * FROM memberships WHERE network = ? "
                                         "ORDER BY id", (net.id,))]


def _refuse_new_problems(net: Network, before: list[dict[str, Any]],
                         after: list[dict[str, Any]], resolver: Resolver) -> None:
    """Refuse an edit that breaks the rules a network file is loaded with (a council
    listed twice, dates out of range or in the wrong order, a council that does not
    exist for the whole membership); problems the register already had are not the
    edit's fault."""
    def problems(rows: list[dict[str, Any]]) -> list[str]:
        return [p for _, p in check_memberships(_memberships(rows), resolver,
                                                earliest=net.earliest)]

    old = set(problems(before))
    new = [p for p in problems(after) if p not in old]
    if new:
        raise KeycitiesError("This change was not made: " + "; ".join(new) + ".")


def add_membership(ws: Workspace, net: Network, values: dict[str, Any], *, user: str,
                   resolver: Resolver) -> int:
    """Add a membership; returns its id.

    Raises
    ------
    KeycitiesError
        When the register would break the rules of a network file (see
        :func:`~keycities.network.loader.check_memberships`); nothing is changed.
    """
    row = _check(values)
    if row["as_published"] == row["code"]:  # a GSS code is no name: show the council's own
        with contextlib.suppress(KeycitiesError):
            row["as_published"] = resolver.resolve(row["code"]).name
    with ws.transaction() as con:
        _seed(con, net)
        before = _rows_of(con, net)
        cur = con.execute("INSERT INTO memberships (network, code, as_published, joined, left, "
                          "joined_basis, left_basis) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (net.id, *[row[k] for k in FIELDS]))
        mid = int(cur.lastrowid or 0)
        _refuse_new_problems(net, before, _rows_of(con, net), resolver)
        ws.record(con, user=user, action="add", entity=f"membership:{net.id}", entity_id=mid,
                  before=None, after={"id": mid, **row},
                  summary=f"{net.name}: added {row['as_published']} ({row['code']}), joined "
                  f"{row['joined'] or 'undated'}")
    return mid


def _existing(con: sqlite3.Connection, net: Network, mid: int) -> sqlite3.Row:
    _seed(con, net)
    old = con.execute("SELECT * FROM memberships WHERE id = ? AND network = ?",
                      (int(mid), net.id)).fetchone()
    if old is None:
        raise KeycitiesError(f"No membership {mid} in {net.name}.")
    return old


def update_membership(ws: Workspace, net: Network, mid: int, values: dict[str, Any], *,
                      user: str, resolver: Resolver) -> None:
    """Change a membership's dates, wording or bases (checked as :func:`add_membership`)."""
    with ws.transaction() as con:
        old = _existing(con, net, mid)
        row = _check({**_row(old), **{k: v for k, v in values.items() if k in FIELDS}})
        before = _row(old)
        after = {"id": int(mid), **row}
        if before == after:
            return
        register = _rows_of(con, net)
        con.execute("UPDATE memberships SET code = ?, as_published = ?, joined = ?, left = ?, "
                    "joined_basis = ?, left_basis = ? WHERE id = ?",
                    (*[row[k] for k in FIELDS], int(mid)))
        _refuse_new_problems(net, register, _rows_of(con, net), resolver)
        ws.record(con, user=user, action="update", entity=f"membership:{net.id}",
                  entity_id=mid, before=before, after=after,
                  summary=f"{net.name}: changed {row['as_published']}: " + ", ".join(
                      f"{k} {before[k]} -> {after[k]}" for k in FIELDS
                      if before[k] != after[k]))


def delete_membership(ws: Workspace, net: Network, mid: int, *, user: str) -> None:
    """Remove a membership (a mistaken row; a council that left gets a ``left`` date)."""
    with ws.transaction() as con:
        old = _existing(con, net, mid)
        con.execute("DELETE FROM memberships WHERE id = ?", (int(mid),))
        ws.record(con, user=user, action="delete", entity=f"membership:{net.id}",
                  entity_id=mid, before=_row(old), after=None,
                  summary=f"{net.name}: removed {old['as_published']} ({old['code']})")


# ------------------------------------------------------------------ proposals


def save_proposal(ws: Workspace, kind: str, name: str, params: dict[str, Any], *,
                  user: str) -> int:
    """Save named twinning or testbed parameters; returns the proposal's id."""
    if kind not in ("twinning", "testbed"):
        raise KeycitiesError(f"Unknown kind of proposal {kind!r}: twinning or testbed.")
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        raise KeycitiesError("Give the proposal a name of 1 to 120 characters.")
    text = json.dumps(params, sort_keys=True, default=str)
    if len(text) > 10_000:
        raise KeycitiesError("These parameters are too long to save.")
    with ws.transaction() as con:
        cur = con.execute("INSERT INTO proposals (kind, name, params, created_by, created) "
                          "VALUES (?, ?, ?, ?, ?)", (kind, name, text, user, now()))
        pid = int(cur.lastrowid or 0)
        ws.record(con, user=user, action="add", entity="proposal", entity_id=pid, before=None,
                  after={"id": pid, "kind": kind, "name": name, "params": params,
                         "deleted": 0},
                  summary=f"saved {kind} proposal {name!r}")
    return pid


def delete_proposal(ws: Workspace, pid: int, *, user: str) -> None:
    """Withdraw a proposal (kept, marked deleted, revertible)."""
    with ws.transaction() as con:
        row = con.execute("SELECT * FROM proposals WHERE id = ? AND deleted = 0",
                          (int(pid),)).fetchone()
        if row is None:
            raise KeycitiesError(f"No proposal {pid}.")
        con.execute("UPDATE proposals SET deleted = 1 WHERE id = ?", (int(pid),))
        before = {"id": int(pid), "kind": row["kind"], "name": row["name"],
                  "params": json.loads(row["params"]), "deleted": 0}
        ws.record(con, user=user, action="delete", entity="proposal", entity_id=pid,
                  before=before, after={**before, "deleted": 1},
                  summary=f"withdrew {row['kind']} proposal {row['name']!r}")


def proposals(ws: Workspace) -> list[dict[str, Any]]:
    """Live proposals, newest first."""
    return [{"id": r["id"], "kind": r["kind"], "name": r["name"],
             "params": json.loads(r["params"]), "by": r["created_by"], "at": r["created"]}
            for r in ws.query("SELECT * FROM proposals WHERE deleted = 0 ORDER BY id DESC")]


# ------------------------------------------------------------------ revert


def _current(con: sqlite3.Connection, entity: str, eid: str) -> dict[str, Any] | None:
    if entity.startswith("membership:"):
        r = con.execute("SELECT * FROM memberships WHERE id = ?", (int(eid),)).fetchone()
        return _row(r) if r else None
    if entity == "proposal":
        r = con.execute("SELECT * FROM proposals WHERE id = ?", (int(eid),)).fetchone()
        return None if r is None else {"id": r["id"], "kind": r["kind"], "name": r["name"],
                                       "params": json.loads(r["params"]),
                                       "deleted": r["deleted"]}
    if entity == "saved_network":
        r = con.execute("SELECT * FROM saved_networks WHERE id = ?", (eid,)).fetchone()
        return None if r is None else {"id": r["id"], "name": r["name"],
                                       "deleted": r["deleted"]}
    raise RevertError(f"Changes to {entity.split(':')[0]}s are not reverted from the history "
                      "(change the account itself).")


def _put(con: sqlite3.Connection, entity: str, eid: str, state: dict[str, Any] | None) -> None:
    if entity.startswith("membership:"):
        con.execute("DELETE FROM memberships WHERE id = ?", (int(eid),))
        if state is not None:
            con.execute("INSERT INTO memberships (id, network, code, as_published, joined, "
                        "left, joined_basis, left_basis) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (int(eid), entity.split(":", 1)[1], *[state[k] for k in FIELDS]))
    elif entity == "saved_network":
        # the CSV is kept: undoing a save marks it deleted, undoing a deletion restores it
        con.execute("UPDATE saved_networks SET deleted = ? WHERE id = ?",
                    (1 if state is None else int(state["deleted"]), eid))
    else:
        con.execute("UPDATE proposals SET deleted = ? WHERE id = ?",
                    (1 if state is None else int(state["deleted"]), int(eid)))


def revert(ws: Workspace, change_id: int, *, user: str) -> int:
    """Undo change ``change_id``; returns the id of the recorded revert.

    Raises
    ------
    RevertError
        When it was already reverted, or the row has changed since (revert the
        later change first).
    """
    with ws.transaction() as con:
        c = con.execute("SELECT * FROM changes WHERE id = ?", (int(change_id),)).fetchone()
        if c is None:
            raise RevertError(f"No change {change_id}.")
        if c["reverted_by"]:
            raise RevertError(f"Change {change_id} was already reverted by change "
                              f"{c['reverted_by']}.")
        entity, eid = c["entity"], c["entity_id"]
        after = json.loads(c["after"]) if c["after"] else None
        before = json.loads(c["before"]) if c["before"] else None
        current = _current(con, entity, eid)
        if current != after:
            later = con.execute("SELECT id FROM changes WHERE entity = ? AND entity_id = ? AND "
                                "id > ? AND reverted_by IS NULL ORDER BY id DESC LIMIT 1",
                                (entity, eid, int(change_id))).fetchone()
            raise RevertError(f"Change {change_id} has been overtaken"
                              + (f" by change {later['id']}: revert that first." if later
                                 else "."))
        _put(con, entity, eid, before)
        rid = ws.record(con, user=user, action="revert", entity=entity, entity_id=eid,
                        before=after, after=before, summary=f"reverted change {change_id} "
                        f"({c['summary']})", reverts=int(change_id))
        con.execute("UPDATE changes SET reverted_by = ? WHERE id = ?", (rid, int(change_id)))
    return rid


def register_at(ws: Workspace, net: Network, when: str,
                resolver: Resolver | None = None) -> Network:
    """The register as it stood at ``when`` (ISO time or date): today's rows with every
    later change undone, newest first (checked as by :func:`edited` with a ``resolver``)."""
    seeded = ws.query("SELECT seeded FROM networks WHERE id = ?", (net.id,))
    if not seeded or seeded[0]["seeded"] > when:
        return net
    rows = {r["id"]: dict(r) for r in ws.query("SELECT * FROM memberships WHERE network = ?",
                                               (net.id,))}
    for c in ws.query("SELECT * FROM changes WHERE entity = ? AND at > ? ORDER BY id DESC",
                      (f"membership:{net.id}", when)):
        eid = int(c["entity_id"])
        before = json.loads(c["before"]) if c["before"] else None
        if before is None:
            rows.pop(eid, None)
        else:
            rows[eid] = before
    return _sound(dataclasses.replace(net, memberships=_memberships(
        sorted(rows.values(), key=lambda r: r["id"]))), resolver)
