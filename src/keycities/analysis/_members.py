"""Members of a network as every capability sees them: their boundary vintage and notes.

Shared by the headline figures, the referendum, the productivity gap and the
claims audit (all take a network's members on a date).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from keycities.errors import KeycitiesError
from keycities.geography.mapping import successors
from keycities.geography.vintage import LAST_VINTAGE, check_vintage, vintage_of_date
from keycities.network.register import Network


def member_vintage(at: dt.date) -> int:
    """Boundary vintage of a membership date (the latest covered vintage after it).

    Raises
    ------
    KeycitiesError
        For dates before the first covered vintage.
    """
    return check_vintage(min(vintage_of_date(at.year, at.month), LAST_VINTAGE))


def check_members(members: pd.DataFrame, network_name: str, at: dt.date) -> None:
    """Raise a clear error when a network has no members on a date.

    Raises
    ------
    KeycitiesError
        When ``members`` is empty.
    """
    if members.empty:
        raise KeycitiesError(f"{network_name} has no members on {at}.")


def membership_notes(network: Network, at: dt.date, *, with_basis: bool = False) -> list[str]:
    """Rows of the register left out as unsound, which documented list the members on
    ``at`` come from, and who has left since."""
    problems = list(network.problems)
    snap = network.snapshot_at(at)
    if snap is None:
        return problems
    text = (f"Members: the list in document {snap.document} ({snap.title}), in force from "
            f"{snap.in_force}." + (f" {snap.basis}" if with_basis else ""))
    return [*problems, text, *departures(network, since=snap.in_force, at=at)]


def departures(network: Network, *, since: dt.date, at: dt.date) -> list[str]:
    """Notes on members of a documented list who left between ``since`` and ``at``."""
    return [f"{m.as_published} ({m.code}) is not counted: left on {m.left}. {m.left_basis}"
            for m in network.memberships
            if m.left is not None and since < m.left <= at]


def not_on_vintage(code: str, changes: pd.DataFrame, names: dict[str, str], vm: int, *,
                   noun: str = "district", where: str | None = None) -> str:
    """Why ``code`` has no value on ``vm`` boundaries: what its area is part of now.

    ``noun`` names the kind of area ("district", "council"); ``where`` how the
    second clause names the boundaries (default "on {vm} boundaries").
    """
    now = [c for c in successors(code, changes, vintage=vm) if c != code]
    part = (f"; {where or f'on {vm} boundaries'} its area is part of "
            + ", ".join(f"{names.get(c, c)} ({c})" for c in now)) if now else ""
    return f"{code} is not a {noun} on {vm} boundaries{part}"
