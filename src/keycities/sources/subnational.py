"""Indicators of the ONS Subnational indicators explorer that ONS Explore Local
Statistics (ELS) does not carry.

The ninth release of the explorer's workbook (March 2024,
:data:`keycities.sources.earnings.SUBNATIONAL_RELEASE`) has 50 metric sheets,
each re-publishing one official source for one period, plus a "Data
dictionary" sheet giving each metric's description, measure, source and
caveats.  ELS, which replaced the explorer, carries most of them as longer
series; this module reads only the sheets ELS lacks (:data:`SHEETS`).  Every
other sheet is listed in :data:`SKIPPED` with the reason, so that a new
sheet is a decision, not an accident.

A metric sheet has label rows (``Metric:``, ``Date:``, ``Coverage:``,
``Geography:`` and further geography lines), a header row starting
``Area Code``, then one row per area of every level it covers, with the
figure, for some sheets its 95% confidence interval, an ``Observation
Status`` and ``Notes``.  The ``Date:`` text gives the period (see
:func:`parse_period`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from keycities.sources._indicator import (
    IndicatorFrames,
    MirrorRead,
    Period,
    tables_reader,
    year_period,
)
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
from keycities.sources.earnings import SUBNATIONAL_RELEASE

READER_VERSION = "1"

RELEASES: tuple[Release, ...] = (SUBNATIONAL_RELEASE,)
DICTIONARY_SHEET = "Data dictionary"

_EXPLORER = "ONS Subnational indicators explorer (ninth release, March 2024)"
_ORGS = {
    "ONS": "Office for National Statistics",
    "OHID": "Office for Health Improvement and Disparities",
    "DfE": "Department for Education",
    "DLUHC": "Department for Levelling Up, Housing and Communities",
    "NISRA": "Northern Ireland Statistics and Research Agency",
}


@dataclass(frozen=True)
class SheetSpec:
    """A metric sheet that is read, and the indicator it becomes.

    ``metric`` is the sheet's ``Metric:`` text and the data dictionary's key;
    ``value_header`` a fragment of the figure column's header.
    """

    sheet: str
    indicator: str
    metric: str
    value_header: str
    unit: str
    decimals: int
    caveats: str = ""


SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec("Ofsted", "schools-good-or-outstanding",
              "State-funded schools rated good or outstanding", "rated good or outstanding",
              "%", 1, "Published for counties and unitary authorities, not for the districts "
              "inside counties."),
    SheetSpec("Reception obesity", "reception-obesity-prevalence",
              "Children (four to five years old) obesity prevalence", "obesity at reception",
              "%", 1, "City of London is counted with Hackney and the Isles of Scilly with "
              "Cornwall. ELS's child-weight indicator (same source, longer series) supersedes "
              "this one where its data are loaded."),
    SheetSpec("Year 6 obesity", "year-6-obesity-prevalence",
              "Children (10 to 11 years old) obesity prevalence", "obesity at year 6", "%", 1,
              "City of London is counted with Hackney and the Isles of Scilly with Cornwall. "
              "ELS's child-weight indicator (same source, longer series) supersedes this one "
              "where its data are loaded."),
    SheetSpec("High growth enterprises", "high-growth-enterprises-count",
              "High growth enterprises", "count of high growth enterprises", "enterprises", 0,
              "Counts rounded to 5; a network's count is the sum of its members'. ELS gives "
              "the high-growth share, not the count, and not its denominator (enterprises "
              "with 10 or more employees)."),
    SheetSpec("Devolution", "population-under-mayoral-devolution",
              "Percentage of the population living in an area covered by the highest level "
              "of devolution", "% living in an area", "%", 1,
              "England and its regions only, as at 13 January 2023: deals agreed since are "
              "not counted."),
)

_ELS = "ELS carries it as a longer series: "
#: Every other sheet of the workbook, with the reason it is not read.
SKIPPED: dict[str, str] = {
    "Notes": "notes, not a metric",
    "Voluntary TQV": "statement of the Code of Practice, not a metric",
    "Data dictionary": "read for the metadata of the sheets that are read",
    "Data inclusivity": "notes on coverage, not a metric",
    "GVA per hour": _ELS + "gross-value-added (GVA per hour worked, 2002-2023)",
    "Weekly pay": _ELS + "gross-median-weekly-pay; also read into the fact table (earnings)",
    "Employment rate": _ELS + "employment-rate",
    "Employment rate (NI)": _ELS + "employment-rate-ni",
    "Unemployment rate": _ELS + "modelled-unemployment",
    "GDHI per head": _ELS + "gross-disposable-household-income-per-head",
    "New enterprises": _ELS + "business-demography births rate at full precision with the "
                       "active count (births = rate x active), 2019-2024",
    "Deaths of enterprises": _ELS + "business-demography deaths rate with the active count, "
                             "2019-2024, with 2022 revised (Hull 1,025 here, 1,050 in ELS)",
    "Active enterprises": _ELS + "business-demography; also read into the fact table "
                          "(earnings)",
    "UK exports": _ELS + "total-value-of-uk-exports (ITL areas)",
    "Inward FDI": _ELS + "foreign-direct-investment (ITL areas)",
    "Outward FDI": _ELS + "foreign-direct-investment (ITL areas)",
    "Goverment R&D": _ELS + "research-and-development-public-funded (ITL1)",
    "Public transport to employer": _ELS + "average-travel-time, same 2019 values",
    "Drive to employer": _ELS + "average-travel-time, same 2019 values",
    "Cycle to employer": _ELS + "average-travel-time, same 2019 values",
    "Broadband availability": _ELS + "gigabit-capable-broadband (same Ofcom measure, newer)",
    "4G area coverage": _ELS + "network-coverage-4g (same Ofcom measure, newer)",
    "KS2 attainment": _ELS + "pupils-at-expected-standards-by-end-of-primary-school",
    "GCSE by age 19": _ELS + "gcses-in-english-and-maths (same DfE figures)",
    "Persistent absences": _ELS + "persistent-absences-for-all-pupils",
    "Persistent absences FSM": _ELS + "persistent-absences-for-pupils-eligible-for-free-school"
                               "-meals",
    "Persistent absences CLA": _ELS + "persistent-absences-for-pupils-looked-after-by-local-"
                               "authorities",
    "Early years comms": _ELS + "early-years",
    "Early years literacy": _ELS + "early-years",
    "Early years maths": _ELS + "early-years",
    "FE and skills achievements": _ELS + "further-education-and-skills-learner-achievements",
    "FE and skills participation": _ELS + "further-education-and-skills-participation",
    "Apprenticeship starts": _ELS + "apprenticeships",
    "Apprenticeship achievements": _ELS + "apprenticeships",
    "Level 3+ qualifications": _ELS + "qualifications-level-3-or-above; this 2021 figure uses "
                               "the discontinued NVQ definition",
    "Level 3+ qualifications (NI)": _ELS + "qualifications-level-3-or-above-ni",
    "Female HLE": _ELS + "healthy-life-expectancy",
    "Male HLE": _ELS + "healthy-life-expectancy",
    "Smokers": _ELS + "cigarette-smokers as five-year averages, which ONS moved to because "
               "single-year district figures are too noisy",
    "Adult obesity": _ELS + "adult-obesity-prevalence",
    "Cancer diagnosis": _ELS + "cancer-diagnosis-at-stage-1-and-2",
    "Under 75 mortality rate": _ELS + "preventable-cardiovascular-mortality-england (same OHID "
                               "indicator, 2001-03 to 2022-24, with intervals)",
    "Under 75 mortality rate (NI)": _ELS + "preventable-cardiovascular-mortality-ni (three-year "
                                    "rates; this sheet's single year 2022 is another basis)",
    "Life satisfaction": _ELS + "personal-wellbeing-estimates",
    "Worthwhile": _ELS + "personal-wellbeing-estimates",
    "Happiness": _ELS + "personal-wellbeing-estimates",
    "Anxiety": _ELS + "personal-wellbeing-estimates",
    "Net additions": _ELS + "net-additions-to-the-housing-stock",
    "Homicide": _ELS + "homicide-offences (police force areas)",
}

# ------------------------------------------------------------------ periods

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_DAY = r"(\d{1,2})/(\d{1,2})/(\d{4})"


def _span(start: dt.date, last: dt.date) -> str:
    """The ISO interval from ``start`` to ``last`` inclusive, in whole months where it can."""
    after = last + dt.timedelta(days=1)
    months = (after.year - start.year) * 12 + after.month - start.month
    if after.day == start.day and months > 0:
        return Period(start, years=months // 12, months=months % 12).iso
    return Period(start, days=(after - start).days).iso


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def parse_period(text: str, *, academic_start_month: int = 9) -> str:
    """The ISO 8601 period of a sheet's ``Date:`` text.

    ``2022`` is a calendar year; ``2022/23`` a school year starting in
    ``academic_start_month``; ``2020 - 2022`` three calendar years;
    ``10/2022 - 09/2023`` months; ``16/11/2021 - 15/11/2022`` days;
    ``09/2023`` a month; ``Financial year ending 2023`` April to March; ``As at
    31 January 2024`` (or ``As of``) a day.  A trailing "revised" is ignored.

    Raises
    ------
    ValueError
        For any other text, quoting it.
    """
    t = re.sub(r"\s+", " ", text.strip()).casefold().removesuffix(" revised")
    if m := re.fullmatch(r"(\d{4})", t):
        return year_period(int(m[1]))
    if m := re.fullmatch(r"(\d{4})/(\d{2})", t):
        return year_period(int(m[1]), start_month=academic_start_month)
    if m := re.fullmatch(r"financial year ending (\d{4})", t):
        return year_period(int(m[1]) - 1, start_month=4)
    if m := re.fullmatch(r"(\d{4}) ?- ?(\d{4})", t):
        return _span(dt.date(int(m[1]), 1, 1), dt.date(int(m[2]), 12, 31))
    if m := re.fullmatch(r"(\d{1,2})/(\d{4}) ?- ?(\d{1,2})/(\d{4})", t):
        return _span(dt.date(int(m[2]), int(m[1]), 1), _month_end(int(m[4]), int(m[3])))
    if m := re.fullmatch(r"(\d{1,2})/(\d{4})", t):
        return Period(dt.date(int(m[2]), int(m[1]), 1), months=1).iso
    if m := re.fullmatch(f"{_DAY} ?- ?{_DAY}", t):
        first = dt.date(int(m[3]), int(m[2]), int(m[1]))
        return _span(first, dt.date(int(m[6]), int(m[5]), int(m[4])))
    if (m := re.fullmatch(r"as (?:at|of) (\d{1,2}) ([a-z]+) (\d{4})", t)) and m[2] in _MONTHS:
        return dt.date(int(m[3]), _MONTHS.index(m[2]) + 1, int(m[1])).isoformat()
    raise ValueError(f"Unknown period text {text!r}: add its form to subnational.parse_period.")


# ------------------------------------------------------------------ sheets


def sheet_labels(raw: pd.DataFrame) -> dict[str, str]:
    """The label rows above a metric sheet's table, as ``{"Metric": ..., "Date": ...}``.

    The lines under ``Geography:`` (the other levels covered) are joined to
    its text with "; ".

    Raises
    ------
    SheetFormatError
        No ``Area Code`` header, or no ``Metric:`` or ``Date:`` label.
    """
    header, _ = find_header_row(raw, ("Area Code",))
    labels: dict[str, str] = {}
    last = ""
    for row in range(header):
        cells = [_cell_text(v) for v in raw.iloc[row]]
        texts = [c for c in cells if c]
        if texts and texts[0].endswith(":"):
            last = texts[0].removesuffix(":")
            labels[last] = " ".join(texts[1:])
        elif texts and last == "Geography":
            labels[last] += "; " + " ".join(texts)
    missing = [k for k in ("Metric", "Date") if k not in labels]
    if missing:
        raise SheetFormatError(f"No {missing} label rows above the table; the layout changed.")
    return labels


def _columns(header: list[str], spec: SheetSpec) -> dict[str, int]:
    """Positions of the area code, figure, interval, status and notes columns."""
    found: dict[str, int] = {}
    for pos, text in enumerate(h.strip().casefold() for h in header):
        if text == "area code":
            found["code"] = pos
        elif spec.value_header.casefold() in text:
            found.setdefault("value", pos)
        elif text.startswith(("lower", "upper")) and "confidence" in text:
            found[text[:5]] = pos
        elif text in ("observation status", "notes"):
            found[text.split()[-1]] = pos
    if "value" not in found:
        raise SheetFormatError(
            f"Sheet {spec.sheet!r} has no column headed like {spec.value_header!r} (headers: "
            f"{[h for h in header if h]}); update subnational.SHEETS."
        )
    return found


def _texts(cells: pd.Series) -> pd.Series:
    """Cells as stripped text, None where blank."""
    text = cells.map(_cell_text)
    return text.astype(object).where(text != "", None)


def parse_metric_sheet(raw: pd.DataFrame, spec: SheetSpec) -> pd.DataFrame:
    """Value rows of one raw metric sheet.

    Parameters
    ----------
    raw
        The sheet read with ``header=None``.
    spec
        Which sheet it is; its metric must be the sheet's ``Metric:`` text.

    Returns
    -------
    pandas.DataFrame
        :data:`~keycities.sources._indicator.VALUE_COLUMNS` rows, one per area
        row (any level; codes stripped) with a figure or a marker: the 95%
        interval where published, the marker's status code (``na`` is ``x``)
        or else the ``Observation Status`` text as status, ``Notes`` as note.

    Raises
    ------
    SheetFormatError
        Another metric, an unknown period, layout or cell text.
    """
    check_title(raw, spec.metric)
    try:
        period = parse_period(sheet_labels(raw)["Date"])
    except ValueError as exc:
        raise SheetFormatError(f"Sheet {spec.sheet!r}: {exc}") from exc
    row, _ = find_header_row(raw, ("Area Code",))
    cols = _columns([_cell_text(v) for v in raw.iloc[row]], spec)
    body = raw.iloc[row + 1:]
    codes = body.iloc[:, cols["code"]].map(_cell_text)
    body, codes = body[codes.map(is_area_code)], codes[codes.map(is_area_code)]
    figure = cell_values(body.iloc[:, cols["value"]])
    keep = ~figure["blank"]
    text = {k: _texts(body.iloc[:, cols[k]]) for k in ("status", "notes") if k in cols}
    bounds = {k: cell_values(body.iloc[:, cols[k]])["value"] if k in cols else float("nan")
              for k in ("lower", "upper")}
    status = figure["status"].fillna(text.get("status", pd.Series(None, index=body.index)))
    values = values_frame(spec.indicator, codes, period, figure["value"],
                          lower=bounds["lower"], upper=bounds["upper"], status=status,
                          note=text.get("notes"))
    return check_unique(values[keep.to_numpy()].reset_index(drop=True), spec.sheet)


# ------------------------------------------------------------------ metadata


def data_dictionary(raw: pd.DataFrame) -> dict[str, dict[str, str]]:
    """The rows of the raw "Data dictionary" sheet, keyed by case-folded metric.

    Raises
    ------
    SheetFormatError
        No header row starting ``Metric``.
    """
    row, col = find_header_row(raw, ("Metric",))
    header = [_cell_text(v) for v in raw.iloc[row]]
    entries: dict[str, dict[str, str]] = {}
    for _, cells in raw.iloc[row + 1:].iterrows():
        entry = {h: _cell_text(v) for h, v in zip(header, cells, strict=True) if h}
        if entry.get("Metric"):
            entries[entry["Metric"].casefold()] = entry
    return entries


def _source_orgs(entry: dict[str, str]) -> str:
    """The publishers named in the dictionary's Source columns, in full."""
    names = [entry.get(f"Source {where}", "") for where in
             ("UK", "GB", "England", "Wales", "Scotland", "NI")]
    unique = dict.fromkeys(_ORGS.get(n, n) for n in names if n)
    return " and ".join(unique) or "Office for National Statistics"


