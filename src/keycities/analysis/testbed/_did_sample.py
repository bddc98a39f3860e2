"""The sample of a difference-in-differences: places, years, the outcome, and notes.

Mechanics of :mod:`keycities.analysis.testbed.did`: which places and years
enter an estimate (treated places with enough untreated years, comparison
places never treated), the outcome (logged when every value is positive), and
the notes that tell the reader what was left out and why.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.errors import KeycitiesError

MIN_CLUSTERS = 30
"""Fewer clusters (treated + comparison places) than this: inference is fragile."""


MIN_TREATED = 5
"""Fewer treated places than this: inference is fragile."""


MIN_PRE = 2
"""Observed untreated years each place needs (each year likewise needs untreated places)."""


@dataclass(frozen=True)
class Sample:
    """What went into an estimate: places, years, clusters, and notes for the reader."""

    starts: dict[str, int]
    controls: tuple[str, ...]
    first_year: int
    last_year: int
    n_years: int
    n_obs: int
    log: bool
    notes: tuple[str, ...]

    @property
    def n_treated(self) -> int:
        """Number of treated places."""
        return len(self.starts)

    @property
    def n_clusters(self) -> int:
        """Clusters for the standard errors: every place (treated and comparison)."""
        return len(self.starts) + len(self.controls)

    @property
    def staggered(self) -> bool:
        """Whether treated places start in different years."""
        return len(set(self.starts.values())) > 1

    @property
    def fragile(self) -> bool:
        """Too few clusters or treated places for cluster-robust inference to be trusted."""
        return self.n_clusters < MIN_CLUSTERS or self.n_treated < MIN_TREATED

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return jsonable({
            "starts": dict(self.starts), "controls": list(self.controls),
            "n_treated": self.n_treated, "n_controls": len(self.controls),
            "n_clusters": self.n_clusters, "n_years": self.n_years, "n_obs": self.n_obs,
            "years": [self.first_year, self.last_year], "staggered": self.staggered,
            "log": self.log, "fragile": self.fragile, "notes": list(self.notes)})


def panel_years(panel: pd.DataFrame) -> list[int]:
    try:
        years = [int(c) for c in panel.columns]
    except (TypeError, ValueError):
        raise KeycitiesError("The panel's columns must be years (integers), one column per "
                             f"year; got {list(panel.columns)[:5]}.") from None
    if len(set(years)) != len(years):
        raise KeycitiesError("The panel has a year twice among its columns: give each year "
                             "once.")
    return years


def check_known(codes: Sequence[str], known: Sequence[str], role: str) -> None:
    bad = [c for c in codes if c not in set(known)]
    if bad:
        close = difflib.get_close_matches(bad[0], list(known), n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise KeycitiesError(f"Unknown {role} place(s) {bad}: not rows of the panel.{hint}")


def treated_and_controls(panel: pd.DataFrame, starts: Mapping[str, int],
                    controls: Sequence[str] | None, years: list[int]
                    ) -> tuple[dict[str, int], list[str]]:
    if not starts:
        raise KeycitiesError("No treated place: give starts as {place code: first treated year}.")
    codes = [str(c) for c in panel.index]
    starts = {str(k): int(v) for k, v in starts.items()}
    check_known(list(starts), codes, "treated")
    lo, hi = min(years), max(years)
    for code, g in starts.items():
        if not lo <= g <= hi:
            raise KeycitiesError(f"Start year {g} of {code} is outside the panel's years "
                                 f"{lo}-{hi}: give a start within them.")
        if g == lo:
            raise KeycitiesError(f"{code} starts in {g}, the panel's first year: there is no "
                                 "pre-period; add earlier years or a later start.")
    if controls is None:
        ctrl = [c for c in codes if c not in starts]
    else:
        ctrl = [str(c) for c in controls]
        check_known(ctrl, codes, "control")
        both = sorted(set(ctrl) & set(starts))
        if both:
            raise KeycitiesError(f"{both} are both treated and controls: a comparison place "
                                 "must not be treated.")
        ctrl = list(dict.fromkeys(ctrl))
    if not ctrl:
        raise KeycitiesError("No controls: every place of the panel is treated. Add "
                             "comparison places that never had the policy.")
    return starts, ctrl


def outcome_values(values: pd.DataFrame, log: bool | None, notes: list[str]
             ) -> tuple[pd.DataFrame, bool]:
    arr = values.to_numpy(dtype=float)
    seen = ~np.isnan(arr)
    if not seen.any():
        raise KeycitiesError("The outcome is missing (NaN) for every place and year: nothing "
                             "to estimate. Check the measure and the geography vintage.")
    positive = bool((arr[seen] > 0).all())
    if log is None:
        log = positive
        notes.append("Outcome in logs (every value is positive): effects are log points, "
                     "100 (exp(b) - 1) is the % change." if log else
                     "Outcome in levels (it has values <= 0): effects are in its units.")
    elif log and not positive:
        bad = [str(c) for c, hit in zip(values.index, (seen & (arr <= 0)).any(axis=1),
                                        strict=True) if hit]
        raise KeycitiesError(f"log=True needs positive values; {bad[:5]} have values <= 0. "
                             "Use log=False to estimate in levels.")
    out = np.log(arr, where=seen, out=np.full_like(arr, np.nan)) if log else arr
    return pd.DataFrame(out, index=values.index, columns=values.columns), log


def prepare(panel: pd.DataFrame, starts: Mapping[str, int], controls: Sequence[str] | None,
             log: bool | None) -> tuple[pd.DataFrame, Sample]:
    """Long data (place, year, y, post, treat, g, rel) and its description, validated."""
    years = panel_years(panel)
    starts, ctrl = treated_and_controls(panel, starts, controls, years)
    values = panel.set_axis(years, axis=1).set_axis([str(c) for c in panel.index], axis=0)
    values = values.loc[list(starts) + ctrl].apply(pd.to_numeric, errors="coerce")
    notes: list[str] = []
    y, log = outcome_values(values.astype(float), log, notes)
    stacked = cast(pd.Series, y.rename_axis(index="place", columns="year").stack())
    long = stacked.dropna().rename("y").reset_index()
    long["g"] = long["place"].map(starts).fillna(0).astype(int)
    long["post"] = (long["g"] > 0) & (long["year"] >= long["g"])
    long = trim(long, set(starts), notes)
    kept = set(long["place"])
    left = [c for c in ctrl if c not in kept]
    ctrl = [c for c in ctrl if c in kept]
    if left:
        notes.append(f"{len(left)} comparison place(s) with fewer than {MIN_PRE} observed years "
                     f"left out: {', '.join(left[:10])}{' ...' if len(left) > 10 else ''}.")
    if not ctrl:
        raise KeycitiesError(f"No controls: no comparison place has {MIN_PRE} or more observed "
                             "years. Add comparison places with data.")
    check_treated(long, starts, notes)
    long["treat"] = long["post"].astype(float)
    long["rel"] = np.where(long["g"] > 0, long["year"] - long["g"], np.nan)
    long = long.reset_index(drop=True)
    sample = Sample(starts=starts, controls=tuple(ctrl),
                    first_year=int(long["year"].min()), last_year=int(long["year"].max()),
                    n_years=int(long["year"].nunique()), n_obs=len(long), log=log,
                    notes=tuple(notes))
    if sample.fragile:
        sample = with_note(sample, (
            f"Inference is fragile: {sample.n_clusters} clusters and {sample.n_treated} "
            f"treated place(s) (cluster-robust tests need about {MIN_CLUSTERS} clusters and "
            f"{MIN_TREATED} treated); read the intervals as rough and prefer placebo "
            "(permutation) inference, e.g. the synthetic control's placebo test."))
    return long, sample


def trim(long: pd.DataFrame, treated: set[str], notes: list[str]) -> pd.DataFrame:
    """Leave out years with fewer than 2 untreated observations and comparison places
    with fewer than 2 observations, repeatedly.

    The two-stage estimator fits place and year effects on untreated observations
    only; pyfixest drops a fixed effect seen once (a singleton) and then cannot
    impute the rows that need it.  A comparison place seen once carries no
    information for either estimator.
    """
    years: set[int] = set()
    while True:
        untreated = long.loc[~long["post"], "year"].value_counts()
        thin_years = {int(t) for t in set(long["year"]) if untreated.get(t, 0) < MIN_PRE}
        size = long["place"].value_counts()
        thin_places = {str(p) for p in size.index[size < MIN_PRE]} - treated
        if not thin_years and not thin_places:
            break
        years |= thin_years
        long = long[~long["year"].isin(thin_years) & ~long["place"].isin(thin_places)]
    if years:
        notes.append(f"Years with fewer than {MIN_PRE} untreated observations left out: "
                     f"{sorted(years)}.")
    return long


def check_treated(long: pd.DataFrame, starts: Mapping[str, int], notes: list[str]) -> None:
    pre = long.loc[(long["g"] > 0) & ~long["post"], "place"].value_counts()
    post = long.loc[long["post"], "place"].value_counts()
    for code, g in starts.items():
        n = int(pre.get(code, 0))
        if n == 0:
            raise KeycitiesError(f"{code} has no observed year before its start {g}: there is "
                                 "no pre-period to compare with. Give a later start.")
        if n < MIN_PRE:
            raise KeycitiesError(
                f"{code} has only {n} observed year before its start {g}: the place's own "
                f"level is fitted on its untreated years and needs at least {MIN_PRE}. Give "
                "a later start or add earlier years.")
    if post.sum() == 0:
        raise KeycitiesError("No treated place has an observed year on or after its start: "
                             "the effect cannot be estimated.")
    silent = [c for c in starts if c not in post.index]
    if silent:
        notes.append(f"{silent} have no observed year from their start: they add no "
                     "treated observation.")


def with_note(sample: Sample, note: str) -> Sample:
    return replace(sample, notes=(*sample.notes, note))
