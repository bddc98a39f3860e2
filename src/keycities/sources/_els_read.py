"""Reading ONS Explore Local Statistics (ELS) files into the indicator frames.

An ELS indicator folder holds ``<name>.csv`` (long format) and ``<name>.json``
(what the ELS pages show: label, subtitle, prefix/suffix, decimal places,
source, caveats).  :func:`read_files` turns one pair into the two frames of
:mod:`keycities.sources._indicator`.  The rules, so that the frames can be
checked against the files by hand:

Indicator ids
    The slug of the CSV's ``indicator`` text: lower case, each run of
    characters other than ``a-z0-9`` replaced by one hyphen, hyphens trimmed
    (``Employment rate (Northern Ireland)`` -> ``employment-rate-northern-ireland``).
    A file holding several indicators yields one id for each.  The small-area
    GVA layout (``AREANM, AREACD, Period, Observation``, CSV-W "qube" JSON)
    has no ``indicator`` column; its id is the slug of the JSON's measure
    label and the file's name.
Values
    Columns are found by name (one file has ``measure`` before
    ``observation``; one has a second, empty ``notes`` column) and a leading
    byte-order mark is dropped.  Every row is kept, whatever its area level;
    the CSV's ``geography`` (``Country`` = UK, GB or England and Wales;
    ``Nation`` = England, Wales, Scotland, Northern Ireland; ``Region``;
    ``Local Authority District``; ...) is kept as the extra column
    ``geography``.  Numbers become floats; blank or suppressed cells are NaN
    with the row's ``status`` kept (ONS flags: ``x`` not available, ``u`` low
    reliability, ``c`` confidential, ``z`` not applicable).  A status that is
    prose rather than a flag ("Value for Hackney and City of London combined")
    is moved to ``note``.  Rows without an area code (``na``) cannot be placed
    and are dropped; rows repeated under two area levels with the same
    figures are kept once; repeats with different figures are all dropped.
    Each of these is reported through ``notice``.
Metadata
    A JSON either describes the file's one indicator or has a ``shared``
    block and one block per indicator, keyed by the CSV's ``indicator`` text.
    Label, subtitle, decimals, source, description, caveats and the
    experimental flag come from the indicator's block over ``shared`` (the
    label falls back to the CSV's ``indicator`` text where the JSON has no
    block for it).  ``unit`` is what ELS prints after a figure (see
    :func:`display_unit`); ``measure`` is the CSV's ``measure`` column.
    Several sources (``a|b``) become ``a; b`` (organisations), space-separated
    URLs and the latest of their dates.  The extra column ``standardised``
    says whether ELS treats the figures as comparable between areas of
    different sizes (rates, shares, medians) rather than totals.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from keycities.errors import KeycitiesError
from keycities.sources._indicator import META_COLUMNS, VALUE_COLUMNS, Period, year_period
from keycities.sources.base import Notice

#: Columns every ELS indicator CSV must have (others are optional).
REQUIRED = ("areacd", "geography", "indicator", "period", "observation")
#: Extra columns: the values frame's area level, the metadata's comparability flag.
VALUE_EXTRA = ("geography",)
META_EXTRA = ("standardised",)

#: A status that is one ONS flag (``x``, ``[c]``, ``u``); anything longer is a note.
_FLAG = re.compile(r"\[?([a-z]{1,2})\]?", re.IGNORECASE)
_NO_CODE = frozenset({"", "na", "n/a"})
_GBP_MILLIONS = re.compile(r"(?:in )?£ ?millions?(?:,\s*(.+))?", re.IGNORECASE)
#: Area level of a small-area GVA file, by a fragment of its name (first match wins).
_SMALL_AREA_LEVELS = (("lower-layer", "Lower layer Super Output Area (2011)"),
                      ("super-output-areas", "Super Output Area (2011)"),
                      ("data-zones", "Data Zone (2011)"))

#: Publisher errors corrected here, by indicator id: field -> (published, corrected).
#: The affordability ratio (median house price / median earnings) is labelled
#: "Percentage" with unit "%" in the CSV; the JSON's unit ("affordability
#: ratio") is right, so only the measure needs correcting.
CORRECTIONS: dict[str, dict[str, tuple[str, str]]] = {
    "housing-affordability-ratio-residence-based": {"measure": ("Percentage", "Ratio")},
}


class ElsFormatError(KeycitiesError):
    """An ELS file whose layout is not one this reader knows."""


def indicator_id(text: str) -> str:
    """The id of an indicator from its published name (see the module docstring).

    Raises
    ------
    ElsFormatError
        The name has no letter or digit to make an id from.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")
    if not slug:
        raise ElsFormatError(f"Indicator name {text!r} has no letters or digits to make an id.")
    return slug


