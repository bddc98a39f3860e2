"""Mechanics of :func:`keycities.analysis.testbed.from_store.outcome_panel`: which slice
each year comes from, mapping it to the panel's vintage, and the provenance and gap tables.

See :mod:`keycities.analysis.testbed.panel` for the formulation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from keycities.analysis._store import geography_from_store
from keycities.analysis.testbed.outcomes import Kind, Outcome, years_text
from keycities.errors import KeycitiesError
from keycities.geography.areas import LAD_PREFIXES, areas_in_vintage
from keycities.geography.mapping import METHOD_RANK, ratio_to_vintage, to_vintage
from keycities.geography.tables import GeographyTables
from keycities.sources import catalog
from keycities.store.queries import Slice, pick_vintage, release_info, slice_values, slices
from keycities.store.store import Store


@dataclass(frozen=True)
class _Pick:
    """The slice used for one (measure, year) and the other releases holding it."""
    slice: Slice
    also_in: tuple[str, ...]


def build_parts(store: Store, spec: Outcome, *, vintage: int | None, want: list[int] | None,
                release: str | None) -> dict[str, Any]:
    """The fields of a :class:`~keycities.analysis.testbed.panel.Panel` (see ``outcome_panel``)."""
    picks = _choose_all(store, spec, want, release, vintage)
    target, notes = _target_vintage(spec, picks[spec.measure], vintage)
    if target != vintage:
        picks = _choose_all(store, spec, want, release, target)
    periods = sorted(set.intersection(*(set(p) for p in picks.values())))
    notes += _year_notes(spec, picks, want, periods)
    geo = geography_from_store(store)
    long, dropped = _long(store, geo, spec, picks, periods, target)
    notes += dropped
    return _assemble(store, geo, spec, picks, periods, target, long, notes)


def _choose_all(store: Store, spec: Outcome, want: list[int] | None, release: str | None,
                prefer: int | None) -> dict[str, dict[int, _Pick]]:
    measures = [spec.measure, *([spec.denominator] if spec.derived and spec.denominator
                                else [])]
    out = {m: _choose(store, m, want, release if m == spec.measure else None, prefer)
           for m in measures}
    if not set.intersection(*(set(p) for p in out.values())):
        have = sorted({s.period for s in slices(store, spec.measure)})
        span = f" Years in the store: {years_text(have)}." if have else ""
        asked = f" for {years_text(want)}" if want else ""
        how = ("Ask for other years, or build the store with the release that has them "
               "(`keycities build`)." if have else
               " ".join(catalog.how_to_get(m) for m in measures if not slices(store, m))
               or "Build the store (`keycities build`).")
        raise KeycitiesError(f"No local-authority {spec.key} data{asked} in the store.{span} "
                             f"{how}")
    return out


def _choose(store: Store, measure: str, want: list[int] | None, release: str | None,
            prefer: int | None) -> dict[int, _Pick]:
    """Per year: the newest release's slice (vintage by preference), and the others."""
    found = [s for s in slices(store, measure) if want is None or s.period in want]
    if release is not None:
        ids = sorted({s.release_id for s in found})
        found = [s for s in found if s.release_id == release]
        if not found:
            raise KeycitiesError(f"Release {release!r} has no local-authority {measure} "
                                 f"values{'' if want is None else ' for those years'}. "
                                 f"Releases that do: {', '.join(ids) or 'none'}.")
    by_year: dict[int, list[Slice]] = {}
    for s in found:  # newest release first within each period
        by_year.setdefault(s.period, []).append(s)
    out = {}
    for year, ss in by_year.items():
        top = ss[0].release_id
        others = tuple(sorted({s.release_id for s in ss} - {top}))
        out[year] = _Pick(pick_vintage([s for s in ss if s.release_id == top], prefer), others)
    return out


def _target_vintage(spec: Outcome, picks: dict[int, _Pick], asked: int | None
                    ) -> tuple[int, list[str]]:
    latest = picks[max(picks)].slice.geography_vintage
    if asked is None:
        return latest, [f"Boundaries: {latest}, the vintage of the newest year's release."]
    published = {p.slice.geography_vintage for p in picks.values()}
    if spec.kind == "median" and published != {asked}:
        return latest, [f"Boundaries: {latest}, the publisher's (asked for {asked}): a median "
                        "cannot be recomputed for merged or split districts, so the panel "
                        "keeps the boundaries the figures were published on."]
    return asked, [f"Boundaries: {asked}, as asked."]


