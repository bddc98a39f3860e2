"""Network register: who belonged to a network, and when.

A network is a set of memberships, each a council's GSS code with the dates
it joined and left (either may be unknown) and the basis for each date.  The
Key Cities history ships with the package (``data/key-cities.yaml``) as the
member lists its documents publish ("snapshots"); the counts documents give
without a list are kept as notes and never turned into invented lists.

Users supply their own networks as CSV or YAML (see :func:`load_network`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from keycities.errors import KeycitiesError

BUILTIN = ("key-cities",)
# PyYAML's C parser where it is built (it is in the wheels): the same documents, parsed
# about ten times faster than the pure-Python SafeLoader (issue 18 point 5).
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


LISTED = "listed as a member in document"
"""How a membership's basis starts when its date is that of the first list naming it."""


@dataclass(frozen=True)
class Membership:
    """One council's membership of a network."""

    code: str
    as_published: str
    joined: dt.date | None
    left: dt.date | None
    joined_basis: str = ""
    left_basis: str = ""

    def active(self, at: dt.date) -> bool:
        """True when the council was a member on ``at`` (joined <= at < left)."""
        started = self.joined is None or self.joined <= at
        return started and (self.left is None or at < self.left)

    @property
    def joined_known(self) -> bool:
        """Whether ``joined`` is a documented join date, not just the date of the first
        list that names the council (which it is counted from)."""
        return self.joined is not None and not self.joined_basis.startswith(LISTED)

    @property
    def joined_text(self) -> str:
        """What is known of when the council joined, in words."""
        if self.joined_known:
            return f"joined {self.joined}"
        if self.joined is None:
            return "joined before the first documented list"
        return f"member by {self.joined} at the latest ({self.joined_basis})"


@dataclass(frozen=True)
class Snapshot:
    """A member list as a document publishes it."""

    document: str
    title: str
    in_force: dt.date
    basis: str
    codes: tuple[str, ...]
    names: tuple[str, ...] = ()
    """The document's wording for each member, parallel to ``codes``."""


@dataclass(frozen=True)
class Note:
    """What a document says about the network without a member list."""

    document: str
    date: dt.date
    text: str
    member_count: int | None = None


@dataclass(frozen=True)
class Network:
    """A vintage-aware set of member councils."""

    id: str
    name: str
    memberships: tuple[Membership, ...]
    description: str = ""
    snapshots: tuple[Snapshot, ...] = ()
    notes: tuple[Note, ...] = field(default_factory=tuple)
    problems: tuple[str, ...] = ()
    """Rows of a stored register that break its rules and were left out, each with why
    (see :func:`keycities.workspace.edits.edited`); shown to readers as warnings."""

    @property
    def earliest(self) -> dt.date | None:
        """The day the earliest documented member list came into force, if any: the
        register says nothing of earlier days."""
        return min((s.in_force for s in self.snapshots), default=None)

    def members_at(self, at: dt.date) -> pd.DataFrame:
        """Members on date ``at``: code, as_published, joined, left and bases.

        Raises
        ------
        KeycitiesError
            When no member list is documented on or before ``at``.
        """
        if self.snapshots and at < min(s.in_force for s in self.snapshots):
            said = "; ".join(f"{n.date.year}: {n.text}" for n in self.notes if n.date <= at)
            raise KeycitiesError(
                f"No member list of {self.name} is documented on or before {at}. "
                f"The earliest list is in force from {min(s.in_force for s in self.snapshots)}."
                + (f" Documents say: {said}" if said else "")
            )
        rows = [_row(m) for m in self.memberships if m.active(at)]
        df = pd.DataFrame(rows, columns=list(MEMBERSHIP_COLUMNS))
        snap = self.snapshot_at(at)
        if snap is not None and snap.names:
            # Each list's own wording: the 2021 brochure says "BCP", the 2024 page
            # "Bournemouth, Christchurch and Poole".
            wording = dict(zip(snap.codes, snap.names, strict=True))
            df["as_published"] = [wording.get(c, a) for c, a in
                                  zip(df["code"], df["as_published"], strict=True)]
        return df.sort_values("as_published", ignore_index=True)

    def snapshot_at(self, at: dt.date) -> Snapshot | None:
        """The documented member list in force on ``at``, if any."""
        earlier = [s for s in self.snapshots if s.in_force <= at]
        return max(earlier, key=lambda s: s.in_force) if earlier else None

    def memberships_frame(self) -> pd.DataFrame:
        """Every membership with its dates, as a table (:data:`MEMBERSHIP_COLUMNS`)."""
        return pd.DataFrame([_row(m) for m in self.memberships],
                            columns=list(MEMBERSHIP_COLUMNS))


