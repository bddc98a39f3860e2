"""Maximum-weight matching: validity, brute force, certificate, networkx agreement."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keycities.analysis.twinning import matching
from keycities.analysis.twinning.lp import blossom_separation
from keycities.analysis.twinning.matching import Matching, match, match_sparse
from keycities.errors import KeycitiesError


def brute_force(w: np.ndarray, fixed: list[tuple[int, int]]) -> float:
    """Best matching weight by enumerating every matching (first free node: alone or paired)."""
    n = w.shape[0]
    used = {v for p in fixed for v in p}
    base = sum(float(w[i, j]) for i, j in fixed)

    def best(free: tuple[int, ...]) -> float:
        if not free:
            return 0.0
        i, rest = free[0], free[1:]
        value = best(rest)
        for k, j in enumerate(rest):
            if np.isfinite(w[i, j]):
                value = max(value, float(w[i, j]) + best(rest[:k] + rest[k + 1:]))
        return value

    return base + best(tuple(v for v in range(n) if v not in used))


def check_valid(m: Matching, w: np.ndarray, fixed: list[tuple[int, int]]) -> None:
    n = w.shape[0]
    nodes = [v for p in m.pairs for v in p]
    assert len(nodes) == len(set(nodes)), "a place is in two pairs"
    assert sorted(nodes + m.unmatched) == list(range(n))
    for i, j in m.pairs:
        assert i < j and np.isfinite(w[i, j]), f"pair ({i}, {j}) is not allowed"
    for i, j in fixed:
        assert (min(i, j), max(i, j)) in m.pairs
    assert math.isclose(m.objective, sum(float(w[i, j]) for i, j in m.pairs), abs_tol=1e-9)
    assert m.bound >= m.objective - 1e-9


@st.composite
def instances(draw: st.DrawFn) -> tuple[np.ndarray, list[tuple[int, int]]]:
    n = draw(st.integers(0, 12))
    if draw(st.booleans()):
        vals = draw(st.lists(st.integers(-3, 9), min_size=n * n, max_size=n * n))
    else:
        vals = draw(st.lists(st.floats(-1.0, 10.0, allow_nan=False), min_size=n * n,
                             max_size=n * n))
    w = np.array(vals, dtype=float).reshape(n, n)
    w = np.triu(w, 1)
    w = w + w.T
    blocked = draw(st.lists(st.booleans(), min_size=n * n, max_size=n * n))
    mask = np.triu(np.array(blocked, dtype=bool).reshape(n, n) & (np.arange(n * n).reshape(
        n, n) % 3 == 0), 1)
    w[mask | mask.T] = np.nan if draw(st.booleans()) else -np.inf
    perm = draw(st.permutations(list(range(n))))
    fixed = []
    for k in range(draw(st.integers(0, n // 2))):
        i, j = perm[2 * k], perm[2 * k + 1]
        if np.isfinite(w[i, j]):
            fixed.append((i, j))
    return w, fixed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_dense_matches_brute_force(case: tuple[np.ndarray, list[tuple[int, int]]]) -> None:
    w, fixed = case
    m = match(w, fixed=fixed)
    check_valid(m, w, fixed)
    ww = np.where(np.isnan(w), -np.inf, w)
    opt = brute_force(ww, fixed)
    assert m.objective == pytest.approx(opt, abs=1e-9)
    if m.gap <= 1e-9:
        assert opt <= m.objective + 1e-9


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_sparse_matches_brute_force(case: tuple[np.ndarray, list[tuple[int, int]]]) -> None:
    w, fixed = case
    n = w.shape[0]
    ww = np.where(np.isnan(w), -np.inf, w)
    r, c = np.nonzero(np.isfinite(ww) & ~np.eye(n, dtype=bool))
    m = match_sparse(n, r, c, ww[r, c], fixed=fixed)
    check_valid(m, ww, fixed)
    assert m.objective == pytest.approx(brute_force(ww, fixed), abs=1e-9)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_assignment_with_sampled_potentials_matches_brute_force(
        case: tuple[np.ndarray, list[tuple[int, int]]]) -> None:
    # The assignment relaxation takes potentials from a random half of the places above
    # ASSIGN_BASE; with a tiny ASSIGN_BASE every small instance goes that way (places with
    # no allowed pair into the half included) and must still be solved exactly.
    w, fixed = case
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(matching, "ASSIGN_BASE", 2)
        m = match(w, fixed=fixed)
    check_valid(m, w, fixed)
    opt = brute_force(np.where(np.isnan(w), -np.inf, w), fixed)
    assert m.objective == pytest.approx(opt, abs=1e-9)
    assert m.bound >= opt - 1e-9


@pytest.mark.parametrize(("n", "seed", "blocked"), [(90, 1, 0.0), (150, 2, 0.4), (333, 3, 0.9)])
def test_assignment_with_sampled_potentials_has_optimal_duals(n: int, seed: int,
                                                              blocked: float) -> None:
    # Potentials change neither the optimal assignment's value nor the duals' validity:
    # y_i + y_j >= c_ij on every allowed pair, y >= 0, and 2 sum y equals the value.
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4))
    c = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    off = np.triu(rng.random((n, n)) < blocked, 1)
    c[off | off.T] = -np.inf
    np.fill_diagonal(c, 0.0)
    s, y = matching._assignment(c, np.random.default_rng(0))
    _, ref = linear_sum_assignment(c, maximize=True)
    value = c[np.arange(n), s].sum()
    assert sorted(s) == list(range(n))
    assert value == pytest.approx(c[np.arange(n), ref].sum(), rel=1e-12)
    assert 2 * y.sum() == pytest.approx(value, rel=1e-9)
    ok = np.isfinite(c)
    assert ((y[:, None] + y[None, :] - c)[ok] >= -1e-9).all()


def test_odd_cycle_needs_blossom_cut() -> None:
    # Assignment relaxation takes the triangle (value 3, bound 1.5); the true optimum is 1.
    w = np.ones((3, 3))
    m = match(w)
    assert m.objective == 1.0
    assert m.bound == pytest.approx(1.0, abs=1e-9)
    assert len(m.pairs) == 1 and len(m.unmatched) == 1


@pytest.mark.parametrize("n", [60, 121, 200])
def test_agrees_with_networkx_on_medium_instances(n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, 8))
    w = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    blocked = np.triu(rng.random((n, n)) < 0.2, 1)
    w[blocked | blocked.T] = np.nan
    m = match(w)
    g = nx.Graph()
    g.add_weighted_edges_from((i, j, w[i, j]) for i in range(n) for j in range(i + 1, n)
                              if np.isfinite(w[i, j]))
    ref = sum(w[i, j] for i, j in nx.max_weight_matching(g))
    check_valid(m, np.where(np.isnan(w), -np.inf, w), [])
    assert m.objective == pytest.approx(ref, rel=1e-9)
    assert m.gap <= 1e-9 * m.bound


def test_sparse_knn_graph_agrees_with_networkx() -> None:
    rng = np.random.default_rng(7)
    n, k = 150, 8
    x = rng.standard_normal((n, 4))
    d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    nbr = np.argsort(d, axis=1)[:, 1:k + 1]
    rows, cols = np.repeat(np.arange(n), k), nbr.ravel()
    sim = d.max() - d[rows, cols]
    m = match_sparse(n, rows, cols, sim)
    g = nx.Graph()
    g.add_weighted_edges_from(zip(rows.tolist(), cols.tolist(), sim.tolist(), strict=True))
    ref = sum(g[i][j]["weight"] for i, j in nx.max_weight_matching(g))
    assert m.objective == pytest.approx(ref, rel=1e-9)
    assert m.bound >= m.objective - 1e-9


def test_fixed_pair_weight_in_objective_and_bound() -> None:
    w = np.array([[0, 5, 1, 1], [5, 0, 1, 1], [1, 1, 0, 5], [1, 1, 5, 0]], dtype=float)
    m = match(w, fixed=[(0, 2)])
    assert m.pairs == [(0, 2), (1, 3)]
    assert m.objective == 2.0 and m.bound == pytest.approx(2.0)
    assert m.to_frame().shape == (2, 2)
    assert m.payload()["gap"] == pytest.approx(0.0, abs=1e-9)


def test_errors_are_actionable() -> None:
    w = np.ones((4, 4))
    with pytest.raises(KeycitiesError, match="square"):
        match(np.ones((3, 4)))
    with pytest.raises(KeycitiesError, match="symmetric"):
        match(np.triu(w))
    with pytest.raises(KeycitiesError, match="another fixed pair"):
        match(w, fixed=[(0, 1), (1, 2)])
    w[0, 1] = w[1, 0] = np.nan
    with pytest.raises(KeycitiesError, match="not an allowed pair"):
        match(w, fixed=[(0, 1)])
    with pytest.raises(KeycitiesError, match="same length"):
        match_sparse(3, np.array([0]), np.array([1, 2]), np.array([1.0]))


def test_odd_count_leaves_one_unmatched() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((9, 3))
    w = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    m = match(w)
    assert len(m.pairs) == 4 and len(m.unmatched) == 1


def bridge_weights(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, 8))
    x = (x - x.mean(0)) / x.std(0)
    return np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))


def test_complete_bridge_graph_with_odd_cycles_is_proven_optimal(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Seed 360 at n = 360 (the benchmark instance) leaves odd cycles in the
    # assignment relaxation, so the blossom-cut LP has to close the gap.
    monkeypatch.setattr(matching, "LSA_MAX", 400)
    w = bridge_weights(360, 360)
    m = match(w)
    check_valid(m, w, [])
    assert "odd cycle" in m.notes[0]
    assert m.gap <= 1e-9 * m.bound


def test_max_gap_stops_early_with_a_valid_bound() -> None:
    w = bridge_weights(360, 360)
    exact = match(w)
    loose = match(w, max_gap=0.05)
    check_valid(loose, w, [])
    assert loose.relative_gap <= 0.05
    assert loose.bound >= exact.objective - 1e-9
    assert "max_gap" in loose.notes[-1]


def test_sparse_graph_with_missing_pairs_in_the_exhaustive_range() -> None:
    # Found by Hypothesis: the exhaustive fallback asked for a pair not in the graph.
    from keycities.analysis.twinning.matching import match_sparse

    rows, cols = np.array([2, 0]), np.array([6, 1])
    m = match_sparse(7, rows, cols, np.array([5.96046448e-08, 0.0]))
    assert [tuple(p) for p in m.pairs] == [(2, 6)]
    assert m.bound >= m.objective


def test_a_tiny_weight_gap_is_not_taken_for_float_noise() -> None:
    # Found by Hypothesis: a gap of 1e-9 on a 1e-9 weight was accepted as optimal.
    from keycities.analysis.twinning.matching import match

    w = np.zeros((6, 6))
    for (i, j), v in {(1, 2): 2.0, (1, 3): 2.0, (2, 3): 1.0, (3, 5): 1e-9}.items():
        w[i, j] = w[j, i] = v
    m = match(w)
    assert sorted(tuple(p) for p in m.pairs) == [(1, 2), (3, 5)]
    assert m.objective == pytest.approx(2.000000001, abs=1e-15)


def test_sampled_duals_path_agrees_with_the_assignment_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # n above LSA_MAX starts from duals sampled on half of the places (recursively);
    # the result must be the same optimum, proven, as the assignment start gives.
    w = bridge_weights(700, 7)
    w[np.triu_indices(700, 1)[0][::7], np.triu_indices(700, 1)[1][::7]] = -np.inf
    w = np.minimum(w, w.T)
    sampled = match(w)
    assert "sampled" in sampled.notes[0]
    monkeypatch.setattr(matching, "LSA_MAX", 1000)
    assigned = match(w)
    assert "sampled" not in " ".join(assigned.notes)
    for m in (sampled, assigned):
        check_valid(m, w, [])
        assert all(np.isfinite(w[i, j]) for i, j in m.pairs)
        assert m.gap <= 1e-9 * m.bound
    assert sampled.objective == pytest.approx(assigned.objective, rel=1e-12)


def test_exact_separation_finds_blossoms_the_component_rule_misses() -> None:
    # Two triangles at x = 0.45 joined by an edge at 0.1: the fractional support is one
    # even component, yet each triangle violates x(E(S)) <= 1.
    a = np.array([0, 1, 0, 2, 3, 4, 3])
    b = np.array([1, 2, 2, 3, 4, 5, 5])
    x = np.array([0.45, 0.45, 0.45, 0.1, 0.45, 0.45, 0.45])
    found = sorted(tuple(s.tolist()) for s in blossom_separation(6, a, b, x))
    assert found == [(0, 1, 2), (3, 4, 5)]


def _violated_odd_sets(n: int, a: np.ndarray, b: np.ndarray, x: np.ndarray) -> list[int]:
    out = []
    for mask in range(1, 1 << n):
        size = bin(mask).count("1")
        if size % 2 == 1 and size >= 3:
            inside = np.array([(mask >> v) & 1 for v in range(n)], dtype=bool)
            if x[inside[a] & inside[b]].sum() > (size - 1) / 2 + 1e-6:
                out.append(mask)
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(4, 9), st.integers(0, 2**32 - 1), st.sampled_from([0.5, 0.8, 1.0]))
def test_exact_separation_matches_enumeration(n: int, seed: int, density: float) -> None:
    # A random point of the degree polytope (degrees <= 1): every set returned is odd and
    # violated, and whenever enumeration finds a violated odd set, separation finds one.
    rng = np.random.default_rng(seed)
    a, b = np.triu_indices(n, 1)
    keep = rng.random(len(a)) < density
    a, b = a[keep], b[keep]
    x = rng.random(len(a)) * rng.integers(0, 2, len(a))
    deg = np.zeros(n)
    np.add.at(deg, a, x)
    np.add.at(deg, b, x)
    x = x / np.maximum(1.0, np.maximum(deg[a], deg[b]))
    found = blossom_separation(n, a, b, x)
    for subset in found:
        inside = np.isin(np.arange(n), subset)
        assert len(subset) % 2 == 1
        assert x[inside[a] & inside[b]].sum() > (len(subset) - 1) / 2 + 1e-6
    assert bool(found) == bool(_violated_odd_sets(n, a, b, x))


def _networkx_optimum(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(zip(a.tolist(), b.tolist(), w.tolist(), strict=True))
    return sum(g[i][j]["weight"] for i, j in nx.max_weight_matching(g))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(15, 60), st.integers(0, 2**32 - 1), st.sampled_from([0.1, 0.3, 1.0]),
       st.booleans())
def test_sparse_edmonds_path_agrees_with_networkx(n: int, seed: int, density: float,
                                                   integer: bool) -> None:
    # Sparse graphs go straight to Edmonds' algorithm (rustworkx, dual checked); its bound
    # is the matching's weight plus the rounding allowance and must cover the optimum.
    rng = np.random.default_rng(seed)
    a, b = np.triu_indices(n, 1)
    keep = rng.random(len(a)) < density
    a, b = a[keep], b[keep]
    w = rng.integers(-2, 6, len(a)).astype(float) if integer else rng.random(len(a)) * 5
    m = match_sparse(n, a, b, w)
    assert "Edmonds" in m.method
    ref = _networkx_optimum(n, a[w > 0], b[w > 0], w[w > 0])
    assert m.objective == pytest.approx(ref, rel=1e-12, abs=1e-12)
    assert ref <= m.bound + 1e-12
    assert m.gap <= 1e-9 * max(1.0, m.bound)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 40), st.integers(0, 2**32 - 1), st.sampled_from([0.2, 0.6]))
def test_sparse_pairs_in_any_order_or_repeated_give_the_same_optimum(
        n: int, seed: int, density: float) -> None:
    # Pairs listed once each in (i < j) order skip the sort; listed in both orders,
    # shuffled and repeated with a lower weight they must give the same optimum, the
    # larger weight of a repeated pair counting, as networkx finds on the graph.
    rng = np.random.default_rng(seed)
    a, b = np.triu_indices(n, 1)
    keep = rng.random(len(a)) < density
    a, b = a[keep], b[keep]
    w = rng.random(len(a)) * 5
    tidy = match_sparse(n, a, b, w)
    order = rng.permutation(2 * len(a))
    rows, cols = np.r_[a, b][order], np.r_[b, a][order]
    messy = match_sparse(n, np.r_[rows, a], np.r_[cols, b],
                         np.r_[np.r_[w, w][order], w - 1.0])
    ref = _networkx_optimum(n, a, b, w) if len(a) else 0.0
    for m in (tidy, messy):
        assert m.objective == pytest.approx(ref, rel=1e-12, abs=1e-12)
        assert m.gap <= 1e-9 * max(1.0, m.bound)


def bond_weights(n: int, seed: int) -> np.ndarray:
    """One-feature bond weights D - |p_i - p_j| within a band: many near-ties, slow cuts."""
    p = np.random.default_rng(seed).standard_normal(n)
    d = np.abs(p[:, None] - p[None, :])
    w = d.max() - d
    w[d > 1.0] = -np.inf
    return w


@pytest.mark.parametrize("cut_rounds", [1, 2])
def test_fractional_lp_is_finished_exactly_by_edmonds(monkeypatch: pytest.MonkeyPatch,
                                                      cut_rounds: int) -> None:
    # Dense bond weights leave the LP fractional after a few rounds of cuts: reduced-cost
    # fixing plus Edmonds' algorithm must still reach the optimum over all pairs, proven.
    from keycities.analysis.twinning import finish

    monkeypatch.setattr(finish, "CUT_ROUNDS", cut_rounds)
    w = bond_weights(160, 5)
    m = match(w)
    assert "Edmonds" in m.method
    assert "reduced-cost fixing" in " ".join(m.notes)
    iu = np.triu_indices(160, 1)
    ok = np.isfinite(w[iu])
    ref = _networkx_optimum(160, iu[0][ok], iu[1][ok], w[iu][ok])
    check_valid(m, w, [])
    assert m.objective == pytest.approx(ref, rel=1e-12)
    assert m.gap <= 1e-9 * m.bound


def _degenerate_221() -> np.ndarray:
    """221 places on a 6 x 3 grid of features, pairs within distance 3: many places with
    equal features, so the degree LP has many fractional optima (as postcode districts)."""
    rng = np.random.default_rng(0)
    p, q = rng.integers(0, 6, 221), np.random.default_rng(100).integers(0, 3, 221)
    d = (np.abs(p[:, None] - p[None, :]) + np.abs(q[:, None] - q[None, :])).astype(float)
    w = d.max() - d
    w[d > 3] = -np.inf
    return w


def test_a_stalled_lp_is_still_proven_optimal(monkeypatch: pytest.MonkeyPatch) -> None:
    # Postcode districts stalled (50 flat rounds) and reported a gap of 1.45e-4 although the
    # matching was optimal; the stall now hands over to Edmonds' finish, which proves it.
    from keycities.analysis.twinning import finish, lp

    monkeypatch.setattr(lp, "STALL", 1)
    monkeypatch.setattr(lp, "STALL_MIN_N", 0)
    monkeypatch.setattr(finish, "CUT_ROUNDS", 10_000)
    monkeypatch.setattr(matching, "LSA_MAX", 100)  # the LP path, not the assignment finish
    w = _degenerate_221()
    m = match(w)
    assert "did not fall" in " ".join(m.notes)
    assert m.gap <= 1e-9 * m.bound


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(15, 40), st.integers(0, 2**32 - 1))
def test_reduced_cost_fixing_keeps_the_optimum(n: int, seed: int) -> None:
    # The finish after one round of cuts, on random dense weights with blocked pairs,
    # equals networkx's optimum over the whole graph.
    from keycities.analysis.twinning import finish

    rng = np.random.default_rng(seed)
    w = np.triu(rng.random((n, n)) * 4, 1)
    w[np.triu(rng.random((n, n)) < 0.3, 1)] = -np.inf
    w = np.triu(w, 1) + np.triu(w, 1).T
    w[np.tril_indices(n)] = w.T[np.tril_indices(n)]
    old = finish.CUT_ROUNDS
    finish.CUT_ROUNDS = 1
    try:
        m = match(w)
    finally:
        finish.CUT_ROUNDS = old
    iu = np.triu_indices(n, 1)
    ok = np.isfinite(w[iu])
    ref = _networkx_optimum(n, iu[0][ok], iu[1][ok], w[iu][ok])
    check_valid(m, w, [])
    assert m.objective == pytest.approx(ref, rel=1e-12)
    assert m.gap <= 1e-9 * m.bound


def test_float32_screening_prices_the_same_pairs_as_float64() -> None:
    # Large problems keep their weights in float32; pricing screens them in float32 and
    # must still find exactly the violated pairs that exact float64 pricing finds,
    # including violations just above the tolerance.
    from keycities.analysis.twinning.lp import DensePricer

    rng = np.random.default_rng(4)
    n = 1500
    w = bridge_weights(n, 4).astype(np.float32)
    np.fill_diagonal(w, -np.inf)
    y = w.max(axis=1).astype(np.float64) / 2.0  # feasible; tight on mutual best partners
    y[:200] -= np.r_[rng.random(100) * 1e-3, np.full(100, 1e-8)]  # big and tiny violations
    exact = DensePricer(w.astype(np.float64)).price(y, [], np.zeros(0))
    screened = DensePricer(w).price(y, [], np.zeros(0))
    assert len(exact[0]) > 0
    for got, want in zip(screened, exact, strict=True):
        np.testing.assert_array_equal(got, want)


def test_when_edmonds_cannot_finish_the_bound_still_holds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Too many places for Edmonds' finish (3,000 postcode districts): the LP bound is
    # reported with Edmonds' matching of the candidate pairs as the primal.
    from keycities.analysis.twinning import finish, lp

    monkeypatch.setattr(lp, "STALL", 1)
    monkeypatch.setattr(lp, "STALL_MIN_N", 0)
    monkeypatch.setattr(finish, "CUT_ROUNDS", 10_000)
    monkeypatch.setattr(finish, "EDMONDS_NODES", 2)
    monkeypatch.setattr(matching, "LSA_MAX", 100)
    rng = np.random.default_rng(0)
    p, q = rng.integers(0, 6, 221), np.random.default_rng(100).integers(0, 3, 221)
    d = (np.abs(p[:, None] - p[None, :]) + np.abs(q[:, None] - q[None, :])).astype(float)
    w = d.max() - d
    w[d > 3] = -np.inf
    m = match(w)
    assert "too many places" in " ".join(m.notes)
    iu = np.triu_indices(221, 1)
    ok = np.isfinite(w[iu])
    ref = _networkx_optimum(221, iu[0][ok], iu[1][ok], w[iu][ok])
    check_valid(m, w, [])
    assert m.objective <= ref + 1e-9 <= m.bound + 2e-9


def test_odd_place_count_is_proven_by_the_whole_set_cut(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # 2,997 postcode districts stalled: the degree LP covers every place with an odd cycle
    # of halves and moves it around, cut after cut.  The cut on all places (odd count)
    # closes the gap in the LP itself, without Edmonds' finish (barred here).
    from keycities.analysis.twinning import finish

    monkeypatch.setattr(finish, "EDMONDS_NODES", 2)
    monkeypatch.setattr(matching, "LSA_MAX", 100)  # the sampled-duals path
    w = _degenerate_221()
    m = match(w)
    assert "integral LP optimum" in m.method
    iu = np.triu_indices(221, 1)
    ok = np.isfinite(w[iu])
    check_valid(m, w, [])
    assert m.objective == pytest.approx(_networkx_optimum(221, iu[0][ok], iu[1][ok],
                                                          w[iu][ok]), rel=1e-12)
    assert m.gap <= 1e-9 * m.bound



def test_float32_selection_keeps_each_places_best_pair() -> None:
    # Candidate pairs of a float32 matrix are chosen in float32 with reused noise; each
    # place's pair of largest reduced weight must still be among them (up to float32
    # rounding and the tie-breaking noise).
    from keycities.analysis.twinning.lp import DensePricer

    n = 1100
    w = bridge_weights(n, 5)
    w[w < 1.0] = -np.inf  # blocked pairs, as the distance rule leaves them
    y = np.random.default_rng(1).random(n) * 2.0
    red = w - y[:, None] - y[None, :]
    np.fill_diagonal(red, -np.inf)
    a, b, x = DensePricer(w.astype(np.float32)).top(y, 3)
    chosen = np.full(n, -np.inf)
    np.maximum.at(chosen, a, x - y[a] - y[b])
    np.maximum.at(chosen, b, x - y[a] - y[b])
    np.testing.assert_allclose(chosen, red.max(axis=1), atol=1e-5)


def test_settled_sample_duals_still_give_the_proven_optimum(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Samples above LSA_MAX are solved by the LP, which stops pricing once a round finds
    # few pairs; the final LP still prices every pair, so the optimum is the same.
    from keycities.analysis.twinning import lp

    w = bridge_weights(700, 11)
    exact = match(w)
    settled: list[int] = []
    loop = lp.cut_loop

    def spy(*args: object, **kwargs: object) -> lp.Loop:
        out = loop(*args, **kwargs)  # type: ignore[arg-type]
        settled.append(out.stop == "pricing settled")
        return out

    monkeypatch.setattr(matching, "cut_loop", spy)
    monkeypatch.setattr(matching, "LSA_MAX", 100)
    monkeypatch.setattr(matching, "SETTLE", 0.05)
    m = match(w)
    assert any(settled)
    check_valid(m, w, [])
    assert m.objective == pytest.approx(exact.objective, rel=1e-12)
    assert m.gap <= 1e-9 * m.bound