def _year_notes(spec: Outcome, picks: dict[str, dict[int, _Pick]], want: list[int] | None,
                periods: list[int]) -> list[str]:
    notes = []
    if want:
        lacking = sorted(set(want) - set(periods))
        if lacking:
            notes.append(f"No {spec.key} for {years_text(lacking)} in the store (asked "
                         f"{years_text(want)}); the panel has {years_text(periods)}.")
    for m, per in picks.items():
        extra = sorted(set(per) - set(periods))
        if extra:
            notes.append(f"{m} for {years_text(extra)} is not used: the other part of "
                         f"{spec.key} is not in the store for those years.")
        again: dict[tuple[str, tuple[str, ...]], list[int]] = {}
        for y in periods:
            if per[y].also_in:
                again.setdefault((per[y].slice.release_id, per[y].also_in), []).append(y)
        for (used, others), ys in again.items():
            notes.append(f"{m} {years_text(ys)} is in several releases: the newest, {used}, "
                         f"is used ({', '.join(others)} not used).")
    return notes


def _lad_values(store: Store, geo: GeographyTables, s: Slice, measure: str | None = None
                ) -> pd.DataFrame:
    """area_code, value of the LADs of a slice (or of another measure of its release)."""
    v = slice_values(store, replace(s, measure=measure) if measure else s)
    v = v[v["area_code"].str[:3].isin(LAD_PREFIXES)].copy()
    v["area_code"] = geo.recode_stale(v["area_code"], s.geography_vintage)
    return v[["area_code", "value"]].reset_index(drop=True)


def _map_slice(store: Store, geo: GeographyTables, spec: Outcome, s: Slice, measure: str,
               target: int, *, kind: Kind) -> tuple[pd.DataFrame, list[str]]:
    """One slice's values mapped to ``target`` (to_vintage columns), and codes dropped."""
    xw = geo.crosswalk(s.geography_vintage, target)
    known = xw["from_code"]
    vals = _lad_values(store, geo, s, measure)
    inside = vals["area_code"].isin(known)
    dropped = sorted(set(vals.loc[~inside, "area_code"]))
    vals = vals[inside]
    if kind == "count":
        return to_vintage(vals, xw, kind="count"), dropped
    direct = to_vintage(vals, xw, kind="median")  # exact where the area is unchanged
    den = _lad_values(store, geo, s, spec.denominator) if kind == "ratio" else vals[:0]
    den = den[den["area_code"].isin(known)]
    if kind == "ratio" and den.empty and s.geography_vintage != target:
        lost = direct["value"].isna() & ~direct["method"].isin(["same", "recode"])
        direct.loc[lost, "reason"] = (
            f"{measure} cannot be recomputed across a " + direct.loc[lost, "method"] + " of "
            + direct.loc[lost, "from_codes"] + f": {s.release_id} has no {spec.denominator} "
            "to weight it")
    if kind == "median" or den.empty or s.geography_vintage == target:
        return direct, dropped
    num = vals.merge(den, on="area_code", suffixes=("", "_d"))
    num = pd.DataFrame({"area_code": num["area_code"], "value": num["value"] * num["value_d"]})
    out = ratio_to_vintage(num, den, xw)
    exact = out["method"].isin(["same", "recode"])
    out.loc[exact, "value"] = out.loc[exact, "area_code"].map(
        direct.set_index("area_code")["value"])
    return out[list(direct.columns)], dropped


def _divide(num: pd.DataFrame, den: pd.DataFrame, scale: float) -> pd.DataFrame:
    """scale × num / den per area; the mapping details of the side changed most."""
    j = num.merge(den, on="area_code", how="outer", suffixes=("", "_d"))
    rank_n = j["method"].map(METHOD_RANK).fillna(-1)
    rank_d = j["method_d"].map(METHOD_RANK).fillna(-1)
    out = j[["area_code"]].copy()
    for col in ("method", "from_codes", "basis"):
        out[col] = j[col].where(rank_n >= rank_d, j[f"{col}_d"])
    out["estimate"] = j["estimate"].fillna(False).astype(bool) | \
        j["estimate_d"].fillna(False).astype(bool)
    out["value"] = scale * j["value"] / j["value_d"].where(j["value_d"] > 0)
    reason = j["reason"].fillna(j["reason_d"])
    reason = reason.where(j["value"].notna() | reason.notna(), "no numerator value")
    reason = reason.where(j["value_d"].notna() | reason.notna(), "no denominator value")
    out["reason"] = reason.where(out["value"].notna() | reason.notna(), "denominator is zero")
    return out


