"""Networks an editor saved from a CSV: kept in the workspace, each with its audit record.

The CSV is the CLI's network file (:mod:`keycities.network.loader`) and is
validated by the same loader when saved - a file with any problem is refused
with the loader's message and nothing is stored - and again whenever it is
read, against the geography of the store in use.  A deletion keeps the row,
marked deleted, so its id is not reused; either change can be reverted from the
history (:func:`keycities.workspace.edits.revert`).
"""

from __future__ import annotations

import dataclasses
import re

from keycities.errors import KeycitiesError
from keycities.network.loader import Resolver, network_from_bytes
from keycities.network.register import BUILTIN, Network
from keycities.workspace.db import Workspace, now

ID = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
"""A saved network's id: 2 to 40 lower-case letters, digits and hyphens."""
MAX_BYTES = 200_000
"""Largest network CSV accepted, in bytes (a CSV of every GB district is about 20 kB)."""


def check_id(network_id: str) -> str:
    """``network_id`` when it can name a new saved network, else a :class:`KeycitiesError`."""
    if not ID.fullmatch(network_id or ""):
        raise KeycitiesError(f"A network id is 2 to 40 lower-case letters, digits and hyphens, "
                             f"starting with a letter or digit (got {network_id!r}).")
    if network_id in BUILTIN or network_id.startswith("u-"):
        raise KeycitiesError(f"{network_id!r} is taken by a built-in or uploaded network: "
                             "choose another id.")
    return network_id


def parse(data: bytes, network_id: str, name: str, resolver: Resolver) -> Network:
    """The network in CSV ``data`` under ``network_id`` and ``name``, validated by the loader.

    Raises
    ------
    RegisterError
        Every problem with its line (the CLI's message); nothing is loaded.
    KeycitiesError
        When the file is over :data:`MAX_BYTES`.
    """
    if len(data) > MAX_BYTES:
        raise KeycitiesError(f"The file is {len(data):,} bytes; a network CSV may be at most "
                             f"{MAX_BYTES:,} bytes.")
    net = network_from_bytes(data, resolver, source=f"network {network_id!r}", stem=network_id)
    return dataclasses.replace(net, id=network_id, name=name or network_id)


def save(ws: Workspace, network_id: str, name: str, data: bytes, resolver: Resolver, *,
         user: str) -> Network:
    """Validate and store a network CSV under a new id; returns the network.

    Raises
    ------
    RegisterError, KeycitiesError
        When the CSV has problems, or the id is malformed or taken; nothing is stored.
    """
    check_id(network_id)
    name = (name or "").strip() or network_id
    if len(name) > 120:
        raise KeycitiesError("A network's name may be at most 120 characters.")
    net = parse(data, network_id, name, resolver)
    text = data.decode("utf-8-sig")
    with ws.transaction() as con:
        if con.execute("SELECT 1 FROM saved_networks WHERE id = ?", (network_id,)).fetchone():
            raise KeycitiesError(f"A network {network_id!r} was saved before: choose another id.")
        con.execute("INSERT INTO saved_networks (id, name, csv, created_by, created) "
                    "VALUES (?, ?, ?, ?, ?)", (network_id, name, text, user, now()))
        ws.record(con, user=user, action="add", entity="saved_network", entity_id=network_id,
                  before=None, after={"id": network_id, "name": name, "deleted": 0},
                  summary=f"saved network {network_id!r} ({name}, "
                          f"{len(net.memberships)} memberships)")
    return net


def delete(ws: Workspace, network_id: str, *, user: str) -> None:
    """Delete a saved network (the row is kept, marked deleted, with its audit record)."""
    with ws.transaction() as con:
        row = con.execute("SELECT * FROM saved_networks WHERE id = ? AND deleted = 0",
                          (network_id,)).fetchone()
        if row is None:
            raise KeycitiesError(f"No saved network {network_id!r}.")
        con.execute("UPDATE saved_networks SET deleted = 1 WHERE id = ?", (network_id,))
        before = {"id": network_id, "name": row["name"], "deleted": 0}
        ws.record(con, user=user, action="delete", entity="saved_network",
                  entity_id=network_id, before=before, after={**before, "deleted": 1},
                  summary=f"deleted saved network {network_id!r} ({row['name']})")


def listed(ws: Workspace) -> list[dict[str, str]]:
    """Live saved networks: id, name, who saved it and when, oldest first."""
    return [{"id": r["id"], "name": r["name"], "by": r["created_by"], "at": r["created"]}
            for r in ws.query("SELECT id, name, created_by, created FROM saved_networks "
                              "WHERE deleted = 0 ORDER BY created")]


def load(ws: Workspace, network_id: str, resolver: Resolver) -> Network | None:
    """The live saved network ``network_id``, validated by the loader; None when none."""
    rows = ws.query("SELECT name, csv FROM saved_networks WHERE id = ? AND deleted = 0",
                    (network_id,))
    if not rows:
        return None
    return parse(rows[0]["csv"].encode("utf-8"), network_id, rows[0]["name"], resolver)
