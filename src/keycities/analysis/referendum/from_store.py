"""The 2016 EU referendum for a network from the evidence store.

Loads the Electoral Commission's counts (:func:`load_counts`), maps them to the
members' boundary vintage and hands them to
:func:`~keycities.analysis.referendum.core.referendum_rollup`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from keycities.analysis._members import (
    check_members,
    member_vintage,
    membership_notes,
    not_on_vintage,
)
from keycities.analysis._store import geography_from_store
from keycities.analysis.referendum.core import (
    MEASURE_COLUMNS,
    RELEASE_ID,
    ReferendumResult,
    Tally,
    comparison_totals,
    referendum_rollup,
    votes_on_vintage,
)
from keycities.errors import KeycitiesError
from keycities.network.register import Network
from keycities.store.queries import NoDataError, choose_slice, release_info, slice_values
from keycities.store.store import Store


def load_counts(store: Store) -> tuple[pd.DataFrame, str, int]:
    """The referendum counts by counting area from the store.

    Returns
    -------
    (counts, release_id, geography_vintage)
        counts: area_code plus one column per :data:`COUNT_COLUMNS`.

    Raises
    ------
    KeycitiesError
        When the store lacks the referendum (says how to load it), or its
        measures come from different releases.
    """
    frames, slices = [], []
    for measure, col in MEASURE_COLUMNS.items():
        try:
            s = choose_slice(store, measure, period=2016, prefer_vintage=2016)
        except NoDataError as exc:
            raise KeycitiesError(
                f"{exc.what} The EU referendum result is release {RELEASE_ID} (the Electoral "
                "Commission): run `keycities build referendum --mirror DIR` with a copy of "
                "the official file, or `keycities build referendum` where its URL is "
                "reachable.") from exc
        slices.append(s)
        frames.append(slice_values(store, s).set_index("area_code")["value"].rename(col))
    keys = {(s.release_id, s.geography_vintage) for s in slices}
    if len(keys) > 1:
        raise KeycitiesError(f"The referendum measures come from different releases {keys}; "
                             "rebuild the store with `keycities build referendum`.")
    counts = pd.concat(frames, axis=1).reset_index().rename(columns={"index": "area_code"})
    return counts, slices[0].release_id, slices[0].geography_vintage


@dataclass(frozen=True)
class VintageVotes:
    """What every network and date on one boundary vintage share: the counting areas'
    votes mapped to the councils of ``vintage``, the comparators added from them, and the
    provenance of the counts and of the boundary changes used.  Read-only."""
    vintage: int
    votes: pd.DataFrame
    release_id: str
    source: int
    comparisons: tuple[Tally, ...]
    comparison_notes: tuple[str, ...]
    releases: pd.DataFrame


def vintage_votes(store: Store, vintage: int) -> VintageVotes:
    """The 2016 votes on the councils of ``vintage`` (:func:`votes_on_vintage`) with the
    comparators (:func:`~keycities.analysis.referendum.core.comparison_totals`).

    Built once per open store and vintage (:meth:`~keycities.store.store.Store.memo`):
    they depend on neither the network nor the date, so the network page of any date
    reuses them (mapping the counts took most of a first view's second).

    Raises
    ------
    KeycitiesError
        As :func:`load_counts`.
    """
    def build() -> VintageVotes:
        geo = geography_from_store(store)
        counts, release_id, source = store.memo("referendum counts", lambda: load_counts(store))
        votes = votes_on_vintage(counts, geo.lads, geo.changes, source=source, target=vintage,
                                 xw=geo.crosswalk(source, vintage))
        comparisons, notes = comparison_totals(votes)
        changes = geo.changes
        used = changes.loc[(changes["year"] > source) & (changes["year"] <= vintage),
                           "release_id"]
        releases = release_info(store, [release_id, *sorted(set(used.dropna()))])
        return VintageVotes(vintage, votes, release_id, source, tuple(comparisons),
                            tuple(notes), releases)

    return store.memo(("referendum votes", vintage), build)


def referendum_from_store(store: Store, network: Network, *, at: dt.date) -> ReferendumResult:
    """The 2016 referendum for ``network``'s members on ``at``, from the evidence store.

    Parameters
    ----------
    store
        A built evidence store.
    network
        The network (built-in or a user's).
    at
        Membership date; members are on the boundaries of that date's vintage
        and the 2016 counting areas are mapped forward to it (once per vintage:
        :func:`vintage_votes`).
    """
    members = network.members_at(at)
    check_members(members, network.name, at)
    vm = member_vintage(at)
    geo = geography_from_store(store)
    shared = vintage_votes(store, vm)
    why = _why_absent(members, shared.votes, geo.lads, geo.changes, vm)
    named = members.rename(columns={"as_published": "name"})[["code", "name"]]
    out = referendum_rollup(named, shared.votes, release_id=shared.release_id,
                            network_name=network.name, reasons=why,
                            comparators=(list(shared.comparisons),
                                         list(shared.comparison_notes)))
    out.network_id, out.at, out.member_vintage = network.id, at, vm
    out.releases = shared.releases.copy()
    out.notes.extend(membership_notes(network, at))
    return out


def _why_absent(members: pd.DataFrame, votes: pd.DataFrame, lads: pd.DataFrame,
                changes: pd.DataFrame, vm: int) -> dict[str, str]:
    """Why each member that is not a council of ``vm`` has no votes."""
    absent = members[~members["code"].isin(votes["area_code"])
                     & ~members["code"].str.upper().str.startswith("N09")]
    names = dict(zip(lads["code"], lads["name"], strict=False))
    return {code: not_on_vintage(code, changes, names, vm, noun="council",
                                 where="on those boundaries") for code in absent["code"]}
