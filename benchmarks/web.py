"""Latency and throughput of the keycities web app (issue 6), measured with wrk.

Run: ``uv run python benchmarks/web.py [--quick] [--store PATH] [--json PATH]``.

The app is started as ``keycities serve --host 127.0.0.1 --port P`` (a subprocess on
a free port, the store of ``--store`` or else the usual default: ``KEYCITIES_STORE``
or the user data directory, see :mod:`keycities.settings`) and stopped at the end,
also on Ctrl-C or an error.  For each URL:

1. one warm-up request on the fresh server (plain HTTP/1.1, a new connection); its
   time is the *first-request* column: the uncached cost.  The URLs are warmed in
   the order listed, so a URL whose tables (the place features, the audit, ...) an
   earlier URL already built is cheaper than it would be alone, and the first URL
   also pays for opening the store (the app opens it on first use);
2. once the server is idle again (so that requests a previous wrk run left in
   flight do not load the next URL), wrk for a fixed time (default 10 s,
   ``--quick`` 3 s) with one thread and 8 connections (``-t1 -c8 --timeout 30s``):
   the server (one uvicorn process) and wrk share the machine's 2 CPUs.  A Lua
   ``done()`` hook prints p50/p95/p99 of the latency (wrk's histogram,
   microseconds; not corrected for coordinated omission), requests per second and
   the errors: responses with status >= 400 (what wrk counts as status errors)
   plus socket errors (connect, read, write, timeout).  The warm-up request checks
   that the status is 2xx (a redirect or an error shows in the ``status`` column
   and fails the verdict).

The target of issue 6 is p95 < 50 ms for cached pages and API reads on this 2-core
machine; each row gets a verdict and the ratio p95 / target (below 1 meets it).
Every figure is from one run (one wrk run per URL); the latency columns are the
percentiles of that run.  How busy the machine was: the load average at the start
and the end, and per URL the 1-minute load before it (which counts this benchmark's
own server and wrk) and ``others``, the CPUs that other processes used on average
during its wrk run (the machine's busy time, from /proc/stat, less the server's,
wrk's and this script's).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from _serve import (
    HOST,
    default_store,
    free_port,
    get,
    machine_busy,
    own_cpu,
    process_cpu,
    server,
    settle,
)

TARGET_MS = 50.0
URLS = [
    "/network/key-cities",
    "/place/E08000024",
    "/places",
    "/compare?places=Sunderland&places=Plymouth",
    "/claims",
    "/productivity",
    "/productivity?benchmark=uk",
    "/twin?network=key-cities&min_km=150",
    "/data",
    "/static/style.css",
    "/api/releases",
    "/api/networks/key-cities/headline",
    "/api/networks/key-cities/members",
    "/api/places/Sunderland",
    "/api/claims/audit",
    "/api/productivity",
    "/api/places/E08000024/peers",
    "/api/twin?network=key-cities&min_km=150",
]
MARK = "WEBBENCH "
LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "duration_us": %d, "p50_us": %.1f, "p95_us": %.1f, '
    .. '"p99_us": %.1f, "max_us": %.1f, "status": %d, "connect": %d, "read": %d, '
    .. '"write": %d, "timeout": %d}\\n',
    "MARK", summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), latency.max, e.status, e.connect,
    e.read, e.write, e.timeout))
end
""".replace("MARK", MARK)


