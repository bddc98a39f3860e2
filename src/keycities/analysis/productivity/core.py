"""Productivity gap: the GVA uplift if each member reached a benchmark productivity.

Formulation
-----------
Members ``i`` have productivity ``p_i`` (£ GVA per unit of labour) and labour
``L_i`` (filled jobs, or hours worked a year) in base year ``y``; ``B`` is the
benchmark productivity.

* gap ``d_i = B - p_i``; counted gap ``c_i = max(0, d_i)`` (members above the
  benchmark count zero), or ``c_i = d_i`` with ``negative``;
* annual uplift at full closure ``U = sum_i c_i L_i`` (£, base-year current
  prices; labour held at its base-year level);
* year ``t = 1..H`` (``H`` = horizon) closes a share ``s(t)`` of the gap:
  ``immediate`` ``s(t) = 1``; ``linear`` over ``N`` years: equal steps, fully
  closed at year ``N``, ``s(t) = min(t/N, 1)``; ``exponential`` over ``N``
  years: a fixed share ``r`` of the remaining gap closes each year, with
  ``(1 - r)^N = 0.05`` (95% closed at year ``N``), so ``s(t) = 1 - 0.05^(t/N)``;
* growth ``g``: the benchmark grows as ``B (1 + g)^t`` and, for consistency,
  so does the cash value of every gap, ``c_i (1 + g)^t`` (members'
  productivity grows at the same rate);
* year-``t`` uplift ``u_t = U s(t) (1 + g)^t``; cumulative
  ``C = sum_{t=1..H} u_t``.  With the defaults (immediate, ``g = 0``),
  ``C = U H``.

Benchmark ``B`` is a ratio of totals, ``B = sum_k e_k G_k / sum_k e_k L_k``
(``e_k = +1`` for the area counted, ``-1`` for one taken out): England
``G_E / L_E``; England excluding London ``(G_E - G_Lon) / (L_E - L_Lon)``; a
region ``G_R / L_R``; UK = UK less Extra-Regio (UKX).  On the default
``totals`` basis ``G_k`` is the area's total GVA (unsmoothed) — the issue's
"England total GVA / England total filled jobs"; on the ``smoothed`` basis
``G_k = p_k L_k`` from the published smoothed ratio, like for like with the
members' figures (for England alone ``B`` is then England's published row).

Source: ONS, *Subregional productivity*, June 2024 (smoothed current-price
GVA(B) per filled job and per hour — a 5-year weighted moving average, the only
district series; jobs and weekly hours constrained to ITL1; unsmoothed ITL
series).  Annual hours = weekly hours × :data:`WEEKS_PER_YEAR` (52), the factor
that reconciles ONS's unsmoothed per-hour and per-job series
(:func:`implied_weeks`).  Members on boundaries other than the data's get
mapped GVA over mapped labour (``ratio_to_vintage``): a former part of a merged
district gets the merged area's productivity and a share of its labour,
flagged as an estimate; merged members are summed.

Core: :func:`uplift`, :func:`benchmark_from_rows`, :func:`uplift_from_inputs`,
:func:`sensitivity` on DataFrames.  :mod:`keycities.analysis.productivity.from_store`
loads the inputs (``productivity_from_store``, ``sensitivity_from_store``) and
words the notes (``productivity_from_inputs``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import product
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis.productivity.params import (
    BASIS,
    BENCHMARK,
    GROWTH_PERCENT,
    PATH,
    SENSITIVITY_BENCHMARKS,
    ConvergencePath,
    Measure,
)
from keycities.errors import KeycitiesError

#: Weeks a year that turn ONS "hours worked per week" into annual hours: the
#: factor at which ONS's unsmoothed GVA per hour × weekly hours reproduces GVA
#: per filled job × filled jobs (52.00 in 2010, 2019 and 2022; see the tests).
WEEKS_PER_YEAR = 52.0
#: Share of the gap closed at year N on the exponential path.
EXPONENTIAL_CLOSED = 0.95
ENGLAND, LONDON, UKX = "E92000001", "E12000007", "UKX"
REGIONS: dict[str, str] = {
    "E12000001": "North East", "E12000002": "North West",
    "E12000003": "Yorkshire and The Humber", "E12000004": "East Midlands",
    "E12000005": "West Midlands", "E12000006": "East of England", "E12000007": "London",
    "E12000008": "South East", "E12000009": "South West", "W92000004": "Wales",
    "S92000003": "Scotland", "N92000002": "Northern Ireland",
}
AREA_NAMES: dict[str, str] = {ENGLAND: "England", UKX: "UK less Extra-Regio", **REGIONS}


@dataclass(frozen=True)
class MeasureSpec:
    """A productivity measure and the labour input it is a ratio to."""

    key: str
    label: str
    productivity: str
    labour: str
    labour_factor: float
    unit: str
    labour_label: str
    labour_short: str


MEASURES: dict[Measure, MeasureSpec] = {
    "job": MeasureSpec("job", "GVA per filled job", "gva_per_filled_job", "filled_jobs", 1.0,
                       "£ per filled job", "filled jobs", "filled jobs"),
    "hour": MeasureSpec("hour", "GVA per hour worked", "gva_per_hour_worked",
                        "hours_worked_weekly", WEEKS_PER_YEAR, "£ per hour",
                        "hours worked a year, weekly hours × 52", "hours a year"),
}


@dataclass(frozen=True)
class Benchmark:
    """A benchmark productivity and how it was formed (``formula`` with the values)."""

    key: str
    label: str
    value: float
    formula: str = ""
    codes: tuple[str, ...] = ()
    basis: str = "given"


def check_growth(growth: float) -> None:
    """Raise a readable error unless yearly growth is within :data:`~.params.GROWTH_PERCENT`."""
    low, high = GROWTH_PERCENT
    if not (math.isfinite(growth) and low <= growth * 100 <= high):
        raise KeycitiesError(f"Yearly growth must be between {low:g}% and {high:g}% a year "
                             f"(got {growth * 100:g}%).")


def growth_text(growth: float) -> str:
    """Yearly growth in words: 'no growth' or 'growth 2% a year'."""
    return "no growth" if growth == 0 else f"growth {growth * 100:.4g}% a year"


@dataclass(frozen=True)
class Scenario:
    """How the gap closes: horizon ``H``, path, years ``N`` (default ``H``), growth
    ``g`` and whether members above the benchmark subtract."""

    horizon: int = 10
    path: ConvergencePath = "immediate"
    converge_years: int | None = None
    growth: float = 0.0
    negative: bool = False

    @property
    def n(self) -> int | None:
        """Years to converge in use (None on the immediate path)."""
        return None if self.path == "immediate" else (self.converge_years or self.horizon)

    def describe(self) -> str:
        """E.g. 'linear over 10 years, growth 2% a year' or '..., no growth'."""
        how = self.path if self.n is None else f"{self.path} over {self.n} years"
        return f"{how}, {growth_text(self.growth)}"


@dataclass
class ProductivityResult:
    """Per-member gaps and uplifts, the year-by-year path, totals, notes, releases."""

    measure: MeasureSpec
    benchmark: Benchmark
    scenario: Scenario
    members: pd.DataFrame
    """code, name, productivity, gap, labour, annual_uplift, cumulative_uplift,
    estimate, basis, reason."""
    years: pd.DataFrame
    """year, share_closed, growth_factor, factor, uplift."""
    annual_uplift: float | None
    cumulative_uplift: float | None
    unavailable: str | None = None
    base_year: int | None = None
    context: dict[str, Any] = field(default_factory=dict)
    releases: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    alternative: dict[str, Any] = field(default_factory=dict)
    """The totals on the other benchmark basis: basis, benchmark, annual_uplift,
    cumulative_uplift, unavailable."""

    @property
    def network_productivity(self) -> float | None:
        """Members' aggregate productivity ``sum(p_i L_i) / sum(L_i)``."""
        m = self.members
        if self.unavailable or m.empty or m["labour"].sum() == 0:
            return None
        return float((m["productivity"] * m["labour"]).sum() / m["labour"].sum())

    @property
    def average_gap(self) -> float | None:
        """The Total row's gap: ``U / sum(L_i)``, the counted gap per unit of labour."""
        labour = self.members["labour"].sum()
        if self.annual_uplift is None or not labour > 0:
            return None
        return float(self.annual_uplift / labour)

    def to_frame(self, *, total: bool = True) -> pd.DataFrame:
        """One row per member (kind 'member') and, with ``total``, a last row
        (kind 'total', name 'Total') whose gap is :attr:`average_gap`.

        Productivity and gaps are rounded to 0.1 £, labour and uplifts to whole
        jobs, hours and pounds (the payload keeps full precision).
        """
        per = self.measure.key
        df = self.members[["code", "name", "productivity", "gap", "labour", "annual_uplift",
                           "cumulative_uplift", "estimate", "basis"]].copy()
        df.insert(0, "kind", "member")
        if total:
            df.loc[len(df)] = ["total", "", "Total", self.network_productivity,
                               self.average_gap, df["labour"].sum(min_count=1),
                               self.annual_uplift, self.cumulative_uplift,
                               bool(df["estimate"].any()), self.unavailable or ""]
        whole = ["labour", "annual_uplift", "cumulative_uplift"]
        df = df.astype(dict.fromkeys(["productivity", "gap", *whole], float)).round(
            {"productivity": 1, "gap": 1, **dict.fromkeys(whole, 0)}).astype(
            dict.fromkeys(whole, "Int64"))
        return df.rename(columns={"productivity": f"gva_per_{per}", "gap": f"gap_per_{per}",
                                  "labour": "filled_jobs" if per == "job" else "hours_per_year"})

    def payload(self) -> dict[str, Any]:
        """Everything a JSON output needs, as plain data (full precision)."""
        annual, cum = self.annual_uplift, self.cumulative_uplift
        return jsonable({
            **self.context, "base_year": self.base_year, "measure": asdict(self.measure),
            "benchmark": asdict(self.benchmark),
            "options": {**asdict(self.scenario), "converge_years": self.scenario.n,
                        "benchmark_basis": self.benchmark.basis,
                        "weeks_per_year": WEEKS_PER_YEAR,
                        "exponential_closed_at_n": EXPONENTIAL_CLOSED},
            "members": self.members, "years": self.years,
            "totals": {"annual_uplift": annual, "cumulative_uplift": cum,
                       "annual_uplift_bn": None if annual is None else annual / 1e9,
                       "cumulative_uplift_bn": None if cum is None else cum / 1e9,
                       "network_productivity": self.network_productivity,
                       "average_gap": self.average_gap, "unavailable": self.unavailable},
            "other_basis": self.alternative, "notes": self.notes, "releases": self.releases})


