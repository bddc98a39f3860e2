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
    "totals: total GVA / total filled jobs (or hours), unsmoothed, as the issue defines it; "
    "smoothed: from ONS's smoothed ratios, like for like with the members' figures.")

ConvergencePath = Literal["immediate", "linear", "exponential"]
PATH: Choice[ConvergencePath] = Choice(ConvergencePath, "convergence path",
                            "Convergence: immediate, linear or exponential.")

__all__ = ["BASIS", "BENCHMARK", "MEASURE", "PATH", "SENSITIVITY_BENCHMARKS", "Basis",
           "Benchmark", "ConvergencePath", "Measure"]
