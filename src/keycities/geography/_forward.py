"""The forward crosswalk: a vintage's LAD codes carried through the change list.

Private mechanics of :mod:`keycities.geography.mapping` (see its docstring for the
formulation).  A few hundred codes and a few dozen changes: the changes are applied to
plain rows with dictionaries, since a pandas merge per year cost a hundred times more
than the work (issue 18 point 5).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd

XWALK_COLUMNS: tuple[str, ...] = ("from_code", "to_code", "weight", "method", "estimate",
                                  "basis")
METHOD_RANK: dict[str, int] = {"same": 0, "recode": 1, "merge": 2, "split": 3}
RANK_METHOD = {v: k for k, v in METHOD_RANK.items()}


def forward(codes: Iterable[str], ch: pd.DataFrame, source: int, target: int,
             wt: pd.DataFrame) -> pd.DataFrame:
    """The forward crosswalk from ``source`` to ``target`` (``source <= target``).

    Parameters
    ----------
    codes
        The LAD codes of ``source``.
    ch
        LAD change rows (:func:`keycities.geography.areas.lad_changes`).
    source, target
        Boundary vintages; the changes with ``source < year <= target`` are applied
        in year order.
    wt
        Split weight and basis per code (index).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`XWALK_COLUMNS`, one row per (from_code, to_code) path.
    """
    cur = [_Row(c, c, 1.0, 0, False, "") for c in codes]
    steps = ch[(ch["year"] > source) & (ch["year"] <= target)]
    weight = {str(k): float(v) for k, v in wt["weight"].items()}
    basis: dict[str, object] = {str(k): v for k, v in wt["basis"].items()}
    for year in sorted(set(steps["year"])):
        moves = _describe_step(steps[steps["year"] == year], int(year), weight, basis)
        cur = [after for row in cur for after in _apply_step(row, moves)]
    unchanged = f"code unchanged between {source} and {target}"
    return pd.DataFrame({
        "from_code": [r.from_code for r in cur],
        "to_code": [r.to_code for r in cur],
        "weight": pd.Series([r.weight for r in cur], dtype=float),
        "method": [RANK_METHOD[r.rank] for r in cur],
        "estimate": pd.Series([r.estimate for r in cur], dtype=bool),
        "basis": [r.basis or unchanged for r in cur]},
        columns=list(XWALK_COLUMNS))


class _Row(NamedTuple):
    """One forward crosswalk row while the changes are applied year by year."""

    from_code: str
    to_code: str
    weight: float
    rank: int
    estimate: bool
    basis: str


class _Move(NamedTuple):
    """Where one year's change sends (a share of) an old code, and the words for it."""

    new_code: str
    share: float
    rank: int
    text: str


def _describe_step(step: pd.DataFrame, year: int, weight: dict[str, float],
                   basis: dict[str, object]) -> dict[str, list[_Move]]:
    """One year's changes: old code -> its moves, in the change list's order.

    ``share`` is the fraction of the old area going to the new code: 1 for a
    merger or recode, the new part's weight over the sum of the parts' for a
    split (NaN unless every part has a weight).
    """
    rows: dict[str, list[tuple[str, str]]] = {}
    for old, new, kind in zip(step["old_code"], step["new_code"], step["type"], strict=True):
        rows.setdefault(str(old), []).append((str(new), str(kind)))
    out: dict[str, list[_Move]] = {}
    for old, parts in rows.items():
        n_new = len({new for new, _ in parts})
        part_w = [float(weight.get(new, np.nan)) for new, _ in parts]
        complete = not any(math.isnan(w) for w in part_w)
        total = np.float64(sum(part_w)) if complete else np.float64(np.nan)
        moves = []
        for (new, kind), w in zip(parts, part_w, strict=True):
            if kind == "split" or n_new > 1:
                with np.errstate(divide="ignore", invalid="ignore"):
                    share = float(w / total)  # as pandas divides: 0/0 is NaN, w/0 inf
                text = (f"{old} split in {year}; share to {new} by {basis.get(new, '')}"
                        if not math.isnan(share) else
                        f"{old} split in {year}; no split weight for every part, so the share"
                        f" to {new} is unavailable")
                moves.append(_Move(new, share, METHOD_RANK["split"], text))
            elif kind == "merger":
                moves.append(_Move(new, 1.0, METHOD_RANK["merge"],
                                   f"{old} merged into {new} in {year}"))
            else:
                minor = " (minor boundary change ignored)" if kind == "new_geo" else ""
                moves.append(_Move(new, 1.0, METHOD_RANK["recode"],
                                   f"{old} recoded {new} in {year}{minor}"))
        out[old] = moves
    return out


def _apply_step(row: _Row, moves: dict[str, list[_Move]]) -> list[_Row]:
    if row.to_code not in moves:
        return [row]
    return [_Row(row.from_code, m.new_code, row.weight * m.share, max(row.rank, m.rank),
                 row.estimate or m.rank == METHOD_RANK["split"],
                 row.basis + ("; " if row.basis else "") + m.text)
            for m in moves[row.to_code]]
