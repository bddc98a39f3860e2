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

Benchmarks are aggregate ratios of published rows, GVA implied as ``p L``:
England ``GVA_E / L_E``; England excluding London
``(GVA_E - GVA_Lon) / (L_E - L_Lon)``; a region ``GVA_R / L_R``; UK = UK less
Extra-Regio (UKX).

Source: ONS, *Subregional productivity*, June 2024 (smoothed current-price
GVA(B) per filled job and per hour; jobs and weekly hours constrained to ITL1).
Annual hours = weekly hours × 52, the factor that reconciles the unsmoothed
per-hour and per-job series (:func:`implied_weeks`).  Members on boundaries
other than the data's get mapped GVA over mapped labour (``ratio_to_vintage``):
a former part of a merged district gets the merged area's productivity and a
share of its labour, flagged as an estimate; merged members are summed.

Core: :func:`uplift`, :func:`benchmark_from_rows`, :func:`sensitivity` on
DataFrames; adapters: :func:`productivity_from_store`, :func:`sensitivity_from_store`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import product
from typing import Any

import numpy as np
import pandas as pd

from keycities.errors import KeycitiesError

PATHS: tuple[str, ...] = ("immediate", "linear", "exponential")
BENCHMARKS: tuple[str, ...] = ("england", "england-ex-london", "uk", "region")
#: Weeks a year that turn ONS "hours worked per week" into annual hours.
WEEKS_PER_YEAR = 52.0
#: Share of the gap closed at year N on the exponential path.
EXPONENTIAL_CLOSED = 0.95
ENGLAND, LONDON, UKX = "E92000001", "E12000007", "UKX"
LAD_PREFIXES = ("E06", "E07", "E08", "E09", "W06", "S12", "N09")
REGIONS: dict[str, str] = {
    "E12000001": "North East", "E12000002": "North West",
    "E12000003": "Yorkshire and The Humber", "E12000004": "East Midlands",
    "E12000005": "West Midlands", "E12000006": "East of England", "E12000007": "London",
    "E12000008": "South East", "E12000009": "South West", "W92000004": "Wales",
    "S92000003": "Scotland", "N92000002": "Northern Ireland",
}


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


MEASURES: dict[str, MeasureSpec] = {
    "job": MeasureSpec("job", "GVA per filled job", "gva_per_filled_job", "filled_jobs", 1.0,
                       "£ per filled job", "filled jobs"),
    "hour": MeasureSpec("hour", "GVA per hour worked", "gva_per_hour_worked",
                        "hours_worked_weekly", WEEKS_PER_YEAR, "£ per hour",
                        "hours worked a year, weekly hours × 52"),
}


@dataclass(frozen=True)
class Benchmark:
    """A benchmark productivity and how it was formed."""

    key: str
    label: str
    value: float
    formula: str = ""
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """How the gap closes: horizon ``H``, path, years ``N`` (default ``H``), growth
    ``g`` and whether members above the benchmark subtract."""

    horizon: int = 10
    path: str = "immediate"
    converge_years: int | None = None
    growth: float = 0.0
    negative: bool = False

    @property
    def n(self) -> int | None:
        """Years to converge in use (None on the immediate path)."""
        return None if self.path == "immediate" else (self.converge_years or self.horizon)

    def describe(self) -> str:
        """E.g. 'linear over 10 years, growth 0'."""
        how = self.path if self.n is None else f"{self.path} over {self.n} years"
        return f"{how}, growth {self.growth:g}"


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

    @property
    def network_productivity(self) -> float | None:
        """Members' aggregate productivity ``sum(p_i L_i) / sum(L_i)``."""
        m = self.members
        if self.unavailable or m.empty or m["labour"].sum() == 0:
            return None
        return float((m["productivity"] * m["labour"]).sum() / m["labour"].sum())

    def to_frame(self, *, total: bool = True) -> pd.DataFrame:
        """One row per member and, with ``total``, a last row for the network."""
        per = self.measure.key
        df = self.members[["code", "name", "productivity", "gap", "labour", "annual_uplift",
                           "cumulative_uplift", "estimate", "basis"]].copy()
        if total:
            net = self.network_productivity
            df.loc[len(df)] = ["", "Total", net, None if net is None else
                               self.benchmark.value - net, df["labour"].sum(min_count=1),
                               self.annual_uplift, self.cumulative_uplift,
                               bool(df["estimate"].any()), self.unavailable or ""]
        return df.rename(columns={"productivity": f"gva_per_{per}", "gap": f"gap_per_{per}",
                                  "labour": "filled_jobs" if per == "job" else "hours_per_year"})

    def payload(self) -> dict[str, Any]:
        """Everything a JSON output needs, as plain data."""
        annual, cum = self.annual_uplift, self.cumulative_uplift
        return _plain({
            **self.context, "base_year": self.base_year, "measure": asdict(self.measure),
            "benchmark": asdict(self.benchmark),
            "options": {**asdict(self.scenario), "converge_years": self.scenario.n,
                        "weeks_per_year": WEEKS_PER_YEAR,
                        "exponential_closed_at_n": EXPONENTIAL_CLOSED},
            "members": self.members, "years": self.years,
            "totals": {"annual_uplift": annual, "cumulative_uplift": cum,
                       "annual_uplift_bn": None if annual is None else annual / 1e9,
                       "cumulative_uplift_bn": None if cum is None else cum / 1e9,
                       "network_productivity": self.network_productivity,
                       "unavailable": self.unavailable},
            "notes": self.notes, "releases": self.releases})


