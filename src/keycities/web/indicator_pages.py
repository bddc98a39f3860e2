"""The indicator library's pages: the catalogue, one indicator, a scatter of two, scorecards.

Every builder returns a :class:`~keycities.web.page.Page` whose data are the
CLI's payloads (:mod:`keycities.present.indicators`): ``keycities indicator
ID --format json`` and ``/indicator/ID?format=json`` carry the same numbers,
and the tables are the CLI's tables.  The per-indicator views and the
scorecards are kept per store (:class:`~keycities.web.resources.Resources`),
the map outlines per boundary vintage; the charts of an indicator are drawn
as SVG strings (:mod:`keycities.present.indicator_charts`) and its map from the
precomputed paths (:mod:`keycities.web.choropleth`), so an indicator page is
built in well under 150 ms once its view is kept.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from keycities.analysis.indicators.params import WORK_AREA, work_area
from keycities.analysis.indicators.view import IndicatorView
from keycities.context import parse_date
from keycities.present.figures import scatter_figure
from keycities.present.indicator_charts import (
    histogram,
    in_sentence,
    quantile_breaks,
    ranked_bars,
    series_chart,
)
from keycities.present.indicators import (
    catalogue_payload,
    catalogue_table,
    indicator_notes,
    network_notes,
    number,
    rank_table,
    scorecard_payload,
    scorecard_table,
    with_unit,
)
from keycities.web.choropleth import Choropleth, choropleth_svg
from keycities.web.page import MapSpec, Page, Table
from keycities.web.render import Links
from keycities.web.resources import PLACE_VINTAGE, Resources

NO_NETWORK = "none"
"""``?network=none``: no network's members marked."""
ENGLAND = "E92000001"
SCATTER = ("gross-median-weekly-pay", "male-healthy-life-expectancy")
"""The scatter's indicators when none are given (x, y)."""


# ------------------------------------------------------------------ catalogue


def catalogue_page(res: Resources, *, area: str | None = None, search: str | None = None,
                   unlinked: set[str] | None = None) -> Page:
    """Every indicator by work area; ``search`` filters by id, label or subtitle.

    ``unlinked``: indicators listed without a link (the evidence pack has no page of an
    indicator whose page could not be built)."""
    wanted = work_area(area) if area else None
    frame = res.indicator_catalogue(wanted, (search or "").strip() or None)
    page = Page(path="indicators", template="indicators.html",
                title="Indicators by work area", query={"area": wanted, "search": search},
                data=catalogue_payload(frame, area=wanted, search=search))
    table = catalogue_table(frame)
    page.tables["indicators"] = Table(table.assign(Indicator=frame["indicator"]),
                                      f"{len(frame)} indicators"
                                      + (f" in {WORK_AREA.label(wanted)}" if wanted else "")
                                      + (f" matching {search!r}" if search else ""))
    page.notes = list(page.data.get("notes", []))
    if unlinked:
        page.data["unlinked"] = sorted(unlinked)
        page.notes.append(f"{len(unlinked)} indicator(s) have no page here: their values "
                          "could not be read (`keycities indicator ID` says why).")
    return page


# ------------------------------------------------------------------ one indicator


def _network_id(network: str | None) -> str | None:
    return None if network in (None, "", NO_NETWORK) else network


