"""Testbeds: evaluate a pilot and design one before it starts, from an outcome panel.

This module joins the pieces (:mod:`keycities.analysis.testbed.from_store`
loads them from the evidence store):

* the outcome panel with its provenance (:mod:`keycities.analysis.testbed.panel`);
* the donor pool, each excluded place with its reason (spillovers: places
  within ``min_km`` of a testbed or in its region; or only the testbeds' peers);
* synthetic control with placebo inference (:mod:`keycities.analysis.testbed.synth`,
  :mod:`keycities.analysis.testbed.inference`): per place, on average, with
  staggered starts;
* difference-in-differences and an event study with standard errors clustered
  by place (:mod:`keycities.analysis.testbed.did`), on the same places and years;
* the minimum detectable effect of a design (effects injected into the real
  pre-policy data), and the transfer ranking (:mod:`keycities.analysis.testbed.transfer`);

A synthetic control is credible only when its pre-period fit is good: every
result reports the pre-period RMSPE next to the effect, and the notes say when
a place's fit is poor relative to its placebos.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis.testbed.inference import (
    DEFAULT_EFFECTS,
    Progress,
    detectable_effect,
    leave_one_out,
    placebo_time,
)
from keycities.analysis.testbed.panel import DonorPool, Panel
from keycities.analysis.testbed.params import POOLS, PoolMode
from keycities.analysis.testbed.staggered import evaluate
from keycities.errors import KeycitiesError


@dataclass(frozen=True)
class DonorRules:
    """How the comparison places are chosen.

    See :func:`keycities.analysis.testbed.panel.donor_pool`.

    ``peers``: only the testbeds' ``peers`` nearest neighbours on the place
    features; ``similar``: then only the ``similar`` donors whose pre-policy
    outcome path is closest to each testbed's (the union over testbeds; a pool
    of similar places limits interpolation bias and exact fits, Abadie 2021,
    sec. 7); None keeps every place the other rules allow.
    """

    min_km: float | None = None
    same_region: bool = False
    peers: int | None = None
    similar: int | None = 50
    leave_out: tuple[str, ...] = ()
    pools: PoolMode = "each"
    """``each``: every testbed's ``similar`` places are its own pool; ``shared``: their
    union is every testbed's pool."""

    def __post_init__(self) -> None:
        POOLS.check(self.pools)


DEFAULT_RULES = DonorRules()
"""The donor rules when none are given."""


@dataclass
class TestbedEvaluation:
    """A pilot's evaluation: synthetic control, DiD and event study, with their inputs."""

    panel: Panel
    pool: DonorPool
    synth: Any  # synth_inference.Evaluation
    did: Any | None  # did.DidResult
    event_study: Any | None  # did.EventStudy
    notes: list[str] = field(default_factory=list)
    robustness: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)
    spillovers: Any | None = None  # spillover.Spillovers

    def summary(self) -> pd.DataFrame:
        """One row per treated place: start, pre-fit, effect, ratio; and the average."""
        rows = []
        for code, f in self.synth.fits.items():
            rows.append({"place": self.panel.names.get(code, code), "code": code,
                         "start": f.start, "pre_rmspe": f.pre_rmspe,
                         "effect": f.average_effect,
                         "relative_effect": f.average_relative_effect, "ratio": f.ratio})
        rows.append({"place": "average", "code": "", "start": None, "pre_rmspe": None,
                     "effect": self.synth.average_gap,
                     "relative_effect": self.synth.average_effect,
                     "ratio": self.synth.mean_ratio})
        return pd.DataFrame(rows)

    def payload(self) -> dict[str, Any]:
        """Plain data: the inputs and their provenance, every estimate, the notes."""
        return jsonable({
            "outcome": {"key": self.panel.outcome, "label": self.panel.label,
                        "unit": self.panel.unit, "vintage": self.panel.vintage,
                        "years": self.panel.years},
            "releases": self.panel.releases, "donor_pool": self.pool.payload(),
            "summary": self.summary(), "synthetic_control": self.synth.payload(),
            "did": None if self.did is None else self.did.payload(),
            "event_study": None if self.event_study is None else self.event_study.payload(),
            "robustness": self.robustness,
            "spillovers": None if self.spillovers is None else self.spillovers.payload(),
            "notes": self.notes})

    def placebo_gaps(self, code: str) -> pd.DataFrame | None:
        """The placebo places' gaps for ``code``'s start, long (year, place, gap)."""
        g = self.synth.placebo_gaps.get(code)
        if g is None:
            return None
        return g.rename_axis(index="year").reset_index().melt(
            id_vars="year", var_name="place", value_name="gap")


