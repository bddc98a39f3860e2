"""EU referendum 2016: Leave and Remain for a network on any membership date.

Formulation
-----------
The Electoral Commission (EC) counted the referendum of 23 June 2016 in 382
counting areas: the 380 local authority districts of Great Britain on 2016
boundaries, Northern Ireland as one area (``N92000002``) and Gibraltar
(``GI``, counted within the South West region).  For any set ``A`` of
counting areas (a council formed by merging them, a network, a country)

    remain(A) = sum_{a in A} remain(a)         (likewise leave, valid votes,
                                                votes cast, electorate)
    leave share(A) = leave(A) / valid(A)       valid = remain + leave
    turnout(A)     = votes cast(A) / electorate(A)

which are the EC's ``Pct_Leave`` (Leave / Valid_Votes) and ``Pct_Turnout``
(Votes_Cast / Electorate): both reproduce the file's percentages for all 382
areas.  Votes are added, never percentages averaged: the mean of two areas'
shares is not the share of their combined votes unless they cast the same
number of valid votes.

Members on the boundaries of vintage ``v >= 2016`` get the votes of the
counting areas mapped forward (:func:`keycities.geography.mapping.crosswalk`
from 2016 to ``v`` and :func:`~keycities.geography.mapping.to_vintage` with
``kind='count'``).  Forward from 2016 the changes are whole-district mergers
(BCP = Bournemouth + Christchurch + Poole; Cumberland = Allerdale + Carlisle +
Copeland), which add votes exactly, and the Scottish recodes of 2018-19 (Fife,
Perth and Kinross, Glasgow, North Lanarkshire), whose minor boundary
adjustments are ignored: the counting area's votes go whole to the new code.
A Northern Ireland council (``N09...``) has no result: Northern Ireland was
counted as one area.  If any member lacks a result the network total is
unavailable (never a partial sum).

Comparators, as the EC reports them: the United Kingdom as declared (all 382
areas, Gibraltar included: Leave 17,410,742, 51.89%); England and the South
West as declared (Gibraltar included: England Leave 15,188,406); Wales,
Scotland, Northern Ireland; Great Britain (the 380 areas of England, Wales and
Scotland, Gibraltar excluded, as it is not in Great Britain).

Source: The Electoral Commission, *EU referendum results by counting area*
(``EU-referendum-result-data.csv``), release ``ec-eu-referendum-2016``.
The core (:func:`referendum_rollup`) takes DataFrames;
:func:`keycities.analysis.referendum.from_store.referendum_from_store` loads them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.errors import KeycitiesError
from keycities.geography.areas import is_lad_code
from keycities.geography.mapping import crosswalk, to_vintage

RELEASE_ID = "ec-eu-referendum-2016"
NORTHERN_IRELAND = "N92000002"
GIBRALTAR = "GI"
SOUTH_WEST = ("E12000009", "South West")

#: Store measure -> column of the votes table.
MEASURE_COLUMNS: dict[str, str] = {
    "eu_ref_electorate": "electorate",
    "eu_ref_votes_cast": "votes_cast",
    "eu_ref_valid_votes": "valid_votes",
    "eu_ref_remain": "remain",
    "eu_ref_leave": "leave",
    "eu_ref_rejected_ballots": "rejected_ballots",
}
COUNT_COLUMNS: tuple[str, ...] = tuple(MEASURE_COLUMNS.values())
REQUIRED: tuple[str, ...] = ("remain", "leave", "valid_votes", "electorate", "votes_cast")

FORMULA = ("Leave share = Leave / valid votes (= Leave / (Leave + Remain)), the Electoral "
           "Commission's Pct_Leave; turnout = ballot papers cast / electorate (its "
           "Pct_Turnout). A council made of several 2016 counting areas, the network and "
           "every comparator add the votes of their counting areas; percentages are never "
           "averaged.")

MEMBER_COLUMNS: tuple[str, ...] = (
    "code", "name", "region", "remain", "leave", "valid_votes", "electorate", "votes_cast",
    "rejected_ballots", "leave_share", "remain_share", "turnout", "region_leave_share",
    "counting_areas", "n_counting_areas", "mapping", "unavailable",
)


@dataclass(frozen=True)
class Tally:
    """Votes of a set of counting areas, and the shares recomputed from them."""
    name: str
    code: str
    electorate: int
    votes_cast: int
    valid_votes: int
    remain: int
    leave: int
    rejected_ballots: int | None
    counting_areas: int
    basis: str = ""

    @property
    def leave_share(self) -> float | None:
        """Leave / valid votes (None when there are no valid votes)."""
        return self.leave / self.valid_votes if self.valid_votes else None

    @property
    def remain_share(self) -> float | None:
        """Remain / valid votes (None when there are no valid votes)."""
        return self.remain / self.valid_votes if self.valid_votes else None

    @property
    def turnout(self) -> float | None:
        """Ballot papers cast / electorate (None when the electorate is zero)."""
        return self.votes_cast / self.electorate if self.electorate else None

    def as_dict(self) -> dict[str, Any]:
        """Plain fields plus the recomputed shares."""
        return {**asdict(self), "leave_share": self.leave_share,
                "remain_share": self.remain_share, "turnout": self.turnout}


@dataclass
class ReferendumResult:
    """The 2016 referendum for a network's members, the network and comparators."""
    members: pd.DataFrame
    total: Tally | None
    unavailable: str | None
    comparisons: list[Tally]
    release_id: str
    notes: list[str] = field(default_factory=list)
    network_id: str = ""
    network_name: str = ""
    at: dt.date | None = None
    member_vintage: int | None = None
    releases: pd.DataFrame = field(default_factory=pd.DataFrame)

    def comparison(self, key: str) -> Tally:
        """A comparator by name or code (``"Great Britain"``, ``"K02000001"``); raises
        :class:`KeycitiesError` naming the comparators when there is no such one."""
        for t in self.comparisons:
            if key in (t.name, t.code):
                return t
        have = ", ".join(t.name for t in self.comparisons)
        raise KeycitiesError(f"No comparator {key!r}; the result has: {have}.")

    def to_frame(self) -> pd.DataFrame:
        """One row per member, then the network total, then each comparator."""
        net = (_tally_row(self.total) if self.total is not None else
               {"name": self.network_name or "Network", "unavailable": self.unavailable})
        extra = [{"kind": "network", **net},
                 *({"kind": "comparison", **_tally_row(t)} for t in self.comparisons)]
        df = pd.concat([self.members.assign(kind="member"), pd.DataFrame(extra)],
                       ignore_index=True)
        return df[["kind", *[c for c in MEMBER_COLUMNS if c in df.columns]]]

    def payload(self) -> dict[str, Any]:
        """Everything a JSON output needs, as plain data."""
        return {
            "network": {"id": self.network_id, "name": self.network_name},
            "at": self.at.isoformat() if self.at else None,
            "member_vintage": self.member_vintage,
            "release_id": self.release_id,
            "formula": FORMULA,
            "members": _records(self.members),
            "total": self.total.as_dict() if self.total else None,
            "unavailable": self.unavailable,
            "comparisons": [t.as_dict() for t in self.comparisons],
            "notes": list(self.notes),
            "releases": _records(self.releases),
        }