MEMBERSHIP_COLUMNS = ("code", "as_published", "joined", "member_by", "left", "joined_basis",
                      "left_basis")
"""A membership as a table row: ``joined`` is a documented join date or empty;
``member_by`` the date it is counted from (the join date, or the date of the first
list that names it); the bases say which."""


def _row(m: Membership) -> dict[str, Any]:
    return {"code": m.code, "as_published": m.as_published,
            "joined": m.joined if m.joined_known else None, "member_by": m.joined,
            "left": m.left, "joined_basis": m.joined_basis, "left_basis": m.left_basis}


# ----------------------------------------------------------------- built-in networks


@cache
def builtin_network(network_id: str) -> Network:
    """A network shipped with keycities (``key-cities``), parsed once per process."""
    if network_id not in BUILTIN:
        raise KeycitiesError(
            f"Unknown network {network_id!r}. Built-in networks: {', '.join(BUILTIN)}; "
            "or give the path of a CSV or YAML file."
        )
    text = resources.files("keycities.network").joinpath(f"data/{network_id}.yaml").read_text()
    return network_from_snapshots(yaml.load(text, Loader=SAFE_LOADER))  # noqa: S506 - safe


def network_from_snapshots(doc: dict[str, Any]) -> Network:
    """Turn documented member lists into memberships with join/leave dates.

    A council joins (on or before) the ``in_force`` date of the first list it
    is on, and leaves (on or before) the ``in_force`` date of the first later
    list it is missing from; a member entry may state an exact ``left`` date
    (e.g. a council abolished in a reorganisation) which then wins.
    """
    snaps = sorted(
        (
            Snapshot(s["document"], s["title"], s["in_force"], s.get("basis", ""),
                     tuple(m["code"] for m in s["members"]),
                     tuple(m["as_published"] for m in s["members"]))
            for s in doc["snapshots"]
        ),
        key=lambda s: s.in_force,
    )
    entries = {m["code"]: m for s in doc["snapshots"] for m in s["members"]}
    memberships = []
    for code, entry in entries.items():
        memberships.append(_membership_from_snapshots(code, entry, snaps))
    notes = tuple(Note(n["document"], n["date"], n["text"], n.get("member_count"))
                  for n in doc.get("notes", ()))
    return Network(doc["id"], doc["name"], tuple(memberships), doc.get("description", ""),
                   tuple(snaps), notes)


def _membership_from_snapshots(code: str, entry: dict[str, Any],
                               snaps: list[Snapshot]) -> Membership:
    on = [i for i, s in enumerate(snaps) if code in s.codes]
    first = snaps[on[0]]
    joined_basis = f"{LISTED} {first.document}, {first.title}, in force from {first.in_force}"
    if on[0] == 0:
        joined_basis += "; earlier membership is not documented"
    else:
        before = snaps[on[0] - 1]
        joined_basis += (f"; not in document {before.document}'s list (in force from "
                         f"{before.in_force}), so it joined between those dates")
    after = [s for s in snaps[on[0] + 1:] if code not in s.codes]
    left: dt.date | None = None
    left_basis = ""
    if "left" in entry:
        left, left_basis = entry["left"], entry.get("left_basis", "")
    elif after:
        left = after[0].in_force
        left_basis = f"not listed in document {after[0].document}: left on or before {left}"
    return Membership(code, entry["as_published"], first.in_force, left, joined_basis, left_basis)