# ------------------------------------------------------------------ pure core


def path_shares(scenario: Scenario) -> pd.DataFrame:
    """Share of the gap closed and growth factor in each year ``t = 1..H``.

    ``s(t)`` is 1 (immediate), ``min(t/N, 1)`` (linear) or ``1 - 0.05^(t/N)``
    (exponential: 95% closed at year ``N``); the growth factor is ``(1 + g)^t``.

    Returns
    -------
    pandas.DataFrame
        year, share_closed, growth_factor and factor ``s(t) (1 + g)^t``; the
        cumulative uplift is ``U * sum(factor)``.

    Raises
    ------
    KeycitiesError
        For an unknown path, a horizon or ``N`` below 1, or growth at or below -1.
    """
    sc = scenario
    PATH.check(sc.path)
    for what, v in (("horizon", sc.horizon), ("years to converge", sc.converge_years)):
        if v is not None and (int(v) != v or v < 1):
            raise KeycitiesError(f"The {what} must be a whole number of years, 1 or more "
                                 f"(got {v}).")
    if not (sc.growth > -1.0 and math.isfinite(sc.growth)):
        raise KeycitiesError(f"Growth is a yearly rate above -1, e.g. 0.02 for 2% "
                             f"(got {sc.growth}).")
    t = np.arange(1, int(sc.horizon) + 1, dtype=float)
    n = float(sc.n or 1)
    share = {"immediate": np.ones_like(t), "linear": np.minimum(t / n, 1.0),
             "exponential": 1.0 - (1.0 - EXPONENTIAL_CLOSED) ** (t / n)}[sc.path]
    grow = (1.0 + sc.growth) ** t
    return pd.DataFrame({"year": t.astype(int), "share_closed": share,
                         "growth_factor": grow, "factor": share * grow})


