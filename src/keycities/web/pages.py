"""The reading pages: network, place, places, compare, claims, data.

Every page builder takes the application's
:class:`~keycities.web.resources.Resources` and the page's parameters and
returns a :class:`~keycities.web.page.Page` (plain data, tables, charts and
maps) that feeds the HTML, the JSON and the static export alike.
:mod:`keycities.web.tools` holds the calculators (productivity, twinning,
testbeds).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis.indicators.params import WORK_AREA
from keycities.analysis.places.peers import peers
from keycities.context import parse_date
from keycities.errors import KeycitiesError
from keycities.geography.vintage import FIRST_VINTAGE
from keycities.present.figures import bar_figure, indexed, line_figure
from keycities.present.payloads import members_payload
from keycities.web.indicator_pages import place_scorecard, referendum_summary
from keycities.web.page import MapSpec, Page, Table, cite
from keycities.web.resources import PLACE_VINTAGE, Resources

SERIES = (("population", "Population"), ("gva_current_prices", "GVA"),
          ("gva_per_filled_job", "GVA per filled job"))
"""Outcomes drawn on place and compare pages."""
COUNTS = ("population", "gva_current_prices")
"""Of those, the counts: drawn as an index beside England's, whose level is far larger."""


# ------------------------------------------------------------------ network


def network_page(res: Resources, network_id: str, at: dt.date | None = None) -> Page:
    """The network: headline figures with sources, member map, membership over time."""
    net = res.network(network_id)
    when = parse_date(at)
    head = res.headline(network_id, when, None)
    names = res.lad_names()
    members, mp = members_payload(net, when, names)
    rows = []
    for f in head["figures"]:
        shares = f.get("shares") or {}
        rows.append({"figure": f["label"], "value": f["value"], "unit": f["unit"],
                     "period": f.get("period_label"),
                     "shares": "; ".join(f"{100 * v:.1f}% of {k}" for k, v in shares.items()
                                         if v is not None),
                     "members counted": f.get("members"), "release": f.get("release_id"),
                     "unavailable": f.get("unavailable")})
    figures = pd.DataFrame(rows)
    hist = net.memberships_frame()
    # From the first year a member is counted from, but not before the earliest documented
    # list (the register says nothing of earlier years).
    first = min((d.year for d in hist["member_by"].dropna()), default=when.year)
    if net.earliest is not None:
        first = max(first, net.earliest.year + (net.earliest > dt.date(net.earliest.year, 1, 1)))
    years = range(first, when.year + 1)
    # one member per membership in force (as members_at lists them), without making
    # each year's member table
    counts = pd.DataFrame([{"year": y, "series": "members on 1 January",
                            "value": float(sum(m.active(dt.date(y, 1, 1))
                                               for m in net.memberships))}
                           for y in years])
    history = hist.assign(name=[names.get(c, "") for c in hist["code"]])[
        ["code", "name", "as_published", "joined", "member_by", "left", "joined_basis",
         "left_basis"]]
    page = Page(path=f"network/{network_id}", template="network.html",
                title=f"{net.name} on {when:%-d %B %Y}", query={"at": at},
                data={"network": network_id, "name": net.name, "at": when.isoformat(),
                      "headline": head, "members": mp})
    page.tables = {
        "headline": Table(figures, f"{net.name}: headline figures, members on {when}"),
        "members": Table(members, f"Members on {when} ({len(members)})", link="code"),
        "history": Table(history, "Every membership with its join and leave dates",
                         link="code")}
    if len(counts) > 1:
        page.figures["membership"] = line_figure(
            counts, title=f"{net.name}: number of members", unit="members")
    page.maps["members"] = MapSpec(
        title=f"Map of the {len(members)} members of {net.name} on {when}",
        description=f"Local authority districts of {PLACE_VINTAGE}; members are shaded: "
        + ", ".join(members["name"]) + ".",
        highlight=dict.fromkeys(members["code"], "member"),
        labels={c: f"{names.get(c, c)} (member)" for c in members["code"]})
    page.notes = list(dict.fromkeys([*head.get("notes", []), *mp["notes"]]))
    try:
        page.data["referendum"] = referendum_summary(res, network_id, when)
    except KeycitiesError as exc:  # a store without the referendum counts
        page.data["referendum"] = {"unavailable": str(exc)}
    return page


# ------------------------------------------------------------------ place


