"""Time a full `keycities build` from the mirror, and the postcode-profile step alone.

Each run is a fresh process with an empty store and an empty file cache
(a cold build, as a new user sees it).  Prints the median of N runs and the
ratio to the targets of issue 2: full build 60 s, postcode profiles 5 s.

Usage::

    KEYCITIES_MIRROR=../shared/data uv run python benchmarks/build.py [-n 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"full build": 60.0, "postcode profiles": 5.0}

# Imports happen before the clock starts: the step is the work, not Python start-up
# (start-up is inside the full-build figure).
POSTCODE_STEP = (
    "import time; from keycities.store.postcode_tables import build_postcode_tables;"
    "t=time.perf_counter(); build_postcode_tables(); print(time.perf_counter()-t)"
)


def time_full_build(mirror: str) -> float:
    """Wall seconds of one cold `keycities build` in a new process."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, KEYCITIES_STORE=f"{tmp}/k.duckdb", KEYCITIES_CACHE=f"{tmp}/c",
                   KEYCITIES_MIRROR=mirror, KEYCITIES_OFFLINE="1")
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "keycities.cli", "build", "--format", "json"],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t


def time_postcode_step() -> float:
    """Seconds of build_postcode_tables() measured inside a new process."""
    out = subprocess.run([sys.executable, "-c", POSTCODE_STEP], check=True,
                         capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the benchmark and print a table of medians and ratios to target."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=3, help="runs of each (default 3)")
    args = ap.parse_args()
    mirror = os.environ.get("KEYCITIES_MIRROR")
    if not mirror or not Path(mirror).is_dir():
        sys.exit("Set KEYCITIES_MIRROR to the mirror of official files (e.g. ../shared/data).")
    runs = {
        "full build": [time_full_build(mirror) for _ in range(args.n)],
        "postcode profiles": [time_postcode_step() for _ in range(args.n)],
    }
    print(f"{'step':<20}{'median s':>10}{'min s':>8}{'max s':>8}{'target s':>10}{'ratio':>8}")
    for step, times in runs.items():
        med = statistics.median(times)
        print(f"{step:<20}{med:>10.2f}{min(times):>8.2f}{max(times):>8.2f}"
              f"{TARGETS[step]:>10.1f}{med / TARGETS[step]:>8.2f}")
    print(f"(n={args.n} cold runs each, {os.cpu_count()} CPUs; ratio = median / target, "
          "below 1 meets the target)")


if __name__ == "__main__":
    main()