def _tally_row(t: Tally) -> dict[str, Any]:
    d = t.as_dict()
    return {"code": t.code, "name": t.name, "n_counting_areas": t.counting_areas,
            "mapping": t.basis, **{k: d[k] for k in (*COUNT_COLUMNS, "leave_share",
                                                     "remain_share", "turnout")}}


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return list(jsonable(df))


# ------------------------------------------------------------------ pure core


def referendum_rollup(members: pd.DataFrame, votes: pd.DataFrame, *,
                      release_id: str = RELEASE_ID, network_name: str = "Network",
                      reasons: Mapping[str, str] | None = None,
                      comparators: tuple[list[Tally], list[str]] | None = None
                      ) -> ReferendumResult:
    """Referendum result of each member, the network and the comparators.

    Parameters
    ----------
    members
        One row per member: code, name (codes on the vintage of ``votes``).
    votes
        One row per counting area or council *already on the members'
        vintage*: area_code, remain, leave, valid_votes, electorate,
        votes_cast, and optionally rejected_ballots, region_code, region,
        counting_areas (names), n_counting_areas, mapping, reason (why the
        row's counts are missing).  Rows that are not members feed the
        comparators; ``N92000002`` (Northern Ireland) and ``GI`` (Gibraltar)
        complete the declared UK total.
    release_id
        The release the votes come from.
    network_name
        Name used in the notes.
    reasons
        Member code -> why it has no row in ``votes`` (e.g. not a council of
        the vintage); other members without a row get a generic reason.
    comparators
        The comparators and their notes as :func:`comparison_totals` gives them for
        ``votes``, when already computed (they depend on ``votes`` only, so callers
        rolling up many networks or dates on one vintage compute them once).

    Returns
    -------
    ReferendumResult
        Totals add votes (see the module docstring for the formulation); the
        network total is None, with the reason, when any member lacks a result.

    Raises
    ------
    KeycitiesError
        When a column is missing or a member is listed twice.
    """
    _check_inputs(members, votes)
    comparisons, comp_notes = comparison_totals(votes) if comparators is None else comparators
    per = _member_results(members, votes, comparisons, reasons=reasons)
    total, unavailable = _network_total(per, network_name)
    result = ReferendumResult(per, total, unavailable, comparisons, release_id,
                              network_name=network_name)
    result.notes = [FORMULA, *comp_notes, *_member_notes(per), *_headline_note(result)]
    return result


