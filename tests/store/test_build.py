"""A full build from the mirror: official values, provenance, idempotence; and offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from keycities.settings import Settings
from keycities.store.build import build_store
from keycities.store.store import Store


def value(store: Store, sql: str, params: list[object]) -> float:
    df = store.query(sql, params)
    assert len(df) == 1, df
    return float(df.iloc[0, 0])


FACT = ("SELECT value FROM fact WHERE area_code = ? AND measure = ? AND period = ? "
        "AND release_id = ?")


@pytest.mark.mirror
def test_official_values(built_store: Path) -> None:
    with Store(built_store, read_only=True) as s:
        assert value(s, FACT, ["E08000024", "eu_ref_leave", 2016, "ec-eu-referendum-2016"]) \
            == 82_394
        assert value(s, FACT, ["E08000024", "eu_ref_remain", 2016, "ec-eu-referendum-2016"]) \
            == 51_930
        assert value(s, FACT, ["E08000032", "population", 2020, "ons-mye-mid2020-lad2021"]) \
            == 542_128
        total = value(s, "SELECT sum(value) FROM fact WHERE measure = 'gva_current_prices' "
                         "AND period = 2021 AND release_id = 'ons-gva-la-2023-04'", [])
        assert abs(total - 2_025_600) <= 10  # published UK less Extra-Regio, £m (rounding)


@pytest.mark.mirror
def test_every_value_names_a_loaded_release(built_store: Path) -> None:
    with Store(built_store, read_only=True) as s:
        orphans = s.query("SELECT DISTINCT release_id FROM fact WHERE release_id NOT IN "
                          "(SELECT id FROM release)")
        assert orphans.empty
        prov = s.loaded_releases()
        assert prov["sha256"].str.len().eq(64).all() and prov["url"].str.startswith("http").all()


@pytest.mark.mirror
@pytest.mark.parametrize(("vintage", "count"), [(2016, 391), (2019, 382), (2020, 379),
                                                 (2021, 374), (2023, 361), (2025, 361)])
def test_lads_per_vintage(built_store: Path, vintage: int, count: int) -> None:
    from keycities.geography.areas import areas_in_vintage, lad_table, with_changes

    with Store(built_store, read_only=True) as s:
        lads = with_changes(lad_table(s.table("area")), s.table("change"))
    assert len(areas_in_vintage(lads, vintage)) == count


@pytest.mark.mirror
def test_derived_tables(built_store: Path) -> None:
    with Store(built_store, read_only=True) as s:
        assert len(s.table("postcode_profile")) == 361
        w = s.table("split_weight")
        assert {"E07000028", "E06000028", "E06000029", "E07000048"} <= set(w["code"])


@pytest.mark.mirror
def test_rebuild_is_idempotent_and_one_source_rebuilds_alone(mirror: Path,
                                                             tmp_path: Path) -> None:
    settings = Settings(store=tmp_path / "k.duckdb", mirror=mirror, cache=tmp_path / "c",
                        offline=True)
    with Store(settings.store) as s:
        first = build_store(s, settings, only=["imd", "referendum"])
        assert {o.status for o in first.outcomes if o.source != "authorities"} == {"loaded"}
        before = s.loaded_releases().set_index("id")["loaded_at"]
        facts = len(s.table("fact"))
        again = build_store(s, settings, only=["imd", "referendum"])
        assert {o.status for o in again.outcomes} == {"unchanged"}
        forced = build_store(s, settings, only=["imd"], force=True)
        assert [o.status for o in forced.outcomes] == ["loaded"]
        after = s.loaded_releases().set_index("id")["loaded_at"]
        assert after["ec-eu-referendum-2016"] == before["ec-eu-referendum-2016"]
        assert after["mhclg-iod2019-lad-summaries"] > before["mhclg-iod2019-lad-summaries"]
        assert len(s.table("fact")) == facts


def test_offline_without_mirror_builds_package_data_and_lists_the_rest(
        tmp_path: Path) -> None:
    settings = Settings(store=tmp_path / "k.duckdb", cache=tmp_path / "c", offline=True,
                        mirror=None)
    with Store(settings.store) as s:
        report = build_store(s, settings)
        assert report.ok
        statuses = {o.source: o.status for o in report.outcomes}
        assert statuses["authorities"] == "loaded" and statuses["postcodes"] == "loaded"
        assert statuses["population"] == "missing"
        missing = report.by_status("missing")
        assert all("KEYCITIES_MIRROR" in o.message for o in missing
                   if o.source != "split_weights")
        assert len(s.table("postcode_profile")) == 361
