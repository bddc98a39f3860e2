"""Run the claims audit against the evidence store.

:func:`audit_from_store` gathers, for every claim, our figure for each year and
release the document could have used (periods up to its year), and hands them
to :func:`keycities.analysis.claims.registry.judge`.
:func:`keycities.present.claims.audit_markdown` renders the result as a report a
person can read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from keycities.analysis._members import member_vintage
from keycities.analysis._store import geography_from_store
from keycities.analysis.claims.registry import (
    METRICS,
    Audit,
    Candidate,
    Claim,
    Document,
    Finding,
    fmt,
    judge,
    load_claims,
    membership_hits,
    membership_reason,
)
from keycities.analysis.headline.core import FIGURES, FigureSpec
from keycities.analysis.headline.from_store import figure_for_slice
from keycities.analysis.productivity.from_store import productivity_from_store
from keycities.analysis.referendum.from_store import referendum_from_store
from keycities.errors import KeycitiesError
from keycities.geography.tables import GeographyTables
from keycities.network.register import Network, builtin_network
from keycities.sources import catalog
from keycities.sources.referendum import RELEASE
from keycities.store.queries import (
    NoDataError,
    area_series,
    release_info,
    slices,
    slices_by_release,
    totals,
)
from keycities.store.store import Store

#: How many years before a document its figures may date from.
LOOKBACK = 6

REFERENCE_AT = dt.date(2021, 6, 1)
"""The earliest documented member list (2021), used for reference figures."""


def audit_from_store(store: Store, *, claims: list[Claim] | None = None,
                     documents: dict[str, Document] | None = None) -> Audit:
    """Recompute every claim and give each a verdict with its reasons.

    Parameters
    ----------
    store
        A built evidence store.
    claims, documents
        The registry to audit (default: the one shipped with keycities).
    """
    if claims is None or documents is None:
        documents, claims = load_claims()
    geo = geography_from_store(store)
    found = [_audit_or_say_why_not(store, geo, documents[c.document], c) for c in claims]
    findings = [f for f, _ in found]
    _add_membership_reasons(found)
    _add_implied_year_reasons(store, findings)
    ids = {c.release_id for f in findings for c in (f.ours, f.closest) if c and c.release_id}
    return Audit(findings, release_info(store, sorted(ids)))


#: (count metric, share metric, denominator code) pairs whose ratio dates a document.
SHARE_PAIRS = (("population", "population_share_gb", "K03000001"),)


def _add_implied_year_reasons(store: Store, findings: list[Finding]) -> None:
    """A count and its share in one document imply the denominator they used.

    E.g. "5.5 million people (8.48% of GB)" implies a GB population of
    5.5m / 0.0848 = 64.9m; the year whose GB population is closest is most
    likely the document's data year.
    """
    by_key = {(f.claim.document, f.claim.metric): f for f in findings}
    for count, share, code in SHARE_PAIRS:
        for (doc, metric), f_share in by_key.items():
            f_count = by_key.get((doc, count))
            if metric != share or f_count is None or f_share.claim.qualifier != "exact":
                continue
            text = _implied_year(store, f_count, f_share, code)
            for f in (f_count, f_share):
                if text and f.verdict in ("differs", "consistent"):
                    f.reasons.insert(1, text)


def _implied_year(store: Store, f_count: Finding, f_share: Finding, code: str) -> str:
    """Which years' denominators fit a count and its share, given how both are rounded."""
    c, s = f_count.claim, f_share.claim
    lo_c, hi_c = ((c.value, c.value + c.precision) if c.qualifier == "over"
                  else (c.value - c.precision / 2, c.value + c.precision / 2))
    lo, hi = lo_c / (s.value + s.precision / 2), hi_c / (s.value - s.precision / 2)
    spec = next(x for x in FIGURES if x.key == METRICS[c.metric].figure)
    year = f_count.document.date.year - METRICS[c.metric].lag
    df = area_series(store, code, spec.measure, periods=range(year - LOOKBACK, year + 1))
    fits = sorted({int(p) for p, v in zip(df["period"], df["value"], strict=True)
                   if lo <= v <= hi})
    span = f"{fmt(lo, c.unit)}–{fmt(hi, c.unit)}"
    if not fits:
        return (f"data year: {fmt(c.value, c.unit)} at {fmt(s.value, 'share')} implies a "
                f"denominator of {span}, which no year's figure fits")
    return (f"data year: {fmt(c.value, c.unit)} at {fmt(s.value, 'share')} implies a "
            f"denominator of {span} (allowing for rounding), which fits "
            f"{', '.join(map(str, fits))}: the document's figures are most likely of "
            f"{'that year' if len(fits) == 1 else 'one of those years'}")


def _add_membership_reasons(found: list[tuple[Finding, list[Candidate]]]) -> None:
    by_doc: dict[str, dict[str, dict[str, str]]] = {}
    for f, cands in found:
        if f.verdict == "differs" and any(c.parts for c in cands):
            by_doc.setdefault(f.claim.document, {})[f.claim.id] = membership_hits(f.claim, cands)
    for f, _ in found:
        hits = by_doc.get(f.claim.document, {})
        if f.claim.id in hits:
            at = len(f.reasons) - (1 if METRICS[f.claim.metric].definition else 0)
            f.reasons.insert(at, membership_reason(hits, f.claim.id))


