"""Tests of keycities.geography.names: what people write -> a LAD."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from keycities.errors import AmbiguousPlaceError, UnknownPlaceError
from keycities.geography.areas import AREA_COLUMNS, lad_table
from keycities.geography.names import (
    Place,
    PlaceNotInVintageError,
    PlaceResolver,
    loose_forms,
    normalise,
    package_aliases,
)

KEY_CITIES_2021 = [
    ("BCP", "E06000058"), ("Bath & NES", "E06000022"), ("Blackpool", "E06000009"),
    ("Bradford", "E08000032"), ("Carlisle", "E07000028"), ("Coventry", "E08000026"),
    ("Doncaster", "E08000017"), ("Exeter", "E07000041"), ("Gloucester", "E07000081"),
    ("Hull", "E06000010"), ("Kirklees", "E08000034"), ("Lancaster", "E07000121"),
    ("Lincoln", "E07000138"), ("Medway", "E06000035"), ("Newport", "W06000022"),
    ("Norwich", "E07000148"), ("Plymouth", "E06000026"), ("Portsmouth", "E06000044"),
    ("Preston", "E07000123"), ("Salford", "E08000006"), ("Southampton", "E06000045"),
    ("Southend", "E06000033"), ("Sunderland", "E08000024"), ("Wolverhampton", "E08000031"),
    ("Wrexham", "W06000006"),
]
KEY_CITIES_2024_ADDED = [
    ("Cumberland", "E06000063"), ("Colchester", "E07000071"), ("Reading", "E06000038"),
    ("Stoke-on-Trent", "E06000021"),
]
WRITTEN_FORMS = [
    ("Hull", "E06000010"), ("Kingston upon Hull", "E06000010"),
    ("Kingston-upon-Hull, City of", "E06000010"), ("Hull City Council", "E06000010"),
    ("Bath & NES", "E06000022"), ("Bath and North East Somerset", "E06000022"),
    ("BCP", "E06000058"), ("Bournemouth, Christchurch and Poole", "E06000058"),
    ("Bournemouth Christchurch & Poole Council", "E06000058"),
    ("Southend", "E06000033"), ("Southend-on-Sea", "E06000033"),
    ("Southend-on-Sea City Council", "E06000033"),
    ("Stoke", "E06000021"), ("Stoke-on-Trent", "E06000021"), ("stoke on trent", "E06000021"),
    ("Cumberland", "E06000063"), ("Cumberland Council", "E06000063"),
    ("Carlisle", "E07000028"), ("Carlisle City Council", "E07000028"),
    ("Newport", "W06000022"), ("Wrexham", "W06000006"),
    ("e06000058", "E06000058"), (" E08000032 ", "E08000032"),
    ("  SUNDERLAND  ", "E08000024"), ("City of Bradford", "E08000032"),
    ("Bradford Metropolitan District Council", "E08000032"),
    ("Wolverhampton City Council", "E08000031"), ("Kirklees Council", "E08000034"),
    ("Lancaster City Council", "E07000121"), ("Preston City Council", "E07000123"),
    ("Bristol", "E06000023"), ("City of Bristol", "E06000023"),
    ("London Borough of Camden", "E09000007"), ("City of London", "E09000001"),
    ("King’s Lynn and West Norfolk", "E07000146"),
]


@pytest.fixture(scope="module")
def package_resolver() -> PlaceResolver:
    return PlaceResolver.from_package()


# ------------------------------------------------------------------ normalising


def test_normalise_case_punctuation_ampersand() -> None:
    assert normalise("Kingston-upon-Hull, City of") == "kingston upon hull city of"
    assert normalise("  Bath  &  N.E.S. ") == "bath and n e s"
    assert normalise("King’s Lynn") == "kings lynn"
    assert normalise("Ynys Môn") == "ynys mon"


def test_loose_forms_strip_wrapping() -> None:
    assert loose_forms("bradford metropolitan district council") == ["bradford"]
    assert loose_forms("city of wolverhampton council") == ["city of wolverhampton",
                                                            "wolverhampton"]
    assert loose_forms("bristol city of") == ["bristol"]
    assert loose_forms("glasgow city") == ["glasgow"]
    assert loose_forms("camden") == []


def test_city_of_london_is_never_london() -> None:
    assert loose_forms("city of london") == []
    assert "london" not in loose_forms("city of london corporation council")


def test_package_aliases_each_have_a_reason() -> None:
    aliases = package_aliases()
    assert list(aliases.columns) == ["alias", "code", "note"]
    assert aliases["note"].str.len().min() > 10
    assert aliases["code"].str.match(r"^[EW]0\d{7}$").all()
    assert not aliases["alias"].duplicated().any()
    assert len(aliases) <= 20


# ------------------------------------------------------------------ package-only data


@pytest.mark.parametrize(("query", "code"), KEY_CITIES_2021 + KEY_CITIES_2024_ADDED)
def test_key_cities_resolve_from_package_data(package_resolver: PlaceResolver, query: str,
                                              code: str) -> None:
    assert package_resolver.resolve(query).code == code


@pytest.mark.parametrize(("query", "code"), WRITTEN_FORMS)
def test_written_forms_resolve(package_resolver: PlaceResolver, query: str, code: str) -> None:
    assert package_resolver.resolve(query).code == code


def test_place_fields(package_resolver: PlaceResolver) -> None:
    hull = package_resolver.resolve("Hull")
    assert isinstance(hull, Place)
    assert hull == Place(code="E06000010", name="Kingston upon Hull, City of",
                         vintage_start=2021, vintage_end=None, country_name="England",
                         region_name=None, matched_on="alias", note=hull.note)
    assert "Everyday name" in hull.note
    assert package_resolver.resolve("E06000010").matched_on == "code"
    assert package_resolver.resolve("Kingston upon Hull, City of").matched_on == "name"
    with pytest.raises(AttributeError):
        hull.code = "X"  # type: ignore[misc]


def test_resolve_many_keeps_order(package_resolver: PlaceResolver) -> None:
    places = package_resolver.resolve_many(["Stoke", "Hull", "BCP"])
    assert [p.code for p in places] == ["E06000021", "E06000010", "E06000058"]


def test_unknown_name_lists_close_names_with_codes(package_resolver: PlaceResolver) -> None:
    with pytest.raises(UnknownPlaceError, match=r"Newcastle upon Tyne \(E08000021\)") as err:
        package_resolver.resolve("Newcastle")
    assert "Newcastle-under-Lyme (E07000195)" in err.value.suggestions


def test_unknown_misspelling_suggests_the_place(package_resolver: PlaceResolver) -> None:
    with pytest.raises(UnknownPlaceError, match=r"Did you mean: Wolverhampton \(E08000031\)"):
        package_resolver.resolve("Wolverhamptn")


def test_unknown_code(package_resolver: PlaceResolver) -> None:
    with pytest.raises(UnknownPlaceError, match="Unknown place 'E06999999'"):
        package_resolver.resolve("E06999999")


def test_london_is_not_the_city_of_london(package_resolver: PlaceResolver) -> None:
    with pytest.raises(UnknownPlaceError, match=r"City of London \(E09000001\)"):
        package_resolver.resolve("London")


def test_reused_name_prefers_current_code(package_resolver: PlaceResolver) -> None:
    barnsley = package_resolver.resolve("Barnsley")
    assert barnsley.code == "E08000038"
    assert "E08000016" in barnsley.note
    assert package_resolver.resolve("Barnsley", vintage=2022).code == "E08000016"


def test_package_list_starting_in_2021_does_not_deny_earlier_vintages(
        package_resolver: PlaceResolver) -> None:
    hull = package_resolver.resolve("Hull", vintage=2019)
    assert hull.code == "E06000010"
    assert "first lists it in 2021" in hull.note
    with pytest.raises(PlaceNotInVintageError,
                       match=r"Bournemouth, Christchurch and Poole \(E06000058\) was created in "
                             r"2019; in 2018 its area was Bournemouth \(E06000028\)"):
        package_resolver.resolve("BCP", vintage=2018)
    assert package_resolver.resolve("Bournemouth", vintage=2018).code == "E06000028"


def test_package_vintage_error_says_what_it_became(package_resolver: PlaceResolver) -> None:
    with pytest.raises(PlaceNotInVintageError,
                       match=r"Carlisle \(E07000028\) was abolished in 2023; in 2023 its area "
                             r"is part of Cumberland \(E06000063\)"):
        package_resolver.resolve("Carlisle", vintage=2023)


# ------------------------------------------------------------------ tiny fixture


def _lads() -> pd.DataFrame:
    rows = [
        ("E07000028", "Carlisle", 2016, None), ("E07000026", "Allerdale", 2016, None),
        ("E07000029", "Copeland", 2016, None), ("E06000063", "Cumberland", 2023, None),
        ("S12000015", "Fife", 2016, 2017), ("S12000047", "Fife", 2018, None),
        ("E07000901", "Twinton", 2016, None), ("E07000902", "Twinton", 2016, None),
        ("E07000903", "Oldham Vale", 2016, 2017), ("E07000904", "Oldham Vale", 2010, 2012),
    ]
    df = pd.DataFrame(rows, columns=["code", "name", "vintage_start", "vintage_end"])
    return lad_table(df.reindex(columns=list(AREA_COLUMNS)))


CHANGES = pd.DataFrame({
    "old_code": ["E07000026", "E07000028", "E07000029", "S12000015"],
    "old_name": ["Allerdale", "Carlisle", "Copeland", "Fife"],
    "new_code": ["E06000063", "E06000063", "E06000063", "S12000047"],
    "new_name": ["Cumberland", "Cumberland", "Cumberland", "Fife"],
    "type": ["merger", "merger", "merger", "new_code"],
    "year": [2023, 2023, 2023, 2018],
})
NO_ALIASES = pd.DataFrame(columns=["alias", "code"])


@pytest.fixture
def resolver() -> PlaceResolver:
    aliases = pd.DataFrame({"alias": ["The Border City", "Nowhere"],
                            "code": ["e07000028", "E09999999"]})
    return PlaceResolver(_lads(), aliases, changes=CHANGES, include_package_aliases=False)


def test_alias_rows_from_the_store(resolver: PlaceResolver) -> None:
    place = resolver.resolve("the border city")
    assert (place.code, place.matched_on) == ("E07000028", "alias")
    with pytest.raises(UnknownPlaceError):
        resolver.resolve("Nowhere")  # alias of a code the table lacks


def test_ambiguous_name_lists_candidates_with_codes_and_years(resolver: PlaceResolver) -> None:
    with pytest.raises(AmbiguousPlaceError,
                       match=r"Twinton \(E07000901, 2016–\); Twinton \(E07000902, 2016–\)"):
        resolver.resolve("Twinton")


def test_reused_name_with_no_current_code_is_ambiguous(resolver: PlaceResolver) -> None:
    with pytest.raises(AmbiguousPlaceError, match=r"E07000903, 2016–2017.*E07000904, 2010–2012"):
        resolver.resolve("Oldham Vale")
    assert resolver.resolve("Oldham Vale", vintage=2016).code == "E07000903"


def test_recoded_name_prefers_current_and_says_so(resolver: PlaceResolver) -> None:
    fife = resolver.resolve("Fife")
    assert fife.code == "S12000047"
    assert "S12000015 (2016–2017)" in fife.note
    assert resolver.resolve("fife", vintage=2016).code == "S12000015"


def test_abolished_place_in_later_vintage(resolver: PlaceResolver) -> None:
    msg = (r"^Carlisle \(E07000028\) was abolished in 2023; in 2023 its area is part of "
           r"Cumberland \(E06000063\)\.")
    with pytest.raises(PlaceNotInVintageError, match=msg) as err:
        resolver.resolve("Carlisle", vintage=2023)
    assert err.value.suggestions == ["Cumberland (E06000063)"]
    assert isinstance(err.value, UnknownPlaceError)


def test_new_place_in_earlier_vintage_says_what_it_came_from(resolver: PlaceResolver) -> None:
    with pytest.raises(PlaceNotInVintageError,
                       match=r"Cumberland \(E06000063\) was created in 2023; in 2019 its area "
                             r"was Allerdale \(E07000026\), Carlisle \(E07000028\), "
                             r"Copeland \(E07000029\)"):
        resolver.resolve("Cumberland", vintage=2019)


def test_recode_in_vintage_error(resolver: PlaceResolver) -> None:
    with pytest.raises(PlaceNotInVintageError,
                       match=r"Fife \(S12000047\) took its code in 2018; in 2017 it was "
                             r"Fife \(S12000015\)"):
        resolver.resolve("S12000047", vintage=2017)


def test_place_in_its_vintage_resolves(resolver: PlaceResolver) -> None:
    assert resolver.resolve("Carlisle", vintage=2022).code == "E07000028"
    assert resolver.resolve("Cumberland", vintage=2023).code == "E06000063"


# ------------------------------------------------------------------ mirror-built tables


def _mirror_area_rows(mirror: Path) -> pd.DataFrame:
    """Area rows as the readers produce them, read with plain pandas."""
    ons = mirror / "lad_lookups/ons_official"
    frames = []
    for year, kind, label in [(2016, "Country", "December_2016"), (2018, "Country",
                              "December_2018"), (2019, "Country", "April_2019"),
                              (2019, "Region", "April_2019"), (2020, "Region",
                              "December_2020")]:
        where = "the_United_Kingdom" if kind == "Country" else "England"
        name = f"Local_Authority_District_to_{kind}_({label})_Lookup_in_{where}.csv"
        df = pd.read_csv(ons / name, encoding="utf-8-sig")
        yy = str(year)[2:]
        prefix, column = ("RGN", "region") if kind == "Region" else ("CTRY", "country")
        frames.append(pd.DataFrame({
            "code": df[f"LAD{yy}CD"], "name": df[f"LAD{yy}NM"], "vintage_start": year,
            "vintage_end": year, f"{column}_code": df[f"{prefix}{yy}CD"],
            f"{column}_name": df[f"{prefix}{yy}NM"]}))
    lad23 = pd.read_csv(ons / "LAD23_to_RGN23_Lookup_in_England.csv", encoding="utf-8-sig")
    frames.append(pd.DataFrame({"code": lad23["LAD23CD"], "name": lad23["LAD23NM"],
                                "vintage_start": 2023, "vintage_end": 2023,
                                "region_code": lad23["RGN23CD"],
                                "region_name": lad23["RGN23NM"]}))
    dk = pd.read_csv(mirror / "lad_lookups/compiled/drkane_la_all_codes.csv")
    frames.append(pd.DataFrame({"code": dk["LADCD"], "name": dk["LADNM"],
                                "region_code": dk["RGNCD"], "region_name": dk["RGNNM"],
                                "country_code": dk["CTRYCD"], "country_name": dk["CTRYNM"]}))
    return pd.concat(frames, ignore_index=True).reindex(columns=list(AREA_COLUMNS))


def _mirror_changes(mirror: Path) -> pd.DataFrame:
    path = mirror / "lad_lookups/compiled/ONSvisual_lad_changes_2018_2025.csv"
    return pd.read_csv(path, encoding="utf-8-sig").rename(columns={
        "oldcd": "old_code", "oldnm": "old_name", "newcd": "new_code", "newnm": "new_name",
        "start": "year"})


@pytest.fixture(scope="module")
def mirror_resolver(mirror: Path) -> PlaceResolver:
    return PlaceResolver(lad_table(_mirror_area_rows(mirror)), NO_ALIASES,
                         changes=_mirror_changes(mirror))


@pytest.mark.mirror
@pytest.mark.parametrize(("query", "code"), KEY_CITIES_2021 + KEY_CITIES_2024_ADDED)
def test_key_cities_resolve_from_mirror_tables(mirror_resolver: PlaceResolver, query: str,
                                               code: str) -> None:
    place = mirror_resolver.resolve(query)
    assert place.code == code
    assert place.country_name in {"England", "Wales"}
    if code.startswith("E"):
        assert place.region_name


@pytest.mark.mirror
@pytest.mark.parametrize(("query", "code"), WRITTEN_FORMS)
def test_written_forms_resolve_from_mirror_tables(mirror_resolver: PlaceResolver, query: str,
                                                  code: str) -> None:
    assert mirror_resolver.resolve(query).code == code


@pytest.mark.mirror
def test_mirror_vintage_rules(mirror_resolver: PlaceResolver) -> None:
    assert mirror_resolver.resolve("Bournemouth", vintage=2016).code == "E06000028"
    assert mirror_resolver.resolve("Fife").code == "S12000047"
    assert mirror_resolver.resolve("Northumberland").code == "E06000057"
    assert mirror_resolver.resolve("Glasgow").code == "S12000049"
    assert mirror_resolver.resolve("Hull", vintage=2016).region_name == "Yorkshire and The Humber"
    with pytest.raises(PlaceNotInVintageError,
                       match=r"Bournemouth \(E06000028\) was abolished in 2019; in 2023 its "
                             r"area is part of Bournemouth, Christchurch and Poole "
                             r"\(E06000058\)"):
        mirror_resolver.resolve("Bournemouth", vintage=2023)
    with pytest.raises(PlaceNotInVintageError,
                       match=r"Carlisle \(E07000028\) was abolished in 2023; in 2023 its area "
                             r"is part of Cumberland \(E06000063\)"):
        mirror_resolver.resolve("Carlisle", vintage=2023)