def indicator_page(res: Resources, indicator: str, *, network: str | None = "key-cities",
                   at: dt.date | None = None, period: str | None = None,
                   places: list[str] | None = None) -> Page:
    """One indicator for every district: map, ranking, series, distribution, tables, source.

    Parameters
    ----------
    res
        The application's resources.
    indicator
        A library id (an unknown one: 404 with the closest ids).
    network, at
        A built-in network whose members on ``at`` are marked (``"none"``: none).
    period
        As ``keycities indicator --period`` (a missing one lists those it has).
    places
        Places (names or codes) drawn in the time series; the first is framed in the
        map's inset.
    """
    when = parse_date(at)
    net = _network_id(network)
    view: IndicatorView = res.indicator_view(indicator, net, when, period)
    parts = res.indicator_parts(indicator, net, when, period)
    meta, unit = view.meta, str(view.meta.get("unit") or "")
    label = str(meta.get("label") or indicator)
    decimals = _dec(meta.get("decimals"))
    chosen = _chosen(res, places or [])
    page = Page(path=f"indicator/{indicator}", template="indicator.html",
                title=f"{label}, {view.period_label}",
                query={"network": network if network != "key-cities" else None,
                       "at": at, "period": period, "place": places or None},
                data=dict(parts["payload"]))
    england = _england(view)
    page.data["chosen"] = chosen
    page.data["england"] = england
    page.data["network_line"] = network_notes(view)[:1]
    page.data["choices"] = {"periods": list(view.periods["label"][::-1])}
    if view.members is not None:
        page.tables["members"] = Table(parts["members"].assign(Code=view.members["code"]),
                                       f"{label}, {view.period_label}: {view.network_name} on "
                                       f"{view.at}", link="Code")
    page.tables["comparators"] = Table(parts["comparators"], "England, Great Britain, the "
                                       "UK, nations and regions (the source's own values)")
    if not view.ranking.empty:
        page.tables["ranking"] = Table(_place_first(parts["ranking"]),
                                       f"{label}, {view.period_label}: every district ranked "
                                       f"({view.vintage} boundaries)", link="Code")
        _charts_and_map(res, page, view, label, unit, decimals, england, chosen)
    series = _series(res, view, chosen)
    if len(series):
        page.figures["series"] = series_chart(series, title=f"{label} over time", unit=unit,
                                              decimals=decimals)
    page.tables["periods"] = Table(view.periods[["label", "period", "districts",
                                                 "release_id"]].iloc[::-1].rename(columns={
        "label": "Period", "period": "ISO period", "districts": "Districts with a value",
        "release_id": "Release"}), "Every period of the series, newest first")
    page.notes = network_notes(view) + indicator_notes(view)
    return page


def _place_first(frame: pd.DataFrame) -> pd.DataFrame:
    """The ranking with the place's name first (the column the table links)."""
    cols = ["Place", *[c for c in frame.columns if c != "Place"]]
    return frame[cols]


def _dec(d: Any) -> int | None:
    return None if d is None or (isinstance(d, float) and math.isnan(d)) else int(d)


def _england(view: IndicatorView) -> float | None:
    c = view.comparators
    row = c[c["code"] == ENGLAND]
    return float(row["value"].iloc[0]) if len(row) and pd.notna(row["value"].iloc[0]) else None


def _chosen(res: Resources, places: list[str]) -> list[dict[str, str]]:
    """The places asked for, resolved (unknown names fail with suggestions)."""
    out: list[dict[str, str]] = []
    with res.ready:
        for q in places[:6]:
            p = res.context.resolver.resolve(q, vintage=PLACE_VINTAGE)
            if p.code not in [c["code"] for c in out]:
                out.append({"code": p.code, "name": p.name})
    return out


