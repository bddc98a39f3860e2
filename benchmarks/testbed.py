"""Benchmark the synthetic control core against pysyncon, and ``testbed choose``.

Run: ``uv run python benchmarks/testbed.py [--quick] [--budget SECONDS] [--place CODE]``;
``uv run python benchmarks/testbed.py --choose [--repeats 3]`` for the choice of testbeds.

``--choose`` (needs ``KEYCITIES_MIRROR``): ``testbed choose`` with k = 5 from the 26 Key
Cities members (2024-06-01), GVA per filled job, start 2022 (20 pre-period years,
2002-2021), an effect grid of 200 injections per place, min-km 30, at most 2 per
region, on a store built from the mirror into a temporary directory.  The whole
command's work is timed (panel, features, every candidate's fit and placebo fits,
the optimisation): the median of ``--repeats`` runs on 1 and on 2 local worker
processes and on a local Dask cluster of 2 worker processes (one thread each),
measured in one run and reported as ratios to 1 worker.  Target: under 60 s with
local processes.

Problem: one treated place, every other English LAD (~295) as donors, 20 pre-periods
(GVA per filled job 2002-2021, policy from 2022).  With ``KEYCITIES_MIRROR`` set the
panel comes from a store built from the mirror into a temporary directory; otherwise
a seeded synthetic panel of the same shape (296 places x 21 years, two common
factors with place loadings plus 1% noise).  The script says which.

Two predictor specifications, both with the nested (ADH) choice of V:

* ``each``: the 20 pre-year outcomes (the default of ``fit``);
* ``adh``: four 5-year means and four single years (2005, 2010, 2015, 2020), the
  kind of specification of ADH 2010, where V must be searched for.

Measured in one run: our nested fit (median of 5 after an untimed warm-up), our full
placebo-in-space loop (median of 3; one run for ``adh``), pysyncon's
``Synth.fit`` on the same X0/X1/Z0/Z1 with its default outer optimiser
(Nelder-Mead from equal weights, maxiter 1000; one run, in a child process that
``--budget`` seconds stop, default 600, 0 = no limit; a stopped run reports the
best MSPE it had reached and how many outer evaluations it made), and the
pre-period MSPE (the outer loss) each reaches.  ``--quick`` skips pysyncon's
nested fits (its fixed-V fit, with our V, is still timed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from keycities.analysis.testbed.inference import placebo_space
from keycities.analysis.testbed.synth import SynthFit, fit

START = 2022
YEARS = list(range(2002, 2023))
ADH = {"mean 2002-2006": list(range(2002, 2007)), "mean 2007-2011": list(range(2007, 2012)),
       "mean 2012-2016": list(range(2012, 2017)), "mean 2017-2021": list(range(2017, 2022)),
       **{f"outcome {y}": [y] for y in (2005, 2010, 2015, 2020)}}


@contextmanager
def built_store(mirror: str) -> Iterator[Any]:
    """A store built from the mirror into a temporary directory (opened read-write)."""
    from keycities.settings import Settings
    from keycities.store.build import build_store
    from keycities.store.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(store=root / "k.duckdb", mirror=Path(mirror),
                            cache=root / "cache", offline=True)
        with Store(settings.store) as store:
            build_store(store, settings)
            yield store


def real_panel(mirror: str) -> pd.DataFrame:
    with built_store(mirror) as store:
        rows = store.query(
            "SELECT area_code, period, value FROM fact WHERE measure = "
            "'gva_per_filled_job' AND substr(area_code, 1, 3) IN "
            "('E06', 'E07', 'E08', 'E09')")
    return rows.pivot(index="area_code", columns="period", values="value")


def synthetic_panel(n: int = 296, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(len(YEARS))
    f = np.vstack([np.ones(len(YEARS)), t / len(YEARS), np.sin(t / 2.0)])
    load = np.column_stack([rng.uniform(2.5e4, 6e4, n), rng.uniform(0, 2e4, n),
                            rng.uniform(-1e3, 1e3, n)])
    y = load @ f * (1 + 0.01 * rng.standard_normal((n, len(YEARS))))
    codes = [f"S{i:03d}" for i in range(n)]
    codes[0] = "E06000058"
    return pd.DataFrame(y, index=codes, columns=YEARS)


def matrices(panel: pd.DataFrame, place: str, spec: str
             ) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    """pysyncon's X0, X1 (predictors x units) and Z0, Z1 (pre-years x units)."""
    pre = [y for y in YEARS if y < START]
    groups = {f"outcome {y}": [y] for y in pre} if spec == "each" else ADH
    x = pd.DataFrame({name: panel[ys].mean(axis=1) for name, ys in groups.items()}).T
    z = panel[pre].T
    donors = [c for c in panel.index if c != place]
    return x[donors], x[place], z[donors], z[place]


def ours(panel: pd.DataFrame, place: str, spec: str) -> SynthFit:
    return fit(panel, place, START, outcome_predictors=None if spec == "each" else ADH)


