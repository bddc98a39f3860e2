"""Edmonds' blossom algorithm as an exact finish, with reduced-cost fixing (internal).

Where the LP with odd-set cuts converges slowly (bond and mixed weights, sparse
candidate graphs, degenerate real places), the exact optimum comes from Edmonds'
primal-dual blossom algorithm (rustworkx; Edmonds 1965, Galil 1986), run on a
graph made small by *reduced-cost fixing* against a feasible dual of the LP.

Fixing
------
Let ``(y, z)`` be feasible for the matching LP's dual (``y_i + y_j + sum_{S ni
i,j} z_S >= w_ij`` on every allowed pair), of value ``D``, with slack ``s_ij``.
For any matching ``M``,

    w(M) = D - sum_{ij in M} s_ij - sum_i y_i (1 - deg_M i)
             - sum_S z_S ((|S| - 1) / 2 - |M cap E(S)|)  <=  D - sum_{ij in M} s_ij,

so a matching that uses a pair with ``s_ij > D - L`` weighs less than ``L``.  With
``L`` the weight of a known matching, every matching at least as good as it lies
in the graph ``G'`` of pairs with ``s_ij <= D - L`` (which holds the known
matching itself), and the optimum of ``G'`` is the optimum of the whole graph
(Nemhauser & Wolsey, *Integer and Combinatorial Optimization*, 1988, II.2.1).

Certificate
-----------
rustworkx runs Edmonds' algorithm on integer weights ``W_ij = round(s w_ij)``
(``s = 2**45 / max w``) and, with ``verify_optimum``, checks in exact integer
arithmetic that its blossom dual is feasible and complementary to the matching
(dual values non-negative, every slack non-negative, matched pairs and blossoms
with positive dual tight, unmatched places at dual zero) -- a proof that ``M``
maximises ``W`` over ``G'``.  Rounding moves a matching's weight by at most
``|M| / (2 s)``, so ``w(M') <= w(M) + n / (2 s)`` for every matching ``M'``: that
is the bound reported (a relative allowance of about 1e-13).
"""

from __future__ import annotations

import numpy as np

Edges = tuple[np.ndarray, np.ndarray, np.ndarray]

SCALE_BITS = 45
"""Integer weights go up to ``2**SCALE_BITS`` (rustworkx computes in 128-bit integers)."""


class BlossomError(RuntimeError):
    """rustworkx's own optimality check failed (never seen; the LP bound is kept then)."""


def edmonds(n: int, edges: Edges, *, max_nodes: int | None = None) -> tuple[np.ndarray, float]:
    """A maximum-weight matching of ``edges`` and the allowance of its certificate.

    Returns ``(mate, allowance)``: partner of each node (-1 = unpaired), and
    ``n / (2 s)``, the most any matching of the graph can weigh above
    ``w(mate)`` (module docstring).  Pairs of weight <= 0 are never needed; a
    connected component that is a single pair is that pair.

    Raises
    ------
    BlossomError
        If rustworkx's check of its dual fails, or more than ``max_nodes`` places
        lie in components of more than one pair (its time grows as their cube).
    """
    import rustworkx as rx  # deferred: only this path needs it

    a, b, w = edges
    keep = w > 0
    a, b, w = a[keep], b[keep], w[keep]
    mate = np.full(n, -1)
    if not len(a):
        return mate, 0.0
    scale = 2.0 ** SCALE_BITS / float(w.max())
    # A component that is one pair is matched as it is; the others go to rustworkx
    # with their places renumbered (its time grows with the places it is given).  A
    # component is one pair exactly when both ends of the pair have no other pair (the
    # pairs are distinct), which the degrees show without a component search.
    degree = np.bincount(np.r_[a, b], minlength=n)
    single = (degree[a] == 1) & (degree[b] == 1)
    mate[a[single]], mate[b[single]] = b[single], a[single]
    a, b, w = a[~single], b[~single], w[~single]
    if len(a):
        nodes = np.unique(np.r_[a, b])
        if max_nodes is not None and len(nodes) > max_nodes:
            raise BlossomError(f"{len(nodes)} places left for Edmonds' algorithm (at most "
                               f"{max_nodes})")
        g = rx.PyGraph(multigraph=False)
        g.add_nodes_from(range(len(nodes)))
        g.extend_from_weighted_edge_list(list(zip(
            np.searchsorted(nodes, a).tolist(), np.searchsorted(nodes, b).tolist(),
            np.rint(w * scale).astype(np.int64).tolist(), strict=True)))
        try:
            pairs = rx.max_weight_matching(g, weight_fn=int, verify_optimum=True)
        except BaseException as err:  # a failed check is a Rust panic (a BaseException)
            if isinstance(err, KeyboardInterrupt | SystemExit):
                raise
            raise BlossomError(str(err)) from err
        for i, j in pairs:
            mate[nodes[i]], mate[nodes[j]] = nodes[j], nodes[i]
    return mate, n / (2.0 * scale)
