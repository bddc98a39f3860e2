"""The productivity calculator's notes: every sentence that explains a result.

Each note is worded from the result and the constants of the formula in
:mod:`keycities.analysis.productivity.core` (never restated apart from them),
so the text always says what was computed.
"""

from __future__ import annotations

from collections.abc import Sequence

from keycities.analysis.productivity.core import (
    ENGLAND,
    EXPONENTIAL_CLOSED,
    WEEKS_PER_YEAR,
    MeasureInputs,
    ProductivityResult,
    Scenario,
    growth_text,
    pounds,
    uplift_from_inputs,
)
from keycities.analysis.productivity.params import BASIS
from keycities.errors import KeycitiesError


def productivity_from_inputs(inputs: MeasureInputs, *, benchmark: str = "england",
                             region: str | None = None, basis: str = "totals",
                             scenario: Scenario | None = None) -> ProductivityResult:
    """:func:`~keycities.analysis.productivity.core.uplift_from_inputs` on ``basis``, with
    notes and, in ``alternative``, the totals on the other basis."""
    scenario = scenario or Scenario()
    res = uplift_from_inputs(inputs, benchmark=benchmark, region=region, basis=basis,
                             scenario=scenario)
    other = next(b for b in BASIS.values if b != basis)
    try:
        alt = uplift_from_inputs(inputs, benchmark=benchmark, region=region, basis=other,
                                 scenario=scenario)
    except KeycitiesError as exc:
        res.alternative = {"basis": other, "unavailable": str(exc)}
    else:
        res.alternative = {"basis": other, "benchmark": alt.benchmark.value,
                           "annual_uplift": alt.annual_uplift,
                           "cumulative_uplift": alt.cumulative_uplift,
                           "unavailable": alt.unavailable}
    res.notes = method_notes(res, inputs)
    return res


def method_notes(res: ProductivityResult, inputs: MeasureInputs) -> list[str]:
    """Human sentences: formula, benchmark and its basis, data caveats, members, and
    which options leave the figures unchanged."""
    return [formula_note(res), benchmark_note(res, inputs), basis_note(res),
            *_data_notes(res, inputs), *_member_notes(res), *input_notes(res)]


def input_notes(res: ProductivityResult) -> list[str]:
    """Options that do not change a figure, and why (so no input is silently ignored)."""
    sc, out = res.scenario, []
    if sc.growth:
        out.append(f"Growth of {sc.growth * 100:.4g}% a year changes the year-by-year and "
                   "cumulative uplift, not the annual uplift U, which is in base-year prices.")
    if sc.path == "immediate" and sc.converge_years is not None:
        out.append("Years to converge are not used on the immediate path (the gap closes at "
                   "once): choose the linear or exponential path for them to count.")
    if sc.negative and not (res.members["gap"] < 0).any():
        out.append("No member is above the benchmark, so counting such members as negative "
                   "changes nothing here.")
    return out


def benchmark_note(res: ProductivityResult, inputs: MeasureInputs) -> str:
    """B: what was divided by what, with the values, and the rows used."""
    b, spec = res.benchmark, res.measure
    gva = f"; GVA: {inputs.gva_basis}" if b.basis == "totals" and inputs.gva_basis else ""
    return (f"Benchmark B ({b.label}, {inputs.period}, {b.basis} basis) = {b.formula} = "
            f"{pounds(b.value, spec)} per {spec.key}{gva} (rows {', '.join(b.codes)} of "
            f"{inputs.release_ids[-1]}).")


def basis_note(res: ProductivityResult) -> str:
    """The benchmark's basis against the members' smoothed figures, and the totals on
    the other basis, so the size of that choice is in view."""
    b, alt, spec = res.benchmark, res.alternative, res.measure
    smoothed = ("ONS's smoothed series (a 5-year weighted moving average, the only one "
                "published for districts)")
    if b.basis == "totals":
        text = (f"Basis: the benchmark is unsmoothed (total GVA / total {spec.labour_short}, "
                f"as asked) while member figures are {smoothed}; a smoothed series lags a "
                "rising trend, so an unsmoothed benchmark widens the gaps when productivity is "
                "rising, which is why the default is the smoothed basis.")
    else:
        text = (f"Basis (the default): the benchmark is formed from smoothed ratios, like for "
                f"like with the member figures ({smoothed}); unsmoothed total GVA / total "
                f"{spec.labour_short} is shown beside it for comparison.")
    if alt.get("benchmark") is None:
        return text + f" The {alt.get('basis')} basis is unavailable: {alt.get('unavailable')}"
    diff = b.value / alt["benchmark"] - 1
    text += (f" Here B is {abs(diff):.2%} {'above' if diff >= 0 else 'below'} the "
             f"{alt['basis']}-basis B ({pounds(alt['benchmark'], spec)})")
    if alt.get("annual_uplift") is None or res.annual_uplift is None:
        return text + "."
    return text + (f"; on the {alt['basis']} basis the annual uplift is "
                   f"£{alt['annual_uplift'] / 1e9:,.2f}bn and the cumulative "
                   f"£{alt['cumulative_uplift'] / 1e9:,.2f}bn over {res.scenario.horizon} "
                   f"years (against £{res.annual_uplift / 1e9:,.2f}bn and "
                   f"£{(res.cumulative_uplift or 0) / 1e9:,.2f}bn here).")