def read_csv(path: Path) -> pd.DataFrame:
    """The CSV as text cells ('' where blank), BOM dropped, column names lower-cased.

    A repeated column (pandas names the second ``notes.1``) is folded into the
    first: the non-empty cells are joined with "; ".
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raw.columns = [str(c).strip().casefold() for c in raw.columns]
    for col in [c for c in raw.columns if re.fullmatch(r".+\.\d+", c)]:
        base = col.rsplit(".", 1)[0]
        if base in raw.columns:
            raw[base] = _join_cells(raw[base], raw.pop(col))
    return raw.apply(lambda s: s.str.strip())


def _join_cells(a: pd.Series, b: pd.Series) -> pd.Series:
    """Text cells of ``a`` and ``b`` joined with "; ", blanks skipped."""
    return a.where(b == "", a + "; " + b).where(a != "", b)


def read_json(path: Path) -> dict[str, Any]:
    """The metadata JSON (a BOM, if any, dropped)."""
    with open(path, encoding="utf-8-sig") as f:
        doc = json.load(f)
    if not isinstance(doc, dict):
        raise ElsFormatError(f"{path.name}: expected a JSON object, found {type(doc).__name__}.")
    return doc


# ------------------------------------------------------------------------- values


def parse_periods(texts: pd.Series, *, name: str) -> pd.Series:
    """Each period as ONS writes it, checked and normalised with :meth:`Period.parse`.

    Raises
    ------
    ElsFormatError
        A period that is not an ISO 8601 date or interval; the message names
        the file and the text.
    """
    iso: dict[str, str] = {}
    for text in texts.unique():
        try:
            iso[text] = Period.parse(text).iso
        except ValueError as exc:
            raise ElsFormatError(f"{name}: {exc}.") from exc
    return texts.map(iso)


def to_numbers(cells: pd.Series, *, column: str, name: str,
               notice: Notice | None) -> pd.Series:
    """Floats from text cells; blank cells and text that is not a number are NaN.

    Text that is neither blank nor a number is reported through ``notice``.
    """
    values = pd.to_numeric(cells.replace("", np.nan), errors="coerce").astype(float)
    odd = cells[(cells != "") & values.isna()]
    if len(odd) and notice is not None:
        notice(f"{name}: {len(odd)} cell(s) of '{column}' are not numbers (e.g. "
               f"{odd.iloc[0]!r}); read as missing.")
    return values


def _status_and_note(raw: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """ONS flags (lower case, brackets dropped) and notes; prose statuses join the note."""
    status = raw["status"] if "status" in raw else pd.Series("", index=raw.index)
    note = raw["notes"] if "notes" in raw else pd.Series("", index=raw.index)
    flag = status.str.fullmatch(_FLAG.pattern, case=False)
    prose = status.where(~flag & (status != ""), "")
    note = _join_cells(note, prose)
    flags = status.str.extract(_FLAG, expand=False).str.lower().where(flag)
    return (flags.astype(object).where(flags.notna(), None),
            note.astype(object).where(note != "", None))


def values_frame(raw: pd.DataFrame, *, name: str, notice: Notice | None = None) -> pd.DataFrame:
    """The values frame of an ELS indicator CSV (read with :func:`read_csv`).

    Parameters
    ----------
    raw
        The CSV's cells.
    name
        The file's name, for messages.
    notice
        Called with a message for each thing worked around (rows dropped,
        cells that are not numbers).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`VALUE_COLUMNS` and ``geography``.

    Raises
    ------
    ElsFormatError
        A required column is missing, or a period cannot be read.
    """
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ElsFormatError(
            f"{name}: no column(s) {', '.join(missing)} (found: {', '.join(raw.columns)}). "
            "This is not the ELS indicator layout; check the file or update the reader."
        )
    raw = _drop_uncoded(raw, name=name, notice=notice)
    status, note = _status_and_note(raw)
    out = pd.DataFrame({
        "indicator": raw["indicator"].map({n: indicator_id(n) for n in raw["indicator"].unique()}),
        "area_code": raw["areacd"],
        "period": parse_periods(raw["period"], name=name),
        "value": to_numbers(raw["observation"], column="observation", name=name,
                            notice=notice),
        "lower": _optional_numbers(raw, "lci_95", name=name, notice=notice),
        "upper": _optional_numbers(raw, "uci_95", name=name, notice=notice),
        "status": status,
        "note": note,
        "geography": raw["geography"],
    })
    return _drop_repeats(out, name=name, notice=notice).reset_index(drop=True)


def _optional_numbers(raw: pd.DataFrame, column: str, *, name: str,
                      notice: Notice | None) -> pd.Series:
    if column not in raw:
        return pd.Series(np.nan, index=raw.index)
    return to_numbers(raw[column], column=column, name=name, notice=notice)


def _drop_uncoded(raw: pd.DataFrame, *, name: str, notice: Notice | None) -> pd.DataFrame:
    """Rows whose area has no GSS code cannot be placed: drop them, saying which."""
    uncoded = raw["areacd"].str.casefold().isin(_NO_CODE)
    if uncoded.any() and notice is not None:
        names = sorted(set(raw.loc[uncoded, "areanm"])) if "areanm" in raw else []
        notice(f"{name}: {int(uncoded.sum())} row(s) have no area code and were dropped"
               + (f" ({', '.join(names)})." if names else "."))
    return raw[~uncoded]


def _drop_repeats(out: pd.DataFrame, *, name: str, notice: Notice | None) -> pd.DataFrame:
    """One row per indicator, area and period.

    ELS lists some areas under two levels (a combined authority that is also
    an ITL 2 region): the same figures are kept once, under the first level.
    Repeats whose figures differ cannot be resolved and are all dropped.
    """
    key = ["indicator", "area_code", "period"]
    repeated = out.duplicated(key, keep=False)
    if not repeated.any():
        return out
    figures = out[repeated].fillna({"value": np.inf, "lower": np.inf, "upper": np.inf})
    agree = figures.groupby(key)[["value", "lower", "upper"]].nunique().le(1).all(axis=1)
    conflict = out.set_index(key).index.isin(agree.index[~agree])
    drop = out.duplicated(key, keep="first") | conflict
    if notice is not None:
        same = int((drop & ~conflict).sum())
        notice(f"{name}: {same} row(s) repeat an area under a second level with the same "
               "figures and were kept once"
               + (f"; {int((~agree).sum())} area-period(s) have repeats with differing "
                  "figures and were dropped." if conflict.any() else "."))
    return out[~drop]


def small_area_values(raw: pd.DataFrame, *, indicator: str, name: str,
                      notice: Notice | None = None) -> pd.DataFrame:
    """The values frame of a small-area GVA CSV (``AREANM, AREACD, Period, Observation``).

    Periods are calendar years (``1998`` -> ``1998-01-01/P1Y``).

    Raises
    ------
    ElsFormatError
        A column is missing or a period is not a year.
    """
    missing = [c for c in ("areacd", "period", "observation") if c not in raw.columns]
    if missing:
        raise ElsFormatError(f"{name}: no column(s) {', '.join(missing)} in the small-area "
                             f"layout (found: {', '.join(raw.columns)}).")
    bad = raw.loc[~raw["period"].str.fullmatch(r"\d{4}"), "period"]
    if len(bad):
        raise ElsFormatError(f"{name}: period {bad.iloc[0]!r} is not a year.")
    level = next((lv for frag, lv in _SMALL_AREA_LEVELS if frag in name), "Small area")
    return pd.DataFrame({
        "indicator": indicator,
        "area_code": raw["areacd"],
        "period": raw["period"].map(lambda y: year_period(int(y))),
        "value": to_numbers(raw["observation"], column="observation", name=name,
                            notice=notice),
        "lower": np.nan, "upper": np.nan, "status": None, "note": None,
        "geography": level,
    })[[*VALUE_COLUMNS, *VALUE_EXTRA]].reset_index(drop=True)


# ----------------------------------------------------------------------- metadata


def display_unit(block: dict[str, Any], csv_unit: str | None) -> str | None:
    """The unit as ELS prints it after a figure, from the JSON's prefix/suffix/subText.

    ``%`` (suffix); ``£`` (prefix ``GBPSign``); ``£ million`` or ``£ million
    (2024 prices)`` ("in £ millions, 2024 prices"); otherwise the subText
    ("per 100,000 population", "years", "score out of 10"), replaced by the
    CSV's unit where that says more ("kWh" -> "kWh per meter point").  With
    none of these, the CSV's unit.
    """
    suffix = (block.get("suffix") or "").strip()
    sub = (block.get("subText") or "").strip()
    prefix = "£" if block.get("prefix") == "GBPSign" else (block.get("prefix") or "").strip()
    if suffix:
        return suffix
    money = _GBP_MILLIONS.fullmatch(sub)
    if money:
        return "£ million" + (f" ({money.group(1)})" if money.group(1) else "")
    if sub:
        longer = csv_unit and len(csv_unit) > len(sub) and csv_unit.casefold().startswith(
            sub.casefold())
        return csv_unit if longer else sub
    return prefix or csv_unit or None


def source_date(text: str | None) -> str | None:
    """The latest of ``dd/mm/yyyy`` dates separated by ``|``, as an ISO date (None if none)."""
    dates = []
    for part in (text or "").split("|"):
        try:
            dates.append(dt.datetime.strptime(part.strip(), "%d/%m/%Y").date())
        except ValueError:
            continue
    return max(dates).isoformat() if dates else None


def _several(text: str | None, sep: str) -> str | None:
    parts = [p.strip() for p in (text or "").split("|") if p.strip()]
    return sep.join(parts) if parts else None


def _blocks(doc: dict[str, Any], names: list[str], *, name: str,
            notice: Notice | None) -> dict[str, dict[str, Any]]:
    """The merged JSON block of each indicator name in the CSV."""
    ess = doc.get("ess-beta-metadata")
    if not isinstance(ess, dict):
        raise ElsFormatError(f"{name}: no 'ess-beta-metadata' object; not an ELS metadata "
                             "file.")
    if "shared" not in ess:
        return {n: dict(ess, label=ess.get("label") if len(names) == 1 else n) for n in names}
    shared = ess["shared"]
    out = {}
    for n in names:
        if n not in ess and notice is not None:
            notice(f"{name}: no metadata block for indicator {n!r}; its label is the CSV's "
                   "and the rest is the file's shared metadata.")
        out[n] = {**shared, "label": n, **ess.get(n, {})}
    return out


def _csv_facts(raw: pd.DataFrame, column: str) -> dict[str, str | None]:
    """The commonest non-blank ``column`` cell of each indicator name (None if none)."""
    if column not in raw:
        return {}
    cells = raw.loc[raw[column] != "", ["indicator", column]]
    return {str(ind): group.mode().iloc[0] if len(group) else None
            for ind, group in cells.groupby("indicator", sort=False)[column]}


def metadata_frame(doc: dict[str, Any], raw: pd.DataFrame, *, name: str,
                   notice: Notice | None = None) -> pd.DataFrame:
    """The metadata frame of an ELS indicator file: one row per indicator in the CSV.

    Parameters
    ----------
    doc
        The metadata JSON (``{"ess-beta-metadata": ...}``).
    raw
        The CSV's cells (:func:`read_csv`), for the indicator names and measures.
    name
        The file's name, for messages.
    notice
        Called about indicators the JSON does not describe.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`META_COLUMNS` and ``standardised``.
    """
    names = list(dict.fromkeys(raw["indicator"]))
    measures, units = _csv_facts(raw, "measure"), _csv_facts(raw, "unit")
    rows = []
    for n, block in _blocks(doc, names, name=name, notice=notice).items():
        rows.append({
            "indicator": indicator_id(n), "label": block.get("label") or n,
            "subtitle": block.get("subtitle"), "unit": display_unit(block, units.get(n)),
            "measure": measures.get(n), "decimals": block.get("decimalPlaces"),
            "source_org": _several(block.get("sourceOrg"), "; "),
            "source_date": source_date(block.get("sourceDate")),
            "source_url": _several(block.get("sourceURL"), " "),
            "description": block.get("longDescription"), "caveats": block.get("caveats"),
            "experimental": block.get("experimentalStatistic") == "T",
            "standardised": block.get("standardised") == "T",
        })
    meta = pd.DataFrame(rows, columns=[*META_COLUMNS, *META_EXTRA])
    return _corrected(meta.astype({"decimals": "Int64"}))


def _corrected(meta: pd.DataFrame) -> pd.DataFrame:
    """Apply :data:`CORRECTIONS` where the published value is the known wrong one."""
    for ind, fields in CORRECTIONS.items():
        for field, (published, corrected) in fields.items():
            hit = (meta["indicator"] == ind) & (meta[field] == published)
            meta.loc[hit, field] = corrected
            meta.loc[hit, "caveats"] = meta.loc[hit, "caveats"].fillna("") + (
                f"\n\n(keycities: the file gives the {field} as {published!r}; corrected to "
                f"{corrected!r}.)")
    return meta


def small_area_metadata(doc: dict[str, Any], *, indicator: str) -> pd.DataFrame:
    """The metadata frame of a small-area GVA file from its CSV-W "qube" JSON."""
    obs = doc.get("columns", {}).get("Observation", {})
    unit = (obs.get("unit") or {}).get("label")
    description = doc.get("description") or ""
    link = re.search(r"\]\((https?://[^)\s]+)\)", description)
    issued = str(doc.get("dataset_issued") or "")[:10] or None
    row = {
        "indicator": indicator, "label": doc.get("title"), "subtitle": doc.get("summary"),
        "unit": "£ million" if unit == "Pounds Sterling, Millions" else unit,
        "measure": (obs.get("measure") or {}).get("label"), "decimals": None,
        "source_org": _organisation(doc.get("publisher")), "source_date": issued,
        "source_url": link.group(1) if link else None, "description": description or None,
        "caveats": None, "experimental": "experimental" in description.casefold(),
        "standardised": False,
    }
    return pd.DataFrame([row], columns=[*META_COLUMNS, *META_EXTRA]).astype({"decimals": "Int64"})


def _organisation(url: str | None) -> str | None:
    """A GOV.UK organisation page's name: ``.../office-for-national-statistics`` -> words."""
    if not url:
        return None
    if url.rstrip("/").endswith("/office-for-national-statistics"):
        return "Office for National Statistics"
    return url


# ---------------------------------------------------------------------------- files


def is_small_area(doc: dict[str, Any]) -> bool:
    """True for the small-area GVA layout's CSV-W "qube" metadata."""
    return "ess-beta-metadata" not in doc and "columns" in doc


def read_files(csv_path: Path, json_path: Path, *,
               notice: Notice | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read one ELS data file and its metadata JSON into (values, metadata).

    Raises
    ------
    ElsFormatError
        Either file is not in a layout this reader knows.
    """
    raw, doc, name = read_csv(csv_path), read_json(json_path), csv_path.name
    if is_small_area(doc):
        obs = doc["columns"].get("Observation", {})
        label = (obs.get("measure") or {}).get("label") or "value"
        ind = indicator_id(f"{label} {csv_path.stem}")
        return (small_area_values(raw, indicator=ind, name=name, notice=notice),
                small_area_metadata(doc, indicator=ind))
    values = values_frame(raw, name=name, notice=notice)
    return values, metadata_frame(doc, raw, name=name, notice=notice)