def _plain(value: Any) -> Any:
    """JSON-ready data: DataFrames as records, NaN as None, numpy scalars unwrapped."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [_plain(r) for r in value.to_dict(orient="records")]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.isoformat() if isinstance(value, dt.date) else value


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
    if sc.path not in PATHS:
        raise KeycitiesError(f"Unknown convergence path {sc.path!r}: use one of "
                             f"{', '.join(PATHS)}.")
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
    sc = Scenario(horizon, path, years_to_converge, growth, negative)
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
                        region: str | None = None) -> Benchmark:
    """Benchmark productivity as an aggregate ratio of published rows.

    ``B = sum_k e_k p_k L_k / sum_k e_k L_k`` over ``rows`` (area_code,
    productivity, labour) with ``e_k = +1`` for the area counted and ``-1`` for
    those taken out: 'england' (E92000001); 'england-ex-london' (E92000001
    minus E12000007); 'uk' (UKX); 'region' (the ITL1 row of ``region``, a code
    or name of :data:`REGIONS`).  GVA is implied as ``p L``.
    """
    plus, minus, label = benchmark_codes(benchmark, region)
    by = rows.set_index("area_code")
    lacking = [c for c in (plus, *minus) if c not in by.index]
    if lacking:
        raise KeycitiesError(f"No {label} productivity in the data ({', '.join(lacking)}): "
                             "build the productivity_itl source (`keycities build "
                             "productivity_itl`) or choose another benchmark.")
    sign = pd.Series({plus: 1.0, **dict.fromkeys(minus, -1.0)})
    sub = by.loc[sign.index]
    value = (sign * sub["productivity"] * sub["labour"]).sum() / (sign * sub["labour"]).sum()
    formula = (f"(GVA_{plus} − GVA_{minus[0]}) / (L_{plus} − L_{minus[0]})" if minus
               else f"GVA_{plus} / L_{plus}")
    return Benchmark(benchmark, label, float(value), formula + ", GVA = productivity × labour",
                     (plus, *minus))


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
        raise KeycitiesError(f"Unknown benchmark {benchmark!r}: use one of "
                             f"{', '.join(BENCHMARKS)}.")
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
    """area_code, productivity, labour of UKX, England and the ITL1 regions."""
    release_ids: tuple[str, ...]
    geography_vintage: int
    lad_check: float | None = None
    """``sum(p L) / sum(L)`` over English districts, to compare with England's row."""


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


def productivity_from_inputs(inputs: MeasureInputs, *, benchmark: str = "england",
                             region: str | None = None,
                             scenario: Scenario = Scenario()) -> ProductivityResult:
    """:func:`uplift` against a benchmark formed from ``inputs.national``, with notes."""
    bench = benchmark_from_rows(inputs.national, benchmark=benchmark, region=region)
    sc = scenario
    res = uplift(inputs.members, bench, horizon=sc.horizon, path=sc.path,
                 years_to_converge=sc.converge_years, growth=sc.growth,
                 negative=sc.negative, measure=inputs.measure)
    res.base_year = inputs.period
    res.notes = method_notes(res, inputs)
    return res


def method_notes(res: ProductivityResult, inputs: MeasureInputs) -> list[str]:
    """Human sentences: formula, benchmark, data caveats, estimated members."""
    spec, b, y = res.measure, res.benchmark, inputs.period
    notes = [formula_note(res), f"Benchmark {b.label} {y}: £{b.value:,.1f} per {spec.key} "
             f"({b.formula}; rows {', '.join(b.codes)} of {inputs.release_ids[-1]})."]
    if b.key == "england" and inputs.lad_check is not None:
        notes.append(f"Check: English districts' implied GVA over their {spec.labour_label} "
                     f"gives £{inputs.lad_check:,.1f} ({inputs.lad_check / b.value - 1:+.2%} "
                     "against England's own row): each published ratio is smoothed "
                     "separately (5-year weighted moving average), so smoothed ratios do not "
                     "add up exactly; the benchmark uses the published aggregate row.")
    if spec.key == "hour":
        notes.append("Annual hours = weekly hours × 52: in the unsmoothed series GVA per hour "
                     "× weekly hours × 52 reproduces GVA per job × jobs (implied weeks "
                     "52.00); 52.14 would overstate hours by 0.27%.")
    notes.append(f"Productivity is ONS smoothed current-price GVA(B) ({spec.unit}), {y}, "
                 f"Official Statistics in Development; labour ({spec.labour_label}) is held "
                 f"at {y} levels; £ are {y} current prices.")
    per = res.members
    notes += [f"{n} ({c}): {t}." for n, c, t in zip(per["name"], per["code"], per["basis"],
                                                   strict=True) if t]
    above = per[per["gap"] < 0]
    if len(above):
        how = "subtract (negative option)" if res.scenario.negative else "count zero"
        notes.append(f"{len(above)} member(s) above the benchmark {how}: "
                     + ", ".join(above["name"]) + ".")
    outside = per[~per["code"].str.startswith("E")]
    if len(outside) and b.key in ("england", "england-ex-london"):
        notes.append("Members outside England (" + ", ".join(outside["name"])
                     + f") are compared with the same {b.label} benchmark.")
    return notes


