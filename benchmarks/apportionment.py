"""Back-test of apportionment: former districts' figures estimated from their successors.

For every district merged between 2019 and 2023, keycities estimates its mid-2011 and
mid-2018 population and its 2018 GVA from its merged successor's figure as the tool would
(:func:`keycities.analysis._store.backtest_from_store`: the successor's figure from the
newest release that has it, the parts' own figures for that year withheld), with each
split method: postcode counts (the method before issue 15), the parts' own shares of the
same measure in the nearest year, shares of a related measure, and the three in order
("as used", what the tool does now).  Each estimate is compared with the official value,
read here with pandas straight from the mirror files (not through keycities' readers):

* population: ``MYE4`` of the mid-2021 (mid-2011) and mid-2020 (mid-2018) releases, 2021
  boundaries; districts gone by 2021 (Buckinghamshire, Northamptonshire): Table 6
  (resident population) of the December 2019 local-authority GDP workbook, 2019 boundaries;
* GVA: Table 1 of the April 2023 edition (2021 boundaries), else of December 2019.

Reported per measure, year and method: districts, mean and worst absolute error, and the
ratios mean / target and worst / target (targets: mean under 2% for population and 5% for
GVA, worst under 10%; below 1 meets it).  Also reported: the subsets of issue 15's
"before" figures, and a check of the related measure used for filled jobs (districts of
each two-tier county in 2021: how far each one's share of the county's population or GVA
is from its share of its filled jobs).  Districts merged in 2019 (BCP, Dorset, East and
West Suffolk, Somerset West and Taunton) have no official population or GVA on their own
boundaries in the mirror, so they cannot be tested; the count is printed.

Usage::

    KEYCITIES_MIRROR=../shared/data uv run python benchmarks/apportionment.py [--store PATH]

Without ``--store`` a store is built from the mirror into a temporary directory (~20 s).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

TARGET_MEAN = {"population": 0.02, "gva_current_prices": 0.05}
TARGET_WORST = 0.10
MYE = "ons_mid_year_population_estimates"
GVA = "ons_regional_gdp_gva_local_authorities"


def _wide(path: Path, code: str, prefix: str = "") -> pd.DataFrame:
    """A wide CSV as numbers indexed by code, columns by year."""
    df = pd.read_csv(path, dtype=str).set_index(code)
    years = {c: int(c.removeprefix(prefix)) for c in df.columns
             if c.removeprefix(prefix).isdigit()}
    out = df[list(years)].rename(columns=years)
    return out.apply(lambda s: pd.to_numeric(s.str.replace(",", ""), errors="coerce"))


def officials(mirror: Path) -> dict[tuple[str, int], pd.Series]:
    """(measure, year) -> official value by district code, newest release first."""
    mye21 = _wide(mirror / MYE / "MYE4_population_mid2001_mid2011_mid2021_geog2021.csv",
                  "Code", "Mid-")
    mye20 = _wide(mirror / MYE / "MYE4_population_mid2001_to_mid2020_geog2021.csv",
                  "Code", "Mid-")
    dec19 = mirror / GVA / "release_2019-12-19_1998to2018"
    apr23 = mirror / GVA / "release_2023-04-25_1998to2021"
    ra19 = _wide(dec19 / "table_06.csv", "LA code")
    gva19 = _wide(dec19 / "table_01.csv", "LA code")
    gva23 = _wide(apr23 / "table_01.csv", "LA code")

    def first(*series: pd.Series) -> pd.Series:
        out = series[0].dropna()
        for s in series[1:]:
            out = pd.concat([out, s.dropna()[~s.dropna().index.isin(out.index)]])
        return out

    return {("population", 2011): first(mye21[2011], ra19[2011]),
            ("population", 2018): first(mye20[2018], ra19[2018]),
            ("gva_current_prices", 2018): first(gva23[2018], gva19[2018])}


def estimates(store_path: Path) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """keycities' back-test estimates and the merged groups of 2019-2023."""
    from keycities.analysis._store import backtest_from_store, geography_from_store
    from keycities.geography.backtest import merged_groups
    from keycities.store.store import Store

    with Store(store_path, read_only=True) as store:
        t = time.perf_counter()
        detail = backtest_from_store(store)
        print(f"(keycities back-test: {time.perf_counter() - t:.2f} s)")
        groups = merged_groups(geography_from_store(store).changes)
    return detail, groups


def table(detail: pd.DataFrame, truth: dict[tuple[str, int], pd.Series]) -> pd.DataFrame:
    """Per measure, year and method: districts, mean and worst |error| against the mirror."""
    rows = []
    for (measure, year, method), g in detail.groupby(["measure", "period", "method"],
                                                      sort=False):
        off = g["code"].map(truth[(measure, year)])
        err = (g["estimate"] / off - 1).abs()
        worst = g.loc[err.idxmax(), "code"]
        rows.append({"measure": measure, "year": year, "method": method,
                     "districts": int(err.notna().sum()), "mean": err.mean(),
                     "worst": err.max(), "worst_code": worst,
                     "tool_vs_mirror": float((g["official"] - off).abs().max())})
    order = {"postcodes": 0, "own": 1, "related": 2, "as used": 3}
    out = pd.DataFrame(rows)
    out = out.assign(_m=out["measure"] != "population", _o=out["method"].map(order))
    return out.sort_values(["_m", "year", "_o"]).drop(columns=["_m", "_o"])