def sheet_meta(spec: SheetSpec, entry: dict[str, str], labels: dict[str, str],
               release: Release) -> IndicatorMeta:
    """The metadata row of one sheet's indicator.

    Parameters
    ----------
    spec
        The sheet's spec.
    entry
        Its row of the data dictionary (see :func:`data_dictionary`).
    labels
        Its label rows (see :func:`sheet_labels`).
    release
        The workbook's release.
    """
    orgs = _source_orgs(entry)
    caveats = " ".join(t for t in (entry.get("Source notes and caveats", ""), spec.caveats,
                                   f"Areas as published: {labels.get('Geography', '')}.") if t)
    return IndicatorMeta(
        indicator=spec.indicator,
        label=entry.get("Indicator (name in jitter plot visualisation)") or spec.metric,
        subtitle=entry.get("Description", ""), unit=spec.unit,
        measure=entry.get("Measure", ""), decimals=spec.decimals, source_org=orgs,
        source_date=release.published.isoformat(),
        source_url=release.landing_page or release.url,
        description=f"{entry.get('Description', spec.metric).rstrip('.')}. Source: {orgs}, "
                    f"re-published in the {_EXPLORER}, sheet '{spec.sheet}'.",
        caveats=caveats,
        experimental="official statistics in development" in labels["Metric"].casefold(),
    )