def formula_note(res: ProductivityResult) -> str:
    """The formula with this result's options, in one sentence."""
    sc, n = res.scenario, res.scenario.n
    path = {"immediate": "s(t) = 1 (gap closed at once)",
            "linear": f"s(t) = min(t/{n}, 1) (equal steps, closed at year {n})",
            "exponential": f"s(t) = 1 − 0.05^(t/{n}) (a fixed share of the remaining gap "
                           f"closes each year; 95% closed at year {n})"}[sc.path]
    clamp = "B − p_i" if sc.negative else "max(0, B − p_i)"
    return (f"Annual uplift U = Σ_i {clamp} × L_i, where p_i is member i's "
            f"{res.measure.label}, L_i its {res.measure.labour_label} and B the benchmark; "
            f"year-t uplift = U × s(t) × (1 + g)^t with {path} and g = {sc.growth:g} "
            "(benchmark and cash gap grow at g); cumulative = Σ over t = 1.."
            f"{sc.horizon} of the year-t uplift.")


def total_note(res: ProductivityResult) -> str:
    """The closing sentence: the totals in £bn, or why they are unavailable."""
    if res.annual_uplift is None or res.cumulative_uplift is None:
        return f"Total unavailable: {res.unavailable}."
    return (f"Total: annual uplift £{res.annual_uplift / 1e9:,.2f}bn a year at full closure "
            f"({res.base_year} prices, {res.measure.label}, {res.benchmark.label} "
            f"benchmark); cumulative over {res.scenario.horizon} years "
            f"({res.scenario.describe()}): £{res.cumulative_uplift / 1e9:,.2f}bn.")


# ------------------------------------------------------------------ sensitivity


@dataclass
class Sensitivity:
    """Totals across measure × benchmark × path × horizon."""

    rows: pd.DataFrame
    context: dict[str, Any] = field(default_factory=dict)
    releases: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per combination of choices."""
        return self.rows

    def payload(self) -> dict[str, Any]:
        """Everything a JSON output needs, as plain data."""
        return _plain({**self.context, "rows": self.rows, "notes": self.notes,
                       "releases": self.releases})


def sensitivity(inputs: Mapping[str, MeasureInputs | str], *,
                benchmarks: Sequence[str] = ("england", "england-ex-london", "uk"),
                paths: Sequence[str] = PATHS, horizons: Sequence[int] = (5, 10),
                scenario: Scenario = Scenario(), region: str | None = None) -> pd.DataFrame:
    """Annual and cumulative uplift for every measure × benchmark × path × horizon.

    ``inputs`` maps a measure key to its inputs, or to the reason it is
    unavailable; ``scenario`` gives growth, negative and ``N`` (default: each
    horizon).  Returns measure, base_year, benchmark, benchmark_value, path,
    horizon, converge_years, annual_uplift, cumulative_uplift, cumulative_bn,
    unavailable.
    """
    rows = []
    for (key, inp), bench, path, h in product(inputs.items(), benchmarks, paths, horizons):
        sc = replace(scenario, horizon=h, path=path)
        row: dict[str, Any] = {
            "measure": key, "base_year": None, "benchmark": bench, "benchmark_value": None,
            "path": path, "horizon": h, "converge_years": sc.n, "annual_uplift": None,
            "cumulative_uplift": None, "cumulative_bn": None,
            "unavailable": inp if isinstance(inp, str) else None}
        if not isinstance(inp, str):
            row.update(_sensitivity_values(inp, bench, sc, region))
        rows.append(row)
    return pd.DataFrame(rows)


def _sensitivity_values(inp: MeasureInputs, bench: str, sc: Scenario,
                        region: str | None) -> dict[str, Any]:
    try:
        res = productivity_from_inputs(inp, benchmark=bench, scenario=sc,
                                       region=region if bench == "region" else None)
    except KeycitiesError as exc:
        return {"base_year": inp.period, "unavailable": str(exc)}
    cum = res.cumulative_uplift
    return {"base_year": inp.period, "benchmark_value": res.benchmark.value,
            "annual_uplift": res.annual_uplift, "cumulative_uplift": cum,
            "cumulative_bn": None if cum is None else cum / 1e9,
            "unavailable": res.unavailable}