def _check_inputs(members: pd.DataFrame, votes: pd.DataFrame) -> None:
    lacking = [c for c in ("code", "name") if c not in members.columns]
    lacking += [c for c in ("area_code", *REQUIRED) if c not in votes.columns]
    if lacking:
        raise KeycitiesError(f"Referendum inputs lack columns {lacking}: members need code "
                             "and name; votes need area_code and " + ", ".join(REQUIRED) + ".")
    dup = members.loc[members["code"].duplicated(), "code"].tolist()
    if dup:
        raise KeycitiesError(f"Members listed twice: {', '.join(dup)}. List each council "
                             "once, or its votes would be counted twice.")


def _member_results(members: pd.DataFrame, votes: pd.DataFrame, comparisons: Iterable[Tally],
                    *, reasons: Mapping[str, str] | None) -> pd.DataFrame:
    """Columns :data:`MEMBER_COLUMNS`: counts (nullable integers), shares recomputed from
    them, the region's Leave share (comparator whose code is the member's region code),
    and ``unavailable``: why a member has no result."""
    v = votes.rename(columns={"area_code": "code"}).drop(columns=["name"], errors="ignore")
    per = members[["code", "name"]].merge(v, on="code", how="left")
    for col in MEMBER_COLUMNS:
        if col not in per.columns:
            per[col] = None
    missing = per[list(REQUIRED)].isna().any(axis=1)
    given = per["reason"] if "reason" in per.columns else per["unavailable"]
    extra = reasons or {}
    per["unavailable"] = [_no_result(c, extra.get(c, r)) if miss else None
                          for c, r, miss in zip(per["code"], given, missing, strict=True)]
    per.loc[~missing & per["counting_areas"].isna(), "counting_areas"] = per["code"]
    per.loc[~missing, "n_counting_areas"] = per.loc[~missing, "n_counting_areas"].fillna(1)
    per.loc[~missing & per["mapping"].isna(), "mapping"] = "as given"
    per.loc[missing, [*REQUIRED, "rejected_ballots"]] = np.nan
    for col in (*COUNT_COLUMNS, "n_counting_areas"):
        per[col] = pd.to_numeric(per[col]).round().astype("Int64")
    per["leave_share"] = _ratio(per["leave"], per["valid_votes"])
    per["remain_share"] = _ratio(per["remain"], per["valid_votes"])
    per["turnout"] = _ratio(per["votes_cast"], per["electorate"])
    region_share = {t.code: t.leave_share for t in comparisons}
    codes = per["region_code"] if "region_code" in per.columns else pd.Series(None, per.index)
    per["region_leave_share"] = [region_share.get(c) if isinstance(c, str) else None
                                 for c in codes]
    return per[list(MEMBER_COLUMNS)].reset_index(drop=True)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    n, d = num.astype("Float64"), den.astype("Float64")
    return (n / d.where(d != 0)).astype(float)


def _no_result(code: str, reason: object) -> str:
    if isinstance(reason, str) and reason:
        return reason
    if str(code).upper().startswith("N09"):
        return ("Northern Ireland was counted as one area (N92000002); the Electoral "
                "Commission published no result for its council districts")
    return f"no counting-area result for {code}"


def _network_total(per: pd.DataFrame, network_name: str) -> tuple[Tally | None, str | None]:
    """Sum of the members' votes, or None and the reason when a member has no result."""
    gone = per[per["unavailable"].notna()]
    if len(gone):
        why = "; ".join(f"{r.name} ({r.code}): {r.unavailable}" for r in gone.itertuples())
        return None, (f"{network_name} total unavailable: no result for {len(gone)} of "
                      f"{len(per)} members — {why}")
    basis = f"sum of the votes of {len(per)} members"
    return tally(per, name=network_name, code="", basis=basis), None


