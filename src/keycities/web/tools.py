"""The calculators' pages: productivity gap, twinning, testbeds.

Each takes its form's parameters (the same names as the JSON API and the
CLI options), validates them through the analysis code, and returns a
:class:`~keycities.web.page.Page`.  Quick work (the productivity gap, LAD
twinning, the transfer ranking) runs in the request; slow work (twinning
postcode districts or sectors, synthetic control with its placebo loops, the
minimum detectable effect) runs as a background :class:`~keycities.web.jobs.Job`
and the page shows its progress until the result is ready.

Every parameter that can be checked without the long computation is checked
before its job is submitted (twinning: the feature names against what the
chosen place set offers, the distance band, the network), so a mistake is a
422 at once and starts no job.  The analysis names a parameter at fault apart
from its message (:class:`~keycities.errors.ParameterError`); the
web words it with its own field names (``min_km``), the CLI with its options
(``--min-km``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis.places.params import PLACE_SETS
from keycities.analysis.places.place_sets import offered_features
from keycities.analysis.productivity.from_store import productivity_from_store
from keycities.analysis.testbed.evaluate import DonorRules
from keycities.analysis.testbed.from_store import design_from_store, evaluate_from_store
from keycities.analysis.testbed.transfer import transfer_ranking
from keycities.analysis.twinning.from_store import twin_from_store
from keycities.analysis.twinning.spec import GB, TwinSpec, twin_spec
from keycities.analysis.twinning.twinning import inputs_from_features, twin
from keycities.context import parse_date
from keycities.errors import KeycitiesError, ParameterError
from keycities.present.figures import SpecFigure, bar_figure, line_figure
from keycities.present.testbed import evaluation_charts
from keycities.store.store import Store
from keycities.web.jobs import Report
from keycities.web.maps import Line
from keycities.web.page import MapSpec, Page, Table
from keycities.web.resources import PLACE_VINTAGE, Resources

MAX_TREATED = 10
"""Treated places one web evaluation may take (the CLI has no limit)."""


def web_field(name: str) -> str:
    """How the web names a parameter: as its query field (``min_km``)."""
    return name


@contextmanager
def web_wording() -> Iterator[None]:
    """Word a :class:`~keycities.errors.ParameterError` raised inside with the
    web's field names, not the CLI's options."""
    try:
        yield
    except ParameterError as exc:
        raise KeycitiesError(exc.worded(web_field)) from exc


def productivity_page(res: Resources, params: dict[str, Any]) -> Page:
    """The productivity-gap calculator with per-member contributions and a cumulative chart."""
    p = dict(params)
    net = res.network(p.pop("network", "key-cities") or "key-cities")
    at = p.pop("at", None)
    p["growth"] = float(p.get("growth") or 0.0) / 100  # the page takes % a year
    result = res.run(productivity_from_store, res.store, net, at=parse_date(at), **p)
    pay: dict[str, Any] = result.payload()
    page = Page(path="productivity", template="productivity.html",
                title=f"Productivity gap: {net.name}", query={**params}, data=pay)
    members = pd.DataFrame(pay["members"])
    if len(members):
        cols = ["code", "name", "productivity", "gap", "annual_uplift", "cumulative_uplift",
                "estimate", "reason"]
        page.tables["members"] = Table(members[[c for c in cols if c in members]],
                                       f"Each member's part ({pay['measure']['unit']})",
                                       link="code")
        contrib = members.assign(annual_uplift_bn=members["annual_uplift"] / 1e9)
        page.figures["members"] = bar_figure(
            contrib, category="name", value="annual_uplift_bn",
            title="Annual uplift by member", unit="£ billion a year")
    years = pd.DataFrame(pay["years"])
    if len(years):
        years["cumulative_bn"] = years["uplift"].cumsum() / 1e9
        base = int(pay["base_year"])
        cum = pd.DataFrame({"year": base + years["year"], "series": "cumulative uplift",
                            "value": years["cumulative_bn"]})
        page.figures["cumulative"] = line_figure(
            cum, title=f"Cumulative uplift over {len(years)} years", unit="£ billion")
        page.tables["years"] = Table(years, "Year by year")
    page.notes = list(pay.get("notes", []))
    return page


# ------------------------------------------------------------------ twinning


def _twin_spec(res: Resources, p: dict[str, Any]) -> tuple[TwinSpec, str]:
    """The spec of the query ``p`` and its place set, checked as far as it can be without
    the place set itself (its feature names come from the cached LAD table)."""
    places = p.get("places") or "lad"
    if places not in PLACE_SETS:
        raise KeycitiesError(f"places must be lad, district or sector, not {places!r}.")
    members: frozenset[str] = frozenset()
    if p.get("network"):
        if places != "lad":
            raise KeycitiesError("A network can only be twinned with local authority "
                                 "districts (places=lad).")
        members = frozenset(res.network(p["network"]).members_at(
            parse_date(p.get("at")))["code"])
    with web_wording():
        spec = twin_spec(places=places, mode=p.get("mode") or "bridge",
                         contrast=p.get("contrast") or None, similar=p.get("similar") or None,
                         min_km=p.get("min_km"), max_km=p.get("max_km"),
                         different=p.get("different"), members=members,
                         within=bool(p.get("within")) if p.get("network") else None,
                         band=p.get("band"), keep_imputed=bool(p.get("keep_imputed")))
    with web_wording():
        spec.check(offered_features(places, res.features().features))
    return spec, places


TWIN_ADVICE = {
    "sector": "ask for fewer places (postcode districts rather than sectors), or a narrower "
              "distance band (max_km).",
    "district": "ask for fewer places (local authority districts, places=lad, rather than "
                "postcode districts), or a narrower distance band (max_km).",
    "lad": "ask for fewer places (Great Britain, without uk), or a narrower distance band "
           "(max_km).",
}
"""What a twinning stopped by the time limit should ask for instead, by place set."""


def twin_page(res: Resources, params: dict[str, Any], *, owner: str = "") -> Page:
    """Twinning: the pairs, their map and the optimality certificate."""
    spec, places = _twin_spec(res, params)
    countries = None if params.get("uk") else GB
    page = Page(path="twin", template="twin.html", title="Twinning", query=dict(params))
    if places == "lad" and countries is not None:  # GB districts: well under a second
        result = twin(inputs_from_features(res.features(), countries=countries), spec)
        result.notes.append("Places: local authority districts of 2023"
                            + (f" in {', '.join(countries)}" if countries else "")
                            + "; features standardised over the whole set (see peers).")
        pay, geojson = result.payload(), jsonable(result.geojson)
    else:  # postcode places, or the UK's districts (Northern Ireland's slow the LP): a job
        key = "twin:" + json.dumps(params, sort_keys=True, default=str)
        store = str(res.context.settings.store)
        page.job = res.jobs.submit_in_process("twin", key, twin_work, store, spec, places,
                                              countries, owner=owner,
                                              advice=TWIN_ADVICE[places])
        if page.job.status != "done":
            return page
        pay, geojson = page.job.result
    page.data = {**pay, "geojson": geojson, "places": places}
    pairs = pd.DataFrame(pay["pairs"])
    if len(pairs):
        shown = pairs[["name_a", "name_b", "km", "why", "code_a", "code_b", "weight"]]
        page.tables["pairs"] = Table(shown, f"The {len(pairs)} pairs, with why each pair "
                                     "differs or is alike", link="code_a" if places == "lad"
                                     else None)
    if pay.get("unpaired"):
        page.tables["unpaired"] = Table(pd.DataFrame(pay["unpaired"]), "Places left unpaired")
    lines = []
    for f in (geojson or {}).get("features", []):
        (lon0, lat0), (lon1, lat1) = f["geometry"]["coordinates"][:2]
        pr = f["properties"]
        lines.append(Line((lon0, lon1), (lat0, lat1),
                          f"{pr.get('name_a')} – {pr.get('name_b')}, {pr.get('km')} km"))
    hl: dict[str, str] = {}
    if places == "lad" and len(pairs):
        hl = dict.fromkeys(pairs["code_a"], "member") | dict.fromkeys(pairs["code_b"], "twin")
    page.maps["pairs"] = MapSpec(
        title=f"Map of the {len(pairs)} twinning pairs",
        description="Each pair is joined by a line: "
        + "; ".join(f"{a} – {b}" for a, b in zip(pairs.get("name_a", []),
                                                  pairs.get("name_b", []), strict=True))[:2000],
        highlight=hl, lines=lines, legend={"member": "First place of a pair",
                                           "twin": "Second place of a pair"},
        line_label="Twinning pair")
    page.notes = list(pay.get("notes", []))
    return page


# ------------------------------------------------------------------ testbeds


TREATED = re.compile(r"\s*([^:]+?)\s*:\s*(\d{4})\s*(?:[,;\n]|$)")


def parse_treated(text: str) -> dict[str, int]:
    """``"Bournemouth, Christchurch and Poole:2015, Plymouth:2016"`` -> {place: year}.

    Each item is PLACE:YEAR; items are separated by commas, semicolons or new
    lines (a comma inside a place's name is kept: the year ends each item).
    """
    items: dict[str, int] = {}
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = TREATED.match(text, pos)
        if m is None:
            rest = text[pos:].strip(" ,;\n")
            raise KeycitiesError(f"{rest[:60]!r}: write each treated place as PLACE:YEAR, "
                                 "e.g. Sunderland:2015 (the first year of the policy).")
        items[m.group(1).strip(" ,;")] = int(m.group(2))
        pos = m.end()
    if not items:
        raise KeycitiesError("Name at least one treated place as PLACE:YEAR, "
                             "e.g. Sunderland:2015.")
    if len(items) > MAX_TREATED:
        raise KeycitiesError(f"At most {MAX_TREATED} treated places ({len(items)} given).")
    return items


def testbeds_page(res: Resources, params: dict[str, Any], *, owner: str = "") -> Page:
    """A testbed evaluation (background job), its design and where it transfers next."""
    page = Page(path="testbeds", template="testbeds.html", title="Testbeds",
                query=dict(params))
    treated = params.get("treated")
    if not treated:
        return page
    starts = parse_treated(str(treated))
    with res.ready:  # unknown or ambiguous names fail here, as 404/409, not in the job
        codes = [res.context.resolver.resolve(name, vintage=PLACE_VINTAGE).code
                 for name in starts]
    outcome = params.get("outcome") or "gva_per_filled_job"
    rules = DonorRules(min_km=params.get("min_km"), similar=params.get("similar") or 50)
    key = "testbed:" + json.dumps(params, sort_keys=True, default=str)

    store = str(res.context.settings.store)
    page.job = res.jobs.submit_in_process(
        "testbed", key, testbed_work, store, outcome, starts, rules, bool(params.get("design")),
        owner=owner, advice="evaluate fewer treated places at once, with fewer donors "
        "(similar), or without the minimum detectable effect (design).")
    try:
        ranking = transfer_ranking(res.features(), codes, k=15)
        cols = ["name", "code", "region", "distance", "nearest_testbed_name", "coverage",
                "extrapolation", "reason"]
        page.tables["transfer"] = Table(ranking.ranking[[c for c in cols
                                                         if c in ranking.ranking]],
                                        "Where the policy would most plausibly work next",
                                        link="code")
        page.data["transfer"] = ranking.payload()
    except KeycitiesError as exc:
        page.notes.append(f"Transfer ranking: {exc}")
    if page.job.status != "done":
        return page
    done = page.job.result
    pay = done["payload"]
    page.data["evaluation"] = pay
    page.tables["summary"] = Table(done["summary"], "Estimates per treated place and on "
                                   "average")
    page.figures.update(done["figures"])
    if done["design"] is not None:
        page.data["design"] = done["design"]
        page.tables["design"] = Table(done["curve"], "Injected effects: recovered estimate "
                                      "and placebo p-value")
    page.notes += list(pay.get("notes", []))
    return page


# ------------------------------------------------------------------ in the worker process


def twin_work(report: Report, store_path: str, spec: Any, places: str,
              countries: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Twin postcode places (in the worker process): the payload and the GeoJSON."""
    what = "districts" if places == "lad" else f"postcode {places}s"
    report(0.05, f"building the features of the {what}")
    with Store(store_path, read_only=True) as store, web_wording():
        report(0.3, f"pairing the {what} (this can take a minute)")
        result = twin_from_store(store, spec, places=places, countries=countries)
    return result.payload(), jsonable(result.geojson)


def testbed_work(report: Report, store_path: str, outcome: str, starts: dict[str, int],
                 rules: Any, design: bool) -> dict[str, Any]:
    """Evaluate a testbed (in the worker process), and its design when asked: plain data."""
    with Store(store_path, read_only=True) as store, web_wording():
        report(0.02, "building the outcome panel and the donor pool")
        ev = evaluate_from_store(store, outcome, starts, rules=rules, workers=1,
                                 progress=lambda d, n: report(0.05 + 0.75 * d / max(n, 1),
                                                              f"placebo {d} of {n}"))
        dp = curve = None
        if design:
            code, fit = next(iter(ev.synth.fits.items()))
            report(0.8, "minimum detectable effect: injecting effects")
            d = design_from_store(store, outcome, code, fit.start, rules=rules, workers=1)
            dp, curve = d.payload(), d.detect.curve
    return {"payload": ev.payload(), "summary": ev.summary(),
            "figures": {k: SpecFigure.of(f) for k, f in evaluation_charts(ev).items()},
            "design": dp, "curve": curve}