def uplift(members: pd.DataFrame, benchmark: float | Benchmark, *, horizon: int = 10,
           path: str = "immediate", years_to_converge: int | None = None,
           growth: float = 0.0, negative: bool = False,
           measure: MeasureSpec = MEASURES["job"]) -> ProductivityResult:
    """GVA uplift from raising each member's productivity to ``benchmark``.

    ``U = sum_i c_i L_i`` with ``c_i = max(0, B - p_i)`` (``B - p_i`` with
    ``negative``); year-``t`` uplift ``U s(t) (1 + g)^t``; cumulative the sum
    over ``t = 1..horizon`` (see the module docstring and :func:`path_shares`).

    Parameters
    ----------
    members
        code, name, productivity ``p_i``, labour ``L_i`` (or ``jobs``), and
        optionally estimate, basis, reason.
    benchmark
        ``B`` (or a :class:`Benchmark`).
    horizon, path, years_to_converge, growth, negative
        ``H``, the path, ``N`` (default ``H``), ``g``, and whether members above
        the benchmark subtract instead of counting zero.
    measure
        What productivity and labour are (labels only).

    Returns
    -------
    ProductivityResult
        Totals are None, with the reason, when any member lacks a value.
    """
    bench = benchmark if isinstance(benchmark, Benchmark) else \
        Benchmark("given", "benchmark", float(benchmark))
    if not (math.isfinite(bench.value) and bench.value > 0):
        raise KeycitiesError(f"The benchmark must be a positive productivity (got {bench.value}).")
    sc = Scenario(horizon, PATH.check(path), years_to_converge, growth, negative)
    years = path_shares(sc)
    per = _member_frame(members)
    per["gap"] = bench.value - per["productivity"]
    counted = per["gap"] if negative else per["gap"].clip(lower=0.0)
    per["annual_uplift"] = counted * per["labour"]
    per["cumulative_uplift"] = per["annual_uplift"] * years["factor"].sum()
    why = _unavailable(per)
    annual = None if why else float(per["annual_uplift"].sum())
    years["uplift"] = years["factor"] * (np.nan if annual is None else annual)
    cum = None if annual is None else float(years["uplift"].sum())
    return ProductivityResult(measure, bench, sc, per, years, annual, cum, why)


