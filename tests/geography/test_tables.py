"""Tests of keycities.geography.tables: the geography prepared once for an analysis."""

from __future__ import annotations

import pandas as pd

from keycities.geography.areas import AREA_COLUMNS, lad_table, with_changes
from keycities.geography.tables import GeographyTables

# D -> E recoded in 2018, E -> G recoded in 2020; F unchanged.
D, E, F, G = "E07000004", "E07000005", "E07000006", "E07000007"


def _tables() -> GeographyTables:
    lads = pd.DataFrame([(D, 2016, 2017), (E, 2018, 2019), (F, 2016, None), (G, 2020, None)],
                        columns=["code", "vintage_start", "vintage_end"]).assign(name="x")
    ch = pd.DataFrame([(D, E, "new_code", 2018), (E, G, "new_code", 2020)],
                      columns=["old_code", "new_code", "type", "year"])
    ch = ch.assign(old_name=ch["old_code"], new_name=ch["new_code"])
    table = lad_table(lads.reindex(columns=list(AREA_COLUMNS)))
    return GeographyTables(with_changes(table, ch), ch, pd.DataFrame())


def test_recode_stale_follows_a_recode_chain_to_the_vintage() -> None:
    geo = _tables()
    codes = pd.Series([F, D], index=[10, 11], name="area_code")
    out = geo.recode_stale(codes, 2021)
    assert out.tolist() == [F, G] and out.index.tolist() == [10, 11]
    assert out.name == "area_code"
    assert geo.recode_stale(codes, 2019).tolist() == [F, E]
    assert codes.tolist() == [F, D]  # the input is left as it was


def test_recode_stale_keeps_codes_of_the_vintage_and_those_whose_successor_is_there() -> None:
    geo = _tables()
    assert geo.recode_stale(pd.Series([D, F]), 2017).tolist() == [D, F]  # D exists in 2017
    # E is already in the release: D's value is not E's, so D is left for the caller.
    assert geo.recode_stale(pd.Series([D, E]), 2019).tolist() == [D, E]
    assert geo.recode_stale(pd.Series([], dtype="str"), 2019).tolist() == []