def read_subnational(release: Release, path: Path) -> IndicatorFrames:
    """Read the sheets of :data:`SHEETS` from the subnational indicators workbook.

    Raises
    ------
    SheetFormatError
        A sheet is missing, has another layout, or has no data dictionary row.
    """
    dictionary = data_dictionary(read_sheet(path, DICTIONARY_SHEET))
    values, metas = [], []
    for spec in SHEETS:
        raw = read_sheet(path, spec.sheet)
        entry = dictionary.get(spec.metric.casefold())
        if entry is None:
            raise SheetFormatError(f"The data dictionary has no row for {spec.metric!r}.")
        values.append(parse_metric_sheet(raw, spec))
        metas.append(sheet_meta(spec, entry, sheet_labels(raw), release))
    return IndicatorFrames(pd.concat(values, ignore_index=True), meta_frame(metas))


def read_subnational_mirror(mirror: Path) -> MirrorRead:
    """Read the sheets of :data:`SHEETS` from the workbook in a mirror directory.

    Returns
    -------
    MirrorRead
        Values and metadata with each row's ``release_id``, and (file,
        reason) if the workbook could not be read.
    """
    return read_mirror(mirror, RELEASES, read_subnational)


__all__ = ["DICTIONARY_SHEET", "RELEASES", "SHEETS", "SKIPPED", "SheetSpec", "data_dictionary",
           "parse_metric_sheet", "parse_period", "read_subnational", "read_subnational_mirror",
           "sheet_labels", "sheet_meta"]


SOURCES: tuple[SimpleSource, ...] = ()
#: Read with the subnational indicators workbook (source ``subnational_indicators``).
EXTRA_READERS = {SUBNATIONAL_RELEASE.id: tables_reader(read_subnational)}
