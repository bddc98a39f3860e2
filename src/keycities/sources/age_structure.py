"""Population by broad age band, from the ONS mid-year estimates (sheet MYE2).

Sheet "MYE2 - Persons" of each UK workbook of
:data:`keycities.sources.population.RELEASES` gives persons by single year
of age (0 to 89 and 90+) for every area at every geography level (UK,
nations, regions, counties, districts) at 30 June of one year.  The reader
sums single years into the bands the work areas need, as counts, so that a
network's rate can be recomputed as a ratio of sums (numerator = rate x
denominator, summed over members, divided by the summed denominator):

=============================  =======  =====================================
indicator                      ages     denominator of, for example
=============================  =======  =====================================
``population-all-ages``        all      per-head figures, homicide rate
``population-aged-0-15``       0-15     children in relative poverty
``population-aged-16-24``      16-24    young people's indicators
``population-aged-16-64``      16-64    employment rate, claimant count, skills
``population-aged-16-plus``    16+      well-being, apprenticeships
``population-aged-18-plus``    18+      adult obesity, smoking
``population-aged-19-plus``    19+      further education participation
``population-aged-65-plus``    65+      older people, health and social care
=============================  =======  =====================================

Each workbook is one release with one period, the point in time
``YYYY-06-30``: mid-2020 (pre-Census-2021 series, 2021 boundaries), mid-2021
(Census-based, 2021 boundaries) and mid-2022 (Census-based, 2023 boundaries).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from keycities.sources._indicator import IndicatorFrames, MirrorRead, tables_reader
from keycities.sources._indicator_frames import (
    IndicatorMeta,
    cell_values,
    check_unique,
    meta_frame,
    read_mirror,
    values_frame,
)
from keycities.sources._sheets import (
    SheetFormatError,
    _cell_text,
    check_title,
    find_header_row,
    is_area_code,
    read_sheet,
)
from keycities.sources.base import Release, SimpleSource
from keycities.sources.population import RELEASES as POPULATION_RELEASES

READER_VERSION = "1"

RELEASES: tuple[Release, ...] = POPULATION_RELEASES
SHEET = "MYE2 - Persons"
#: The oldest single year of age; the column after it is "90+" (that age and over).
TOP_AGE = 90


@dataclass(frozen=True)
class AgeBand:
    """Ages ``first`` to ``last`` inclusive (``last=None``: and over)."""

    indicator: str
    first: int
    last: int | None

    @property
    def words(self) -> str:
        """The band in plain English: "aged 16 to 64", "aged 65 and over", "all ages"."""
        if self.first == 0 and self.last is None:
            return "all ages"
        return f"aged {self.first} " + ("and over" if self.last is None else f"to {self.last}")


BANDS: tuple[AgeBand, ...] = (
    AgeBand("population-all-ages", 0, None),
    AgeBand("population-aged-0-15", 0, 15),
    AgeBand("population-aged-16-24", 16, 24),
    AgeBand("population-aged-16-64", 16, 64),
    AgeBand("population-aged-16-plus", 16, None),
    AgeBand("population-aged-18-plus", 18, None),
    AgeBand("population-aged-19-plus", 19, None),
    AgeBand("population-aged-65-plus", 65, None),
)

_CAVEATS = (
    "Scotland's figures come from National Records of Scotland and Northern Ireland's from "
    "NISRA. Mid-2021 onwards are based on Census 2021 and mid-2020 is not, so the series "
    "breaks between them (take each year from its own release). "
)

_MID_YEAR = re.compile(r"mid-((?:19|20)\d{2})", re.IGNORECASE)


def age_columns(header: pd.Series) -> dict[int, int]:
    """Positions of the single-year-of-age columns, mapped to their ages.

    ``90+`` is mapped to :data:`TOP_AGE`.

    Raises
    ------
    SheetFormatError
        The ages are not exactly 0, 1, ..., 89 and 90+.
    """
    ages: dict[int, int] = {}
    for pos, label in enumerate(header):
        text = _cell_text(label)
        if re.fullmatch(r"\d{1,2}", text):
            ages[pos] = int(text)
        elif text == f"{TOP_AGE}+":
            ages[pos] = TOP_AGE
    if sorted(ages.values()) != list(range(TOP_AGE + 1)):
        raise SheetFormatError(
            f"{SHEET} should have one column per age 0 to {TOP_AGE - 1} and one for "
            f"'{TOP_AGE}+'; found ages {sorted(ages.values())[:5]}... The layout has changed."
        )
    return ages


def mid_year(raw: pd.DataFrame) -> int:
    """The year of the estimates, from the sheet title ("..., mid-2022").

    Raises
    ------
    SheetFormatError
        The title names no mid-year.
    """
    title = " ".join(_cell_text(v) for v in raw.head(3).to_numpy().ravel())
    found = _MID_YEAR.search(title)
    if found is None:
        raise SheetFormatError(f"{SHEET}'s title names no mid-year ('mid-YYYY').")
    return int(found.group(1))


def parse_mye2(raw: pd.DataFrame) -> pd.DataFrame:
    """Value rows of the age bands from a raw "MYE2 - Persons" sheet.

    Parameters
    ----------
    raw
        The sheet read with ``header=None``: a title naming the mid-year,
        a header row of ``Code``, ``Name``, ``Geography``, ``All ages``,
        ``0`` ... ``89``, ``90+``, and one row per area.

    Returns
    -------
    pandas.DataFrame
        :data:`~keycities.sources._indicator.VALUE_COLUMNS` rows, one per
        band of :data:`BANDS` and area (every geography level), period
        ``YYYY-06-30``.

    Raises
    ------
    SheetFormatError
        Not the persons table, an unexpected age layout, a cell that is not a
        count, or an area whose ages do not add up to its "All ages" figure.
    """
    check_title(raw, "Persons by single year of age")
    row, col = find_header_row(raw, ("Code",))
    header = raw.iloc[row]
    ages = age_columns(header)
    total_col = next((i for i, h in enumerate(header) if _cell_text(h) == "All ages"), None)
    if total_col is None:
        raise SheetFormatError(f"{SHEET} has no 'All ages' column; the layout has changed.")
    body = raw.iloc[row + 1:]
    codes = body.iloc[:, col].map(_cell_text)
    body, codes = body[codes.map(is_area_code)], codes[codes.map(is_area_code)]
    counts = pd.DataFrame({age: _counts(body.iloc[:, pos]) for pos, age in ages.items()})
    _check_totals(codes, counts.sum(axis=1), _counts(body.iloc[:, total_col]))
    period = dt.date(mid_year(raw), 6, 30).isoformat()
    parts = [values_frame(band.indicator, codes, period, _band_sum(counts, band))
             for band in BANDS]
    return check_unique(pd.concat(parts, ignore_index=True), SHEET)


def _counts(cells: pd.Series) -> pd.Series:
    """Cells that must all be counts (no blanks or markers in MYE2)."""
    parsed = cell_values(cells)
    if parsed["value"].isna().any():
        raise SheetFormatError(f"{SHEET} has empty or suppressed cells; the layout has changed.")
    return parsed["value"]


def _band_sum(counts: pd.DataFrame, band: AgeBand) -> pd.Series:
    last = TOP_AGE if band.last is None else band.last
    return counts.loc[:, band.first:last].sum(axis=1)


def _check_totals(codes: pd.Series, summed: pd.Series, published: pd.Series) -> None:
    """Raise unless every area's single years add up to its published all-ages count."""
    off = codes[(summed - published).abs() > 0.5]
    if not off.empty:
        raise SheetFormatError(
            f"In {SHEET} the single years of age of {len(off)} areas (first: {off.iloc[0]}) "
            "do not add up to their 'All ages' count; columns may have shifted."
        )