def timed(fn: Callable[[], Any], repeats: int, warm: bool = True) -> tuple[float, Any]:
    if warm and repeats > 1:
        fn()
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def _pysyncon_child(args: tuple[Any, ...], path: str) -> None:
    """Run pysyncon's fit, writing after every outer evaluation its count, elapsed
    seconds and the best (MSPE, W) so far to ``path`` (so a budget can stop it)."""
    from pysyncon import Synth

    x0, x1, z0, z1, custom_v = args
    original = Synth.calc_loss_V
    state: dict[str, Any] = {"n": 0, "loss": np.inf, "w": None, "t0": time.perf_counter()}

    def save(done: bool) -> None:
        tmp = f"{path}.tmp.npz"
        np.savez(tmp, w=state["w"], loss=state["loss"], n=state["n"], done=done,
                 seconds=time.perf_counter() - state["t0"])
        os.replace(tmp, path)

    def tracked(W: np.ndarray, Z0: np.ndarray, Z1: np.ndarray) -> float:  # noqa: N803
        loss = original(W=W, Z0=Z0, Z1=Z1)
        state["n"] += 1
        if loss < state["loss"]:
            state["loss"], state["w"] = loss, np.asarray(W)
        save(False)
        return loss

    Synth.calc_loss_V = staticmethod(tracked)  # type: ignore[method-assign]
    synth = Synth()
    synth.fit(X0=x0, X1=x1, Z0=z0, Z1=z1, custom_V=custom_v)
    state["w"], state["loss"] = np.asarray(synth.W), float(synth.loss_V)
    save(True)