def _member_frame(members: pd.DataFrame) -> pd.DataFrame:
    per = members if "labour" in members else members.rename(columns={"jobs": "labour"})
    need = {"code", "productivity", "labour"} - set(per.columns)
    if need:
        raise KeycitiesError(f"Member table lacks column(s) {', '.join(sorted(need))}: give "
                             "code, name, productivity and labour (or jobs).")
    per = per.reset_index(drop=True).assign(
        name=per["name"] if "name" in per else per["code"],
        estimate=per["estimate"].fillna(False).astype(bool) if "estimate" in per else False,
        productivity=per["productivity"].astype(float), labour=per["labour"].astype(float))
    for col in ("basis", "reason"):
        per[col] = per[col].fillna("") if col in per else ""
    return per


def _unavailable(per: pd.DataFrame) -> str | None:
    """Why the total cannot be given (a member without a value), else None."""
    if per.empty:
        return "no members"
    bad = per[per["productivity"].isna() | per["labour"].isna()]
    if bad.empty:
        return None
    return "no productivity or labour value for " + "; ".join(
        f"{n} ({c})" + (f": {why}" if why else "")
        for n, c, why in zip(bad["name"], bad["code"], bad["reason"], strict=True))


def benchmark_from_rows(rows: pd.DataFrame, *, benchmark: str = "england",
                        region: str | None = None, basis: str = "totals",
                        measure: MeasureSpec = MEASURES["job"]) -> Benchmark:
    """Benchmark productivity as a ratio of totals of published rows.

    ``B = sum_k e_k G_k / sum_k e_k L_k`` over ``rows`` (area_code,
    productivity, labour and, for the totals basis, gva in £) with
    ``e_k = +1`` for the area counted and ``-1`` for those taken out: 'england'
    (E92000001); 'england-ex-london' (E92000001 minus E12000007); 'uk' (UKX);
    'region' (the ITL1 row of ``region``, a code or name of :data:`REGIONS`).
    ``G_k`` is the row's ``gva`` (basis 'totals': total GVA, unsmoothed) or
    ``productivity × labour`` (basis 'smoothed': the published smoothed ratio).
    ``measure`` only labels the formula.
    """
    plus, minus, label = benchmark_codes(benchmark, region)
    check_basis(basis)
    codes = (plus, *minus)
    by = rows.set_index("area_code")
    gva = (by["gva"] if "gva" in by else by["labour"] * np.nan) if basis == "totals" \
        else by["productivity"] * by["labour"]
    part = pd.DataFrame({"gva": gva, "labour": by["labour"],
                         "productivity": by["productivity"]}).reindex(list(codes)).astype(float)
    lacking = [c for c in codes if part.loc[c, ["gva", "labour"]].isna().any()]
    if lacking and basis == "totals":
        raise KeycitiesError(f"No total GVA for {label} in the data ({', '.join(lacking)}): "
                             "build the productivity_itl source (`keycities build "
                             "productivity_itl`), which has the unsmoothed series, or use "
                             "the smoothed basis (--benchmark-basis smoothed).")
    if lacking:
        raise KeycitiesError(f"No {label} productivity in the data ({', '.join(lacking)}): "
                             "build the productivity_itl source (`keycities build "
                             "productivity_itl`) or choose another benchmark.")
    sign = np.array([1.0] + [-1.0] * len(minus))
    num, den = float(sign @ part["gva"].to_numpy()), float(sign @ part["labour"].to_numpy())
    formula = _benchmark_formula(part.to_dict("index"), basis, measure, num, den)
    return Benchmark(benchmark, label, num / den, formula, codes, basis)


