"""The claims registry, the verdict rules, and the audit on the mirror."""

from __future__ import annotations

from pathlib import Path

import pytest

from keycities.analysis.claims.registry import (
    Candidate,
    Claim,
    judge,
    load_claims,
    membership_hits,
    membership_reason,
    parse_claims,
    reading,
    within,
)
from keycities.errors import KeycitiesError


def claim(value: float, qualifier: str = "exact", precision: float = 0.1,
          unit: str = "persons") -> Claim:
    return Claim("c", "004", "wording", "population", value, unit, qualifier,  # type: ignore[arg-type]
                 precision, network={"id": "key-cities"})


@pytest.mark.parametrize(("claimed", "ours", "qualifier", "precision", "ok"), [
    (5.5, 5.54, "exact", 0.1, True), (5.5, 5.56, "exact", 0.1, False),
    (5.5, 5.59, "over", 0.1, True), (5.5, 5.49, "over", 0.1, False),
    # "over" is a lower bound (issue 15, point 5): 5.60 and 5.65 million are "over 5.5 million".
    (5.5, 5.60, "over", 0.1, True), (5.5, 5.65, "over", 0.1, True),
    (0.07, 0.0749, "around", 0.01, True),
    (0.07, 0.0751, "around", 0.01, False),
])
def test_within_rounding(claimed: float, ours: float, qualifier: str, precision: float,
                         ok: bool) -> None:
    assert within(claimed, ours, qualifier, precision) is ok  # type: ignore[arg-type]


def test_judge_reproduced_names_the_matching_year() -> None:
    cands = [Candidate(5.8, 2020, "r", "mid-2020"), Candidate(5.52, 2016, "r", "mid-2016")]
    verdict, ours, closest, reasons = judge(claim(5.5), cands, reference_period=2020)
    assert verdict == "reproduced"
    assert ours is not None and ours.period == 2020
    assert closest is not None and closest.period == 2016
    assert reasons[0].startswith("mid-2016 gives")


def test_judge_differs_reports_revisions_and_definition() -> None:
    cands = [Candidate(6.0, 2019, "a", "2019 (a)"), Candidate(6.4, 2019, "b", "2019 (b)")]
    verdict, _, closest, reasons = judge(claim(5.5), cands, reference_period=2019,
                                         definition="definition: x")
    assert verdict == "differs" and closest is not None and closest.value == 6.0
    assert any("releases revise 2019" in r for r in reasons)
    assert reasons[-1] == "definition: x"


def test_judge_without_data_cannot_check() -> None:
    assert judge(claim(5.5), [], reference_period=2019)[0] == "cannot be checked"


def test_membership_hits_and_consistency() -> None:
    c = claim(10.0, precision=1.0)
    cands = [Candidate(13.0, 2019, "r", "2019", parts=(("A", 3.0), ("B", 5.0), ("C", 5.0)))]
    assert list(membership_hits(c, cands)) == ["A"]
    other = {"x": {"A": "..."}, "y": {"A": "...", "B": "..."}}
    assert "leaving out A reproduces all 2" in membership_reason(other, "y")
    split = {"x": {"A": "..."}, "y": {"B": "..."}}
    assert "unlikely explanation" in membership_reason(split, "y")


def test_share_membership_hits_use_the_denominator() -> None:
    c = Claim("s", "004", "w", "population_share_gb", 0.10, "share", "exact", 0.01,
              network={"id": "key-cities"})
    # total 12 of 100 (12%); without A (2) it is 10%
    cands = [Candidate(0.12, 2019, "r", "2019", parts=(("A", 2.0), ("B", 10.0)),
                       denominator=100.0)]
    assert list(membership_hits(c, cands)) == ["A"]


def test_registry_has_the_issue_claims() -> None:
    docs, claims = load_claims()
    by = {(c.document, c.metric, c.value) for c in claims}
    for needed in [("004", "population", 5_500_000), ("004", "population_share_gb", 0.0848),
                   ("004", "jobs", 2_670_000), ("004", "gva", 122_300),
                   ("004", "gva_share_uk", 0.07), ("004", "businesses", 183_500),
                   ("000", "gva", 130_500), ("000", "population", 6_400_000),
                   ("000", "productivity_uplift", 258_000), ("002", "gva", 116_000),
                   ("002", "productivity_uplift", 214_000), ("002", "leave_share", 0.60),
                   ("002", "uk_leave_share", 0.52)]:
        assert needed in by, needed
    assert {c.document for c in claims} <= set(docs)


def test_registry_wording_is_verbatim_from_the_seeds() -> None:
    seeds = Path(__file__).parents[4] / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip("../shared/seeds is not beside the project")
    text = " ".join(p.read_text() for p in seeds.glob("*.txt")).replace("’", "'")
    text = " ".join(text.split())
    _, claims = load_claims()
    for c in claims:
        for piece in c.wording.split(" ... "):
            assert piece in text, (c.id, piece)