def _audit_or_say_why_not(store: Store, geo: GeographyTables, doc: Document,
                          claim: Claim) -> tuple[Finding, list[Candidate]]:
    """One claim's finding; 'cannot be checked', with what is missing and how to get
    it, when the store lacks the data it needs (the other claims are still audited)."""
    try:
        return _audit_one(store, geo, doc, claim)
    except KeycitiesError as exc:
        return Finding(claim, doc, "cannot be checked", reasons=[
            f"The store lacks the data this claim needs: {exc}"]), []


def _audit_one(store: Store, geo: GeographyTables, doc: Document,
               claim: Claim) -> tuple[Finding, list[Candidate]]:
    if claim.metric == "member_count":
        return _member_count(doc, claim), []
    if claim.metric == "uk_leave_share":
        return _uk_leave_share(store, doc, claim), []
    if not claim.members_known:
        return _unknown_members(store, geo, doc, claim), []
    assert claim.network is not None
    network = builtin_network(claim.network["id"])
    # Only data that could have been published by the document's date count.
    until = doc.date.year - METRICS[claim.metric].lag
    cands = candidates(store, geo, network, claim.network["at"], claim.metric, until=until,
                       document_date=doc.date)
    verdict, ours, closest, reasons = judge(
        claim, cands, reference_period=until,
        definition=METRICS[claim.metric].definition)
    if verdict == "differs":
        reasons.extend(_alternative_definition(store, geo, network, claim))
    if not cands:
        reasons.extend(_how_to_get(store, claim.metric))
    return Finding(claim, doc, verdict, ours, closest, reasons), cands


def _how_to_get(store: Store, metric: str) -> list[str]:
    """Where a metric's data come from, when the store has none of them at all."""
    spec = next(f for f in FIGURES if f.key == METRICS[metric].figure)
    if slices(store, spec.measure):
        return []
    return [f"The store has no figures of {spec.label}. {catalog.how_to_get(spec.measure)}"]


def candidates(store: Store, geo: GeographyTables, network: Network, at: dt.date,
               metric: str, *, until: int,
               document_date: dt.date | None = None) -> list[Candidate]:
    """Our figure of ``metric`` for ``network`` on ``at``, for every period up to
    ``until`` (and :data:`LOOKBACK` years before it) and every release.

    A release published after ``document_date`` is labelled as a revision of
    what the document could have seen."""
    m = METRICS[metric]
    spec = next(f for f in FIGURES if f.key == m.figure)
    members = network.members_at(at)
    vm = member_vintage(at)
    out = []
    for s in slices_by_release(store, spec.measure, prefer_vintage=vm,
                               periods=range(until - LOOKBACK, until + 1)):
        fig, per = figure_for_slice(store, spec, members, geo, s, vm=vm)
        value = fig.value if m.share is None else fig.shares.get(m.share)
        if value is None or fig.value is None:
            continue
        parts = tuple((f"{name} ({code})", float(v)) for name, code, v in
                      zip(per["as_published"], per["code"], per["value"], strict=True))
        den = fig.value / value if m.share is not None and value else None
        label = f"{fig.period_label} ({s.release_id})"
        if fig.other_release_ids:  # members it has only within a merged area
            label += ("; official values of former districts from "
                      + ", ".join(fig.other_release_ids))
        if document_date is not None and dt.date.fromisoformat(s.published) > document_date:
            label += f"; revised, published {s.published[:4]}"
        out.append(Candidate(value, s.period, s.release_id, label, parts, den))
    return out


def _alternative_definition(store: Store, geo: GeographyTables, network: Network,
                            claim: Claim) -> list[str]:
    """The network's figure under the claim's likelier definition, where the store has it."""
    alt = ALTERNATIVES.get(claim.metric)
    if alt is None or claim.network is None:
        return []
    measure, label = alt
    spec = FigureSpec(measure, label, measure, ())
    at = claim.network["at"]
    found = slices_by_release(store, measure, prefer_vintage=member_vintage(at))
    if not found:
        return []
    s = found[0]
    fig, _ = figure_for_slice(store, spec, network.members_at(at), geo, s, vm=member_vintage(at))
    if fig.value is None:
        return []
    return [f"for comparison, {label} of the same members total {fmt(fig.value, claim.unit)} "
            f"in {s.period} ({s.release_id}, the only year in the store)"
            + (": also well above the claim, so the definition alone does not explain the gap"
               if fig.value > claim.value * 1.05 else "")]


#: Metric -> (measure under the claim's likelier definition, its label).
ALTERNATIVES: dict[str, tuple[str, str]] = {
    "businesses": ("business_active_enterprises", "active enterprises (ONS Business Demography)"),
}


