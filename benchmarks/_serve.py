"""Shared mechanics of the web benchmarks (``web.py``, ``load.py``): run the app, measure CPU.

:func:`server` starts ``keycities serve --host 127.0.0.1 --port P`` as a subprocess over a
store and stops it at the end of its block (also on Ctrl-C or an error); :func:`free_port`
picks the port.  The CPU helpers read ``/proc`` so that a benchmark can say how busy the
machine was: its own server, itself, and everything else.
"""

from __future__ import annotations

import http.client
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOST = "127.0.0.1"
PROBE = "/static/favicon.svg"
"""Readiness probe: static, so it neither opens the store nor warms a measured URL."""
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port nothing listens on now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def get(port: int, url: str, timeout: float,
        headers: dict[str, str] | None = None) -> tuple[int, int, float]:
    """(status, body bytes, milliseconds) of one GET on a new connection."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        t = time.perf_counter()
        conn.request("GET", url, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, len(body), (time.perf_counter() - t) * 1e3
    finally:
        conn.close()


def default_store() -> Path:
    """The store the app would use without ``--store`` (KEYCITIES_STORE or the default)."""
    from keycities.settings import Settings

    return Settings().store


@contextmanager
def server(store: Path, port: int, *, log: Path, wait: float = 60.0,
           src: Path | None = None) -> Iterator[int]:
    """Run ``keycities serve`` on ``port`` until the block ends; yields its pid.

    ``src``: run the package found in this ``src`` folder (another checkout, as a
    baseline) instead of the installed one.
    """
    cmd = [sys.executable, "-m", "keycities.cli", "serve", "--host", HOST, "--port",
           str(port), "--store", str(store)]
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src.resolve())
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        end = time.perf_counter() + wait
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited ({proc.returncode}):\n"
                                   + log.read_text()[-2000:])
            try:
                if get(port, PROBE, 5.0)[0] == 200:
                    break
            except OSError:
                pass
            if time.perf_counter() > end:
                raise RuntimeError(f"the server did not answer within {wait:.0f} s")
            time.sleep(0.1)
        yield proc.pid
        if proc.poll() is not None:
            raise RuntimeError("the server died during the run:\n" + log.read_text()[-2000:])
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all CPUs, from /proc/stat)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(x) for x in Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / TICK


def process_cpu(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def own_cpu() -> float:
    """CPU seconds of this process and its finished children (wrk)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def settle(pid: int, *, idle: float = 0.05, window: float = 0.5, wait: float = 120.0) -> None:
    """Wait until the server uses less than ``idle`` of a CPU over ``window`` seconds:
    requests that the last load left in flight are finished before the next step."""
    end = time.perf_counter() + wait
    while time.perf_counter() < end:
        before = process_cpu(pid)
        time.sleep(window)
        if process_cpu(pid) - before < idle * window:
            return
    raise RuntimeError(f"the server was still busy {wait:.0f} s after the last load")
