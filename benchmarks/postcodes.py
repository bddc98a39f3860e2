"""Time ``build_postcode_tables()``: cold runs, each in a fresh Python process.

Every run starts a new interpreter (nothing cached in memory; the step keeps
no cache on disk), imports :mod:`keycities.sources.postcodes` and calls
:func:`~keycities.store.postcode_tables.build_postcode_tables` once.  Reported
per run and as medians: seconds for the call alone, seconds for import plus
call (what ``benchmarks/build.py`` times), and peak resident memory of the
main process and of its background worker.  The ratio is median / target
(5 s); below 1 meets it.

Usage::

    uv run python benchmarks/postcodes.py [-n 3] [--sequential]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

TARGET_S = 5.0

RUN = """
import json, resource, time
t0 = time.perf_counter()
from keycities.store.postcode_tables import build_postcode_tables
t1 = time.perf_counter()
out = build_postcode_tables(parallel={parallel})
t2 = time.perf_counter()
kib = 1024  # ru_maxrss is in KiB on Linux
print(json.dumps({{
    "build_s": t2 - t1, "import_build_s": t2 - t0,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / kib,
    "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / kib,
    "rows": {{k: len(v) for k, v in out.items()}},
}}))
"""


def one_run(*, parallel: bool) -> dict[str, float]:
    """Measurements of one cold run in a new process."""
    out = subprocess.run([sys.executable, "-c", RUN.format(parallel=parallel)], check=True,
                         capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Run the benchmark and print each run, the medians and the ratio to target."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=3, help="number of cold runs (default 3)")
    ap.add_argument("--sequential", action="store_true",
                    help="no background worker (parallel=False)")
    args = ap.parse_args()
    runs = [one_run(parallel=not args.sequential) for _ in range(args.n)]
    print(f"{'run':>4}{'build s':>10}{'import+build s':>16}{'peak RSS MB':>13}"
          f"{'worker RSS MB':>15}")
    for i, r in enumerate(runs, start=1):
        print(f"{i:>4}{r['build_s']:>10.2f}{r['import_build_s']:>16.2f}{r['rss_mb']:>13.0f}"
              f"{r['worker_rss_mb']:>15.0f}")
    build = statistics.median(r["build_s"] for r in runs)
    total = statistics.median(r["import_build_s"] for r in runs)
    rss = max(r["rss_mb"] for r in runs)
    print(f"median build {build:.2f} s (ratio {build / TARGET_S:.2f} of the {TARGET_S:.0f} s "
          f"target); with import {total:.2f} s (ratio {total / TARGET_S:.2f}); "
          f"peak RSS {rss:.0f} MB")
    print(f"(n={args.n} cold runs, {os.cpu_count()} CPUs, "
          f"{'sequential' if args.sequential else 'parallel'}; rows {runs[-1]['rows']})")


if __name__ == "__main__":
    main()