def _data_notes(res: ProductivityResult, inputs: MeasureInputs) -> list[str]:
    spec, y, notes = res.measure, inputs.period, []
    eng = inputs.national.set_index("area_code")["productivity"].get(ENGLAND)
    if res.benchmark.key == "england" and inputs.lad_check is not None and eng:
        notes.append(f"Check: English districts' smoothed {spec.label} aggregated "
                     f"(Σ p L / Σ L) gives {pounds(inputs.lad_check, spec)}, "
                     f"{inputs.lad_check / eng - 1:+.2%} against England's published "
                     f"smoothed row ({pounds(eng, spec)}): each published ratio is smoothed "
                     "separately, so smoothed ratios do not add up exactly.")
    if spec.key == "hour":
        w = inputs.implied_weeks
        seen = (f"in {y} the unsmoothed ITL1 rows give Σ GVA per job × jobs / Σ GVA per "
                f"hour × weekly hours = {w:.2f} weeks" if w is not None
                else f"not checked for {y}: no unsmoothed rows")
        notes.append(f"Annual hours = weekly hours × WEEKS_PER_YEAR ({WEEKS_PER_YEAR:g}), the "
                     f"factor that reconciles ONS's unsmoothed per-hour and per-job series "
                     f"({seen}); 365.25/7 = 52.18 weeks would overstate hours by "
                     f"{365.25 / 7 / WEEKS_PER_YEAR - 1:.2%}.")
    notes.append(f"Member productivity is ONS smoothed current-price GVA(B) ({spec.unit}), "
                 f"{y}, Official Statistics in Development; labour ({spec.labour_label}) is "
                 f"held at {y} levels; £ are {y} current prices.")
    return notes


def _member_notes(res: ProductivityResult) -> list[str]:
    per, b, spec = res.members, res.benchmark, res.measure
    notes = [f"{n} ({c}): {t}." for n, c, t in zip(per["name"], per["code"], per["basis"],
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
    avg, net = res.average_gap, res.network_productivity
    if avg is not None and net is not None:
        notes.append(f"Total row: gap = annual uplift / total {spec.labour_short} = "
                     f"{pounds(avg, spec)} per {spec.key}, the average counted gap; B less "
                     f"the members' average productivity ({pounds(net, spec)}) is "
                     f"{pounds(b.value - net, spec)}.")
    return notes


def formula_note(res: ProductivityResult) -> str:
    """The formula with this result's options, in one sentence."""
    sc, n = res.scenario, res.scenario.n
    path = {"immediate": "s(t) = 1 (gap closed at once)",
            "linear": f"s(t) = min(t/{n}, 1) (equal steps, closed at year {n})",
            "exponential": f"s(t) = 1 − {1 - EXPONENTIAL_CLOSED:g}^(t/{n}) (a fixed share of "
                           f"the remaining gap closes each year; {EXPONENTIAL_CLOSED:.0%} closed "
                           f"at year {n})"}[sc.path]
    clamp = "B − p_i" if sc.negative else "max(0, B − p_i)"
    return (f"Annual uplift U = Σ_i {clamp} × L_i, where p_i is member i's "
            f"{res.measure.label}, L_i its {res.measure.labour_label} and B the benchmark; "
            f"year-t uplift = U × s(t) × (1 + g)^t with {path} and g = {sc.growth:g}, "
            f"{growth_text(sc.growth)} "
            "(benchmark and cash gap grow at g); cumulative = Σ over t = 1.."
            f"{sc.horizon} of the year-t uplift.")


def total_note(res: ProductivityResult) -> str:
    """The closing sentence: the totals in £bn, or why they are unavailable."""
    if res.annual_uplift is None or res.cumulative_uplift is None:
        return f"Total unavailable: {res.unavailable}."
    return (f"Total: annual uplift £{res.annual_uplift / 1e9:,.2f}bn a year at full closure "
            f"({res.base_year} prices, {res.measure.label}, {res.benchmark.label} "
            f"benchmark, {res.benchmark.basis} basis); cumulative over "
            f"{res.scenario.horizon} years ({res.scenario.describe()}): "
            f"£{res.cumulative_uplift / 1e9:,.2f}bn.")


def sensitivity_notes(*, measures: Sequence[str], benchmarks: Sequence[str],
                      bases: Sequence[str], paths: Sequence[str], horizons: Sequence[int],
                      growth: float, negative: bool, converge_years: int | None) -> list[str]:
    """The formula and the options a sensitivity table varies, in sentences."""
    return [
        "Each row: annual uplift U = Σ max(0, B − p_i) × L_i (B − p_i with negative) and "
        "cumulative = Σ over t = 1..horizon of U × s(t) × (1 + g)^t; linear and exponential "
        f"paths converge over the horizon unless converge_years is given (exponential: "
        f"{EXPONENTIAL_CLOSED:.0%} closed at year N).",
        "Basis 'totals': B = total GVA / total labour (unsmoothed, the default); 'smoothed': "
        "B from the published smoothed ratios, like for like with the members' smoothed "
        "figures.",
        f"The table varies measure ({', '.join(measures)}) × benchmark "
        f"({', '.join(benchmarks)}) × basis ({', '.join(bases)}) × path "
        f"({', '.join(paths)}) × horizon ({', '.join(map(str, horizons))} years); growth "
        f"g = {growth:g}, negative = {negative}"
        + (f", N = {converge_years}" if converge_years else "") + " in every row."]
