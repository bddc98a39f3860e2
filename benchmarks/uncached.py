"""Uncached page latency (issue 18, point 3): first views and signed-in readers.

Run: ``uv run python benchmarks/uncached.py [--store PATH] [--baseline-src DIR]
[--repeats N]``.

The response cache serves a page it has seen to readers who are not signed in.  Two
kinds of request miss it, and this script times both, per page, on a fresh
``keycities serve`` (after the tables every page shares are made: one request each
to ``/``, a place page and ``/claims``, and once the server is idle, its start-up
warming finished, as on a server that has been up a minute):

* **first view**: a URL nobody asked for before (a different place, pair of places,
  date or form value each time), so the page is built from the store;
* **signed in**: the same URL again with a session cookie, which the response cache
  skips both ways (signed-in pages show the reader's name and forms).

Each request is one GET on a new connection; the table gives the median and p95
(nearest rank) per page and kind, and the ratio of p95 to the target of 150 ms
(below 1 meets it).  With ``--baseline-src DIR`` (the ``src`` folder of another
checkout, e.g. ``git worktree add /tmp/base main``) the same requests are made to a
server running that code first, in the same run, and the ratio of the two p95s is
printed too.  The machine's load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _serve import HOST, default_store, free_port, get, server, settle  # noqa: E402

TARGET_MS = 150.0
COOKIE = {"Cookie": "kc_session=benchmark"}
PLACES = ["E06000010", "E08000024", "E06000026", "E06000014", "E08000035", "E06000018",
          "E07000178", "E08000032", "E06000023", "E06000035", "E07000071", "E07000041",
          "W06000022", "W06000006", "E06000038", "E08000031", "E06000043", "E06000042",
          "E08000026", "E08000034", "E06000021", "E06000058"]


def indicator_ids(port: int) -> list[str]:
    """Ids of the indicators with district values, from the app's JSON API."""
    with urllib.request.urlopen(f"http://{HOST}:{port}/api/indicators", timeout=120) as r:
        data = json.load(r)["data"]
    return [d["indicator"] for d in data if d["districts"]]


def first_views(n: int, ids: list[str]) -> dict[str, list[str]]:
    """Per page, ``n`` URLs that differ from each other (each a first view); ``ids``:
    indicators to show (every ``len(ids) // n``-th is taken)."""
    pairs = [f"/compare?places={a}&places={b}" for a, b in zip(PLACES, PLACES[1:], strict=False)]
    picked = ids[::max(len(ids) // (n + 1), 1)]
    return {
        "place": [f"/place/{c}" for c in PLACES[1:n + 1]],
        "compare": pairs[:n],
        "network": [f"/network/key-cities?at=2024-0{1 + i % 9}-{10 + i:02d}" for i in range(n)],
        "productivity": [f"/productivity?growth={1 + i / 10:.1f}" for i in range(n)],
        "twin": [f"/twin?network=key-cities&min_km={20 + 5 * i}" for i in range(n)],
        "peers (API)": [f"/api/places/{c}/peers" for c in PLACES[1:n + 1]],
        "indicator": [f"/indicator/{ind}" for ind in picked[1:n + 1]],
        "scatter": [f"/scatter?x={a}&y={b}" for a, b in zip(picked, picked[1:], strict=False)][:n],
        # dates with today's members and boundaries share the warmed scorecard; other
        # member lists or boundaries compute theirs (3 only: seconds each)
        "scorecard, today's members": [
            f"/scorecard/key-cities?at=2025-{4 + i % 8:02d}-{10 + i:02d}" for i in range(n)],
        "scorecard, other members": [f"/scorecard/key-cities?at={y}-12-01"
                                     for y in (2021, 2022, 2023)][:n],
    }


SINGLE = ["/network/key-cities", "/place/E06000010", "/places",
          "/compare?places=Sunderland&places=Plymouth", "/claims", "/productivity",
          "/twin", "/testbeds", "/data", "/indicators", "/indicator/claimant-count",
          "/scatter", "/scorecard/key-cities"]


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def measure(store: Path, src: Path | None, n: int, repeats: int) -> dict[str, list[float]]:
    """Per row label, the milliseconds of each request."""
    out: dict[str, list[float]] = {}
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp, \
            server(store, port, log=Path(tmp) / "serve.log", src=src) as pid:
        for url in ["/", "/place/E06000010", "/claims"]:
            get(port, url, 120.0)
        settle(pid, wait=600.0)  # the start-up warming has finished
        for page, urls in first_views(n, indicator_ids(port)).items():
            for url in urls:
                status, _, ms = get(port, url, 120.0)
                if status != 200:
                    raise RuntimeError(f"{url}: HTTP {status}")
                out.setdefault(f"first view: {page}", []).append(ms)
        for url in SINGLE:
            get(port, url, 120.0, COOKIE)
            for _ in range(repeats):
                status, _, ms = get(port, url, 120.0, COOKIE)
                if status != 200:
                    raise RuntimeError(f"{url}: HTTP {status}")
                out.setdefault(f"signed in: {url}", []).append(ms)
    return out


def main() -> None:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, default=None, help="the store (default: as the app)")
    ap.add_argument("--baseline-src", type=Path, default=None,
                    help="src folder of a baseline checkout, measured first in the same run")
    ap.add_argument("--first", type=int, default=12, help="first views per page (12)")
    ap.add_argument("--repeats", type=int, default=20, help="signed-in requests per URL (20)")
    args = ap.parse_args()
    store = args.store or default_store()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    base = (measure(store, args.baseline_src, args.first, args.repeats)
            if args.baseline_src else None)
    now = measure(store, None, args.first, args.repeats)
    print(f"load average at end: {os.getloadavg()[0]:.2f}\n")
    head = f"{'page':58} {'median':>8} {'p95':>8} {'p95/150ms':>10}"
    if base:
        head += f" {'base p95':>9} {'base/now':>9}"
    print(head)
    for label, ms in now.items():
        p95 = pct(ms, 0.95)
        row = (f"{label:58} {statistics.median(ms):8.0f} {p95:8.0f} {p95 / TARGET_MS:10.2f}")
        if base and label in base:
            b95 = pct(base[label], 0.95)
            row += f" {b95:9.0f} {b95 / p95:9.1f}x"
        print(row)


if __name__ == "__main__":
    main()