def _member_count(doc: Document, claim: Claim) -> Finding:
    if claim.network is None:
        return Finding(claim, doc, "cannot be checked", reasons=[
            f"document {doc.id} states {claim.members_unknown} members but publishes no list"])
    members = builtin_network(claim.network["id"]).members_at(claim.network["at"])
    c = Candidate(float(len(members)), None, None,
                  f"{len(members)} members listed (document {doc.id})")
    ok = c.value == claim.value
    reasons = ([f"the document's own list has {len(members)} entries: this checks only that "
                "the count and the list agree"] if ok else
               [f"the published list has {len(members)} entries"])
    return Finding(claim, doc, "reproduced" if ok else "differs", c, c, reasons)


def _uk_leave_share(store: Store, doc: Document, claim: Claim) -> Finding:

    v = totals(store, RELEASE.id, ["eu_ref_leave", "eu_ref_remain"])
    if len(v) < 2:
        return Finding(claim, doc, "cannot be checked",
                       reasons=["the EU referendum results are not in the store"])
    share = v["eu_ref_leave"] / (v["eu_ref_leave"] + v["eu_ref_remain"])
    c = Candidate(share, 2016, RELEASE.id,
                  f"UK as declared (incl. Gibraltar): Leave {v['eu_ref_leave']:,.0f}, "
                  f"Remain {v['eu_ref_remain']:,.0f} ({RELEASE.id})")
    verdict, ours, closest, reasons = judge(claim, [c], reference_period=2016)
    return Finding(claim, doc, verdict, ours, closest, reasons)


def _unknown_members(store: Store, geo: GeographyTables, doc: Document,
                     claim: Claim) -> Finding:
    reasons = [f"document {doc.id} speaks of {claim.members_unknown} members but publishes "
               "no list; keycities has the lists of 2021 (25 members) and 2024 (26 members), "
               "and will not guess which councils were members"]
    maker = REFERENCES.get(claim.metric)
    reference = maker(store, geo, doc, claim) if maker else ""
    extra = _compare_with(store, doc, claim)
    return Finding(claim, doc, "cannot be checked", reasons=reasons + extra,
                   reference=reference)


def _reference_figure(store: Store, geo: GeographyTables, doc: Document, claim: Claim) -> str:
    net = builtin_network("key-cities")
    year = doc.date.year - METRICS[claim.metric].lag
    cands = [c for c in candidates(store, geo, net, REFERENCE_AT, claim.metric, until=year)
             if c.period == year]
    if not cands:
        return ""
    best = cands[0]  # newest release first
    n = len(net.members_at(REFERENCE_AT))
    return (f"for reference only: the {n} members listed in 2021 total "
            f"{fmt(best.value, claim.unit)} for {best.label}")


def _compare_with(store: Store, doc: Document, claim: Claim) -> list[str]:
    other = claim.extra.get("compare_with")
    if not other:
        return []
    year = doc.date.year - METRICS["gva"].lag
    df = area_series(store, other["code"], "gva_current_prices", periods=range(year, year + 1))
    if df.empty:
        return []
    r = df.iloc[0]
    return [f"{other['name']}'s GVA was {fmt(float(r['value']), claim.unit)} in "
            f"{int(r['period'])} ({r['release_id']}); the claimed "
            f"{fmt(claim.value, claim.unit)} is {claim.value / float(r['value']):.0%} of it"]


def _reference_leave_share(store: Store, geo: GeographyTables, doc: Document,
                           claim: Claim) -> str:

    result = referendum_from_store(store, builtin_network("key-cities"), at=REFERENCE_AT)
    t = result.total
    if t is None or t.leave_share is None:
        return ""
    return (f"for reference only: the {len(result.members)} members listed in 2021 voted "
            f"{t.leave_share:.2%} Leave ({t.leave:,} of {t.valid_votes:,} valid votes, "
            "ec-eu-referendum-2016)")


def _reference_uplift(store: Store, geo: GeographyTables, doc: Document, claim: Claim) -> str:

    horizon = int(claim.extra.get("horizon") or claim.extra.get("until", doc.date.year + 10)
                  - doc.date.year)
    base = doc.date.year - METRICS["jobs"].lag
    try:
        res = productivity_from_store(store, builtin_network("key-cities"), at=REFERENCE_AT,
                                      year=base, horizon=horizon, benchmark_basis="totals")
    except NoDataError:
        return ""
    total = res.payload()["totals"]
    return (f"for reference only: raising the {len(res.members)} members listed in 2021 to "
            f"England's GVA per filled job in {base} (England total GVA / filled jobs; "
            f"immediate, no growth; {', '.join(res.releases['id'])}) adds "
            f"£{total['annual_uplift'] / 1e9:,.1f}bn a year, "
            f"£{total['cumulative_uplift'] / 1e9:,.1f}bn over {horizon} years; the document's "
            "method (measure, base year, path, growth) is not stated")


REFERENCES: dict[str, Callable[[Store, GeographyTables, Document, Claim], str]] = {
    "productivity_uplift": _reference_uplift,
    "gva": _reference_figure,
    "population": _reference_figure,
    "leave_share": _reference_leave_share,
}


# ----------------------------------------------------------------- report