def _long(store: Store, geo: GeographyTables, spec: Outcome,
          picks: dict[str, dict[int, _Pick]], periods: list[int], target: int
          ) -> tuple[pd.DataFrame, list[str]]:
    """Every year's mapped values stacked (with a ``year`` column), and notes on drops."""
    frames: list[pd.DataFrame] = []
    drops: dict[tuple[str, int], set[str]] = {}
    kind: Kind = "count" if spec.derived else spec.kind
    for y in periods:
        parts = []
        for m, per in picks.items():
            s = per[y].slice
            mapped, dropped = _map_slice(store, geo, spec, s, m, target, kind=kind)
            parts.append(mapped)
            for code in dropped:
                drops.setdefault((s.release_id, s.geography_vintage), set()).add(code)
        one = _divide(parts[0], parts[1], spec.scale) if spec.derived else parts[0]
        frames.append(one.assign(year=y))
    notes = [f"{len(c)} code(s) of {rid} are not districts of its {v} boundaries and are "
             f"left out: {', '.join(sorted(c)[:8])}" for (rid, v), c in drops.items()]
    return pd.concat(frames, ignore_index=True), notes


def _assemble(store: Store, geo: GeographyTables, spec: Outcome,
              picks: dict[str, dict[int, _Pick]], periods: list[int], target: int,
              long: pd.DataFrame, notes: list[str]) -> dict[str, Any]:

    lads = areas_in_vintage(geo.lads, target)
    codes = pd.Index(sorted(lads["code"]), name="code")
    values = long.pivot_table(index="area_code", columns="year", values="value",
                              aggfunc="first", dropna=False).reindex(index=codes,
                                                                     columns=periods)
    values.columns = pd.Index([int(c) for c in values.columns], name="year")
    sources = _sources(picks, periods)
    names = geo.names  # a dict built on each access
    missing = _missing(values, long, lads, sources, names)
    values = values[values.notna().any(axis=1)]
    recoded = _recoded(long[long["area_code"].isin(values.index)])
    notes += _mapping_notes(spec, sources, recoded, target)
    return {"values": values, "outcome": spec.key, "label": spec.label, "unit": spec.unit,
            "vintage": target, "positive": spec.positive, "releases": _releases(store, sources),
            "sources": sources, "missing": missing, "recoded": recoded,
            "names": {c: names.get(c, c) for c in codes}, "notes": tuple(notes)}


def _sources(picks: dict[str, dict[int, _Pick]], periods: list[int]) -> pd.DataFrame:
    rows = [{"year": y, "measure": m, "release_id": per[y].slice.release_id,
             "published": per[y].slice.published,
             "geography_vintage": per[y].slice.geography_vintage,
             "also_in": ", ".join(per[y].also_in)}
            for y in periods for m, per in picks.items()]
    return pd.DataFrame(rows, columns=["year", "measure", "release_id", "published",
                                       "geography_vintage", "also_in"])


def _releases(store: Store, sources: pd.DataFrame) -> pd.DataFrame:
    info = release_info(store, sorted(set(sources["release_id"])))
    years = sources.groupby("release_id")["year"].agg(lambda s: sorted(set(s)))
    measures = sources.groupby("release_id")["measure"].agg(lambda s: ", ".join(sorted(set(s))))
    info["measures"] = info["id"].map(measures)
    info["years"] = info["id"].map(years)
    return info


