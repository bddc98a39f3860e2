"""The library file: the packaged one is complete and consistent; bad files say what is wrong."""

from __future__ import annotations

import pytest

from keycities.analysis.indicators.library import load_library, parse_library
from keycities.analysis.indicators.params import WORK_AREA, work_area
from keycities.errors import KeycitiesError


def test_the_packaged_library_is_consistent() -> None:
    lib = load_library()
    assert len(lib) > 150
    assert {e.area for e in lib} == set(WORK_AREA.values)  # every work area has indicators
    for e in lib:
        assert all(r in lib for r in e.references), e.id
        if e.combine == "weighted_mean":
            assert e.weight and e.why, e.id
        if e.combine == "ratio":
            assert e.numerator and e.denominator, e.id


def test_medians_and_life_expectancies_are_not_combined() -> None:
    lib = load_library()
    for ident in ("gross-median-weekly-pay", "female-healthy-life-expectancy",
                  "housing-affordability-ratio-residence-based", "electricity-consumption"):
        assert lib.get(ident).combine == "none", ident
    assert lib.get("claimant-count").rate_times == "population-aged-16-64"


def test_unknown_id_lists_the_closest() -> None:
    with pytest.raises(KeycitiesError, match="Closest: claimant-count"):
        load_library().get("claimant-cont")


@pytest.mark.parametrize(("doc", "problem"), [
    ("indicators:\n  x: {area: sport, direction: neither, combine: sum, coverage: lad}",
     "area 'sport' is not one of"),
    ("indicators:\n  x: {area: culture, direction: neither, combine: ratio, numerator: y, "
     "coverage: lad}", "combine ratio needs denominator"),
    ("indicators:\n  x: {area: culture, direction: up, combine: sum, coverage: lad}",
     "direction 'up'"),
    ("indicators:\n  x: {area: culture, direction: neither, combine: ratio, numerator: y,"
     " denominator: z, coverage: lad}", "refers to 'y', which the library does not have"),
    ("indicators:\n  x: {area: culture, direction: neither, combine: weighted_mean, "
     "weight: y, why: w, coverage: lad}\n  y: {area: culture, direction: neither, "
     "combine: none, coverage: lad}", "its weight 'y' is not combined by summing"),
    ("indicators:\n  x: {area: culture, direction: neither, combine: sum, coverage: lad, "
     "weight: y}", "weight is only used with combine weighted_mean"),
    ("indicators:\n  x: {area: culture, direction: neither, combine: sum, coverage: lad, "
     "colour: red}", "unknown field 'colour'"),
    ("indicator:\n  x: {}", "unknown section 'indicator'"),
])
def test_bad_library_files_say_what_is_wrong(doc: str, problem: str) -> None:
    with pytest.raises(KeycitiesError, match=problem):
        parse_library(doc)


def test_work_area_by_id_label_or_beginning() -> None:
    assert work_area("health") == "health-and-social-care"
    assert work_area("Young people, skills and education") == \
        "young-people-skills-and-education"
    assert work_area("transport") == "transport"
    with pytest.raises(KeycitiesError, match="matches several work areas: use one of culture"):
        work_area("c")
    with pytest.raises(KeycitiesError, match="is not a work area"):
        work_area("sport")
