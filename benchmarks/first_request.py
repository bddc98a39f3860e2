"""First requests after ``keycities serve`` starts, without and with warming (issue 16, point 10).

Run: ``uv run python benchmarks/first_request.py [--after S] [--store PATH]``.

Three runs of ``keycities serve`` on a free loopback port over the same store, each new:

* **cold**: ``KEYCITIES_WARM=0`` (as before warming existed); the visitor's pages are asked
  as soon as the server answers its readiness probe (a static file);
* **warm, at once**: ``KEYCITIES_WARM=1``, asked at once (warming has just begun: the
  visitor waits for the same builds, never for a second one);
* **warm, later**: ``KEYCITIES_WARM=1``, asked ``--after`` seconds after the server answers
  (default 90), as a first visitor some time after a restart.

A visitor's pages, in order: ``/`` (redirected to the network page), ``/claims``, and the page
of the network's second member (warming builds the first one's, and the place features
that every place page uses).  Each is timed on a new connection; the table gives each run's
times and its total against the cold run's.  Also printed: the network page's bytes on
the wire without and with gzip.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _serve import HOST, default_store, free_port, server  # noqa: E402


def visit(url: str) -> list[tuple[str, float]]:
    """(page, seconds) of a first visitor's pages."""
    out = []
    member = None
    for path in ("/", "/claims", None):
        if path is None:
            members = httpx.get(url + "/api/networks/key-cities/members", timeout=300).json()
            member = sorted(m["code"] for m in members["data"])[1]
            path = f"/place/{member}"
        t = time.perf_counter()
        r = httpx.get(url + path, timeout=300, follow_redirects=True)
        out.append((path, time.perf_counter() - t))
        assert r.status_code == 200, (path, r.status_code)
    return out


def run(store: Path, warm: bool, after: float, tmp: Path) -> tuple[list[tuple[str, float]],
                                                                   tuple[int, int]]:
    os.environ["KEYCITIES_WARM"] = "1" if warm else "0"
    port = free_port()
    url = f"http://{HOST}:{port}"
    with server(store, port, log=tmp / f"serve-{warm}-{after}.log"):
        time.sleep(after)
        times = visit(url)
        plain = httpx.get(url + "/network/key-cities",
                          headers={"Accept-Encoding": "identity"}, timeout=60)
        packed = httpx.get(url + "/network/key-cities", headers={"Accept-Encoding": "gzip"},
                           timeout=60)
        sizes = (len(plain.content), int(packed.headers.get("content-length", 0)))
    return times, sizes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--after", type=float, default=90.0)
    ap.add_argument("--store", type=Path, default=None)
    args = ap.parse_args()
    store = args.store or default_store()
    tmp = Path(tempfile.mkdtemp(prefix="kc-first-"))
    os.environ["KEYCITIES_WORKSPACE"] = str(tmp / "ws.sqlite")
    runs = {"cold": run(store, False, 0.0, tmp), "warm, at once": run(store, True, 0.0, tmp),
            f"warm, {args.after:.0f} s later": run(store, True, args.after, tmp)}
    print(f"store {store}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    pages = [p for p, _ in runs["cold"][0]]
    print(f"{'run':22}" + "".join(f"{p[:22]:>24}" for p in pages) + f"{'total':>10}"
          + f"{'vs cold':>9}")
    cold_total = sum(t for _, t in runs["cold"][0])
    for name, (times, _) in runs.items():
        total = sum(t for _, t in times)
        print(f"{name:22}" + "".join(f"{t:>22.2f} s" for _, t in times)
              + f"{total:>8.2f} s{total / cold_total:>9.2f}")
    plain, packed = runs["cold"][1]
    print(f"network page on the wire: {plain:,} bytes plain, {packed:,} gzipped "
          f"({packed / plain:.2f})")


if __name__ == "__main__":
    main()