def _benchmark_formula(part: dict[Any, dict[Any, Any]], basis: str, spec: MeasureSpec,
                       num: float, den: float) -> str:
    """What was divided by what, with the values, e.g. 'England GVA £1,716,438m /
    England 29,014,720 filled jobs'."""
    name, lab, codes = AREA_NAMES.get, spec.labour_short, list(part)
    if basis == "smoothed" and len(codes) == 1:
        return f"{name(codes[0], codes[0])}'s published smoothed {spec.label}"
    tops = [f"{name(c, c)} GVA £{v['gva'] / 1e6:,.0f}m" if basis == "totals" else
            f"{name(c, c)} {pounds(v['productivity'], spec)} × {v['labour']:,.0f}"
            for c, v in part.items()]
    bottoms = [f"{name(c, c)} {v['labour']:,.0f} {lab}" for c, v in part.items()]
    if len(codes) == 1:
        return f"{tops[0]} / {bottoms[0]}"
    how = "" if basis == "totals" else f" (smoothed {spec.label} × {lab} as GVA)"
    return (f"({' − '.join(tops)}) / ({' − '.join(bottoms)}) = £{num / 1e6:,.0f}m / "
            f"{den:,.0f} {lab}{how}")


def pounds(value: float, spec: MeasureSpec) -> str:
    """£ per unit of labour as published: 0.1 £ per job, 0.01 £ per hour."""
    return f"£{value:,.1f}" if spec.key == "job" else f"£{value:,.2f}"


