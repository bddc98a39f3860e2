"""The figures of a testbed evaluation, and writing them to a folder.

One set of figures for every front end: the CLI's ``--charts`` folder, the web
page and the static pack draw the same Vega-Lite specs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from keycities.analysis.testbed.choose import TestbedChoice
from keycities.analysis.testbed.evaluate import TestbedEvaluation
from keycities.analysis.testbed.rollout import Rollout
from keycities.errors import KeycitiesError
from keycities.present import charts

CHART_FORMATS = ("svg", "png", "json", "html")


def evaluation_charts(result: TestbedEvaluation) -> dict[str, Any]:
    """Figures by name: observed vs synthetic and gap per place, placebos, event study."""
    out: dict[str, Any] = {}
    unit = result.panel.unit
    for code, f in result.synth.fits.items():
        name = result.panel.names.get(code, code)
        eff = f.effects()
        out[f"observed_vs_synthetic_{code}"] = charts.observed_vs_synthetic(
            eff, f.start, title=f"{name}: {result.panel.label}, observed and synthetic",
            unit=unit)
        placebo = result.placebo_gaps(code)
        out[f"gap_{code}"] = charts.gap_chart(
            eff, f.start, placebo, title=f"{name}: gap to its synthetic control",
            unit=unit)
    units = result.synth.placebo_units
    for code, f in result.synth.fits.items():
        mine = units[units["pool"] == code] if "pool" in units else units
        ratios = pd.concat([
            mine[["code", "ratio"]].rename(columns={"code": "place"}).assign(treated=False),
            pd.DataFrame([{"place": code, "ratio": f.ratio, "treated": True}])],
            ignore_index=True)
        ratios = ratios[np.isfinite(ratios["ratio"].astype(float))]
        if ratios["treated"].sum() == 1 and len(ratios) > 1:
            out[f"placebos_{code}"] = charts.placebo_distribution(
                ratios, title=f"{result.panel.names.get(code, code)}: post/pre RMSPE ratio "
                "against its placebos")
    if result.event_study is not None:
        out["event_study"] = charts.event_study_chart(
            result.event_study.coefs, title=f"Event study: {result.panel.label}")
    return out


def _pct(x: Any) -> str:
    return "not in the grid" if x is None or not np.isfinite(float(x)) else f"{float(x):.1%}"


def _cap(cap: Any) -> str:
    if cap is None:
        return "most power"
    if isinstance(cap, str):
        return cap
    return f"imbalance at most {float(cap):g} SD"


def frontier_rows(result: TestbedChoice) -> pd.DataFrame:
    """The frontier with a label per point and the chosen set marked."""
    f = result.frontier
    return pd.DataFrame({
        "label": [_cap(c) for c in f["cap"]], "mde": f["mde"], "imbalance": f["imbalance"],
        "testbeds": f["testbeds"],
        "chosen": [list(c) == list(result.chosen) for c in f["codes"]], "note": f["note"]})


def choice_view(result: TestbedChoice) -> tuple[pd.DataFrame, list[str]]:
    """What the CLI table and the web page show of a choice: one row per candidate, and
    the notes (the proof, the frontier, the method)."""
    places = result.places
    frame = pd.DataFrame({
        "place": places["name"], "code": places["code"], "region": places["region"],
        "status": places["status"], "mde_alone": places["mde_alone"],
        "reason": places["reason"]})
    notes = [f"Proof: no set meeting the constraints has a pooled MDE below "
             f"{_pct(result.mde_bound)} (the chosen: {_pct(result.mde)}), nor, at that MDE, "
             f"an imbalance below {result.imbalance_bound:.2f} SD (the chosen: "
             f"{result.imbalance:.2f} SD); HiGHS, {result.nodes} branch-and-bound nodes."]
    for r in frontier_rows(result).to_dict(orient="records"):
        if r["mde"] is None or not np.isfinite(r["mde"]):
            notes.append(f"Frontier, {r['label']!s}: {r['note'] or 'no set'!s}.")
            continue
        same = f" ({r['note']!s})" if r["note"] else ""
        notes.append(f"Frontier, {r['label']!s}: MDE {_pct(r['mde'])}, imbalance "
                     f"{r['imbalance']:.2f} SD: {r['testbeds']!s}{same}"
                     f"{' <- chosen' if r['chosen'] else ''}.")
    return frame, [*notes, *result.notes]


def choice_charts(result: TestbedChoice) -> dict[str, Any]:
    """The frontier chart of a choice."""
    return {"frontier": charts.frontier_chart(frontier_rows(result))}


def rollout_view(result: Rollout) -> tuple[pd.DataFrame, list[str]]:
    """The roll-out table (one row per place, largest predicted effect first) and notes
    (the pilots pooled, the national value, the model)."""
    places = result.places.sort_values("predicted", ascending=False)
    frame = pd.DataFrame({"place": places["name"], "code": places["code"],
                          "predicted": places["predicted"], "low": places["low"],
                          "high": places["high"],
                          "extrapolation": places["extrapolation"],
                          "outside": places["outside"]})
    level = f"{1 - result.alpha:.0%}"
    notes = [f"Pilot {r['name']!s}: estimated {r['effect']:+.1%} (placebo spread "
             f"{r['se']:.1%}), pooled {r['pooled']:+.1%}."
             for r in result.pilots.to_dict(orient="records")]
    nat = result.national
    if nat:
        unit = nat.get("unit", "")
        money = unit.startswith("£")

        def amount(x: float) -> str:
            if money:
                return f"{'-' if x < 0 else '+'}£{abs(x) / 1e9:,.1f} billion"
            return f"{x:+,.0f} {unit}"

        notes.append(f"National roll-out to {nat['places']} places: {amount(nat['total'])}"
                     f"{' a year' if money else ''} ({level} interval {amount(nat['low'])} to "
                     f"{amount(nat['high'])}); levels of {nat.get('year', '')}.")
        if "decade" in nat:
            notes.append(f"Over the productivity calculator's horizon: {amount(nat['decade'])} "
                         f"({amount(nat['decade_low'])} to {amount(nat['decade_high'])}); "
                         f"{nat.get('basis', '')}.")
    return frame, [*notes, *result.notes]


def rollout_charts(result: Rollout, names: dict[str, str] | None = None) -> dict[str, Any]:
    """Pilots and the predicted places (the 25 largest and smallest) as a forest plot."""
    pil = result.pilots
    rows = [pd.DataFrame({"place": pil["name"], "estimate": pil["effect"],
                          "low": pil["effect"] - 1.645 * pil["se"],
                          "high": pil["effect"] + 1.645 * pil["se"], "kind": "pilot"})]
    pl = result.places.sort_values("predicted", ascending=False)
    shown = pd.concat([pl.head(12), pl.tail(12)]).drop_duplicates("code")
    rows.append(pd.DataFrame({"place": shown["name"], "estimate": shown["predicted"],
                              "low": shown["low"], "high": shown["high"],
                              "kind": "predicted"}))
    label = result.outcome.get("label", "the outcome")
    return {"rollout": charts.interval_chart(
        pd.concat(rows, ignore_index=True),
        title=f"Roll-out: predicted effect on {label}, with {1 - result.alpha:.0%} intervals")}


def save_charts(figures: Mapping[str, Any], folder: Path, formats: Sequence[str] = ("svg",)
                ) -> list[Path]:
    """Write each figure as ``folder/<name>.<format>`` (atomically); return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        if fmt not in CHART_FORMATS:
            raise KeycitiesError(f"Unknown chart format {fmt!r}: use svg, png, json or html.")
    for name, fig in figures.items():
        vl_spec = charts.spec(fig)  # once per figure, not once per format
        for fmt in formats:
            out.append(charts.save(vl_spec, folder / f"{name}.{fmt}"))
    return out
