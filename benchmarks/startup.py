"""Benchmark CLI start-up: ``keycities --help`` and ``keycities headline``, before and after.

Run: ``uv run python benchmarks/startup.py [--repeat N] [--baseline-ref REF]``
(``headline`` needs a built store: KEYCITIES_STORE or ``--store``).

Each case is run ``--repeat`` times (default 7) in a fresh interpreter, cases
interleaved so that a busy machine slows them alike; the median wall time is
printed.  Bytecode is cached as Python does by default (PYTHONDONTWRITEBYTECODE
is unset for the runs; the untimed warm-up run writes the caches); install the
packages with ``uv sync --compile-bytecode`` for the same to hold of them.
The baseline is measured in the same run:

* ``--baseline-ref REF`` (e.g. ``main`` or a commit): that revision's ``src/``
  (``git archive``) run with this environment's packages: the real "before";
* without it, the eager import of what start-up used to load (``import
  keycities.cli`` with ``keycities.context``, ``keycities.cli.reporting`` and
  the twinning solver imported first), then ``--help``: the cost of the old
  module-level imports, to compare with.

Targets (issue 16.9): ``--help`` under 0.5 s and ``headline`` under 1.5 s on
an idle 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CLI = "import sys; from keycities.cli import main; sys.argv[0] = 'keycities'; main()"
EAGER = ("import keycities.context, keycities.cli.reporting, "
         "keycities.analysis.twinning.twinning; " + CLI)


def run(code: str, args: list[str], src: Path) -> float:
    """Wall seconds of one ``python -c CODE ARGS`` with ``src`` first on the path."""
    # As on a user's machine, Python caches the bytecode of what it imports (this
    # environment may set PYTHONDONTWRITEBYTECODE, which would recompile every run).
    env = {**os.environ, "PYTHONPATH": str(src)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, check=False,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"keycities {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return took


def checkout(ref: str, into: Path) -> Path:
    """``ref``'s ``src/`` folder extracted into ``into`` (the working tree is untouched)."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"], check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--baseline-ref", default=None,
                        help="git revision to measure as 'before' (default: eager imports)")
    parser.add_argument("--store", default=None, help="store for headline (or KEYCITIES_STORE)")
    opts = parser.parse_args()
    if opts.store:
        os.environ["KEYCITIES_STORE"] = opts.store
    with tempfile.TemporaryDirectory() as tmp:
        here = ROOT / "src"
        if opts.baseline_ref:
            before, before_code, label = checkout(opts.baseline_ref, Path(tmp)), CLI, \
                f"{opts.baseline_ref} (git archive)"
        else:
            before, before_code, label = here, EAGER, "eager imports of the old start-up"
        cases = {"--help": ["--help"], "headline": ["headline"]}
        times: dict[tuple[str, str], list[float]] = {}
        for args in cases.values():  # one untimed warm-up each (disk and bytecode caches)
            run(CLI, args, here)
            run(before_code, args, before)
        for _ in range(opts.repeat):
            for name, args in cases.items():
                times.setdefault((name, "after"), []).append(run(CLI, args, here))
                times.setdefault((name, "before"), []).append(run(before_code, args, before))
    print(f"baseline: {label}; {opts.repeat} runs each, medians; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'command':<10} {'before s':>9} {'after s':>9} {'after/before':>13} {'target s':>9}")
    for name, target in (("--help", 0.5), ("headline", 1.5)):
        b = statistics.median(times[(name, "before")])
        a = statistics.median(times[(name, "after")])
        print(f"{name:<10} {b:>9.2f} {a:>9.2f} {a / b:>13.2f} {target:>9.1f}")


if __name__ == "__main__":
    main()