def _charts_and_map(res: Resources, page: Page, view: IndicatorView, label: str, unit: str,
                    decimals: int | None, england: float | None,
                    chosen: list[dict[str, str]]) -> None:
    r = view.ranking
    title = f"{label}, {view.period_label}"
    page.figures["ranking"] = ranked_bars(r, title=f"{title}: every district ranked", unit=unit,
                                          england=england, decimals=decimals)
    members = r[r["member"]]
    page.figures["distribution"] = histogram(
        r["value"].to_numpy(float), title=f"{title}: how districts are spread", unit=unit,
        england=england, decimals=decimals,
        marks=dict(zip(members["name"], members["value"], strict=True)))
    values = dict(zip(r["code"], r["value"].astype(float), strict=True))
    breaks = quantile_breaks(list(values.values()))
    page.data["map"] = {"classes": "quantiles", "breaks": breaks, "unit": unit,
                        "vintage": view.vintage}
    shapes = res.shapes_at(view.vintage)
    missing = [c for c in values if c not in shapes.paths]
    if missing:
        page.notes.append(f"{len(missing)} district(s) with a value have no outline in the "
                          f"{shapes.vintage} boundaries the map uses (listed in the table): "
                          + ", ".join(missing[:8]) + ("…" if len(missing) > 8 else "") + ".")
    labels = {c: f"{n}: {with_unit(v, unit, decimals)} (rank {k} of {o})"
              for c, n, v, k, o in zip(r["code"], r["name"], r["value"], r["rank"], r["of"],
                                       strict=True)}
    top, bottom = r.iloc[0], r.iloc[-1]
    choro = Choropleth(
        values=values, breaks=breaks, unit=unit, decimals=decimals,
        title=f"Map of {in_sentence(title)}, every district in {len(breaks)} classes of about "
              "equal size (darker: higher)",
        description=f"Highest-ranked: {top['name']} ({number(top['value'], decimals)}); "
                    f"lowest-ranked: {bottom['name']} ({number(bottom['value'], decimals)}). "
                    + (f"Members outlined: {', '.join(members['name'])}. " if len(members)
                       else "") + "Every value is in the ranking table.",
        members=frozenset(members["code"]), labels=labels,
        focus=chosen[0]["code"] if chosen else None)
    page.maps["values"] = MapSpec(
        title=choro.title, description=choro.description,
        draw=lambda links: choropleth_svg(shapes, choro, links={
            c: _place_link(links, c) for c in shapes.paths}))


def _place_link(links: Links, code: str) -> str:
    return links.page(f"place/{code}")


def _series(res: Resources, view: IndicatorView, chosen: list[dict[str, str]]
            ) -> pd.DataFrame:
    """label, start, series, value, lower, upper: England, the network, chosen places."""
    starts = dict(zip(view.periods["period"], view.periods["start"], strict=True))
    parts = [view.england_series.assign(series="England")[
        ["period", "label", "series", "value", "lower", "upper"]]]
    ns = view.network_series
    if ns is not None and len(ns) and ns["value"].notna().any():
        parts.append(ns.assign(series=f"{view.network_name} (network)", lower=np.nan,
                               upper=np.nan)[["period", "label", "series", "value", "lower",
                                              "upper"]])
    if chosen:
        places = res.indicator_view(view.id, None, view.at or dt.date.today(), view.period)
        ms = view.member_series
        for c in chosen:
            rows = (ms[ms["code"] == c["code"]] if ms is not None else pd.DataFrame())
            if rows.empty:
                rows = _own_rows(places, c["code"])
            if len(rows):
                parts.append(rows.assign(series=c["name"])[
                    ["period", "label", "series", "value", "lower", "upper"]])
    long = pd.concat(parts, ignore_index=True)
    return long.assign(start=long["period"].map(starts))


def _own_rows(view: IndicatorView, code: str) -> pd.DataFrame:
    """A place's value in the period shown, from the ranking (a non-member's series is
    its value now; the members' series cover the trend window)."""
    r = view.ranking[view.ranking["code"] == code]
    return r.assign(period=view.period, label=view.period_label)[
        ["period", "label", "value", "lower", "upper"]]


# ------------------------------------------------------------------ scatter


