"""Geography vintages.

A :data:`Vintage` is the year of a local authority district (LAD) boundary
set: an area belongs to vintage ``Y`` when it existed on 1 April of ``Y`` (the
date English reorganisations take effect).  Every figure in the store is on
one vintage (its release's ``geography_vintage``) and every query names the
vintage it wants; nothing assumes "current".

Notable changes between the vintages the project covers (2016–2025):

* 2018 – Fife and Perth & Kinross recoded (S12000015→S12000047, …);
* 2019 – Bournemouth, Christchurch and Poole (BCP), Dorset, East and West
  Suffolk, Somerset West and Taunton; Glasgow / North Lanarkshire recoded;
* 2020 – Buckinghamshire;
* 2021 – North and West Northamptonshire;
* 2023 – Cumberland, Westmorland and Furness, North Yorkshire, Somerset;
* 2024 – Barnsley and Sheffield recoded (E08000016→E08000038, …; first used
  in 2025 lookups).
"""

from __future__ import annotations

from typing import Annotated

from keycities.errors import KeycitiesError

Vintage = Annotated[int, "LAD boundary year, 2016-2025"]
"""The year of a LAD boundary set (see module docstring)."""

FIRST_VINTAGE = 2016
LAST_VINTAGE = 2025
VINTAGES: tuple[int, ...] = tuple(range(FIRST_VINTAGE, LAST_VINTAGE + 1))


def check_vintage(vintage: int) -> int:
    """Return ``vintage`` if the project covers it, else raise a clear error."""
    if vintage not in VINTAGES:
        raise KeycitiesError(
            f"Geography vintage {vintage} is outside the covered range "
            f"{FIRST_VINTAGE}-{LAST_VINTAGE}."
        )
    return vintage


def vintage_of_date(year: int, month: int) -> int:
    """Vintage in force on a date: changes take effect on 1 April."""
    return year if month >= 4 else year - 1