def check_basis(basis: str) -> None:
    """Raise a readable error unless ``basis`` is a :data:`~.params.BASIS` value."""
    BASIS.check(basis, f"Unknown benchmark basis {basis!r}: use 'totals' (total GVA / "
                "total labour, unsmoothed; the default) or 'smoothed'.")


def benchmark_codes(benchmark: str, region: str | None = None
                    ) -> tuple[str, tuple[str, ...], str]:
    """(code counted, codes taken out, label) of a benchmark; checks the choice."""
    if benchmark != "region" and region is not None:
        raise KeycitiesError("A region is only used with the 'region' benchmark: pass "
                             "benchmark='region' (--benchmark region) or drop the region.")
    fixed = {"england": (ENGLAND, (), "England"),
             "england-ex-london": (ENGLAND, (LONDON,), "England excluding London"),
             "uk": (UKX, (), "UK less Extra-Regio")}
    if benchmark in fixed:
        return fixed[benchmark]
    if benchmark != "region":
        BENCHMARK.check(benchmark)
    choices = ", ".join(f"{n} ({c})" for c, n in REGIONS.items())
    key = (region or "").strip().lower()
    code = next((c for c, n in REGIONS.items() if key in (c.lower(), n.lower())), None)
    if code is None:
        raise KeycitiesError(f"The region benchmark needs a region: got {region!r}; use one "
                             f"of {choices}.")
    return code, (), REGIONS[code]


def implied_weeks(per_job: pd.Series, jobs: pd.Series, per_hour: pd.Series,
                  hours_weekly: pd.Series) -> float:
    """Weeks a year that reconcile the two productivity measures.

    ``w = sum(per_job * jobs) / sum(per_hour * hours_weekly)``: both numerators
    are the same GVA, so ``w`` is the factor that annualises weekly hours.
    """
    return float((per_job * jobs).sum() / (per_hour * hours_weekly).sum())


# ------------------------------------------------------------------ inputs -> result


@dataclass(frozen=True)
class MeasureInputs:
    """What one measure's uplift needs, already on the members' boundaries."""

    measure: MeasureSpec
    period: int
    members: pd.DataFrame
    """code, name, productivity, labour, estimate, method, from_codes, basis, reason."""
    national: pd.DataFrame
    """area_code, productivity (smoothed), labour and gva (£, total, unsmoothed) of
    UKX, England and the ITL1 regions."""
    release_ids: tuple[str, ...]
    geography_vintage: int
    lad_check: float | None = None
    """``sum(p L) / sum(L)`` over English districts, to compare with England's row."""
    implied_weeks: float | None = None
    """:func:`implied_weeks` over the ITL1 rows of the base year (hour measure)."""
    gva_basis: str = ""
    """Where ``national.gva`` comes from, for the notes."""


