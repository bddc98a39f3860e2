"""Charts are drawn in a worker process while the app runs (vl-convert holds the GIL)."""

from __future__ import annotations

import json
import os
import signal

from keycities.web.render import SvgWorker, draw_svg

SPEC = json.dumps({
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "data": {"values": [{"x": 1, "y": 2}, {"x": 2, "y": 3}]},
    "mark": "line", "encoding": {"x": {"field": "x", "type": "quantitative"},
                                 "y": {"field": "y", "type": "quantitative"}}})


def test_the_worker_draws_what_this_process_would_and_survives_a_killed_worker() -> None:
    here = draw_svg(SPEC)
    assert here.startswith('<svg role="presentation" aria-hidden="true" ')
    worker = SvgWorker()
    assert worker.draw(SPEC) == here  # not started: drawn here
    worker.start()
    try:
        assert worker.draw(SPEC) == here
        pool = worker.process.pool
        assert pool is not None
        pids = [p.pid for p in pool._processes.values()]  # type: ignore[attr-defined]
        assert pids and os.getpid() not in pids
        for pid in pids:  # the worker dies (out of memory, say)
            os.kill(pid, signal.SIGKILL)
        assert worker.draw(SPEC) == here  # a new worker draws it
        assert worker.process.pool is not pool
    finally:
        worker.stop()
    assert worker.process.pool is None and not worker.enabled
