"""Why each candidate is in or out of the chosen testbeds, and the notes of a choice.

A reason compares the chosen set with the best single swap: for a testbed, the best
set without it (one other candidate in its place); for a place left out, the best
set with it (in place of one testbed).  Sets are compared as the optimisation does:
pooled MDE first, then imbalance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from keycities.analysis.testbed._choose_sets import (
    Candidates,
    Constraints,
    imbalance,
    pooled_mde,
    violations,
)
from keycities.analysis.testbed.power import POWER, PowerTable


def _pct(x: float) -> str:
    return "not detected up to the grid's top" if not np.isfinite(x) else f"{x:.1%}"


def _key(mde: float, imb: float) -> tuple[float, float]:
    return (mde if np.isfinite(mde) else np.inf, imb)


def _best_swap(c: Candidates, power: PowerTable, con: Constraints, rows: list[int],
               out: int | None, into: int | None, allowed: np.ndarray
               ) -> tuple[tuple[float, float] | None, int | None, list[str]]:
    """Best feasible swap taking ``out`` out (or bringing ``into`` in): its (MDE,
    imbalance), the candidate swapped, and, when none is feasible, what the best breaks."""
    s = c.s.to_numpy(float)
    best: tuple[float, float] | None = None
    who: int | None = None
    broken: list[str] | None = None
    pairs: list[tuple[int, int]] = (
        [(out, int(j)) for j in np.flatnonzero(allowed) if j not in rows] if out is not None
        else [(i, int(into)) for i in rows] if into is not None else [])
    for i, j in pairs:
        trial = sorted({*rows} - {i} | {j})
        key = _key(pooled_mde(power, trial), imbalance(s, trial))
        bad = violations(c, power, trial, con)
        if bad:
            if broken is None or len(bad) < len(broken):
                broken = bad
            continue
        if best is None or key < best:
            best, who = key, (j if out is not None else i)
    return best, who, broken or []


def _in_reason(name: str, best: tuple[float, float] | None, who: str | None,
               now: tuple[float, float], required: bool) -> str:
    head = "Testbed (required)." if required else "Testbed."
    if best is None:
        return f"{head} No other candidate could take its place within the constraints."
    return (f"{head} Without it, the best set ({who} instead): MDE {_pct(best[0])}, "
            f"imbalance {best[1]:.2f} SD.")


def _out_reason(best: tuple[float, float] | None, who: str | None, broken: list[str],
                now: tuple[float, float]) -> str:
    if best is None:
        why = "; ".join(broken[:2]) if broken else "no testbed can make room for it"
        return f"Out: it cannot join within the constraints ({why})."
    return (f"Out. With it, the best set ({who} out): MDE {_pct(best[0])}, imbalance "
            f"{best[1]:.2f} SD.")


def _ineligible(code: str, power: PowerTable, con: Constraints, i: int) -> str | None:
    if code in con.exclude:
        return "Out: excluded (as asked)."
    if power.exact[i]:
        return ("Out: its pre-period fit is exact, so its placebo test is undefined (no "
                "power can be measured).")
    if len(power.donors[code]) < con.min_donors:
        return (f"Out: only {len(power.donors[code])} donors, fewer than the "
                f"{con.min_donors} a testbed needs.")
    return None


def place_reasons(c: Candidates, power: PowerTable, con: Constraints, rows: Sequence[int],
                  eligible: np.ndarray, effect: float | None) -> pd.DataFrame:
    """One row per candidate: code, name, region, status, mde_alone, z_at_effect,
    placebos, donors, pre_rmspe, reason."""
    rows = list(rows)
    allowed = eligible & np.array([code not in con.exclude for code in c.codes])
    now = _key(pooled_mde(power, rows), imbalance(c.s.to_numpy(float), rows))
    alone = power.mde_alone()
    g = None if effect is None else int(np.argmin(np.abs(power.effects - effect)))
    out = []
    for i, code in enumerate(c.codes):
        name = c.names.get(code, code)
        reason = _ineligible(code, power, con, i)
        if reason is None and i in rows:
            best, who, _ = _best_swap(c, power, con, rows, i, None, allowed)
            reason = _in_reason(name, best, None if who is None else c.names.get(
                c.codes[who], c.codes[who]), now, code in con.require)
        elif reason is None:
            best, who, broken = _best_swap(c, power, con, rows, None, i, allowed)
            reason = _out_reason(best, None if who is None else c.names.get(
                c.codes[who], c.codes[who]), broken, now)
        out.append({"code": code, "name": name, "region": str(c.region[i]),
                    "status": "testbed" if i in rows else "out", "mde_alone": alone[i],
                    "z_at_effect": None if g is None else float(power.z[i, g]),
                    "placebos": int(power.placebos[i]), "donors": len(power.donors[code]),
                    "pre_rmspe": float(power.pre_rmspe[i]), "reason": reason})
    frame = pd.DataFrame(out)
    return frame.sort_values(["status", "name"], ascending=[False, True]).reset_index(drop=True)


def choice_notes(c: Candidates, power: PowerTable, con: Constraints, chosen: Sequence[str],
                 mde: float, imb: float, effect: float | None, pooled_z: float | None
                 ) -> list[str]:
    """The notes of a choice: the objective in words, the effect asked about, the method."""
    names = ", ".join(c.names.get(x, x) for x in chosen)
    crit = power.critical
    notes = [f"Chosen: {names}. Pooled minimum detectable effect (MDE) {_pct(mde)}; their "
             f"feature means lie {imb:.2f} roll-out standard deviations (SD) from the "
             f"roll-out's on average ({c.rollout_size} places). Each reason compares with "
             "the best set one swap away (a set within the constraints)."]
    if effect is not None and pooled_z is not None:
        verdict = "detected" if pooled_z >= crit else "not detected"
        notes.append(f"An effect of {effect:.1%} in every testbed: expected pooled score "
                     f"{pooled_z:.2f} against {crit:.2f} needed for {POWER:.0%} power at alpha "
                     f"{power.alpha:g}: {verdict} reliably." if verdict == "detected" else
                     f"An effect of {effect:.1%} in every testbed: expected pooled score "
                     f"{pooled_z:.2f} against {crit:.2f} needed for {POWER:.0%} power at alpha "
                     f"{power.alpha:g}: not detected reliably.")
    notes.append(
        f"Power: {len(power.effects)} effects injected into each candidate's real outcome from "
        f"{power.start} (multiplying it by 1 + e; the fit sees only earlier years, so one fit "
        "and one set of placebo fits per candidate serve every effect), each judged against "
        "every placebo's post-period gap as what might have happened without a policy; the "
        "pooled test adds the places' Stouffer scores (it assumes independent tests; donor "
        f"pools that overlap make it somewhat liberal). MDE: {POWER:.0%} power at alpha "
        f"{power.alpha:g}.")
    notes.append("Exact optimisation (HiGHS branch and bound): no set satisfying the "
                 "constraints has a smaller pooled MDE than the bound, nor, at that MDE, a "
                 "smaller imbalance.")
    if con.min_km is not None:
        notes.append(f"Clean comparisons: no two testbeds within {con.min_km:g} km; each keeps "
                     f"at least {con.min_donors} donors outside the others' {con.min_km:g} km "
                     "zones (donors within min_km of their own testbed were never in its "
                     "pool).")
    return notes
