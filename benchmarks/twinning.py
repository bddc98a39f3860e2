"""Benchmark the twinning matching solver against networkx and rustworkx.

Run: ``uv run python benchmarks/twinning.py [--quick] [--real] [--only district,sector]``.

Instances (seeded): ``n`` random standardised 8-feature vectors.
* bridge: complete graph, weight = Euclidean distance (dense, float32 at 11,000);
* bond: k-nearest-neighbour candidate graph (k = 15), weight = max_dist - dist.

Per instance: keycities seconds (median of 5 after one untimed warm-up run, so
one-off start-up costs such as the first HiGHS call are not counted; one timed
run and no warm-up for the 11,000 cases),
objective, bound, gap; networkx (n <= 500, one run) and rustworkx (one run,
integer weights = round(w * 1e6) because its weight_fn must return int; its
objective is re-evaluated on the float weights) with time and objective ratios;
with ``--real``, also the real GB councils of the built store in each mode
(``keycities twin`` defaults: bridge on leave share, GVA per job and earnings,
bond on population, mixed on both, within 1 SD of population; the references on
the same allowed pairs), and the real GB postcode districts and sectors (bridge on
their 8 OAC supergroup shares, pairs at least 150 km apart; keycities only), each
real case in a fresh process so its peak memory (which includes building the
weights: the sector matrices are 578 MB each in float32) is its own;
the process's peak resident memory so far (it includes the dense weight matrix:
484 MB in float32 at 11,000).  ``rx/kc`` above 1 means keycities is faster.
Timings are wall-clock medians on a shared machine: compare the ratios of one run,
and see the load average printed at the start and the end.  The references are not
run on the complete graph at 11,000 (60 million pairs: rustworkx took 80 s at 2,000
and grows as n^3).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial

import networkx as nx
import numpy as np
import rustworkx as rx
from scipy.spatial import cKDTree

from keycities.analysis.twinning.matching import Matching, match, match_sparse

SCALE = 1e6


def features(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, 8))
    return (x - x.mean(0)) / x.std(0)


def dense_distances(x: np.ndarray) -> np.ndarray:
    n = len(x)
    out = np.empty((n, n), dtype=np.float32 if n > 4000 else np.float64)
    sq = (x ** 2).sum(1)
    for r0 in range(0, n, 1024):
        blk = sq[r0:r0 + 1024, None] + sq[None, :] - 2 * x[r0:r0 + 1024] @ x.T
        out[r0:r0 + 1024] = np.sqrt(np.maximum(blk, 0.0))
    np.fill_diagonal(out, 0.0)
    return out


def knn_edges(x: np.ndarray, k: int = 15) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dist, idx = cKDTree(x).query(x, k + 1)
    rows, cols, d = np.repeat(np.arange(len(x)), k), idx[:, 1:].ravel(), dist[:, 1:].ravel()
    lo, hi = np.minimum(rows, cols), np.maximum(rows, cols)
    _, first = np.unique(lo * len(x) + hi, return_index=True)
    return lo[first], hi[first], d.max() - d[first]


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    times, out = [], None
    if repeats > 1:
        fn()  # warm-up, not timed
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def reference(rows: np.ndarray, cols: np.ndarray, w: np.ndarray, n: int,
              which: str) -> tuple[float, float]:
    weight = {(int(i), int(j)): float(x) for i, j, x in zip(rows, cols, w, strict=True)}
    t = time.perf_counter()
    if which == "networkx":
        g = nx.Graph()
        g.add_weighted_edges_from((i, j, x) for (i, j), x in weight.items())
        pairs = nx.max_weight_matching(g)
    else:
        g = rx.PyGraph()
        g.add_nodes_from(range(n))
        g.add_edges_from([(i, j, round(x * SCALE)) for (i, j), x in weight.items()])
        pairs = rx.max_weight_matching(g, weight_fn=lambda e: e)
    secs = time.perf_counter() - t
    return secs, sum(weight[(min(i, j), max(i, j))] for i, j in pairs)


def row(mode: str, n: int, kc_s: float, m: Matching, refs: dict[str, tuple[float, float]]
        ) -> str:
    cells = [f"{mode:7} {n:6d} {kc_s:9.3f} {m.objective:14.6f} {m.bound:14.6f} "
             f"{m.relative_gap:9.2e}"]
    for name in ("networkx", "rustworkx"):
        if name in refs:
            s, obj = refs[name]
            cells.append(f"{s:9.3f} {s / kc_s:8.1f}x {m.objective / obj:.9f}")
        else:
            cells.append(f"{'-':>9} {'-':>9} {'-':>11}")
    return " | ".join(cells)


def run_case(mode: str, n: int, quick: bool) -> str:
    x = features(n, seed=n)
    big = n > 4000
    if mode == "bridge":
        w = dense_distances(x)
        iu = np.triu_indices(n, 1) if n <= 2000 else None
        solve: Callable[[], Matching] = partial(match, w, time_limit=60.0)
        edges = (iu[0], iu[1], w[iu]) if iu is not None else None
    else:
        a, b, s = knn_edges(x)
        solve = partial(match_sparse, n, a, b, s, time_limit=60.0)
        edges = (a, b, s)
    kc_s, m = timed(solve, 1 if big else 5)
    assert isinstance(m, Matching)
    refs: dict[str, tuple[float, float]] = {}
    if edges is not None:
        if n <= (360 if quick else 500) or (mode == "bond" and n <= 2000):
            print(f"  networkx {mode} n={n} ...", file=sys.stderr, flush=True)
            refs["networkx"] = reference(*edges, n, "networkx")
        print(f"  rustworkx {mode} n={n} ...", file=sys.stderr, flush=True)
        refs["rustworkx"] = reference(*edges, n, "rustworkx")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row(mode, n, kc_s, m, refs) + f" | {peak:7.0f}   [{m.method}]"


def real_weights(level: str, mode: str) -> np.ndarray:
    """The weight matrix (-inf = not allowed) of a real twinning run, built lean in memory."""
    from keycities.analysis.places.from_store import place_features
    from keycities.analysis.twinning.spec import GB, TwinSpec, twin_spec
    from keycities.analysis.twinning.twinning import (
        _imputed,
        _subset,
        allowed_pairs,
        inputs_from_features,
        pair_weights,
    )
    from keycities.geography.spatial import haversine_km
    from keycities.settings import Settings
    from keycities.store.store import Store

    spec = twin_spec(places="lad", mode=mode) if level == "lad" else \
        TwinSpec(contrast=tuple(f"oac_{k}" for k in range(1, 9)), min_km=150)
    with Store(Settings().store, read_only=True) as store:
        p = inputs_from_features(place_features(store, level), countries=GB)
    if level == "lad":  # as keycities twin does; the postcode runs keep every place (12,018)
        lacking = _imputed(p, spec)
        p = _subset(p, [i for i, c in enumerate(p.codes) if c not in lacking])
    mask = allowed_pairs(p.codes, haversine_km(p.lat, p.lon), p.groups, spec, p.z).mask
    w = pair_weights(p.z, spec)
    w[~mask] = -np.inf
    return w


def own_peak_mib() -> float:
    """This process's peak resident memory (MiB): VmHWM, which starts afresh at exec
    (ru_maxrss can carry the parent's peak over into a child on Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_case(level: str, mode: str) -> dict[str, object]:
    """One real case, keycities and (councils only) the references; run in its own process."""
    w = real_weights(level, mode)
    n = len(w)
    kc_s, m = timed(partial(match, w), 1 if level != "lad" else 5)
    assert isinstance(m, Matching)
    out: dict[str, object] = {"mode": mode, "n": n, "kc_s": kc_s, "objective": m.objective,
                              "bound": m.bound, "rel_gap": m.relative_gap,
                              "method": m.method, "peak": own_peak_mib()}
    if level == "lad":
        iu = np.triu_indices(n, 1)
        ok = np.isfinite(w[iu]) & (w[iu] > 0)
        edges = (iu[0][ok], iu[1][ok], w[iu][ok])
        out["refs"] = {"rustworkx": reference(*edges, n, "rustworkx")}  # networkx: minutes
    return out


def real_row(level: str, mode: str) -> str:
    """Run :func:`real_case` in a fresh interpreter and format its row."""
    import json
    import subprocess

    proc = subprocess.run([sys.executable, __file__, "--one", f"{level}:{mode}"],
                          capture_output=True, text=True, check=True)
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    m = Matching([], [], r["objective"], r["bound"], r["method"], r["kc_s"])
    refs = {k: tuple(v) for k, v in r.get("refs", {}).items()}
    label = {"lad": "council", "district": "distr.", "sector": "sector"}[level]
    return (row(f"{label[:7]:7}", int(r["n"]), float(r["kc_s"]), m, refs)
            + f" | {r['peak']:7.0f}   [{mode}; {r['method']}]")


def main() -> None:
    import json
    import os

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the 11,000 cases")
    parser.add_argument("--real", action="store_true",
                        help="also the real GB councils (each mode) and the postcode districts "
                             "and sectors from the built store")
    parser.add_argument("--only", help="run only these real cases, e.g. district,sector "
                        "(levels lad, district, sector; implies --real, no synthetic cases)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # LEVEL:MODE, one real case as JSON
    args = parser.parse_args()
    if args.one:
        level, mode = args.one.split(":")
        print(json.dumps(real_case(level, mode)))
        return
    cases = [("bridge", n) for n in (100, 360, 500, 2000)] + \
        [("bond", n) for n in (360, 2000)]
    if not args.quick:
        cases += [("bond", 11000), ("bridge", 11000)]
    only = set(args.only.split(",")) if args.only else None
    if only is not None:
        cases, args.real = [], True
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 CPUs)")
    print("mode         n   kc_s        objective          bound   rel_gap |"
          "     nx_s  nx/kc  kc/nx obj   |    rx_s  rx/kc  kc/rx obj   | peak_MiB")
    for mode, n in cases:
        print(f"running {mode} n={n} ...", file=sys.stderr, flush=True)
        print(run_case(mode, n, args.quick), flush=True)
    if args.real:
        real = [("lad", m) for m in ("bridge", "bond", "mixed")] + \
            [("district", "bridge"), ("sector", "bridge")]
        for level, mode in real:
            if only is not None and level not in only:
                continue
            print(f"running real {level} {mode} ...", file=sys.stderr, flush=True)
            print(real_row(level, mode), flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
