"""The one parallel map: the same results in-process, on local processes and on Dask."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from keycities.analysis._parallel import ClusterError, check_cluster, parallel_map
from keycities.analysis.testbed.inference import placebo_space


def scaled(shared: dict[str, float], item: int) -> float:
    return shared["factor"] * item


def small_panel() -> Any:
    import pandas as pd

    rng = np.random.default_rng(3)
    years = list(range(2001, 2013))
    f = rng.normal(size=len(years)).cumsum()
    return pd.DataFrame(50 + rng.uniform(0.5, 1.5, (12, 1)) * f
                        + rng.normal(0, 0.2, (12, len(years))),
                        index=[f"P{i:02d}" for i in range(12)], columns=years)


def test_results_keep_the_order_of_the_items_with_progress() -> None:
    seen: list[tuple[int, int]] = []
    items = list(range(23))
    local = parallel_map(scaled, items, shared={"factor": 2.0}, workers=2, chunk=4,
                         progress=lambda d, n: seen.append((d, n)))
    assert local == [2.0 * i for i in items]
    assert parallel_map(scaled, items, shared={"factor": 2.0}) == local
    assert seen[-1] == (23, 23) and parallel_map(scaled, [], shared={}) == []


def test_a_dask_cluster_runs_the_same_placebo_fits() -> None:
    distributed = pytest.importorskip("distributed")
    panel = small_panel()
    here = placebo_space(panel, "P00", 2010, v="equal")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        there = placebo_space(panel, "P00", 2010, v="equal", cluster=cluster.scheduler_address)
    assert there.p_value == here.p_value
    assert np.allclose(there.gaps.to_numpy(), here.gaps.to_numpy())


def test_an_unreachable_cluster_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr("keycities.analysis._parallel.CONNECT_SECONDS", 1.0)
    with pytest.raises(ClusterError, match="Cannot reach the Dask cluster.*--cluster"):
        check_cluster("tcp://127.0.0.1:9")
    with pytest.raises(ClusterError, match="Cannot reach"):
        parallel_map(scaled, [1, 2], shared={"factor": 1.0}, cluster="tcp://127.0.0.1:9")
