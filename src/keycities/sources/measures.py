"""What each measure in the store means and how it may be combined.

``kind`` decides how a measure survives a boundary change
(:mod:`keycities.geography.mapping`):

count
    additive (people, jobs, £ of GVA, votes): merged areas are summed, split
    areas apportioned by a stated weight.
ratio
    a quotient of two counts (GVA per job): recomputed from ``numerator`` and
    ``denominator`` when both are in the store, otherwise not mapped.
score, rank, median, index
    not additive and not derivable from counts: only mapped where the code is
    unchanged (a recode), otherwise reported as unavailable with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MeasureKind = Literal["count", "ratio", "score", "rank", "median", "index"]


@dataclass(frozen=True)
class Measure:
    """A measure's name, unit, kind and plain-English label."""

    name: str
    unit: str
    kind: MeasureKind
    label: str
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    """For ratios: value = numerator * scale / denominator."""

    @property
    def additive(self) -> bool:
        """True when values of parts add up to the whole."""
        return self.kind == "count"


