"""The pilot pages: "Design a pilot" (choose the testbeds) and "Roll-out" (predict it).

Both run as background jobs (:mod:`keycities.web.jobs`) with progress: choosing
testbeds fits every candidate and its placebos over an effect grid; a roll-out
evaluates the pilots first.  Every parameter that can be checked without the long
computation is checked before the job is submitted (the network, the place names,
the outcome), so a mistake is a 4xx at once and starts no job.  The grid runs on the
Dask cluster of ``KEYCITIES_CLUSTER`` when one is set, else in the worker process.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd

from keycities.analysis.testbed._choose_sets import Constraints
from keycities.analysis.testbed.evaluate import DonorRules
from keycities.analysis.testbed.from_store import (
    choose_from_store,
    evaluate_from_store,
    rollout_from_store,
)
from keycities.analysis.testbed.outcomes import get_outcome
from keycities.analysis.testbed.plan import ChooseSpec
from keycities.errors import KeycitiesError
from keycities.present.figures import SpecFigure, interval_drawing
from keycities.present.testbed import choice_charts, choice_view, rollout_charts, rollout_view
from keycities.store.store import Store
from keycities.web.jobs import Report
from keycities.web.page import MapSpec, Page, Table
from keycities.web.resources import PLACE_VINTAGE, Resources
from keycities.web.tools import parse_treated, web_wording

BINS = ((-np.inf, -0.05, "fall2"), (-0.05, -0.01, "fall1"), (-0.01, 0.01, "flat"),
        (0.01, 0.05, "rise1"), (0.05, np.inf, "rise2"))
"""Map classes of a predicted effect (shares): below -5%, -5 to -1%, ..., above 5%."""
BIN_LABELS = {"rise2": "Above +5%", "rise1": "+1% to +5%", "flat": "-1% to +1%",
              "fall1": "-5% to -1%", "fall2": "Below -5%"}
"""The map key of :data:`BINS`, largest effect first."""


def _names(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _members(res: Resources, spec: str | None) -> list[str] | None:
    """Codes of a network's members today (None: 'all')."""
    if not spec or spec.strip().lower() == "all":
        return None
    return [str(c) for c in res.network(spec).members_at(dt.date.today())["code"]]


def _resolve(res: Resources, names: list[str]) -> list[str]:
    with res.ready:  # unknown or ambiguous names fail here, as 404/409, not in the job
        return [res.context.resolver.resolve(n, vintage=PLACE_VINTAGE).code for n in names]


def _spec(p: dict[str, Any], res: Resources) -> ChooseSpec:
    con = Constraints(k=int(p.get("k") or 5), require=tuple(_resolve(res, _names(
        p.get("require")))), exclude=tuple(_resolve(res, _names(p.get("exclude")))),
        max_per_region=p.get("max_per_region"), min_km=p.get("min_km"),
        min_donors=int(p.get("min_donors") or 10), max_imbalance=p.get("max_imbalance"))
    return ChooseSpec(con, start=p.get("start"), effect=p.get("effect") or 0.03,
                      similar=p.get("similar") or 50, grid=int(p.get("grid") or 200))


def design_page(res: Resources, params: dict[str, Any], *, owner: str = "",
                run: bool = True) -> Page:
    """Design a pilot: the chosen testbeds on a map, the frontier chart and the reasons."""
    page = Page(path="testbeds/design", template="pilot_design.html", title="Design a pilot",
                query=dict(params))
    if not run:
        return page
    p = params
    outcome = get_outcome(p.get("outcome") or "gva_per_filled_job").key
    cands = _members(res, p.get("candidates") or "key-cities") or []
    roll = _members(res, p.get("rollout"))
    spec = _spec(p, res)
    key = "design:" + json.dumps(params, sort_keys=True, default=str)
    page.job = res.jobs.submit_in_process(
        "design", key, choose_work, str(res.context.settings.store), outcome, cands, roll,
        spec, _names(p.get("features")) or None, res.context.settings.cluster, owner=owner,
        advice="choose among fewer candidates, with fewer donors (similar) or a coarser "
               "effect grid (grid).")
    if page.job.status != "done":
        return page
    done = page.job.result
    page.data = done["payload"]
    page.tables["reasons"] = Table(done["frame"], "Each candidate: in or out, and why",
                                   link="code")
    page.figures.update(done["figures"])
    chosen = list(done["payload"]["chosen"])
    hl = dict.fromkeys(cands, "peer") | dict.fromkeys(chosen, "member")
    names = dict(zip(done["frame"]["code"], done["frame"]["place"], strict=True))
    page.maps["chosen"] = MapSpec(
        title=f"The {len(chosen)} chosen testbeds (dark) among the candidates (light)",
        description="Chosen: " + ", ".join(names.get(c, c) for c in chosen), highlight=hl,
        labels={c: f"{names.get(c, c)}: {'testbed' if c in chosen else 'candidate'}"
                for c in hl},
        legend={"member": "Chosen testbed", "peer": "Candidate"})
    page.notes = list(done["notes"])
    return page