def test_registry_errors_are_named() -> None:
    doc = {"documents": {"x": {"title": "t", "date": "2020-01-01"}},
           "claims": [{"id": "a", "document": "x", "wording": "w", "metric": "nonsense",
                       "value": 1, "unit": "u", "qualifier": "exact", "precision": 1,
                       "network": {}}]}
    with pytest.raises(KeycitiesError, match="unknown metric 'nonsense'"):
        parse_claims(doc)


@pytest.mark.mirror
def test_audit_on_the_mirror(built_store: Path) -> None:
    from keycities.analysis.claims.from_store import audit_from_store
    from keycities.present.claims import audit_markdown
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        audit = audit_from_store(store)
    verdicts = {f.claim.id: f for f in audit.findings}
    assert all(f.verdict in ("reproduced", "consistent", "differs", "cannot be checked")
               for f in audit.findings)
    assert all(f.reasons for f in audit.findings)
    assert verdicts["d002-uk-leave-share"].verdict == "reproduced"
    assert verdicts["d004-member-count"].verdict == "reproduced"
    assert verdicts["d000-gva"].verdict == "cannot be checked"
    assert any("Scotland's GVA" in r for r in verdicts["d000-gva"].reasons)
    biz = verdicts["d004-businesses"]
    assert biz.verdict == "differs" and any("enterprises" in r for r in biz.reasons)
    pop = verdicts["d004-population"]
    assert any("fits 2019, 2020" in r for r in pop.reasons)
    report = audit_markdown(audit)
    assert report.startswith("# Key Cities claims audit") and "## Sources" in report


def test_over_claims_prefer_a_figure_inside_the_tolerance() -> None:
    # 122,250 is closer to the claim than 122,380 but below an "over 122,300" claim.
    c = claim(122_300, qualifier="over", precision=100, unit="£ million")
    cands = [Candidate(122_250, 2017, "a", "2017 (a)"), Candidate(122_380, 2016, "b", "2016 (b)")]
    verdict, _, closest, reasons = judge(c, cands, reference_period=2017)
    assert verdict == "reproduced" and closest is not None and closest.value == 122_380
    assert "rounded down" in reasons[0]


def test_over_claims_are_read_as_a_lower_bound_and_say_so() -> None:
    # "Over 5.5 million" against 5.65m and "over £122.3bn" against £123.2bn were DIFFERS.
    for value, ours, precision, unit in ((5_500_000, 5_650_000, 100_000, "persons"),
                                         (122_300, 123_200, 100, "£ million")):
        c = claim(value, qualifier="over", precision=precision, unit=unit)
        verdict, _, closest, reasons = judge(c, [Candidate(ours, 2019, "a", "2019 (a)")],
                                             reference_period=2019)
        assert verdict == "consistent" and closest is not None and closest.value == ours
        assert "read as a lower bound" in reasons[0] and "does not pin" in reasons[0]
        assert reading(c).startswith("a lower bound")
    below = claim(5_500_000, qualifier="over", precision=100_000)
    assert judge(below, [Candidate(5_400_000, 2019, "a", "2019")],
                 reference_period=2019)[0] == "differs"
    assert reading(claim(5_500_000, precision=100_000)) == "a figure rounded to the nearest 100,000"


def test_a_coarse_claim_says_it_cannot_date_its_data() -> None:
    c = claim(0.07, qualifier="around", precision=0.01, unit="share")
    cands = [Candidate(0.0705, 2015, "a", "2015"), Candidate(0.0745, 2019, "a", "2019")]
    verdict, _, _, reasons = judge(c, cands, reference_period=2019)
    assert verdict == "reproduced" and any("too coarse" in r for r in reasons)


@pytest.mark.mirror
def test_audit_candidates_match_independent_figures(built_store: Path) -> None:
    """Figures recomputed with pandas straight from the official files."""
    import datetime as dt

    from keycities.analysis._store import geography_from_store
    from keycities.analysis.claims.from_store import candidates
    from keycities.network.register import builtin_network
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        geo = geography_from_store(store)
        net = builtin_network("key-cities")
        pop = candidates(store, geo, net, dt.date(2021, 6, 1), "population", until=2019)
        gva = candidates(store, geo, net, dt.date(2021, 6, 1), "gva", until=2019)
    at = {(c.period, c.release_id): c.value for c in pop}
    assert at[(2019, "ons-mye-mid2020-lad2021")] == 5_830_802
    g = {(c.period, c.release_id): c.value for c in gva}
    assert g[(2015, "ons-gva-la-2023-04")] == pytest.approx(123_170, abs=5)
    assert g[(2019, "ons-gva-la-2023-04")] == pytest.approx(140_231, abs=1)
