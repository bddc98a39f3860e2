"""Payloads that more than one front end serves: the CLI's ``--format json`` and the web's.

Each takes an analysis result (or a network) and returns plain data; the CLI
prints it, the JSON API and the pages serve it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from keycities.analysis.headline.core import Headline


def headline_payload(h: Headline) -> dict[str, Any]:
    """Everything about a headline result, as plain data."""
    return {
        "network": h.network_id, "name": h.network_name, "at": h.at,
        "member_vintage": h.member_vintage, "members": h.members,
        "figures": [vars(f) for f in h.figures], "member_values": h.member_values,
        "releases": h.releases, "notes": h.notes,
    }


def members_payload(net: Any, when: Any, names: Mapping[Any, str]) -> tuple[pd.DataFrame,
                                                                         dict[str, Any]]:
    """A network's members on ``when`` (with names) and the payload of ``network show``."""
    members = net.members_at(when)
    members.insert(1, "name", [names.get(c, "") for c in members["code"]])
    notes = [*net.problems, *(f"{n.date.year}: {n.text}" for n in net.notes)]
    snap = net.snapshot_at(when)
    if snap:
        notes.insert(0, f"List of document {snap.document}: {snap.title}, in force from "
                        f"{snap.in_force}. {snap.basis}")
    return members, {"network": net.id, "name": net.name, "at": when, "count": len(members),
                     "data": members, "notes": notes}