@dataclass(frozen=True)
class Row:
    """One URL's measurements (milliseconds, requests per second)."""

    url: str
    kind: str
    status: int
    bytes: int
    first_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rps: float
    requests: int
    errors: int
    load1: float
    others_cpu: float

    @property
    def ratio(self) -> float:
        """p95 / target."""
        return self.p95_ms / TARGET_MS

    @property
    def meets(self) -> bool:
        """p95 below target, a 2xx warm-up and no error under load."""
        return self.p95_ms < TARGET_MS and 200 <= self.status < 300 and self.errors == 0

    def payload(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        plain = {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}
        return {**plain, "ratio": round(self.ratio, 4), "meets": self.meets}


def kind_of(url: str) -> str:
    """page, api or static."""
    if url.startswith("/static/"):
        return "static"
    return "api" if url.startswith("/api/") else "page"


def run_wrk(port: int, url: str, *, seconds: float, connections: int,
            script: Path) -> dict[str, float]:
    """wrk's summary for ``url`` (the Lua hook's JSON line)."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s",
           "-s", str(script), f"http://{HOST}:{port}{url}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    lines = [ln for ln in out.splitlines() if ln.startswith(MARK)]
    if not lines:
        raise RuntimeError(f"wrk printed no summary for {url}:\n{out}")
    result: dict[str, float] = json.loads(lines[-1][len(MARK):])
    return result


def measure(pid: int, port: int, urls: list[str], args: argparse.Namespace,
            script: Path) -> list[Row]:
    """Warm every URL once (timed), then load each with wrk once the server is idle.

    Also the CPUs used on average by other processes during each wrk run: the
    machine's busy time less the server's, wrk's and this script's.
    """
    first = {}
    for url in urls:
        print(f"warming {url} ...", file=sys.stderr, flush=True)
        first[url] = get(port, url, 300.0)
    rows = []
    for url in urls:
        settle(pid)
        print(f"wrk {url} ...", file=sys.stderr, flush=True)
        load1 = os.getloadavg()[0]
        cpu0 = (machine_busy(), process_cpu(pid), own_cpu(), time.perf_counter())
        w = run_wrk(port, url, seconds=args.duration, connections=args.connections,
                    script=script)
        cpu1 = (machine_busy(), process_cpu(pid), own_cpu(), time.perf_counter())
        others = ((cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1]) - (cpu1[2] - cpu0[2])) / (
            cpu1[3] - cpu0[3])
        status, size, first_ms = first[url]
        errors = sum(int(w[k]) for k in ("status", "connect", "read", "write", "timeout"))
        rows.append(Row(url=url, kind=kind_of(url), status=status, bytes=size,
                        first_ms=first_ms, p50_ms=w["p50_us"] / 1e3, p95_ms=w["p95_us"] / 1e3,
                        p99_ms=w["p99_us"] / 1e3, max_ms=w["max_us"] / 1e3,
                        rps=w["requests"] / (w["duration_us"] / 1e6),
                        requests=int(w["requests"]), errors=errors, load1=load1,
                        others_cpu=max(others, 0.0)))
    return rows


def print_table(rows: list[Row]) -> None:
    """The table, then one verdict line per row."""
    width = max(len(r.url) for r in rows)
    print(f"{'url':<{width}} {'kind':<6} {'status':>6} {'KB':>4} {'first ms':>9} "
          f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'rps':>6} {'n':>6} {'errors':>6} "
          f"{'others':>6} {'load1':>5}")
    for r in rows:
        print(f"{r.url:<{width}} {r.kind:<6} {r.status:>6} {r.bytes / 1024:>4.0f} "
              f"{r.first_ms:>9.1f} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f} {r.p99_ms:>8.1f} "
              f"{r.rps:>6.0f} {r.requests:>6} {r.errors:>6} {r.others_cpu:>6.2f} "
              f"{r.load1:>5.2f}")
    print(f"\nVerdicts against the target p95 < {TARGET_MS:.0f} ms for cached pages and API "
          "reads (ratio = p95 / target):")
    for r in rows:
        why = "" if 200 <= r.status < 300 else f" (warm-up status {r.status})"
        why += f" ({r.errors} errors)" if r.errors else ""
        print(f"  {'meets ' if r.meets else 'MISSES'} {r.url:<{width}} p95 {r.p95_ms:7.1f} ms"
              f"  ratio {r.ratio:5.2f}{why}")
    print(f"  {sum(r.meets for r in rows)} of {len(rows)} URLs meet the target.")


def main() -> None:
    """Start the app, measure every URL, print the table and the verdicts."""
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 s of wrk per URL instead of 10 s")
    ap.add_argument("--duration", type=float, default=None, help="seconds of wrk per URL")
    ap.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    ap.add_argument("--store", type=Path, default=None,
                    help="the evidence store (default: KEYCITIES_STORE or the user default)")
    ap.add_argument("--url", action="append", default=None,
                    help="measure only this URL (repeatable; default: the list of issue 6)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args()
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk).")
    store = (args.store or default_store()).expanduser().resolve()
    if not store.is_file():
        sys.exit(f"No store at {store}: run `keycities build` or pass --store PATH.")
    urls = args.url or URLS
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "summary.lua"
        script.write_text(LUA)
        port = free_port()
        try:
            with server(store, port, log=Path(tmp) / "server.log") as pid:
                rows = measure(pid, port, urls, args, script)
        except KeyboardInterrupt:
            sys.exit("interrupted; the server is stopped.")
    load_end = os.getloadavg()
    report(rows, args, store, load_start, load_end)


def report(rows: list[Row], args: argparse.Namespace, store: Path,
           load_start: tuple[float, float, float], load_end: tuple[float, float, float]) -> None:
    """Print the table and the conditions; write the JSON if asked."""
    loads = {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in load_end]}
    wrk = f"wrk -t1 -c{args.connections} -d{args.duration:g}s --timeout 30s"
    print(f"store {store}; {os.cpu_count()} CPUs shared by the server (one uvicorn process) "
          f"and wrk; {wrk} per URL")
    print(f"load average (1, 5, 15 min): start {loads['start']}, end {loads['end']}\n")
    print_table(rows)
    print(f"\n(one run: one warm-up request then one {args.duration:g} s wrk run per URL; "
          "first ms = the warm-up request on the fresh server, URLs in the order listed; "
          "p50/p95/p99 = wrk's latency percentiles of that run; errors = status >= 400 plus "
          "socket errors; n = requests completed; others = CPUs used on average by other "
          "processes during the wrk run; load1 = 1-minute load average before it, which "
          "includes this benchmark's own server and wrk)")
    if args.json:
        meta = {"store": str(store), "cpus": os.cpu_count(), "wrk": wrk, "target_p95_ms":
                TARGET_MS, "load_average": loads, "runs": 1,
                "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        args.json.write_text(json.dumps({"meta": meta, "rows": [r.payload() for r in rows]},
                                        indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