def band_meta(band: AgeBand, release: Release) -> IndicatorMeta:
    """The metadata row of one age band's indicator as published in ``release``."""
    return IndicatorMeta(
        indicator=band.indicator,
        label=f"Population {band.words}" if band.words != "all ages" else "Population",
        subtitle=f"Usual residents {band.words} at 30 June (mid-year estimate)",
        unit="people", measure="Count", decimals=0, source_org=release.publisher,
        source_date=release.published.isoformat(),
        source_url=release.landing_page or release.url,
        description=f"Number of usual residents {band.words}, summed from single years of "
                    f"age in sheet '{SHEET}' of {release.title.split(', table')[0]}.",
        caveats=("A count: a network's figure is the sum of its members'. " + _CAVEATS
                 + f"Areas on {release.geography_vintage} boundaries."),
    )


def read_age_structure(release: Release, path: Path) -> IndicatorFrames:
    """Read the age bands of sheet "MYE2 - Persons" of one mid-year estimates workbook."""
    values = parse_mye2(read_sheet(path, SHEET))
    return IndicatorFrames(values, meta_frame(band_meta(b, release) for b in BANDS))


def read_age_structure_mirror(mirror: Path) -> MirrorRead:
    """Read the age bands of every mid-year estimates workbook in a mirror directory.

    Returns
    -------
    MirrorRead
        Values and metadata with each row's ``release_id`` (one period per
        release), and (file, reason) for each workbook that could not be read.
    """
    return read_mirror(mirror, RELEASES, read_age_structure)


__all__ = ["BANDS", "RELEASES", "SHEET", "TOP_AGE", "AgeBand", "age_columns", "band_meta",
           "mid_year", "parse_mye2", "read_age_structure", "read_age_structure_mirror"]


SOURCES: tuple[SimpleSource, ...] = ()
#: Read with the population workbooks (source ``population``), into the indicator tables.
EXTRA_READERS = {r.id: tables_reader(read_age_structure) for r in POPULATION_RELEASES}
