"""The twinning solver on 360 places, against a baseline checkout and rustworkx, in one run.

Run: ``uv run python benchmarks/twinning_small.py [--baseline-src DIR] [--real]``.

Issue 18 points 1 and 6: bond (kNN-15 graph) and bridge (complete graph) at 360 random
places, as in ``benchmarks/twinning.py``, and with ``--real`` the GB councils of the
built store in each mode (``keycities twin`` defaults; ``KEYCITIES_STORE``).  Each
version (this checkout, and ``--baseline-src``, e.g. a worktree of the old commit's
``src``) runs in its own interpreter, one after the other, case by case.  Per case:
the solver's CPU time and wall time (minimum of ``--repeats`` runs after a warm-up; CPU
time is steadier than wall time on a shared machine) and rustworkx's
``max_weight_matching`` on the same allowed pairs (no dual check, graph building
included, as in ``benchmarks/twinning.py``).  The load average is printed with each row:
compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def instance(case: str) -> tuple[Callable[[], object], tuple[np.ndarray, ...], int]:
    """The solver call, the allowed pairs (for rustworkx) and ``n`` of one case."""
    sys.path.insert(0, str(HERE))
    from twinning import dense_distances, features, knn_edges, real_weights

    from keycities.analysis.twinning.matching import match, match_sparse

    if case.startswith("council-"):
        w = real_weights("lad", case.split("-")[1])
    elif case == "bridge-360":
        w = dense_distances(features(360, seed=360))
    else:
        a, b, s = knn_edges(features(360, seed=360))
        return (lambda: match_sparse(360, a, b, s)), (a, b, s), 360
    iu = np.triu_indices(len(w), 1)
    ok = np.isfinite(w[iu]) & (w[iu] > 0)
    return (lambda: match(w)), (iu[0][ok], iu[1][ok], w[iu][ok]), len(w)


def measure(case: str, repeats: int) -> dict[str, object]:
    """Times of one case in this interpreter (its ``keycities`` is on ``sys.path``)."""
    import keycities

    solve, edges, n = instance(case)
    solve()  # warm-up: imports, first calls
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        m = solve()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    from twinning import reference

    rx_cpu, rx_wall = [], []
    for _ in range(max(1, repeats // 2)):
        c0 = time.process_time()
        rx_wall.append(reference(*edges, n, "rustworkx")[0])
        rx_cpu.append(time.process_time() - c0)
    return {"src": str(Path(keycities.__file__).parents[1]), "cpu": min(cpu), "wall": min(wall),
            "rx_cpu": min(rx_cpu), "rx_wall": min(rx_wall),
            "objective": float(getattr(m, "objective", np.nan)),
            "gap": float(getattr(m, "gap", np.nan)), "load": os.getloadavg()[0]}


def run(case: str, src: Path | None, repeats: int) -> dict[str, object]:
    """:func:`measure` in a fresh interpreter with ``src`` first on the path."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, __file__, "--one", case, "--repeats", str(repeats)],
                          capture_output=True, text=True, check=True, env=env)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline-src", type=Path, help="a baseline checkout's src directory")
    parser.add_argument("--real", action="store_true", help="also the councils of the store")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeats)))
        return
    cases = ["bond-360", "bridge-360"]
    if args.real:
        cases += ["council-bridge", "council-bond", "council-mixed"]
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 CPUs); times in ms, min of "
          f"{args.repeats}")
    print("case            base_cpu  kc_cpu  base/kc | kc_wall  rx_wall  rx/kc_wall  "
          "rx_cpu  rx/kc_cpu | equal obj  gap       | load")
    for case in cases:
        new = run(case, None, args.repeats)
        old = run(case, args.baseline_src, args.repeats) if args.baseline_src else None
        base = f"{1000 * float(old['cpu']):8.1f}" if old else f"{'-':>8}"
        ratio = f"{float(old['cpu']) / float(new['cpu']):7.2f}x" if old else f"{'-':>8}"
        same = "-" if old is None else str(np.isclose(old["objective"], new["objective"],
                                                         rtol=1e-12))
        print(f"{case:15} {base} {1000 * float(new['cpu']):7.1f} {ratio} | "
              f"{1000 * float(new['wall']):7.1f} {1000 * float(new['rx_wall']):8.1f} "
              f"{float(new['rx_wall']) / float(new['wall']):10.2f}x "
              f"{1000 * float(new['rx_cpu']):7.1f} "
              f"{float(new['rx_cpu']) / float(new['cpu']):8.2f}x | {same:9} "
              f"{float(new['gap']):9.1e} | {float(new['load']):.1f}", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