def _series(res: Resources, outcome: str, codes: list[str], *,
            newest_only: bool = True) -> pd.DataFrame:
    """Long rows (code, name, year, value, release) of an outcome for ``codes``: from the
    one release of the newest series, or with ``newest_only`` False from every release of
    :meth:`Resources.release_panels` (each year from one release, older ones after the
    newest's first year left out)."""
    panels = res.release_panels(outcome)
    frames = []
    for panel in panels[:1] if newest_only else panels:
        long = panel.to_frame()
        frames.append(long[long["code"].isin(codes)])
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out if len(out) else pd.DataFrame(columns=["code", "name", "year", "value",
                                                      "release"])


def _place_series(res: Resources, outcome: str, label: str, code: str,
                  name: str) -> tuple[Any, Table, list[str]] | None:
    """A place's series from one release, England beside it from the same release
    (indexed for counts, where levels differ a thousandfold), and the older release's
    years in the table after a stated break."""
    rows = _series(res, outcome, [code], newest_only=False)
    if rows.empty:
        return None
    newest = rows["release"].iloc[0]
    main = rows[rows["release"] == newest]
    panel = res.release_panels(outcome)[0]
    eng = res.england(outcome)
    long = main.assign(series=name)[["year", "series", "value"]]
    if len(eng):
        long = pd.concat([long, eng.assign(series="England")[["year", "series", "value"]]],
                         ignore_index=True)
    count = outcome in COUNTS
    who = f"{name} and England" if len(eng) else name
    if count and len(eng):
        idx = indexed(long)
        base = int(idx["year"].min())
        fig = line_figure(idx, title=f"{label}, {who} ({base} = 100)",
                          unit=f"index, {base} = 100", index=True)
    else:
        fig = line_figure(long, title=f"{label}, {who}", unit=panel.unit)
    table = rows.assign(**{name: rows["value"]})[["year", name, "release"]]
    if len(eng):
        table = table.merge(eng[["year", "value"]].rename(columns={"value": "England"}),
                            on="year", how="left")
    eng_from = ", ".join(dict.fromkeys(eng["release"])) if len(eng) else ""
    notes = [f"{label}: {int(main['year'].min())}–{int(main['year'].max())} from "
             f"{cite(res, newest)}"
             + (("; England's figures from the same release" if eng_from == newest else
                 f"; England's from {eng_from}, the same publication's national table")
                if len(eng) else "; that release has no England figure, so none is drawn")
             + "."]
    older = rows[rows["release"] != newest]
    if len(older):
        notes.append(f"{label} before {int(main['year'].min())} comes from an older release "
                     f"({', '.join(dict.fromkeys(older['release']))}): the series breaks "
                     "there (revisions, a census rebase), so those years are listed in the "
                     "table, not joined to the line.")
    return fig, Table(table.sort_values("year", ignore_index=True),
                      f"{label}, {name}, by year, with the release of each"), notes


