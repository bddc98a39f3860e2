"""Separation of the odd-set (blossom) inequalities of the matching LP (internal).

Used by the cutting-plane loop of :mod:`keycities.analysis.twinning.lp`.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components, maximum_flow


def odd_cuts(n: int, a: np.ndarray, b: np.ndarray, x: np.ndarray,
             cuts: list[np.ndarray]) -> list[np.ndarray]:
    """Violated odd-set inequalities ``x(E(S)) <= (|S| - 1) / 2`` at ``x``.

    First the cheap candidates, the odd components of the fractional support
    (for a half-integral degree-LP vertex these are exactly its odd cycles);
    when none is violated, exact separation (:func:`blossom_separation`).
    """
    frac = (x > 1e-6) & (x < 1 - 1e-6)
    if not frac.any():
        return []
    known = {tuple(subset.tolist()) for subset in cuts}
    out = [subset for subset in _components(n, a[frac], b[frac])
           if len(subset) % 2 == 1 and tuple(subset.tolist()) not in known
           and _violation(n, a, b, x, subset) > 1e-6]
    if out:
        return out
    return [subset for subset in blossom_separation(n, a, b, x)
            if tuple(subset.tolist()) not in known]


def _components(n: int, a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """Node sets of the connected components of the graph ``(a, b)`` (touched nodes only)."""
    g = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, label = connected_components(g, directed=False)
    touched = np.zeros(n, dtype=bool)
    touched[a] = touched[b] = True
    return [np.flatnonzero((label == lab) & touched) for lab in np.unique(label[touched])]


def _violation(n: int, a: np.ndarray, b: np.ndarray, x: np.ndarray, subset: np.ndarray) -> float:
    inside = np.zeros(n, dtype=bool)
    inside[subset] = True
    return float(x[inside[a] & inside[b]].sum() - (len(subset) - 1) // 2)


def blossom_separation(n: int, a: np.ndarray, b: np.ndarray, x: np.ndarray,
                       scale: float = 2.0 ** 24) -> list[np.ndarray]:
    """Exact separation of the odd-set inequalities (Padberg & Rao 1982).

    With slacks ``s_i = 1 - x(delta(i))``, the inequality for an odd ``S`` reads
    ``x(delta(S)) + s(S) >= 1``.  Add a node ``v0`` joined to each ``i`` with
    capacity ``s_i``; with ``T`` the places (plus ``v0`` when their number is odd),
    the violated inequalities are the ``T``-odd cuts of capacity below 1, and a
    minimum one is a fundamental cut of a Gomory-Hu tree (Padberg & Rao,
    "Odd minimum cut-sets and b-matchings", *Math. Oper. Res.* 7, 1982).  A
    violated ``S`` meets one connected component of the support ``x > 0`` in an
    odd, still violated set, and components without fractional pairs have none,
    so each component with a fractional pair is searched on its own.  Flows use
    capacities scaled to integers; every set returned is re-checked exactly.
    """
    support = x > 1e-9
    frac = (x > 1e-6) & (x < 1 - 1e-6)
    comp_of = np.full(n, -1)
    comps = _components(n, a[support], b[support])
    for k, nodes in enumerate(comps):
        comp_of[nodes] = k
    out: list[np.ndarray] = []
    for k in np.unique(comp_of[a[frac]]):
        nodes = comps[k]
        inside = support & (comp_of[a] == k)
        for side in _gomory_hu_sides(nodes, a[inside], b[inside], x[inside], scale):
            if len(side) % 2 == 1 and _violation(n, a, b, x, side) > 1e-6:
                out.append(side)
    unique = {tuple(s.tolist()): s for s in out}
    return list(unique.values())


def _gomory_hu_sides(nodes: np.ndarray, a: np.ndarray, b: np.ndarray, x: np.ndarray,
                     scale: float) -> list[np.ndarray]:
    """Sides (without ``v0``) of the Gomory-Hu tree cuts of capacity below 1 (Gusfield)."""
    m = len(nodes)
    local = np.full(int(nodes.max()) + 1, -1)
    local[nodes] = np.arange(m)
    la, lb = local[a], local[b]
    slack = np.ones(m)
    np.subtract.at(slack, la, x)
    np.subtract.at(slack, lb, x)
    keep = slack > 1e-9
    v0 = m
    ea = np.r_[la, np.flatnonzero(keep)]
    eb = np.r_[lb, np.full(int(keep.sum()), v0)]
    cap = np.rint(np.r_[x, slack[keep]] * scale).astype(np.int64)
    g = csr_matrix((np.r_[cap, cap], (np.r_[ea, eb], np.r_[eb, ea])), shape=(m + 1, m + 1))
    g.sum_duplicates()
    g.data = g.data.astype(np.int32)
    parent, value = np.zeros(m + 1, dtype=np.int64), np.zeros(m + 1)
    for s_ in range(1, m + 1):
        t = int(parent[s_])
        res = maximum_flow(g, s_, t)
        side = _source_side(g, res.flow, s_)
        value[s_] = res.flow_value / scale
        moved = (parent == t) & side
        moved[s_] = False
        parent[moved] = s_
        if side[parent[t]]:
            parent[s_], parent[t] = parent[t], s_
            value[s_], value[t] = value[t], value[s_]
    sides = []
    for s_ in range(1, m + 1):
        if value[s_] < 1 - 1e-7:
            below = _subtree(parent, s_)
            cut = below if not below[v0] else ~below
            sides.append(np.sort(nodes[np.flatnonzero(cut[:m])]))
    return sides


def _source_side(g: csr_matrix, flow: csr_matrix, s: int) -> np.ndarray:
    """Nodes reachable from ``s`` in the residual graph of a maximum flow."""
    residual = (g - flow).tocsr()
    residual.data[residual.data < 0] = 0
    residual.eliminate_zeros()
    order = breadth_first_order(residual, s, directed=True, return_predecessors=False)
    out = np.zeros(g.shape[0], dtype=bool)
    out[order] = True
    return out


def _subtree(parent: np.ndarray, root: int) -> np.ndarray:
    """Nodes of the tree ``parent`` (node 0 is the root of the tree) below ``root``."""
    below = np.zeros(len(parent), dtype=bool)
    below[root] = True
    changed = True
    while changed:
        grow = below[parent] & ~below
        grow[0] = False
        changed = bool(grow.any())
        below |= grow
    return below
