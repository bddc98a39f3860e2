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

from keycities.analysis.indicators.library import Entry, load_library
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
    library: bool = False
    """An indicator of the library (:func:`library_outcome`), read from its own table."""

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

OUTCOME_HELP = ("Annual outcome: " + ", ".join(OUTCOMES)
                + ", or any indicator id of the library (`keycities indicators`).")
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
    library = load_library()
    if key in library:
        return library_outcome(library.get(key))
    close = difflib.get_close_matches(key, [*OUTCOMES, *library.entries], n=3)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise KeycitiesError(f"Unknown outcome {key!r}.{hint} Known outcomes: "
                         f"{', '.join(OUTCOMES)}, or any indicator id of the library "
                         "(`keycities indicators`).")


def library_outcome(entry: Entry) -> Outcome:
    """An indicator of the library as an outcome: its id is its key and its measure (its
    label and unit come with its panel, from the store's metadata); a total is a count,
    a rate recomputed from its counts a ratio, anything else is never combined (as a
    median)."""
    kind: Kind = ("count" if entry.combine == "sum" else "ratio" if entry.combine == "ratio"
                  else "median")
    return Outcome(entry.id, entry.id, entry.id, "", False, kind, library=True)



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