def place_page(res: Resources, code: str) -> Page:
    """A local authority district: profile, series, OAC mix, referendum, peers, twin."""
    features = res.features()
    if code not in features.values.index:
        raise KeycitiesError(f"No place page for {code}: place pages cover the local "
                             f"authority districts of {PLACE_VINTAGE}.")
    info = features.places.loc[code]
    name = str(info["name"])
    raw = features.values.loc[code]
    meta = features.meta.set_index("feature")
    imputed = set(features.imputed.loc[features.imputed["place"] == code, "feature"])
    profile = pd.DataFrame([{"feature": meta.at[f, "label"], "value": raw[f],
                             "unit": meta.at[f, "unit"], "period": meta.at[f, "period"],
                             "release": ", ".join(meta.at[f, "release_ids"] or []),
                             "imputed": f in imputed}
                            for f in features.values.columns])
    page = Page(path=f"place/{code}", template="place.html", title=f"{name} ({code})",
                data={"code": code, "name": name, "region": info["region"],
                      "country": info["country"]})
    page.tables["profile"] = Table(profile, f"{name}: profile")
    for outcome, label in SERIES:
        made = _place_series(res, outcome, label, code, name)
        if made is None:
            page.notes.append(f"No {label} series for {name} in the store.")
            continue
        page.figures[outcome], page.tables[outcome], notes = made
        page.notes.extend(notes)
    oac = [f for f in features.values.columns if f.startswith("oac_")]
    if oac:
        mix = pd.DataFrame({"supergroup": [meta.at[f, "label"].split(": ", 1)[-1] for f in oac],
                            "share": [float(raw[f]) for f in oac]})
        page.figures["oac"] = bar_figure(mix, category="supergroup", value="share",
                                         title=f"{name}: postcodes by 2011 OAC supergroup",
                                         unit="share of postcodes")
    result = peers(features, code, k=10, rng=np.random.default_rng(0))
    pp = result.payload()
    peer_rows = pd.DataFrame(pp["peers"])[["rank", "code", "name", "region", "distance",
                                           "top_features"]]
    page.tables["peers"] = Table(peer_rows, f"The 10 nearest statistical neighbours of {name}",
                                 link="code")
    page.data["peers"] = pp
    twins = res.lad_twins()
    pairs = twins["pairs"]
    mine = pairs[(pairs["code_a"] == code) | (pairs["code_b"] == code)]
    if len(mine):
        r = mine.iloc[0]
        other = r["code_b"] if r["code_a"] == code else r["code_a"]
        page.data["twin"] = {"code": other, "name": features.names.get(other, other),
                             "km": float(r["km"]), "why": str(r["why"]),
                             "spec": twins["spec"]}
    else:
        page.data["twin"] = None
    page.data["leave_share"] = None if pd.isna(raw.get("leave_share")) else float(
        raw["leave_share"])
    page.data["networks"] = res.memberships_of(code)
    page.maps["place"] = MapSpec(
        title=f"Map of {name} and its 10 nearest statistical neighbours",
        description=f"{name} is shaded dark; its peers lighter: "
        + ", ".join(peer_rows["name"]) + ".",
        highlight={code: "place", **dict.fromkeys(peer_rows["code"], "peer")},
        labels={code: name, **{c: f"{n} (peer {r})" for c, n, r in
                               zip(peer_rows["code"], peer_rows["name"], peer_rows["rank"],
                                   strict=True)}},
        legend={"place": name, "peer": "Peer (a nearest statistical neighbour)"})
    page.notes += list(pp.get("notes", []))[:3]
    _add_scorecard(res, page, code, name)
    return page


def _add_scorecard(res: Resources, page: Page, code: str, name: str) -> None:
    """Every indicator with district values, by work area, against England (as
    ``keycities scorecard PLACE``): one table per work area."""
    tables, rules = place_scorecard(res, code)
    page.data["scorecard_areas"] = [{"id": a, "label": WORK_AREA.label(a)} for a in tables]
    for area, frame in tables.items():
        page.tables[f"scorecard-{area}"] = Table(
            frame, f"{WORK_AREA.label(area)}: {name} against England")
    page.notes += rules


def former_place_page(res: Resources, place: Any) -> Page:
    """A district abolished or recoded before :data:`PLACE_VINTAGE`: what it was, when and
    into what it went, its figures while it existed (on its own code), its memberships."""
    code, name = place.code, place.name
    with res.ready:
        after = [{"code": p.code, "name": p.name}
                 for p in res.context.resolver.successors_of(code)]
    start, end = place.vintage_start, place.vintage_end
    existed = ((f"of {start} to {end}" if start and start > FIRST_VINTAGE else f"up to {end}")
               if end else "")
    page = Page(path=f"place/{code}", template="former_place.html",
                title=f"{name} ({code}), a former district",
                data={"code": code, "name": name, "existed": existed,
                      "last_vintage": place.vintage_end, "became": after,
                      "networks": res.memberships_of(code)})
    for outcome, label in SERIES:
        rows = res.own_series(outcome, code)
        if rows.empty:
            page.notes.append(f"No {label} figures on {name}'s own code in the store.")
            continue
        release = rows["release"].iloc[0]
        long = rows.assign(series=name)
        page.figures[outcome] = line_figure(long, title=f"{label}, {name}",
                                            unit=res.release_panels(outcome)[0].unit)
        page.tables[outcome] = Table(rows[["year", "value", "release"]],
                                     f"{label}, {name}, from {cite(res, release)}")
        page.notes.append(f"{label}: {int(rows['year'].min())}–{int(rows['year'].max())} as "
                          f"published for {code} in {release}, the release with its longest "
                          "series.")
    return page


def places_page(res: Resources) -> Page:
    """Every local authority district with a page."""
    f = res.features()
    df = f.places[["name", "region", "country"]].rename_axis("code").reset_index()
    df = df.sort_values(["country", "region", "name"])[["name", "code", "region", "country"]]
    page = Page(path="places", template="places.html",
                title=f"Places: the {len(df)} local authority districts of {PLACE_VINTAGE}")
    page.tables["places"] = Table(df, f"Local authority districts ({PLACE_VINTAGE})",
                                  link="code")
    return page