def _missing(values: pd.DataFrame, long: pd.DataFrame, lads: pd.DataFrame,
             sources: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """One row per (place, reason): the years without a value and why."""
    why = {(str(c), int(y)): str(r) for c, y, r in
           zip(long["area_code"], long["year"], long["reason"], strict=True)
           if isinstance(r, str)}
    seen = {(str(c), int(y)) for c, y, v, r in
            zip(long["area_code"], long["year"], long["value"], long["reason"], strict=True)
            if pd.notna(v) or isinstance(r, str)}
    country = dict(zip(lads["code"], lads["country_name"], strict=False))
    i, j = np.nonzero(values.isna().to_numpy())
    codes, years = list(values.index), [int(c) for c in values.columns]
    cells = [(str(codes[a]), years[b]) for a, b in zip(i.tolist(), j.tolist(), strict=True)]
    rel: dict[int, str] = {}
    for y, m, r in zip(sources["year"], sources["measure"], sources["release_id"], strict=True):
        rel[int(y)] = (rel[int(y)] + " and " if int(y) in rel else "") + f"{m} in {r}"
    whole = _whole_countries(set(cells) - seen, values, country)
    rows = []
    for code, year in cells:
        if (code, year) in why:
            text = why[(code, year)]
        elif (country.get(code), year) in whole:
            text = f"no {rel[year]} for any district of {country.get(code)}"
        else:
            text = f"no {rel[year]} for this district"
        rows.append((code, year, text))
    df = pd.DataFrame(rows, columns=["code", "year", "reason"])
    g = df.groupby(["code", "reason"], sort=True).agg(years=("year", list)).reset_index()
    g.insert(1, "name", g["code"].map(names))
    g["first"] = [min(y) for y in g["years"]]
    g["last"] = [max(y) for y in g["years"]]
    return g[["code", "name", "reason", "years", "first", "last"]]


def _whole_countries(absent: set[tuple[str, int]], values: pd.DataFrame,
                     country: dict[str, str | None]) -> set[tuple[str | None, int]]:
    """(country, year) pairs where no district of the country has a row."""
    counts: dict[tuple[str | None, int], int] = {}
    for code, year in absent:
        counts[(country.get(code), year)] = counts.get((country.get(code), year), 0) + 1
    size = pd.Series(country).reindex(values.index).value_counts()
    return {k for k, n in counts.items() if k[0] is not None and n == size.get(k[0], -1)}


def _recoded(long: pd.DataFrame) -> pd.DataFrame:
    cols = ["code", "method", "from_codes", "estimate", "basis", "years"]
    moved = long[long["method"].notna() & (long["method"] != "same")]
    if moved.empty:
        return pd.DataFrame(columns=cols)
    g = moved.groupby(["area_code", "method", "from_codes", "estimate", "basis"], sort=True)
    out = g["year"].agg(lambda s: sorted(set(s))).reset_index()
    return out.rename(columns={"area_code": "code", "year": "years"})[cols]


def _mapping_notes(spec: Outcome, sources: pd.DataFrame, recoded: pd.DataFrame,
                   target: int) -> list[str]:
    used: dict[tuple[str, str, int], list[int]] = {}
    for y, m, r, v in zip(sources["year"], sources["measure"], sources["release_id"],
                          sources["geography_vintage"], strict=True):
        used.setdefault((str(m), str(r), int(v)), []).append(int(y))
    notes = [f"{m} {years_text(ys)}: {rid} (published on {v} boundaries)."
             for (m, rid, v), ys in used.items()]
    if sources["release_id"].nunique() > len(set(sources["measure"])):
        notes.append("The series joins several releases: a revision between them can show "
                     "as a step (see `sources`).")
    if len(recoded):
        notes.append(f"Values mapped to {target} boundaries (see `recoded`): "
                     + "; ".join(_how_mapped(spec, recoded)) + ".")
    return notes


def _how_mapped(spec: Outcome, recoded: pd.DataFrame) -> list[str]:
    n = recoded.groupby("method")["code"].nunique()
    merged = {"count": "the sum of the districts merged into it",
              "ratio": f"Σ(value × {spec.denominator}) / Σ {spec.denominator} over the "
                       "districts merged into it (never a mean of ratios)",
              "derived": "computed from the counts summed over the districts merged into it",
              "median": "unavailable (a median cannot be combined)"}
    split = {"count": "its share of the published district by the stated weight",
             "ratio": "the published district's ratio (numerator and denominator apportioned "
                      "alike), so the parts are not told apart",
             "derived": "computed from counts apportioned by the stated weight",
             "median": "unavailable (a median cannot be apportioned)"}
    kind = "derived" if spec.derived else spec.kind
    out = []
    if n.get("merge", 0):
        out.append(f"{n['merge']} merged place(s): {merged[kind]}")
    if n.get("split", 0):
        out.append(f"{n['split']} part(s) of a district published whole, estimated: "
                   f"{split[kind]}")
    if n.get("recode", 0):
        out.append(f"{n['recode']} recoded place(s): the value carried over")
    return out