def _robustness(values: pd.DataFrame, code: str, start: int, starts: Mapping[str, int],
                notes: list[str], names: Mapping[str, str],
                donors: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """Placebo in time and leave-one-out for one treated place (others never donors; its
    own pool when it has one)."""
    own = values.drop(index=[c for c in starts if c != code])
    if donors is not None:
        own = own.loc[[code, *[c for c in donors if c in own.index and c != code]]]
    name = names.get(code, code)
    out: dict[str, pd.DataFrame] = {}
    try:
        t = placebo_time(own, code, start)
        out["placebo_time"] = t.summary
        fake = t.summary["average_relative_effect"].abs()
        notes.append(f"{name}: placebo in time (pretended starts "
                     f"{int(t.summary['fake_start'].min())}-{int(t.summary['fake_start'].max())}"
                     f"): fake effects up to {fake.max():.1%} in absolute value.")
    except KeycitiesError as exc:
        notes.append(f"{name}: no placebo in time ({exc})")
    loo = leave_one_out(own, code, start)
    out["leave_one_out"] = loo.summary
    if len(loo.summary):
        eff = loo.summary["average_relative_effect"]
        notes.append(f"{name}: leaving out one donor at a time, the effect ranges from "
                     f"{eff.min():+.1%} to {eff.max():+.1%} (all donors: "
                     f"{loo.fit.average_relative_effect:+.1%}).")
    return out


@dataclass
class TestbedDesign:
    """The minimum detectable effect of a testbed before it starts."""

    panel: Panel
    pool: DonorPool
    detect: Any  # synth_inference.Detectability

    def payload(self) -> dict[str, Any]:
        """Plain data: outcome, donor pool, the power curve and the MDE."""
        return jsonable({"outcome": {"key": self.panel.outcome, "label": self.panel.label,
                                     "unit": self.panel.unit, "vintage": self.panel.vintage},
                         "releases": self.panel.releases, "donor_pool": self.pool.payload(),
                         "design": self.detect.payload()})


def evaluate_panel(panel: Panel, pool: DonorPool, values: pd.DataFrame,
                   starts: Mapping[str, int], *, with_did: bool = True, workers: int = 2,
                   progress: Progress | None = None, cluster: str | None = None,
                   donors: Mapping[str, Sequence[str]] | None = None) -> TestbedEvaluation:
    """Evaluate a pilot on an outcome panel, with its donor pool already chosen.

    Parameters
    ----------
    panel
        The outcome panel (its notes and provenance go into the result).
    pool
        The donor pool.
    values
        The panel's rows of the treated places and the donors.
    starts
        Treated place code -> first policy year (staggered starts allowed).
    with_did
        Also estimate difference-in-differences and the event study.
    workers
        Processes for the placebo loop.
    progress
        Called with (done, total) as placebo fits finish.
    cluster
        A Dask scheduler's address for the placebo runs (None: local processes).
    donors
        Each treated place's own donor pool (default: every donor for every place).

    Returns
    -------
    TestbedEvaluation
    """
    extra: dict[str, Any] = {} if donors is None else {"donors": dict(donors)}
    ev = evaluate(values, starts, workers=workers, progress=progress, cluster=cluster,
                  **extra)
    notes = list(panel.notes) + list(pool.notes) + list(ev.notes)
    did_res = es = None
    if with_did:
        # deferred: pyfixest takes about 2 s to import, and only this path needs it
        from keycities.analysis.testbed.did import did, event_study

        did_res = did(values, starts)
        es = event_study(values, starts)
        notes.append("Difference-in-differences uses the same places and years as the "
                     "synthetic control (the donor pool as comparison group).")
    robust = {code: _robustness(values, code, start, starts, notes, panel.names,
                                None if donors is None else donors.get(code))
              for code, start in starts.items()}
    return TestbedEvaluation(panel, pool, ev, did_res, es, notes, robust)


def design_panel(panel: Panel, pool: DonorPool, values: pd.DataFrame, code: str, start: int, *,
                 alpha: float = 0.05, effects: Sequence[float] | None = None,
                 workers: int = 2, progress: Progress | None = None,
                 cluster: str | None = None) -> TestbedDesign:
    """The minimum detectable effect of testbed ``code`` starting in ``start``.

    Effects are injected into the real outcome from ``start`` on (see
    :func:`keycities.analysis.testbed.inference.detectable_effect`).
    """
    grid = DEFAULT_EFFECTS if effects is None else effects
    det = detectable_effect(values, code, start, alpha=alpha, effects=grid, workers=workers,
                            progress=progress, cluster=cluster)
    return TestbedDesign(panel, pool, det)


def parse_starts(values: Sequence[str]) -> dict[str, int]:
    """``["Bradford:2015", "Hull:2017"]`` -> ``{"Bradford": 2015, "Hull": 2017}``."""
    out: dict[str, int] = {}
    for v in values:
        name, sep, year = v.rpartition(":")
        if not sep or not name or not year.strip().isdigit():
            raise KeycitiesError(f"{v!r}: write a treated place as PLACE:YEAR, e.g. "
                                 "Bradford:2015 (the first year of the policy).")
        out[name.strip()] = int(year)
    if not out:
        raise KeycitiesError("Give at least one treated place as PLACE:YEAR.")
    return out