def tally(rows: pd.DataFrame, *, name: str, code: str, basis: str = "") -> Tally:
    """Add the votes of ``rows`` (columns of :data:`REQUIRED`, optionally
    rejected_ballots and n_counting_areas)."""
    def total(col: str) -> int:
        return int(round(float(pd.to_numeric(rows[col]).sum())))

    rej = rows.get("rejected_ballots")
    rejected = None if rej is None or rej.isna().any() else total("rejected_ballots")
    n = rows.get("n_counting_areas")
    areas = len(rows) if n is None or n.isna().any() else total("n_counting_areas")
    return Tally(name, code, total("electorate"), total("votes_cast"), total("valid_votes"),
                 total("remain"), total("leave"), rejected, areas, basis)


# ------------------------------------------------------------------ comparators


def comparison_totals(votes: pd.DataFrame) -> tuple[list[Tally], list[str]]:
    """UK as declared, Great Britain, countries and English regions, as the EC reports them.

    Parameters
    ----------
    votes
        Every counting area (or council) of the country: as for
        :func:`referendum_rollup`.

    Returns
    -------
    (tallies, notes)
        A comparator that needs a row ``votes`` lacks is left out and a note
        says why.
    """
    code = votes["area_code"].astype(str).str.upper()
    first = code.str[0]
    has_ni, has_gi = (code == NORTHERN_IRELAND).any(), (code == GIBRALTAR).any()
    gib = " and Gibraltar" if has_gi else ""
    groups: list[tuple[str, str, pd.Series, str]] = [
        ("United Kingdom (as declared)", "K02000001", pd.Series(True, index=votes.index),
         "all counting areas: Great Britain, Northern Ireland and Gibraltar"),
        ("Great Britain", "K03000001", first.isin(["E", "W", "S"]),
         "counting areas of England, Wales and Scotland (Gibraltar excluded)"),
        ("England (as declared)", "E92000001", (first == "E") | (code == GIBRALTAR),
         f"English counting areas{gib}"),
        ("Wales", "W92000004", first == "W", "Welsh counting areas"),
        ("Scotland", "S92000003", first == "S", "Scottish counting areas"),
        ("Northern Ireland", NORTHERN_IRELAND, code == NORTHERN_IRELAND,
         "one counting area"),
    ]
    groups += _region_groups(votes, gib)
    notes = []
    if not (has_ni and has_gi):
        groups = groups[1:]
        notes.append("No United Kingdom total: the votes lack Northern Ireland (N92000002) "
                     "or Gibraltar (GI), so the declared total cannot be rebuilt.")
    tallies = []
    for name, gss, mask, basis in groups:
        rows = votes[mask.to_numpy()]
        if rows.empty:
            continue
        if rows[list(REQUIRED)].isna().any(axis=None):
            notes.append(f"No {name} total: some of its areas lack votes.")
            continue
        tallies.append(tally(rows, name=name, code=gss, basis=basis))
    return tallies, notes


def _region_groups(votes: pd.DataFrame, gib: str) -> list[tuple[str, str, pd.Series, str]]:
    if "region_code" not in votes.columns:
        return []
    out = []
    regions = votes[["region_code", "region"]].dropna().drop_duplicates("region_code")
    # Wales, Scotland and Northern Ireland are EC regions too, but already countries here.
    regions = regions[regions["region_code"].astype(str).str.startswith("E12")]
    for rc, rn in sorted(zip(regions["region_code"], regions["region"], strict=True)):
        basis = "counting areas of the region"
        if rc == SOUTH_WEST[0] and gib:
            rn, basis = f"{rn} (as declared)", basis + gib
        out.append((str(rn), str(rc), votes["region_code"] == rc, basis))
    return out


# ------------------------------------------------------------------ notes


def _member_notes(per: pd.DataFrame) -> list[str]:
    notes = []
    counts = per["n_counting_areas"].fillna(0).astype(int)
    for name, code, n, areas, gone in zip(per["name"], per["code"], counts,
                                          per["counting_areas"], per["unavailable"].notna(),
                                          strict=True):
        if not gone and n > 1:
            notes.append(f"{name} ({code}): votes of {n} counting areas added ({areas}).")
    if per["code"].astype(str).str.upper().str.startswith("N09").any():
        notes.append("Northern Ireland was one counting area (N92000002): its councils have "
                     "no result of their own, so a network with one has no total.")
    return notes


def _headline_note(result: ReferendumResult) -> list[str]:
    if result.total is None or result.total.leave_share is None:
        return [result.unavailable] if result.unavailable else []
    parts = []
    for key in ("Great Britain", "United Kingdom (as declared)"):
        t = next((c for c in result.comparisons if c.name == key), None)
        if t is not None and t.leave_share is not None:
            diff = 100 * (result.total.leave_share - t.leave_share)
            parts.append(f"{key} {t.leave_share:.2%} ({diff:+.2f} points)")
    against = f" against {' and '.join(parts)}" if parts else ""
    return [f"{result.total.name}: Leave {result.total.leave_share:.2%} of "
            f"{result.total.valid_votes:,} valid votes{against}."]