def member_inputs(members: pd.DataFrame, mapped: pd.DataFrame, *, vintage: int,
                  names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Member rows (code, name, productivity, labour, estimate, method, from_codes,
    basis, reason) from ``members`` (``Network.members_at``) and ``mapped``
    (:func:`keycities.geography.mapping.ratio_to_vintage` output on ``vintage``)."""
    m = mapped.rename(columns={"area_code": "code", "value": "productivity",
                               "denominator": "labour"})
    per = members[["code", "as_published"]].rename(columns={"as_published": "name"}).merge(
        m[["code", "productivity", "labour", "estimate", "method", "from_codes", "basis",
           "reason"]], on="code", how="left")
    per.loc[per["method"].isna(), "reason"] = f"not a district on {vintage} boundaries"
    per["estimate"] = per["estimate"].fillna(False).astype(bool)
    per["basis"] = [_basis_text(m, f, b, names or {}) for m, f, b in
                    zip(per["method"], per["from_codes"], per["basis"], strict=True)]
    per["reason"] = per["reason"].where(per["reason"].notna(), "")
    return per


def _basis_text(method: Any, from_codes: Any, basis: Any, names: Mapping[str, str]) -> str:
    if not isinstance(method, str) or method == "same":
        return ""
    src = ", ".join(f"{names.get(c, c)} ({c})" for c in str(from_codes).split(",") if c)
    if method == "split":
        return f"estimate: the productivity of {src} and a share of its labour ({basis})"
    return f"{ {'merge': 'sum of', 'recode': 'recoded from'}.get(method, method)} {src}"


def uplift_from_inputs(inputs: MeasureInputs, *, benchmark: str = "england",
                       region: str | None = None, basis: str = "totals",
                       scenario: Scenario = Scenario()) -> ProductivityResult:
    """:func:`uplift` of ``inputs.members`` against the benchmark
    :func:`benchmark_from_rows` forms from ``inputs.national`` (no notes)."""
    sc = scenario
    bench = benchmark_from_rows(inputs.national, benchmark=benchmark, region=region,
                                basis=basis, measure=inputs.measure)
    res = uplift(inputs.members, bench, horizon=sc.horizon, path=sc.path,
                 years_to_converge=sc.converge_years, growth=sc.growth,
                 negative=sc.negative, measure=inputs.measure)
    res.base_year = inputs.period
    return res


# ------------------------------------------------------------------ sensitivity


@dataclass
class Sensitivity:
    """Totals across measure × benchmark × basis × path × horizon."""

    rows: pd.DataFrame
    context: dict[str, Any] = field(default_factory=dict)
    releases: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per combination of choices."""
        return self.rows

    def payload(self) -> dict[str, Any]:
        """Everything a JSON output needs, as plain data (full precision)."""
        return jsonable({**self.context, "rows": self.rows, "notes": self.notes,
                         "releases": self.releases})


def sensitivity(inputs: Mapping[str, MeasureInputs | str], *,
                benchmarks: Sequence[str] = SENSITIVITY_BENCHMARKS,
                bases: Sequence[str] = BASIS.values, paths: Sequence[str] = PATH.values,
                horizons: Sequence[int] = (5, 10), scenario: Scenario = Scenario(),
                region: str | None = None) -> pd.DataFrame:
    """Annual and cumulative uplift for every measure × benchmark × basis × path × horizon.

    ``inputs`` maps a measure key to its inputs, or to the reason it is
    unavailable; ``scenario`` gives growth, negative and ``N`` (default: each
    horizon).  Returns measure, base_year, benchmark, basis, benchmark_value,
    path, horizon, converge_years, annual_uplift, cumulative_uplift (£),
    annual_bn, cumulative_bn (£bn), unavailable.
    """
    rows = []
    for (key, inp), bench, basis, path, h in product(inputs.items(), benchmarks, bases,
                                                      paths, horizons):
        sc = replace(scenario, horizon=h, path=PATH.check(path))
        row: dict[str, Any] = {
            "measure": key, "base_year": None, "benchmark": bench, "basis": basis,
            "benchmark_value": None, "path": path, "horizon": h, "converge_years": sc.n,
            "annual_uplift": None, "cumulative_uplift": None, "annual_bn": None,
            "cumulative_bn": None, "unavailable": inp if isinstance(inp, str) else None}
        if not isinstance(inp, str):
            row.update(_sensitivity_values(inp, bench, basis, sc, region))
        rows.append(row)
    return pd.DataFrame(rows)


def _sensitivity_values(inp: MeasureInputs, bench: str, basis: str, sc: Scenario,
                        region: str | None) -> dict[str, Any]:
    try:
        res = uplift_from_inputs(inp, benchmark=bench, basis=basis, scenario=sc,
                                 region=region if bench == "region" else None)
    except KeycitiesError as exc:
        return {"base_year": inp.period, "unavailable": str(exc)}
    annual, cum = res.annual_uplift, res.cumulative_uplift
    return {"base_year": inp.period, "benchmark_value": res.benchmark.value,
            "annual_uplift": annual, "cumulative_uplift": cum,
            "annual_bn": None if annual is None else annual / 1e9,
            "cumulative_bn": None if cum is None else cum / 1e9,
            "unavailable": res.unavailable}
