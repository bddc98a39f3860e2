"""Store adapters shared by several capabilities.

* the geography tables of a built store (:func:`geography_from_store`);
* crosswalks whose splits of merged areas are weighted by the best official
  basis the store has, each with its measured error (:func:`split_crosswalk`,
  :func:`split_errors`; the method: :mod:`keycities.geography.shares`, its
  back-test: :mod:`keycities.geography.backtest`);
* exact values from other releases for districts a release can only estimate
  (:func:`exact_values`): an official value beats an estimate from a newer release.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from types import ModuleType

import pandas as pd

from keycities.geography.areas import LAD_PREFIXES
from keycities.geography.backtest import CASES, SAME_QUANTITY, backtest, error_text, summary
from keycities.geography.backtest import merged_groups as backtest_groups
from keycities.geography.mapping import reweight, split_groups, to_vintage
from keycities.geography.shares import (
    postcode_counts,
    related_measures,
    split_weights,
)
from keycities.geography.tables import GeographyTables
from keycities.sources import business_counts, catalog, gva, population, productivity
from keycities.store.queries import (
    Slice,
    district_values,
    geography_tables,
    slice_values,
    slices_by_release,
)
from keycities.store.store import Store


def geography_from_store(store: Store) -> GeographyTables:
    """The geography tables of a built store, ready for mapping.

    Built once per open store (:meth:`~keycities.store.store.Store.memo`): every
    figure, panel and audit shares them and their cached crosswalks.  Treat them as
    read-only.
    """
    def build() -> GeographyTables:
        area_rows, changes, _aliases, weights = geography_tables(store)
        return GeographyTables.from_rows(area_rows, changes, weights)

    return store.memo("geography", build)


def _measure_modules() -> Iterator[ModuleType]:
    """Source modules, those of the measures that weight splits first: importing every
    source module takes a third of a second, so only a rarer measure needs it."""
    yield from (population, gva, productivity, business_counts)
    yield from catalog.all_source_modules()


@functools.cache
def measure_words(name: str) -> str:
    """A measure's label in words for a sentence ("usual resident population")."""
    for module in _measure_modules():
        for m in getattr(module, "MEASURES", ()):
            if m.name == name:
                text = str(m.label).split(",")[0]
                return text[:1].lower() + text[1:]
    return name.replace("_", " ")


def backtest_from_store(store: Store) -> pd.DataFrame:
    """The apportionment back-test on this store's figures, one row per estimate.

    See :func:`keycities.geography.backtest.backtest`.
    """
    def build() -> pd.DataFrame:
        geo = geography_from_store(store)
        groups = backtest_groups(geo.changes)
        codes = sorted({c for whole, parts in groups.items() for c in (whole, *parts)})
        measures = {m for m, _ in CASES}
        measures |= {r for m in list(measures) for r in related_measures(m)}
        measures |= {s for m in list(measures) for s in SAME_QUANTITY.get(m, ())}
        values = district_values(store, sorted(measures), codes)
        return backtest(geo.changes, values, postcodes=postcode_counts(geo.weights),
                        label=measure_words)

    return store.memo("split back-test", build)


def split_errors(store: Store) -> pd.DataFrame:
    """Each split method's back-test error per measure (summary by method and measure)."""
    return store.memo("split errors", lambda: summary(backtest_from_store(store),
                                                     by=("method", "measure")))


def split_crosswalk(store: Store, geo: GeographyTables, s: Slice, target: int, *,
                    measure: str | None = None,
                    codes: Iterable[str] | None = None) -> pd.DataFrame:
    """The crosswalk of a slice to ``target``, its splits weighted by the best basis.

    Each merged area shared among former districts (one of ``codes``, when
    given) is split by its parts' own or related figures
    (:func:`keycities.geography.shares.split_weights`) from ``s``'s release or
    older ones, else by postcode counts; each split's basis ends with the
    method's measured error (:func:`split_errors`).

    Parameters
    ----------
    store, geo
        The store and its geography.
    s
        The slice whose values will be mapped.
    target
        The boundary vintage to map to.
    measure
        The measure whose shares weight the split (default ``s.measure``).
    codes
        Only the splits of merged areas that hold one of these districts.
    """
    xw = geo.crosswalk(s.geography_vintage, target)
    groups = split_groups(xw)
    if codes is not None:
        keep = set(codes)
        groups = {w: p for w, p in groups.items() if keep & set(p)}
    if not groups:
        return xw
    m = measure or s.measure
    key = ("split crosswalk", s.geography_vintage, target, m, s.period, s.published,
           tuple(sorted(groups)))
    return store.memo(key, lambda: _split_crosswalk(store, xw, groups, m, s.period,
                                                    s.published))


def _split_crosswalk(store: Store, xw: pd.DataFrame, groups: dict[str, list[str]],
                     measure: str, period: int, published: str) -> pd.DataFrame:
    codes = sorted({p for parts in groups.values() for p in parts})
    values = district_values(store, [measure, *related_measures(measure)], codes)
    w = split_weights(groups, values, measure=measure, period=period, published_by=published,
                      label=measure_words, tiers=("own", "related"))
    errors = split_errors(store)
    w["basis"] = [f"{b}; {error_text(errors, t, measure, label=measure_words)}"
                  for b, t in zip(w["basis"], w["tier"], strict=True)]
    out = reweight(xw, w).copy()
    left = (out["method"].eq("split") & out["weight"].notna()
            & out["from_code"].isin(set(groups) - set(w["whole"])))
    out.loc[left, "basis"] = (out.loc[left, "basis"] + "; "
                              + error_text(errors, "postcodes", measure, label=measure_words))
    return out


def lad_values(store: Store, geo: GeographyTables, s: Slice) -> pd.DataFrame:
    """area_code, value of a slice's districts, codes a release kept a vintage late
    recoded (:meth:`~keycities.geography.tables.GeographyTables.recode_stale`)."""
    values = slice_values(store, s)
    lad = values[values["area_code"].str[:3].isin(LAD_PREFIXES)].copy()
    lad["area_code"] = geo.recode_stale(lad["area_code"], s.geography_vintage)
    return lad[["area_code", "value"]].reset_index(drop=True)


def exact_values(store: Store, geo: GeographyTables, s: Slice, codes: Iterable[str],
                 vintage: int) -> pd.DataFrame:
    """Exact values of ``codes`` (on ``vintage``) from other releases of ``s``'s measure
    and period: for each code, the newest release that has it unchanged, recoded or as
    a sum of whole districts (not an estimated share).

    Returns
    -------
    pandas.DataFrame
        area_code, value, method, from_codes, basis, release_id, published; one row
        per code found.
    """
    need = set(codes)
    found = []
    for other in slices_by_release(store, s.measure, prefer_vintage=vintage,
                                   periods=range(s.period, s.period + 1)):
        if not need:
            break
        if other.release_id == s.release_id:
            continue
        xw = geo.crosswalk(other.geography_vintage, vintage)
        mapped = to_vintage(lad_values(store, geo, other), xw, kind="count")
        ok = mapped[mapped["area_code"].isin(need) & ~mapped["estimate"].astype(bool)
                    & mapped["value"].notna()]
        found.append(ok.assign(release_id=other.release_id, published=other.published))
        need -= set(ok["area_code"])
    cols = ["area_code", "value", "method", "from_codes", "basis", "release_id", "published"]
    if not found:
        return pd.DataFrame(columns=cols)
    return pd.concat(found, ignore_index=True)[cols]
