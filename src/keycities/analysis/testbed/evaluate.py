"""Testbeds: evaluate a pilot, design one before it starts, and rank where it could go next.

This module joins the pieces on data from the evidence store:

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
* charts (:mod:`keycities.present.charts`) as Vega-Lite specs, PNG or SVG.

A synthetic control is credible only when its pre-period fit is good: every
result reports the pre-period RMSPE next to the effect, and the notes say when
a place's fit is poor relative to its placebos.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis.testbed.panel import DonorPool, Panel, donor_pool, outcome_panel
from keycities.errors import KeycitiesError, Param, ParameterError
from keycities.store.store import Store

if TYPE_CHECKING:
    from keycities.analysis.testbed.inference import Progress



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
            "robustness": self.robustness, "notes": self.notes})

    def charts(self) -> dict[str, Any]:
        """Figures by name: observed vs synthetic and gap per place, placebos, event study."""
        from keycities.present import charts

        out: dict[str, Any] = {}
        unit = self.panel.unit
        for code, f in self.synth.fits.items():
            name = self.panel.names.get(code, code)
            eff = f.effects()
            out[f"observed_vs_synthetic_{code}"] = charts.observed_vs_synthetic(
                eff, f.start, title=f"{name}: {self.panel.label}, observed and synthetic",
                unit=unit)
            placebo = self._placebo_gaps(code)
            out[f"gap_{code}"] = charts.gap_chart(
                eff, f.start, placebo, title=f"{name}: gap to its synthetic control",
                unit=unit)
        units = self.synth.placebo_units
        for code, f in self.synth.fits.items():
            mine = units[units["start"] == f.start] if "start" in units else units
            ratios = pd.concat([
                mine[["code", "ratio"]].rename(columns={"code": "place"}).assign(treated=False),
                pd.DataFrame([{"place": code, "ratio": f.ratio, "treated": True}])],
                ignore_index=True)
            ratios = ratios[np.isfinite(ratios["ratio"].astype(float))]
            if ratios["treated"].sum() == 1 and len(ratios) > 1:
                out[f"placebos_{code}"] = charts.placebo_distribution(
                    ratios, title=f"{self.panel.names.get(code, code)}: post/pre RMSPE ratio "
                    "against its placebos")
        if self.event_study is not None:
            out["event_study"] = charts.event_study_chart(
                self.event_study.coefs, title=f"Event study: {self.panel.label}")
        return out

    def _placebo_gaps(self, code: str) -> pd.DataFrame | None:
        g = self.synth.placebo_gaps.get(code)
        if g is None:
            return None
        return g.rename_axis(index="year").reset_index().melt(
            id_vars="year", var_name="place", value_name="gap")


def _resolve(store: Store, places: Sequence[str], vintage: int) -> list[str]:
    from keycities.analysis.testbed.panel import resolve_places

    return [p.code for p in resolve_places(store, places, vintage)]


def _peer_codes(store: Store, treated: Sequence[str], k: int, vintage: int) -> list[str]:
    from keycities.analysis.places.peers import peers_from_store

    out: set[str] = set()
    for code in treated:
        res = peers_from_store(store, code, vintage=vintage, k=k, perturbations=20)
        out |= set(res.peers["code"])
    return sorted(out - set(treated))


def _inputs(store: Store, panel: Panel, starts: Mapping[str, int], rules: DonorRules
            ) -> tuple[DonorPool, pd.DataFrame]:
    from keycities.analysis.testbed.synth import similar_donors

    treated = list(starts)
    only = _peer_codes(store, treated, rules.peers, panel.vintage) if rules.peers else None
    pool = donor_pool(store, treated, min_km=rules.min_km, same_region=rules.same_region,
                      only=only, leave_out=rules.leave_out, panel=panel, vintage=panel.vintage)
    if rules.similar and len(pool.donors) > rules.similar:
        rows = panel.values.loc[[*treated, *pool.donors]]
        keep = sorted({d for t, y in starts.items()
                       for d in similar_donors(rows, t, y, rules.similar, exclude=treated)})
        only = sorted(set(only or pool.donors) & set(keep))
        pool = donor_pool(store, treated, min_km=rules.min_km, same_region=rules.same_region,
                          only=only, leave_out=rules.leave_out, panel=panel,
                          vintage=panel.vintage)
        pool = replace(pool, notes=(*pool.notes, f"Donors: the {rules.similar} places whose "
                                    "pre-policy outcome path is closest to each testbed's "
                                    "(their union), among those the other rules allow."))
    if len(pool.donors) < 5:
        set_rules = [Param(name) for name in ("min_km", "same_region", "peers", "similar")
                     if getattr(rules, name)]
        relax: list[str | Param] = []
        for i, rule in enumerate(set_rules):
            relax += [", " if 0 < i < len(set_rules) - 1 else " or " if i else "", rule]
        raise ParameterError(f"Only {len(pool.donors)} comparison places are left after the "
                             "donor rules", *([": relax ", *relax] if relax else []), ".")
    values = panel.values.loc[[*treated, *pool.donors]]
    return pool, values


def evaluate_from_store(store: Store, outcome: str, starts: Mapping[str, int], *,
                        rules: DonorRules = DonorRules(), vintage: int | None = None,
                        with_did: bool = True, workers: int = 2,
                        progress: Progress | None = None) -> TestbedEvaluation:
    """Evaluate a pilot in ``starts`` (place name or code -> first policy year).

    Parameters
    ----------
    store
        A built evidence store.
    outcome
        An outcome key of :data:`keycities.analysis.testbed.panel.OUTCOMES`.
    starts
        Treated places and the first year of the policy in each (staggered allowed).
    rules
        Donor-pool rules (spillover exclusions, peers only).
    vintage
        LAD boundary vintage (default: the outcome's newest release's).
    with_did
        Also estimate difference-in-differences and the event study.
    workers
        Processes for the placebo loop.
    progress
        Called with (done, total) as placebo fits finish.

    Returns
    -------
    TestbedEvaluation
    """
    from keycities.analysis.testbed.inference import evaluate

    panel = outcome_panel(store, outcome, vintage=vintage)
    codes = _resolve(store, list(starts), panel.vintage)
    by_code = {c: int(y) for c, y in zip(codes, starts.values(), strict=True)}
    pool, values = _inputs(store, panel, by_code, rules)
    ev = evaluate(values, by_code, workers=workers, progress=progress)
    notes = list(panel.notes) + list(pool.notes) + list(ev.notes)
    did_res = es = None
    if with_did:
        from keycities.analysis.testbed.did import did, event_study

        did_res = did(values, by_code)
        es = event_study(values, by_code)
        notes.append("Difference-in-differences uses the same places and years as the "
                     "synthetic control (the donor pool as comparison group).")
    robust = {code: _robustness(values, code, start, by_code, notes, panel.names)
              for code, start in by_code.items()}
    return TestbedEvaluation(panel, pool, ev, did_res, es, notes, robust)


def _robustness(values: pd.DataFrame, code: str, start: int, starts: Mapping[str, int],
                notes: list[str], names: Mapping[str, str]) -> dict[str, pd.DataFrame]:
    """Placebo in time and leave-one-out for one treated place (others never donors)."""
    from keycities.analysis.testbed.inference import leave_one_out, placebo_time

    own = values.drop(index=[c for c in starts if c != code])
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


def design_from_store(store: Store, outcome: str, place: str, start: int, *,
                      rules: DonorRules = DonorRules(), alpha: float = 0.05,
                      effects: Sequence[float] | None = None, vintage: int | None = None,
                      workers: int = 2, progress: Progress | None = None) -> TestbedDesign:
    """Minimum detectable effect for a testbed ``place`` starting in ``start``.

    Effects are injected into the real outcome from ``start`` on; ``start`` must
    lie inside the years the store holds (choose a past year to see what would
    have been detectable: the power of the design on real data).
    """
    from keycities.analysis.testbed.inference import DEFAULT_EFFECTS, detectable_effect

    panel = outcome_panel(store, outcome, vintage=vintage)
    code = _resolve(store, [place], panel.vintage)[0]
    pool, values = _inputs(store, panel, {code: start}, rules)
    grid = DEFAULT_EFFECTS if effects is None else effects
    det = detectable_effect(values, code, start, alpha=alpha, effects=grid, workers=workers,
                            progress=progress)
    return TestbedDesign(panel, pool, det)


def save_charts(figures: Mapping[str, Any], folder: Path, formats: Sequence[str] = ("svg",)
                ) -> list[Path]:
    """Write each figure as ``folder/<name>.<format>`` (atomically); return the paths."""
    from keycities.present.charts import save

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, fig in figures.items():
        for fmt in formats:
            if fmt not in ("svg", "png", "json", "html"):
                raise KeycitiesError(f"Unknown chart format {fmt!r}: use svg, png, json or html.")
            out.append(save(fig, folder / f"{name}.{fmt}"))
    return out


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

