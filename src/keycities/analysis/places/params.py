"""The place sets a person can ask for, declared once (light: no data libraries).

``lad`` (local authority districts), ``district`` and ``sector`` (postcode
districts and sectors), or the path of a CSV of the user's own places.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from keycities.analysis._choices import Choice

PlaceSetName = Literal["lad", "district", "sector"]


PLACE_SET: Choice[PlaceSetName] = Choice(
    PlaceSetName, "place set",
    "Place set: lad (local authority districts, 2023), district or sector (postcode districts "
    "or sectors)",
    {"lad": "Local authority districts", "district": "Postcode districts (slow)",
     "sector": "Postcode sectors (slower)"})


PLACE_SETS = PLACE_SET.values


def is_csv(places: str | Path) -> bool:
    """Whether a place set names a CSV file of the user's own places."""
    return isinstance(places, Path) or str(places).lower().endswith(".csv")


def default_contrast(places: str | Path) -> tuple[str, ...]:
    """Default features to contrast when twinning a place set (the CLI's default)."""
    if str(places) == "lad":
        return ("leave_share", "gva_per_job", "earnings")
    if str(places) in ("district", "sector"):
        return tuple(f"oac_{k}" for k in range(1, 9))
    return ()


Preset = Literal["overall", "economic", "demographic"]
PRESET: Choice[Preset] = Choice(Preset, "weight preset",
                                "Feature weights: overall, economic or demographic.")