def scatter_page(res: Resources, x: str = SCATTER[0], y: str = SCATTER[1], *,
                 network: str | None = "key-cities",
                 at: dt.date | None = None) -> Page:
    """Two indicators for every district, members highlighted, with the correlation."""
    when = parse_date(at)
    net = _network_id(network)
    vx = res.indicator_view(x, net, when, None)
    vy = res.indicator_view(y, net, when, None)
    a = vx.ranking[["code", "name", "value", "member"]].rename(columns={"value": "x"})
    b = vy.ranking[["code", "value", "member"]].rename(columns={"value": "y",
                                                                  "member": "member_y"})
    both = a.merge(b, on="code", how="inner")
    both["member"] = both["member"] | both["member_y"]
    both = both.drop(columns="member_y")
    lx, ly = _axis(vx), _axis(vy)
    n = len(both)
    pearson = float(both["x"].corr(both["y"])) if n > 2 else None
    spearman = float(both["x"].corr(both["y"], method="spearman")) if n > 2 else None
    words = (f"Pearson correlation {pearson:.2f}, Spearman (rank) {spearman:.2f}, over {n} "
             f"districts with both values" if pearson is not None and not math.isnan(pearson)
             else f"Too few districts with both values ({n}) for a correlation")
    title = f"{vy.meta.get('label')} ({vy.period_label}) against {vx.meta.get('label')} " \
            f"({vx.period_label})"
    page = Page(path="scatter", template="scatter.html", title=title,
                query={"x": x, "y": y, "network": network if network != "key-cities" else None,
                       "at": at},
                data={"x": {"indicator": x, "label": vx.meta.get("label"),
                            "unit": vx.meta.get("unit"), "period": vx.period,
                            "period_label": vx.period_label, "release_id": vx.meta.get(
                                "release_id")},
                      "y": {"indicator": y, "label": vy.meta.get("label"),
                            "unit": vy.meta.get("unit"), "period": vy.period,
                            "period_label": vy.period_label, "release_id": vy.meta.get(
                                "release_id")},
                      "districts": n, "pearson": pearson, "spearman": spearman,
                      "network": vx.network_name, "vintage": max(vx.vintage, vy.vintage),
                      "indicators": _choices(res)})
    if n:
        page.figures["scatter"] = scatter_figure(
            both, x_title=lx, y_title=ly, title=title,
            description=f"Scatter plot of {n} districts: {ly} against {lx}; members of "
                        f"{vx.network_name or 'no network'} highlighted. {words}.")
    page.tables["points"] = Table(both.rename(columns={"name": "Place", "code": "Code",
                                                       "x": lx, "y": ly, "member": "Member"})
                                  [["Place", "Code", lx, ly, "Member"]],
                                  "Every district with both values", link="Code")
    page.notes = ([] if vx.vintage == vy.vintage else [
        f"The two are ranked on different boundaries ({vx.vintage} and {vy.vintage}); "
        "districts whose codes differ between them are left out."])
    page.notes += [f"{words}. The periods used: {vx.meta.get('label')} {vx.period_label} "
                  f"(release {vx.meta.get('release_id')}); {vy.meta.get('label')} "
                  f"{vy.period_label} (release {vy.meta.get('release_id')}). A correlation "
                  "across districts says nothing of cause."]
    return page


def _axis(view: IndicatorView) -> str:
    unit = view.meta.get("unit")
    return f"{view.meta.get('label')}, {view.period_label}" + (f" ({unit})" if unit else "")


def _choices(res: Resources) -> list[dict[str, str]]:
    """Indicators with district values, for the scatter's pickers."""
    cat = res.indicator_catalogue(None, None)
    cat = cat[cat["districts"] > 0]
    return [{"id": i, "label": f"{lab} ({a})"} for i, lab, a in zip(
        cat["indicator"], cat["label"], cat["area_label"].fillna("not classified"),
        strict=True)]


# ------------------------------------------------------------------ scorecards


def scorecard_page(res: Resources, network: str, at: dt.date | None = None) -> Page:
    """A network's scorecard: every indicator by work area against England, with each
    member's rank (the tables of ``keycities scorecard NETWORK``)."""
    when = parse_date(at)
    card = res.scorecard(network, when)
    page = Page(path=f"scorecard/{network}", template="scorecard.html",
                title=f"Scorecard: {card.subject.name} on {when:%-d %B %Y}",
                query={"at": at}, data=scorecard_payload(card))
    for area in card.areas:
        table = scorecard_table(card, area)
        if table.empty:
            continue
        label = WORK_AREA.label(area)
        page.tables[area] = Table(table.assign(Id=list(card.rows.loc[
            card.rows["area"] == area, "indicator"])),
            f"{label}: {card.subject.name} on {when} against England")
        ranks = rank_table(card, area)
        if len(ranks):
            page.tables[f"{area}-ranks"] = Table(ranks, f"{label}: each member's rank among all "
                                                 "districts (1 = best; # as above)")
    page.notes = [*card.rules.values(), *card.notes]
    return page


