"""Tests of the ONS Explore Local Statistics reader on the mirror of the official files.

They skip, saying why, when ``KEYCITIES_MIRROR`` is not set (see ``tests/conftest.py``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from keycities.geography.areas import LAD_PREFIXES
from keycities.sources import els
from keycities.sources.base import sha256_file

pytestmark = pytest.mark.mirror

TOOL = Path(__file__).parents[2] / "tools" / "els_catalog.py"


@pytest.fixture(scope="module")
def mirror_read(mirror: Path) -> els.MirrorRead:
    """Every catalogued ELS file of the mirror, read once."""
    return els.read_mirror(mirror)


def official(read: els.MirrorRead, indicator: str, area: str, period: str) -> pd.Series:
    v = read.values
    rows = v[(v["indicator"] == indicator) & (v["area_code"] == area) & (v["period"] == period)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_every_catalogued_file_has_its_hash(mirror: Path) -> None:
    wrong = [(r.mirror_path, sha256_file(mirror / str(r.mirror_path)))
             for r in els.all_releases() if sha256_file(mirror / str(r.mirror_path)) != r.sha256]
    assert wrong == []


def test_every_file_reads_or_says_why(mirror_read: els.MirrorRead) -> None:
    assert mirror_read.unread == [(f"{els.FOLDER}/{p}", why) for p, why in els.ABSENT]
    assert set(mirror_read.values["release_id"]) == {r.id for r in els.RELEASES}
    assert set(mirror_read.meta["release_id"]) == {r.id for r in els.RELEASES}


def test_ids_unique_and_described(mirror_read: els.MirrorRead) -> None:
    meta = mirror_read.meta
    assert not meta["indicator"].duplicated().any()
    assert set(meta["indicator"]) == set(mirror_read.values["indicator"])
    assert meta["unit"].notna().all() and meta["label"].notna().all()
    assert not mirror_read.values.duplicated(["indicator", "area_code", "period"]).any()
    assert len(meta) == 90


def test_official_values(mirror_read: els.MirrorRead) -> None:
    # Sunderland (a Key Cities member): Claimant Count 2025, from claimant-count.csv.
    assert official(mirror_read, "claimant-count", "E08000024", "2025-01-01/P1Y")["value"] == 3.9
    # Hull: Claimant Count 2025.
    assert official(mirror_read, "claimant-count", "E06000010", "2025-01-01/P1Y")["value"] == 5.6
    # Sunderland: healthy life expectancy 2022 to 2024, with 95% intervals.
    f = official(mirror_read, "female-healthy-life-expectancy", "E08000024", "2022-01-01/P3Y")
    m = official(mirror_read, "male-healthy-life-expectancy", "E08000024", "2022-01-01/P3Y")
    assert (f["value"], f["lower"], f["upper"]) == (56.3, 53.0, 59.7)
    assert (m["value"], m["lower"], m["upper"]) == (56.4, 53.4, 59.4)
    # England: gross median weekly pay, April 2025 (ASHE reference date 30 April).
    pay = official(mirror_read, "gross-median-weekly-pay", "E92000001", "2025-04-30")
    assert pay["value"] == 648.4 and pay["geography"] == "Nation"
    assert pay["lower"] == pytest.approx(645.858272) and pay["upper"] == pytest.approx(650.941728)


def test_suppressed_values_keep_their_status(mirror_read: els.MirrorRead) -> None:
    v = mirror_read.values
    flagged = v[v["status"].notna()]
    assert set(flagged["status"]) == {"x", "u", "c", "z"}
    assert flagged["value"].isna().all()


def lad_counts(values: pd.DataFrame) -> pd.DataFrame:
    """Districts with a value: in each indicator's latest period with any, and in any period."""
    lads = values[values["value"].notna() & values["area_code"].str[:3].isin(LAD_PREFIXES)]
    start = lads["period"].str[:10]
    latest = lads[start == start.groupby(lads["indicator"]).transform("max")]
    return pd.DataFrame({"latest": latest.groupby("indicator")["area_code"].nunique(),
                         "any": lads.groupby("indicator")["area_code"].nunique()})


def test_indicators_with_300_districts(mirror_read: els.MirrorRead,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    counts = lad_counts(mirror_read.values)
    latest, any_period = int((counts["latest"] >= 300).sum()), int((counts["any"] >= 300).sum())
    with capsys.disabled():
        print(f"\nELS indicators with values for >= 300 LADs: {latest} in their latest period, "
              f"{any_period} in any period (of {len(mirror_read.meta)} indicators)")
    # England-only indicators stop at 296 districts (2023 boundaries), below 300.
    assert counts.at["claimant-count", "latest"] == 361
    assert counts.at["apprenticeship-starts-england", "latest"] == 296
    assert (latest, any_period) == (50, 61)


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("els_catalog_tool", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_catalog_is_up_to_date(mirror: Path) -> None:
    generated = (Path(els.__file__).parent / "data" / "els_files.csv").read_text(encoding="utf-8")
    assert _tool().render(mirror) == generated, (
        "src/keycities/sources/data/els_files.csv is stale: run "
        ".venv/bin/python tools/els_catalog.py $KEYCITIES_MIRROR")
