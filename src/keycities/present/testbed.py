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

from keycities.analysis.testbed.evaluate import TestbedEvaluation
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
        mine = units[units["start"] == f.start] if "start" in units else units
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


def save_charts(figures: Mapping[str, Any], folder: Path, formats: Sequence[str] = ("svg",)
                ) -> list[Path]:
    """Write each figure as ``folder/<name>.<format>`` (atomically); return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, fig in figures.items():
        for fmt in formats:
            if fmt not in CHART_FORMATS:
                raise KeycitiesError(f"Unknown chart format {fmt!r}: use svg, png, json or html.")
            out.append(charts.save(fig, folder / f"{name}.{fmt}"))
    return out
