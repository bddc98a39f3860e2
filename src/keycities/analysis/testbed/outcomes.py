"""The outcomes a pilot can be evaluated on, declared once.

Each :class:`Outcome` names the store measure behind it, its label and unit,
and how it maps across boundary changes (``kind``: counts are summed, ratios
recomputed from their numerator and denominator, medians never combined).  The
CLI's ``--outcome`` help, the web's outcome list and the core's validation all
read :data:`OUTCOMES`.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from keycities.errors import KeycitiesError

Kind = Literal["count", "ratio", "median"]


@dataclass(frozen=True)
class Outcome:
    """An outcome a pilot can be evaluated on.

    ``measure`` is the store measure; ``denominator`` the count a published
    ratio is "per" (in the same release), or for a ``derived`` ratio the store
    measure it is divided by (value = ``scale`` × measure / denominator).
    ``positive``: every value is above zero, so the outcome may be logged.
    """

    key: str
    measure: str
    label: str
    unit: str
    positive: bool
    kind: Kind
    denominator: str | None = None
    derived: bool = False
    scale: float = 1.0
    short: str = ""
    """A short label for lists and select boxes (default the label)."""

    @property
    def short_label(self) -> str:
        """The short label, or the label."""
        return self.short or self.label


OUTCOMES: dict[str, Outcome] = {o.key: o for o in (
    Outcome("gva_per_filled_job", "gva_per_filled_job",
            "GVA per filled job (current prices, smoothed)", "£ per filled job", True, "ratio",
            "filled_jobs", short="GVA per filled job"),
    Outcome("gva_per_hour_worked", "gva_per_hour_worked",
            "GVA per hour worked (current prices, smoothed)", "£ per hour", True, "ratio",
            "hours_worked_weekly", short="GVA per hour worked"),
    Outcome("filled_jobs", "filled_jobs", "Filled jobs (workplace)", "filled jobs", True,
            "count", short="Filled jobs"),
    Outcome("gva_current_prices", "gva_current_prices",
            "GVA (balanced), current basic prices", "£ million", True, "count", short="GVA"),
    Outcome("gva_per_head", "gva_current_prices",
            "GVA per head (balanced GVA / mid-year population)", "£ per person", True, "ratio",
            "population", derived=True, scale=1e6, short="GVA per head"),
    Outcome("population", "population", "Population (mid-year estimate)", "persons", True,
            "count", short="Population"),
    Outcome("earnings_median_annual_residence_ft", "earnings_median_annual_residence_ft",
            "Median gross annual earnings, full-time, by residence (ASHE)", "£ per year", True,
            "median", short="Median earnings"),
    Outcome("house_price_median", "house_price_median",
            "Median house price paid, year to September", "£", True, "median",
            short="Median house price"),
)}

OUTCOME_HELP = "Annual outcome: " + ", ".join(OUTCOMES) + "."
"""The ``--outcome`` help: every outcome's key."""


def get_outcome(key: str) -> Outcome:
    """The outcome called ``key``.

    Raises
    ------
    KeycitiesError
        For an unknown key, listing the known ones.
    """
    if key in OUTCOMES:
        return OUTCOMES[key]
    close = difflib.get_close_matches(key, list(OUTCOMES), n=2)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise KeycitiesError(f"Unknown outcome {key!r}.{hint} Known outcomes: "
                         f"{', '.join(OUTCOMES)}.")



def years_text(years: Sequence[int] | None) -> str:
    """Years as compact ranges: ``[2002, 2003, 2004, 2010]`` -> ``'2002–2004, 2010'``."""
    ys = sorted(set(years or []))
    runs: list[list[int]] = []
    for y in ys:
        if runs and y == runs[-1][-1] + 1:
            runs[-1].append(y)
        else:
            runs.append([y])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