def _fmt(df: pd.DataFrame) -> str:
    show = df.assign(mean=df["mean"].map("{:.1%}".format),
                     worst=df["worst"].map("{:.1%}".format))
    return show.to_string(index=False)


def proxies(mirror: Path, year: int = 2021) -> pd.DataFrame:
    """Within each two-tier county (April 2021), how far a district's share of the county's
    population or GVA is from its share of its filled jobs."""
    lookup = mirror / "lad_lookups" / "ons_official"
    county = pd.read_csv(lookup / "Local_Authority_District_to_County_(April_2021)_Lookup_"
                         "in_England.csv", dtype=str, encoding="utf-8-sig")
    county = county.set_index("LAD21CD")["CTY21CD"]
    jobs = _wide(mirror / "ons_subregional_productivity" /
                 "productivity_filled_jobs_2002_2022.csv", "LAD_Code", "Jobs_")[year]
    pop = _wide(mirror / MYE / "MYE4_population_mid2001_mid2011_mid2021_geog2021.csv",
                "Code", "Mid-")[year]
    gva = _wide(mirror / GVA / "release_2023-04-25_1998to2021" / "table_01.csv",
                "LA code")[year]
    d = pd.DataFrame({"county": county, "jobs": jobs, "population": pop, "gva": gva}).dropna()
    d = d[d.groupby("county")["jobs"].transform("size") > 1]
    rows = []
    for proxy in ("population", "gva"):
        share = d[proxy] / d.groupby("county")[proxy].transform("sum")
        truth = d["jobs"] / d.groupby("county")["jobs"].transform("sum")
        err = (share / truth - 1).abs()
        rows.append({"filled jobs estimated by shares of": proxy, "districts": len(d),
                     "mean": err.mean(), "worst": err.max()})
    return pd.DataFrame(rows)


def main() -> None:
    """Run the back-test and print the tables and the ratios to target."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, help="a store built from the mirror")
    args = ap.parse_args()
    mirror = os.environ.get("KEYCITIES_MIRROR")
    if not mirror or not Path(mirror).is_dir():
        sys.exit("Set KEYCITIES_MIRROR to the mirror of official files (e.g. ../shared/data).")
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or _build(Path(mirror), Path(tmp))
        detail, groups = estimates(store)
    truth = officials(Path(mirror))
    out = table(detail, truth)
    print("Apportionment back-test (error = estimate / official - 1):")
    print(_fmt(out.drop(columns="tool_vs_mirror")))
    print(f"largest difference between keycities' official values and the mirror's: "
          f"{out['tool_vs_mirror'].max():g}")
    _subsets(detail, truth, groups)
    used = out[out["method"] == "as used"]
    for r in used.itertuples():
        target = TARGET_MEAN[r.measure]
        print(f"as used, {r.measure} {r.year}: mean {r.mean:.2%} (ratio {r.mean / target:.2f} "
              f"of the {target:.0%} target), worst {r.worst:.2%} (ratio "
              f"{r.worst / TARGET_WORST:.2f} of {TARGET_WORST:.0%})")
    tested = set(detail["code"])
    untested = sorted({p for ps in groups.values() for p in ps} - tested)
    print(f"not testable (no official value on their own boundaries in the mirror): "
          f"{len(untested)} districts: {', '.join(untested)}")
    print("\nRelated measure for filled jobs (districts within each two-tier county, 2021):")
    print(_fmt(proxies(Path(mirror))))


def _subsets(detail: pd.DataFrame, truth: dict[tuple[str, int], pd.Series],
             groups: dict[str, list[str]]) -> None:
    """The subsets issue 15 quotes: 2023 mergers for mid-2011; 2020-21 for 2018."""
    of_2023 = {p for w, ps in groups.items() if w in {"E06000063", "E06000064", "E06000065",
                                                       "E06000066"} for p in ps}
    bucks_northants = {p for w, ps in groups.items()
                       if w in {"E06000060", "E06000061", "E06000062"} for p in ps}
    print("\nSubsets quoted in issue 15 (postcodes = before, as used = after):")
    for (measure, year), codes in {("population", 2011): of_2023,
                                   ("population", 2018): bucks_northants,
                                   ("gva_current_prices", 2018): bucks_northants}.items():
        sub = detail[(detail["measure"] == measure) & (detail["period"] == year)
                     & detail["code"].isin(codes)
                     & detail["method"].isin(["postcodes", "as used"])]
        print(_fmt(table(sub, truth).drop(columns="tool_vs_mirror")))


def _build(mirror: Path, root: Path) -> Path:
    from keycities.settings import Settings
    from keycities.store.build import build_store
    from keycities.store.store import Store

    settings = Settings(store=root / "k.duckdb", mirror=mirror, cache=root / "cache",
                        offline=True)
    with Store(settings.store) as store:
        build_store(store, settings)
    return settings.store


if __name__ == "__main__":
    main()