def _map_class(x: float) -> str:
    for lo, hi, cls in BINS:
        if lo <= x < hi:
            return cls
    return "flat"


def rollout_page(res: Resources, params: dict[str, Any], *, owner: str = "") -> Page:
    """Roll-out: evaluate the pilots (PLACE:YEAR), predict every other place with intervals."""
    page = Page(path="testbeds/rollout", template="pilot_rollout.html", title="Roll-out",
                query=dict(params))
    if not params.get("treated"):
        return page
    starts = parse_treated(str(params["treated"]))
    _resolve(res, list(starts))
    outcome = get_outcome(params.get("outcome") or "gva_per_filled_job").key
    to = _members(res, params.get("to"))
    key = "rollout:" + json.dumps(params, sort_keys=True, default=str)
    page.job = res.jobs.submit_in_process(
        "rollout", key, rollout_work, str(res.context.settings.store), outcome, starts, to,
        _names(params.get("features")), float(params.get("level") or 0.9),
        res.context.settings.cluster, owner=owner,
        advice="evaluate fewer pilots at once.")
    if page.job.status != "done":
        return page
    done = page.job.result
    page.data = done["payload"]
    frame: pd.DataFrame = done["frame"]
    page.tables["places"] = Table(frame, "Predicted effect in each place, with its interval",
                                  link="code")
    page.figures.update(done["figures"])
    page.maps["predicted"] = MapSpec(
        title="Predicted effect of the roll-out (darker: larger; red: a fall)",
        description="; ".join(f"{r['place']!s} {r['predicted']:+.1%}"
                              for r in frame.head(40).to_dict(orient="records")),
        highlight={c: _map_class(float(x)) for c, x in zip(frame["code"], frame["predicted"],
                                                           strict=True)},
        labels={str(r["code"]): f"{r['place']!s}: {r['predicted']:+.1%} ({r['low']:+.1%} to "
                f"{r['high']:+.1%})" for r in frame.to_dict(orient="records")},
        legend=BIN_LABELS)
    page.notes = list(done["notes"])
    return page


# ------------------------------------------------------------------ in the worker process


def choose_work(report: Report, store_path: str, outcome: str, candidates: list[str],
                rollout: list[str] | None, spec: ChooseSpec, features: list[str] | None,
                cluster: str | None) -> dict[str, Any]:
    """Choose the testbeds (in the worker process): payload, table, notes, figures."""
    with Store(store_path, read_only=True) as store, web_wording():
        report(0.02, "building the outcome panel, the donor pools and the features")
        result = choose_from_store(
            store, outcome, candidates, spec, rollout=rollout, features=features, workers=1,
            cluster=cluster, progress=lambda d, n: report(0.05 + 0.85 * d / max(n, 1),
                                                          f"synthetic control {d} of {n}"))
    frame, notes = choice_view(result)
    return {"payload": result.payload(), "frame": frame, "notes": notes,
            "figures": {k: SpecFigure.of(f) for k, f in choice_charts(result).items()}}


def rollout_work(report: Report, store_path: str, outcome: str, starts: dict[str, int],
                 to: list[str] | None, features: list[str], level: float,
                 cluster: str | None) -> dict[str, Any]:
    """Evaluate the pilots and predict the roll-out (in the worker process)."""
    if not 0 < level < 1:
        raise KeycitiesError(f"level={level}: give a level between 0 and 1, e.g. 0.9.")
    with Store(store_path, read_only=True) as store, web_wording():
        report(0.02, "evaluating the pilots")
        ev = evaluate_from_store(store, outcome, starts, rules=DonorRules(), with_did=False,
                                 workers=1, cluster=cluster,
                                 progress=lambda d, n: report(0.05 + 0.8 * d / max(n, 1),
                                                              f"placebo {d} of {n}"))
        report(0.9, "pooling the pilots and predicting every place")
        result = rollout_from_store(store, outcome, ev.synth.pilots(), to=to,
                                    features=features, alpha=1 - level)
    frame, notes = rollout_view(result)
    return {"payload": result.payload(), "frame": frame, "notes": notes,
            "figures": {k: SpecFigure.of(f, svg=interval_drawing(f))
                        for k, f in rollout_charts(result).items()}}
