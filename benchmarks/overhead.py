"""Benchmark the time ``twin``, ``headline`` and ``testbed evaluate`` spend outside their model.

Run: ``uv run python benchmarks/overhead.py --baseline-src ../base/src [--repeat N]``
(needs a built store: KEYCITIES_STORE or ``--store``; KEYCITIES_MIRROR as for the CLI).

Each command runs ``--repeat`` times (default 3) in a fresh interpreter per
source tree, the trees interleaved so that a busy machine slows them alike,
after one untimed warm-up each (disk and bytecode caches).  For every run:

* *whole*: wall seconds of the process, measured from outside;
* *model*: seconds inside the model function, measured in the process by a
  small wrapper installed before the CLI starts (the model module's function
  is replaced by a timed one as soon as the module is imported, so every
  caller gets it), less the time the model spent importing modules for the
  first time (pyfixest is imported inside the DiD fit: that is overhead);
* *overhead* = whole - model.

The models: ``twin``, the matching (``twinning.matching.match``);
``headline``, the totals and shares (``headline.core.summarise``);
``testbed evaluate``, the synthetic control, placebos, conformal intervals,
DiD and event study (``testbed.evaluate.evaluate_panel``).  Medians are
printed for the baseline ("before") and this checkout's ``src/`` ("after") with
after/before ratios, and the load average.  Target (issue 18 point 5): each
command's overhead under 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS: dict[str, list[str]] = {
    "twin": ["twin", "--network", "key-cities", "--at", "2024-06-01", "--min-km", "150"],
    "headline": ["headline", "--at", "2024-06-01"],
    "testbed evaluate": ["testbed", "evaluate", "Bradford:2015", "Hull:2016", "--min-km",
                         "50", "--charts", "{charts}"],
}
MODELS: dict[str, tuple[str, str]] = {
    "twin": ("keycities.analysis.twinning.matching", "match"),
    "headline": ("keycities.analysis.headline.core", "summarise"),
    "testbed evaluate": ("keycities.analysis.testbed.evaluate", "evaluate_panel"),
}

# Run inside the measured process: times calls of MODULE.FUNC (outermost only) and the
# first-time imports made during them, writes {"model": s, "imports": s} to OUT at exit.
WRAPPER = r"""
import atexit, builtins, functools, importlib, json, sys, time
OUT, MODULE, FUNC = sys.argv[1:4]
del sys.argv[1:4]
sys.argv[0] = "keycities"
acc = {"model": 0.0, "imports": 0.0}
state = {"in_model": 0, "in_import": 0, "patched": False}

def timed(fn):
    @functools.wraps(fn)
    def inner(*a, **k):
        if state["in_model"]:
            return fn(*a, **k)
        state["in_model"] += 1
        t0 = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            acc["model"] += time.perf_counter() - t0
            state["in_model"] -= 1
    return inner

def patch():
    mod = sys.modules.get(MODULE)
    if not state["patched"] and mod is not None and hasattr(mod, FUNC):
        setattr(mod, FUNC, timed(getattr(mod, FUNC)))
        state["patched"] = True

def watch(real):
    def hooked(name, *a, **k):
        fresh = name not in sys.modules
        if not (fresh and state["in_model"] and not state["in_import"]):
            out = real(name, *a, **k)
            patch()
            return out
        state["in_import"] += 1
        t0 = time.perf_counter()
        try:
            return real(name, *a, **k)
        finally:
            acc["imports"] += time.perf_counter() - t0
            state["in_import"] -= 1
            patch()
    return hooked

builtins.__import__ = watch(builtins.__import__)
importlib.import_module = watch(importlib.import_module)
atexit.register(lambda: open(OUT, "w").write(json.dumps(acc)))
from keycities.cli import main
main()
"""


def run(src: Path, name: str, charts: Path) -> tuple[float, float]:
    """(whole, model) wall seconds of one run of command ``name`` with ``src`` on the path."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: bytecode is cached
    args = [a.replace("{charts}", str(charts)) for a in COMMANDS[name]]
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    try:
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", WRAPPER, str(out), *MODELS[name], *args],
                              env=env, check=False, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        whole = time.perf_counter() - t0
        if done.returncode != 0:
            raise SystemExit(f"keycities {' '.join(args)} failed:\n{done.stderr[-2000:]}")
        acc = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
    if acc["model"] == 0:
        raise SystemExit(f"{name}: the model function {'.'.join(MODELS[name])} never ran")
    return whole, acc["model"] - acc["imports"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-src", required=True, type=Path,
                        help="the 'before' src/ folder (e.g. a worktree of the baseline)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", default=None, help="built store (or KEYCITIES_STORE)")
    parser.add_argument("--only", action="append", choices=list(COMMANDS),
                        help="measure only this command (repeatable)")
    opts = parser.parse_args()
    if opts.store:
        os.environ["KEYCITIES_STORE"] = opts.store
    trees = {"before": opts.baseline_src.resolve(), "after": ROOT / "src"}
    names = opts.only or list(COMMANDS)
    loads = [os.getloadavg()[0]]
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        charts = Path(tmp)
        for name in names:
            for src in trees.values():  # untimed warm-up
                run(src, name, charts)
            for _ in range(opts.repeat):
                for label, src in trees.items():
                    runs.setdefault((name, label), []).append(run(src, name, charts))
            loads.append(os.getloadavg()[0])
    print(f"before: {trees['before']}; after: {trees['after']}; {opts.repeat} runs each, "
          f"medians; load average (1 min) {min(loads):.1f}-{max(loads):.1f} on "
          f"{os.cpu_count()} cores")
    print(f"{'command':<17} {'':>6} {'whole s':>8} {'model s':>8} {'overhead s':>11}")
    for name in names:
        row = {}
        for label in trees:
            whole = statistics.median(w for w, _ in runs[(name, label)])
            model = statistics.median(m for _, m in runs[(name, label)])
            over = statistics.median(w - m for w, m in runs[(name, label)])
            row[label] = (whole, model, over)
            print(f"{name:<17} {label:>6} {whole:>8.2f} {model:>8.2f} {over:>11.2f}")
        (wb, _, ob), (wa, _, oa) = row["before"], row["after"]
        print(f"{name:<17} {'ratio':>6} {wa / wb:>8.2f} {'':>8} {oa / ob:>11.2f}"
              f"   (after/before; overhead target 0.5 s)")


if __name__ == "__main__":
    main()
