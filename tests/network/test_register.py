"""The Key Cities register and the validation of users' network files."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from keycities.errors import KeycitiesError, RegisterError, UnknownPlaceError
from keycities.network.loader import load_network
from keycities.network.register import Membership, builtin_network


def test_key_cities_2021_has_the_25_brochure_members() -> None:
    members = builtin_network("key-cities").members_at(dt.date(2021, 6, 1))
    assert len(members) == 25
    assert {"E07000028", "E06000009", "E08000017"} <= set(members["code"])  # Carlisle etc.
    assert "E06000063" not in set(members["code"])


def test_key_cities_2024_has_the_26_lga_members() -> None:
    members = builtin_network("key-cities").members_at(dt.date(2024, 6, 1))
    assert len(members) == 26
    assert {"E06000063", "E07000071", "E06000038", "E06000021"} <= set(members["code"])
    assert not {"E06000009", "E08000017", "E07000028"} & set(members["code"])


def test_each_list_keeps_its_own_wording() -> None:
    net = builtin_network("key-cities")
    names_2021 = dict(zip(*net.members_at(dt.date(2021, 6, 1))[["code", "as_published"]]
                          .T.values, strict=True))
    names_2024 = dict(zip(*net.members_at(dt.date(2024, 6, 1))[["code", "as_published"]]
                          .T.values, strict=True))
    assert names_2021["E06000058"] == "BCP"
    assert names_2024["E06000058"] == "Bournemouth, Christchurch and Poole"
    assert names_2021["E06000033"] == "Southend"


def test_carlisle_leaves_when_abolished() -> None:
    net = builtin_network("key-cities")
    members = net.members_at(dt.date(2023, 6, 1))
    assert "E07000028" not in set(members["code"])
    assert len(members) == 24


def test_before_any_documented_list_is_an_error_citing_the_notes() -> None:
    with pytest.raises(KeycitiesError, match="24 mid-sized cities"):
        builtin_network("key-cities").members_at(dt.date(2019, 6, 1))


def test_unknown_builtin_network() -> None:
    with pytest.raises(KeycitiesError, match="Built-in networks: key-cities"):
        builtin_network("core-cities")


@dataclass(frozen=True)
class FakePlace:
    code: str
    name: str


class FakeResolver:
    known = {"hull": "E06000010", "sunderland": "E08000024", "e08000024": "E08000024"}

    def resolve(self, query: str, *, vintage: int | None = None) -> FakePlace:
        code = self.known.get(query.strip().lower())
        if code is None:
            raise UnknownPlaceError(query, ["Hull (E06000010)"])
        return FakePlace(code, query)


def test_csv_network_loads(tmp_path: Path) -> None:
    p = tmp_path / "mine.csv"
    p.write_text("place,joined,left\nHull,2020-01-01,\nSunderland,,2022-01-01\n")
    net = load_network(p, FakeResolver())
    assert [m.code for m in net.memberships] == ["E06000010", "E08000024"]
    assert len(net.members_at(dt.date(2021, 1, 1))) == 2
    assert len(net.members_at(dt.date(2023, 1, 1))) == 1


def test_csv_problems_are_all_reported_with_lines_and_nothing_loaded(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("place,joined,left\nHull,2020-13-01,\nAtlantis,,\n"
                 "Sunderland,2022-01-01,2021-01-01\nE08000024,,\n")
    with pytest.raises(RegisterError) as info:
        load_network(p, FakeResolver())
    problems = info.value.problems
    assert any(p.startswith("line 2:") and "not a date" in p for p in problems)
    assert any(p.startswith("line 3:") and "Atlantis" in p for p in problems)
    assert any(p.startswith("line 4:") and "not after" in p for p in problems)
    assert len(problems) == 3
    assert "nothing was loaded" in str(info.value)


def test_duplicate_overlapping_membership_is_reported(tmp_path: Path) -> None:
    p = tmp_path / "dup.csv"
    p.write_text("place\nSunderland\nE08000024\n")
    with pytest.raises(RegisterError, match="line 3: E08000024"):
        load_network(p, FakeResolver())


def test_yaml_network_reports_yaml_line_numbers(tmp_path: Path) -> None:
    p = tmp_path / "mine.yaml"
    p.write_text("id: mine\nname: My network\nmembers:\n  - place: Hull\n"
                 "  - place: Nowhere\n    joined: 2020-01-01\n")
    with pytest.raises(RegisterError, match="line 5: Unknown place 'Nowhere'"):
        load_network(p, FakeResolver())


def test_misspelt_field_is_named(tmp_path: Path) -> None:
    p = tmp_path / "typo.yaml"
    p.write_text("members:\n  - plase: Hull\n")
    with pytest.raises(RegisterError, match="line 2: unknown field.s. plase"):
        load_network(p, FakeResolver())


def test_csv_without_place_header(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("name\nHull\n")
    with pytest.raises(RegisterError, match="line 1: header must include 'place'"):
        load_network(p, FakeResolver())


def test_join_dates_say_what_is_known() -> None:
    """Issue 15, point 3: every member 'joined 2021-01-01', the date of the first list held."""
    net = builtin_network("key-cities")
    bath = next(m for m in net.memberships if m.code == "E06000022")
    colchester = next(m for m in net.memberships if m.code == "E07000071")
    assert not bath.joined_known and bath.joined == dt.date(2021, 1, 1)  # counted from
    assert bath.joined_text.startswith("member by 2021-01-01 at the latest (listed as a member "
                                       "in document 004")
    assert "joined between those dates" in colchester.joined_basis
    row = net.members_at(dt.date(2024, 6, 1)).set_index("code").loc["E06000022"]
    assert row["joined"] is None and row["member_by"] == dt.date(2021, 1, 1)
    history = net.memberships_frame()
    assert history["joined"].isna().all() and history["member_by"].notna().all()


def test_a_documented_join_date_is_shown_as_one() -> None:
    m = Membership("E08000024", "Sunderland", dt.date(2019, 4, 1), None, "council minute")
    assert m.joined_known and m.joined_text == "joined 2019-04-01"


def _package_resolver() -> object:
    from keycities.geography.names import PlaceResolver

    return PlaceResolver.from_package()


def test_network_files_follow_one_rule_for_names_codes_and_abolished_councils(
        tmp_path: Path) -> None:
    """Issue 15, point 15: codes shown as names; 'Newcastle' resolved silently while
    'Kingston' was refused; abolished councils loaded without dates, refused with them."""
    resolver = _package_resolver()
    ok = tmp_path / "ok.csv"
    ok.write_text("place,joined,left\nE08000024,,\nCarlisle,2015-01-01,2023-04-01\n")
    net = load_network(ok, resolver)  # type: ignore[arg-type]
    assert [m.as_published for m in net.memberships] == ["Sunderland", "Carlisle"]
    for rows, says in (("Carlisle\n", "does not exist on today (no `left` date is given)"),
                       ("Carlisle,,2024-01-01\n", "does not exist on its last day as a member"),
                       ("Newcastle\n", "'Newcastle' is ambiguous"),
                       ("Kingston\n", "'Kingston' is ambiguous")):
        bad = tmp_path / "bad.csv"
        bad.write_text("place,joined,left\n" + rows if "," in rows else "place\n" + rows)
        with pytest.raises(RegisterError) as info:
            load_network(bad, resolver)  # type: ignore[arg-type]
        assert any(says in p for p in info.value.problems), info.value.problems