# ------------------------------------------------------------------ compare


def compare_page(res: Resources, places: list[str]) -> Page:
    """Two or more places side by side: profiles and indexed series."""
    if len(places) < 2:
        raise KeycitiesError("Compare needs at least two places, e.g. "
                             "?places=Sunderland&places=Plymouth.")
    if len(places) > 8:
        raise KeycitiesError(f"Compare takes at most 8 places ({len(places)} given).")
    features = res.features()
    codes: list[str] = []
    with res.ready:
        for q in places:
            code = res.context.resolver.resolve(q, vintage=PLACE_VINTAGE).code
            if code not in codes:
                codes.append(code)
    missing = [c for c in codes if c not in features.values.index]
    if missing:
        raise KeycitiesError(f"No data for {', '.join(missing)} on {PLACE_VINTAGE} boundaries.")
    names = {c: features.names.get(c, c) for c in codes}
    meta = features.meta.set_index("feature")
    side = features.values.loc[codes].T.rename(columns=names)
    side.insert(0, "feature", [meta.at[f, "label"] for f in side.index])
    side.insert(1, "unit", [meta.at[f, "unit"] for f in side.index])
    page = Page(path="compare", template="compare.html",
                title="Compare " + ", ".join(names.values()), query={"places": places},
                data={"places": [{"code": c, "name": names[c]} for c in codes]})
    page.tables["profiles"] = Table(side.reset_index(drop=True), "Profiles side by side")
    for outcome, label in SERIES:
        rows = _series(res, outcome, codes)
        if rows.empty:
            continue
        long = rows.assign(series=rows["code"].map(names))[["year", "series", "value"]]
        idx = indexed(long)
        if idx.empty:
            page.notes.append(f"{label}: the places share no year, so it is not indexed.")
            continue
        base = int(idx["year"].min())
        page.figures[outcome] = line_figure(idx, title=f"{label}, {base} = 100",
                                            unit=f"index, {base} = 100", index=True)
        # the unit of the panel the rows come from (the full outcome panel, built from
        # every release, would cost seconds on a first view for nothing more)
        unit = res.release_panels(outcome)[0].unit
        page.tables[outcome] = Table(
            long.pivot_table(index="year", columns="series", values="value").reset_index()
            .rename_axis(columns=None), f"{label} by year ({unit}), "
            f"from {cite(res, rows['release'].iloc[0])}")
    page.maps["places"] = MapSpec(
        title="Map of the compared places",
        description="Shaded: " + ", ".join(names.values()) + ".",
        highlight=dict.fromkeys(codes, "place"), labels=names,
        legend={"place": "Compared place"})
    return page


# ------------------------------------------------------------------ claims, data


def claims_page(res: Resources) -> Page:
    """The claims audit: each claim, its verdict and the reasons."""
    audit = res.audit()
    rows = []
    for c in audit["claims"]:
        closest = c.get("closest") or {}
        rows.append({"id": c["id"], "document": f"{c['document']} ({c['document_date']})",
                     "wording": c["wording"], "claimed": c["claimed"], "unit": c["unit"],
                     "ours": closest.get("value"), "from": closest.get("label"),
                     "verdict": c["verdict"], "reasons": " ".join(c.get("reasons") or [])})
    page = Page(path="claims", template="claims.html",
                title="Published claims, recomputed", data=audit)
    page.tables["claims"] = Table(pd.DataFrame(rows), "Every claim with its verdict")
    return page


ATTRIBUTION = ("Contains public sector information licensed under the Open Government "
               "Licence v3.0. Source: Office for National Statistics, Electoral Commission, "
               "Ministry of Housing, Communities and Local Government. Contains OS data © Crown "
               "copyright and database right 2024. Contains Royal Mail data © Royal Mail "
               "copyright and database right 2025. Contains GeoPlace data © Local Government "
               "Information House Limited copyright and database right 2025.")


def data_page(res: Resources) -> Page:
    """Every release in the store, attribution, and the downloads."""
    rel = res.releases()
    cols = [c for c in ["id", "source", "publisher", "title", "url", "published",
                        "reference_period", "licence", "sha256"] if c in rel.columns]
    df = rel[cols].copy()
    df["published"] = pd.to_datetime(df["published"]).dt.date
    page = Page(path="data", template="data.html", title="Data & methods",
                data={"releases": len(df), "attribution": ATTRIBUTION})
    page.tables["releases"] = Table(df, f"The {len(df)} releases in the evidence store")
    page.data["release_rows"] = jsonable(df)
    return page
