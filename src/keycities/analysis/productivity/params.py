"""The productivity calculator's closed sets of options, declared once.

The core checks them (:mod:`keycities.analysis.productivity.core`), the CLI
takes its option help from them and the web its parameter types, descriptions
and select labels.
"""

from __future__ import annotations

from typing import Literal

from keycities.analysis._choices import Choice

Measure = Literal["job", "hour"]
MEASURE: Choice[Measure] = Choice(
    Measure, "productivity measure",
    "'job' (GVA per filled job) or 'hour' (GVA per hour worked).",
    {"job": "GVA per filled job", "hour": "GVA per hour worked"})

Benchmark = Literal["england", "england-ex-london", "uk", "region"]
BENCHMARK: Choice[Benchmark] = Choice(
    Benchmark, "benchmark", "england, england-ex-london, uk or region.",
    {"england": "England", "england-ex-london": "England excluding London",
     "uk": "United Kingdom", "region": "Each member's region"})
#: The benchmarks a sensitivity table varies by default (a region needs --region).
SENSITIVITY_BENCHMARKS: tuple[Benchmark, ...] = ("england", "england-ex-london", "uk")

Basis = Literal["totals", "smoothed"]
BASIS: Choice[Basis] = Choice(
    Basis, "benchmark basis",
    "smoothed (the default): the benchmark from ONS's smoothed ratios, like for like with the "
    "members' smoothed figures; totals: total GVA / total filled jobs (or hours), unsmoothed, "
    "which widens the gaps when productivity is rising.",
    {"smoothed": "Smoothed, like for like with the members' figures",
     "totals": "Unsmoothed totals (not like for like)"})
DEFAULT_BASIS: Basis = "smoothed"
"""Like for like: members' published figures are smoothed, so is the benchmark."""

GROWTH_PERCENT = (-10.0, 10.0)
"""Yearly growth accepted from a person, in % a year (lowest, highest)."""
GROWTH_HELP = ("Yearly growth in % a year, e.g. 2 or 2% (between -10% and 10%): the benchmark "
               "and the cash value of every gap grow by it, so year t's uplift is multiplied by "
               "(1 + g)^t; the annual uplift stays in base-year prices.")

ConvergencePath = Literal["immediate", "linear", "exponential"]
PATH: Choice[ConvergencePath] = Choice(ConvergencePath, "convergence path",
                            "Convergence: immediate, linear or exponential.")

__all__ = ["BASIS", "BENCHMARK", "DEFAULT_BASIS", "GROWTH_HELP", "GROWTH_PERCENT", "MEASURE",
           "PATH", "SENSITIVITY_BENCHMARKS", "Basis", "Benchmark", "ConvergencePath", "Measure"]