def pysyncon_fit(args: tuple[Any, ...], budget: float | None) -> dict[str, Any]:
    """pysyncon's fit in a child process, stopped after ``budget`` seconds (None: no limit).

    Returns seconds, evaluations, done (finished by itself), w and MSPE (final, or the
    best reached when stopped)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/state.npz"
        child = mp.get_context("fork").Process(target=_pysyncon_child, args=(args, path))
        t = time.perf_counter()
        child.start()
        child.join(timeout=budget)
        if child.is_alive():
            child.terminate()
            child.join()
        wall = time.perf_counter() - t
        if not os.path.exists(path):
            return {"seconds": wall, "evaluations": 0, "done": False, "w": None,
                    "loss": float("nan")}
        with np.load(path, allow_pickle=True) as state:
            return {"seconds": float(state["seconds"]) if bool(state["done"]) else wall,
                    "evaluations": int(state["n"]), "done": bool(state["done"]),
                    "w": state["w"], "loss": float(state["loss"])}


def mspe(w: np.ndarray, z0: pd.DataFrame, z1: pd.Series) -> float:
    r = z1.to_numpy() - z0.to_numpy() @ w
    return float(r @ r) / len(r)


def report_spec(panel: pd.DataFrame, place: str, spec: str, args: argparse.Namespace) -> None:
    x0, x1, z0, z1 = matrices(panel, place, spec)
    fit_s, res = timed(lambda: ours(panel, place, spec), 5)
    reps = 3 if spec == "each" else 1
    loop_s, plc = timed(lambda: placebo_space(panel, place, START, outcome_predictors=None
                                              if spec == "each" else ADH), reps, warm=False)
    print(f"\n[{spec}] {len(x0)} predictors, {z0.shape[1]} donors, {len(z0)} pre-years")
    print(f"  ours nested fit        {fit_s:9.3f} s   MSPE {res.loss:.6g}  lower bound "
          f"{res.lower_bound:.6g}  optimal={res.v_optimal}  ({res.v_method})")
    print(f"  ours placebo loop      {loop_s:9.3f} s   {plc.placebos} placebos, p = "
          f"{plc.p_value:.4f}  (target < 15 s)")
    v = res.v.to_numpy()
    fixed = pysyncon_fit((x0, x1, z0, z1, v), None)
    ours_fixed_s, ours_fixed = timed(lambda: fit(
        panel, place, START, outcome_predictors=None if spec == "each" else ADH, v=v), 5)
    print(f"  fixed V (ours' V)      ours {ours_fixed_s:.3f} s, pysyncon {fixed['seconds']:.3f} s "
          f"({fixed['seconds'] / ours_fixed_s:.0f}x); MSPE ours {ours_fixed.loss:.6g}, "
          f"pysyncon {mspe(fixed['w'], z0, z1):.6g}")
    if args.quick:
        print("  pysyncon nested fit    skipped (--quick)")
        return
    budget = args.budget if args.budget and args.budget > 0 else None
    print(f"  running pysyncon nested fit (budget {budget} s) ...", file=sys.stderr, flush=True)
    out = pysyncon_fit((x0, x1, z0, z1, None), budget)
    if not out["evaluations"]:
        print(f"  pysyncon nested fit    no outer evaluation within {out['seconds']:.0f} s")
        return
    state = "finished" if out["done"] else f"stopped at the {budget:.0f} s budget"
    print(f"  pysyncon nested fit    {out['seconds']:9.3f} s   {state} after "
          f"{out['evaluations']} outer evaluations ({out['seconds'] / out['evaluations']:.2f} "
          f"s each); time ratio pysyncon/ours {'' if out['done'] else '> '}"
          f"{out['seconds'] / fit_s:.0f}x")
    worse = out["loss"] - res.loss
    label = "final" if out["done"] else "best so far"
    print(f"  MSPE: ours {res.loss:.6g}, pysyncon ({label}) {out['loss']:.6g}: ours is "
          + (f"lower by {worse:.6g} ({worse / out['loss']:.2%})" if worse >= 0 else
             f"HIGHER by {-worse:.6g} ({-worse / out['loss']:.2%})"))
    print(f"  max |w_ours - w_pysyncon| = {np.abs(res.weights.to_numpy() - out['w']).max():.4f}")


def choose_run(store: Any, members: list[str], workers: int, cluster: str | None,
               k: int = 5) -> Any:
    from keycities.analysis.testbed._choose_sets import Constraints
    from keycities.analysis.testbed.from_store import choose_from_store
    from keycities.analysis.testbed.plan import ChooseSpec

    spec = ChooseSpec(Constraints(k=k, min_km=30, max_per_region=2,
                                  max_imbalance=0.25 if k == 5 else None),
                      start=2022, effect=0.03, grid=200)
    return choose_from_store(store, "gva_per_filled_job", members, spec, workers=workers,
                             cluster=cluster)


def report_choose(mirror: str, repeats: int) -> None:
    from distributed import LocalCluster

    from keycities.network.register import builtin_network

    members = list(builtin_network("key-cities").members_at(dt.date(2024, 6, 1))["code"])
    with built_store(mirror) as store:
        choose_run(store, members[:6], 1, None, k=2)  # untimed warm-up: imports, store caches
        times: dict[str, float] = {}
        result = None
        for label, workers in (("1 local worker", 1), ("2 local workers", 2)):
            times[label], result = timed(lambda w=workers: choose_run(store, members, w, None),
                                         repeats, warm=False)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            address = cluster.scheduler_address
            choose_run(store, members[:6], 1, address, k=2)  # warm the workers' imports
            times["Dask, 2 workers"], _ = timed(
                lambda: choose_run(store, members, 1, address), repeats, warm=False)
    assert result is not None
    power = result.power
    fits = int(sum(p + 1 for p in power.placebos))
    print(f"\n[choose] k=5 of {len(members)} members, gva_per_filled_job, start {power.start} "
          f"({power.start - 2002} pre-period years), {len(power.effects)} injected effects per "
          f"place, {fits} synthetic-control fits; median of {repeats}")
    base = times["1 local worker"]
    for label, t in times.items():
        print(f"  {label:18s} {t:8.2f} s   ratio to 1 worker {base / t:5.2f}x"
              + ("   (target < 60 s)" if "local" in label else ""))
    print(f"  chosen: {', '.join(result.chosen)}; pooled MDE {result.mde:.3f} "
          f"(bound {result.mde_bound:.3f}); imbalance {result.imbalance:.3f} SD")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--choose", action="store_true",
                        help="benchmark testbed choose instead (needs KEYCITIES_MIRROR)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per engine (--choose)")
    parser.add_argument("--quick", action="store_true", help="skip pysyncon's nested fits")
    parser.add_argument("--budget", type=float, default=600.0,
                        help="seconds allowed to each pysyncon nested fit; 0 = no limit "
                             "(default 600; when stopped, its best MSPE so far is reported)")
    parser.add_argument("--place", default="E06000058", help="treated place (default BCP)")
    parser.add_argument("--spec", choices=["each", "adh", "both"], default="both")
    args = parser.parse_args()
    mirror = os.environ.get("KEYCITIES_MIRROR")
    if args.choose:
        if not mirror:
            sys.exit("--choose needs the real data: set KEYCITIES_MIRROR to the mirror.")
        print(f"cpus {os.cpu_count()}; load {os.getloadavg()[0]:.2f}")
        report_choose(mirror, args.repeats)
        return
    if mirror:
        print(f"data: real (GVA per filled job, English LADs; store built from {mirror})")
        panel = real_panel(mirror)
    else:
        print("data: SYNTHETIC seeded panel of the same shape (KEYCITIES_MIRROR not set)")
        panel = synthetic_panel()
    panel = panel[YEARS].dropna()
    print(f"panel {panel.shape[0]} places x {panel.shape[1]} years; treated {args.place}; "
          f"start {START}; cpus {os.cpu_count()}; load {os.getloadavg()[0]:.2f}")
    for spec in (["each", "adh"] if args.spec == "both" else [args.spec]):
        report_spec(panel, args.place, spec, args)


if __name__ == "__main__":
    main()