# ------------------------------------------------------------------ mapping (pure)


def votes_on_vintage(counts: pd.DataFrame, lads: pd.DataFrame, changes: pd.DataFrame, *,
                     source: int, target: int, xw: pd.DataFrame | None = None
                     ) -> pd.DataFrame:
    """Counting-area votes mapped to the councils of vintage ``target``.

    Parameters
    ----------
    counts
        One row per counting area: area_code plus the :data:`COUNT_COLUMNS`
        it has; GB districts on vintage ``source`` (2016), plus ``N92000002``
        and ``GI`` which are kept as they are.
    lads, changes
        A LAD table and change rows (see :mod:`keycities.geography.mapping`).
    source, target
        Boundary vintages of the counts and of the members.
    xw
        The crosswalk from ``source`` to ``target`` when already made (as
        :meth:`~keycities.geography.tables.GeographyTables.crosswalk` keeps them);
        default made here from ``lads`` and ``changes``.

    Returns
    -------
    pandas.DataFrame
        area_code, the counts, region_code, region, counting_areas (names),
        n_counting_areas, mapping (how), reason (why counts are missing).
        Merged councils add their counting areas' votes (``kind='count'``).
    """

    is_lad = is_lad_code(counts["area_code"])
    cols = [c for c in COUNT_COLUMNS if c in counts.columns]
    long = counts[is_lad].melt(id_vars="area_code", value_vars=cols, var_name="measure")
    if xw is None:
        xw = crosswalk(lads, changes, source=source, target=target)
    mapped = to_vintage(long, xw, kind="count")
    wide = mapped.pivot(index="area_code", columns="measure", values="value")
    info = mapped.groupby("area_code").agg(
        method=("method", "first"), from_codes=("from_codes", "first"),
        basis=("basis", "first"))
    # each area's distinct reasons in order of appearance, joined (vectorised: a Python
    # function per area took a tenth of a second)
    why = mapped[["area_code", "reason"]].dropna().drop_duplicates()
    joined = why.groupby("area_code")["reason"].agg("; ".join).to_dict()
    info["reason"] = [joined.get(c, "") for c in info.index]
    gb = wide.join(info).reset_index()
    gb["reason"] = gb["reason"].where(gb["reason"] != "", None)
    names = dict(zip(lads["code"], lads["name"], strict=False))
    parts = gb["from_codes"].str.split(",")
    gb["counting_areas"] = [", ".join(f"{names.get(c, c)} ({c})" for c in p) for p in parts]
    gb["n_counting_areas"] = [len(p) for p in parts]
    gb["mapping"] = [_how(m, n, b) for m, n, b in
                     zip(gb["method"], gb["n_counting_areas"], gb["basis"], strict=True)]
    gb = gb.join(_regions(lads), on="area_code")
    other = _whole_areas(counts[~is_lad], target)
    return pd.concat([gb.drop(columns=["method", "from_codes", "basis"]), other],
                     ignore_index=True)


def _regions(lads: pd.DataFrame) -> pd.DataFrame:
    """EC region of each code: the English region, else the country (as in the EC file)."""
    t = lads.set_index("code")
    return pd.DataFrame({"region_code": t["region_code"].fillna(t["country_code"]),
                         "region": t["region_name"].fillna(t["country_name"])})


def _how(method: str, n: int, basis: str) -> str:
    label = {"same": "one counting area", "recode": "one counting area, recoded",
             "merge": f"votes of {n} counting areas added"}.get(method, method)
    return f"{label} ({basis})"


def _whole_areas(rows: pd.DataFrame, target: int) -> pd.DataFrame:
    """Northern Ireland and Gibraltar: counted as one area each, kept as they are."""
    out = rows.copy()
    known = {NORTHERN_IRELAND: "Northern Ireland", GIBRALTAR: "Gibraltar"}
    out["counting_areas"] = [f"{known.get(c, c)} ({c})" for c in out["area_code"]]
    out["n_counting_areas"] = 1
    out["mapping"] = f"one counting area (not a council; the same in {target})"
    regions = {GIBRALTAR: SOUTH_WEST, NORTHERN_IRELAND: (NORTHERN_IRELAND, known[NORTHERN_IRELAND])}
    out["region_code"] = [regions.get(c, (None, None))[0] for c in out["area_code"]]
    out["region"] = [regions.get(c, (None, None))[1] for c in out["area_code"]]
    out["reason"] = None
    return out