PLACE_COLUMNS = {"label": "Indicator", "period_label": "Period", "unit": "Unit"}


SCORECARD_COLUMNS = ("Indicator", "Period", "Unit", "Value", "England", "Against England",
                     "Rank", "Trend", "Id")
"""The columns of a place's scorecard tables."""


def place_scorecard(res: Resources, code: str) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """A place's scorecard (the rows of ``keycities scorecard PLACE``) by work area, taken
    from every district's scorecard (kept per store), and its rules."""
    when = dt.date.today()
    card = res.scorecard("districts", when)
    rows, where = res.shared.get(("place scorecards", when),
                                 lambda: _place_scorecards(card))
    mine = rows.take(where.get(code, np.empty(0, dtype=np.intp)))
    out: dict[str, pd.DataFrame] = {}
    for area in card.areas:
        part = mine[mine["area"].to_numpy() == area]
        if len(part):
            out[area] = part[list(SCORECARD_COLUMNS)].reset_index(drop=True)
    return out, [card.rules["significance"], card.rules["trend"]]


def _place_scorecards(card: Any) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Every district's scorecard rows as a place page shows them, in words, and the
    row positions of each district: made once per store, so that a place page takes its
    own rows instead of filtering and formatting tens of thousands each time."""
    rows = card.rows.merge(card.ranks.drop(columns=["name"]), on="indicator", how="inner",
                           suffixes=("_net", ""))
    # As the CLI's place scorecard: indicators of other nations only are left out.
    rows = rows[~rows["reason"].fillna("").str.startswith("not published for")]
    words = pd.DataFrame({
        "Indicator": rows["label"], "Period": rows["period_label"], "Unit": rows["unit"],
        "Value": [number(v, _dec(d)) for v, d in zip(rows["value"], rows["decimals"],
                                                     strict=True)],
        "England": [number(v, _dec(d)) for v, d in zip(rows["england"], rows["decimals"],
                                                       strict=True)],
        "Against England": [_verdict(w, j) for w, j in zip(rows["vs_england"],
                                                           rows["judged"], strict=True)],
        "Rank": [f"{r} of {n}" if pd.notna(r) else "" for r, n in zip(
            rows["rank"], rows["of"], strict=True)],
        "Trend": rows["trend"].fillna(""), "Id": rows["indicator"],
        "area": rows["area"]}).reset_index(drop=True)
    where = words.groupby(rows["code"].to_numpy(), sort=False).indices
    return words, {str(c): np.asarray(i) for c, i in where.items()}


def _verdict(word: Any, judged: Any) -> str:
    if not isinstance(word, str):
        return ""
    return f"{word} ({judged})" if isinstance(judged, str) and judged else word


# ------------------------------------------------------------------ network: the referendum


def referendum_summary(res: Resources, network: str, at: dt.date) -> dict[str, Any]:
    """The network's 2016 Leave share beside GB's and the UK's (``keycities referendum``)."""
    result = res.referendum(network, at)
    comp = {t.code: t for t in result.comparisons}
    gb, uk = comp.get("K03000001"), comp.get("K02000001")
    total = result.total
    return {"network": total.leave_share if total is not None else None,
            "unavailable": result.unavailable,
            "great_britain": gb.leave_share if gb else None,
            "great_britain_name": gb.name if gb else "Great Britain",
            "united_kingdom": uk.leave_share if uk else None,
            "united_kingdom_name": uk.name if uk else "United Kingdom",
            "members_counted": None if total is None else int(len(result.members)),
            "release_id": result.release_id}


def exported_indicators(res: Resources) -> list[str]:
    """The indicators with values in the store (each gets a page in the evidence pack)."""
    cat = res.indicator_catalogue(None, None)
    return [str(i) for i in cat.loc[cat["latest_period"].notna(), "indicator"]]


__all__ = ["SCATTER", "catalogue_page", "exported_indicators", "indicator_page",
           "place_scorecard", "referendum_summary", "scatter_page", "scorecard_page"]
