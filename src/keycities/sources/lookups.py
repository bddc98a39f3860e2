"""LAD code lookups: names, regions and countries per vintage, changes, successors, aliases.

``lad_lookups_ons``  (table ``area``)
    ONS Open Geography Portal lookups of districts to regions (England:
    Dec 2016, Dec 2018, Apr 2019, Dec 2020, 2023) and to countries (UK:
    Dec 2016, Dec 2018, Apr 2019).  Each row is valid for the lookup's
    vintage only (vintage_start = vintage_end).
``lad_changes``  (table ``change``)
    The ONS Visual team's list of district changes 2018-2025.
``lad_successors``  (table ``area``)
    David Kane's list of every district since 2011 with its region and
    country (the file's successor column is what the change list is checked
    against in the tests).
``lad_aliases``  (table ``alias``)
    mySociety's council register: official, short and alternative names.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from keycities.geography.areas import LAD_PREFIXES
from keycities.sources._sheets import SheetFormatError
from keycities.sources.base import OGL, READER_COLUMNS, Release, SimpleSource

READER_VERSION = "1"

#: GSS prefixes of local authority districts (lower tier and unitary).

_GITHUB = "https://raw.githubusercontent.com"
_PORTAL = "https://geoportal.statistics.gov.uk/"
_ONS_NOTE = ("The mirror records neither the portal's file URL nor a publication date: "
             "the url is the byte-identical GitHub copy the mirror took, and the "
             "published date is the lookup's reference date.")


def _ons_lookup(id_: str, title: str, url: str, ref: dt.date, vintage: int, sha: str,
                file: str, note: str = "") -> Release:
    return Release(
        id=id_, publisher="Office for National Statistics (Open Geography Portal)",
        title=title, url=url, landing_page=_PORTAL, published=ref,
        reference_period=f"{ref:%B %Y}", geography_vintage=vintage, licence=OGL,
        sha256=sha, mirror_path=f"lad_lookups/ons_official/{file}",
        notes=f"{note} {_ONS_NOTE}".strip(),
    )


_JTRIM = f"{_GITHUB}/jtrim-ons/ons-lookups/85d0ba6e476badf3861d8dc7485aecf40598d031/csv"
_ENGLAND = "England only (region lookups)."

ONS_RELEASES: tuple[Release, ...] = (
    _ons_lookup(
        "ons-lad16-rgn16-en-lu",
        "Local Authority District to Region (December 2016) Lookup in England",
        f"{_JTRIM}/014.csv", dt.date(2016, 12, 1), 2016,
        "f7e096a6fccc8e721eb9a9df8a1faf5a10fbeb8c03f4a351089e4106b8758ac3",
        "Local_Authority_District_to_Region_(December_2016)_Lookup_in_England.csv", _ENGLAND),
    _ons_lookup(
        "ons-lad18-rgn18-en-lu",
        "Local Authority District to Region (December 2018) Lookup in England",
        f"{_JTRIM}/016.csv", dt.date(2018, 12, 1), 2018,
        "4038ef457dc57bd27d3f4aae53410afd8a3cc8e1023b37179f1fb301133e3718",
        "Local_Authority_District_to_Region_(December_2018)_Lookup_in_England.csv", _ENGLAND),
    _ons_lookup(
        "ons-lad19-rgn19-en-lu",
        "Local Authority District to Region (April 2019) Lookup in England",
        f"{_GITHUB}/nujcharee/DSDA_Data/c7bb47b9fb929ecc2e3d43b527b3207692a11a99/"
        "Local_Authority_District_to_Region_(April_2019)_Lookup_in_England.csv",
        dt.date(2019, 4, 1), 2019,
        "0453f7e355e4ddc0aa69f65c4dd828be971428d9fb374149d1a1534fe00f378b",
        "Local_Authority_District_to_Region_(April_2019)_Lookup_in_England.csv", _ENGLAND),
    _ons_lookup(
        "ons-lad20-rgn20-en-lu",
        "Local Authority District to Region (December 2020) Lookup in England",
        f"{_GITHUB}/AlexanderGH-CH/Analytics/cf97da0399a3f81a1d77645855a605907aee1c16/"
        "Datasets/Local_Authority_District_to_Region__December_2020__Lookup_in_England.csv",
        dt.date(2020, 12, 1), 2020,
        "6f1453452d64ae071cdfcd0652709ab74a3f8190ab5c6b061fa2c387c577478b",
        "Local_Authority_District_to_Region_(December_2020)_Lookup_in_England.csv", _ENGLAND),
    _ons_lookup(
        "ons-lad23-rgn23-en-lu",
        "Local Authority District to Region (2023) Lookup in England (LAD23_RGN23_EN_LU)",
        f"{_GITHUB}/jhellingsdata/RADataHub/2403994c487ed15ac85fff28ef968b66b3edbaa3/"
        "Chart%20Packs/levelling-up/LADs_to_region.csv",
        dt.date(2023, 4, 1), 2023,
        "349b93e3abb85948627b98de57ebb1033ba3972292d664b87da79ad16c900b39",
        "LAD23_to_RGN23_Lookup_in_England.csv",
        f"{_ENGLAND} The 2023 codes took effect on 1 April 2023, used as reference date."),
    _ons_lookup(
        "ons-lad16-ctry16-uk-lu",
        "Local Authority District to Country (December 2016) Lookup in the United Kingdom",
        f"{_JTRIM}/033.csv", dt.date(2016, 12, 1), 2016,
        "e7c387c4beaba545f2b939f5f396de9ecb8a54b70ffda15f5609e2d23963dbbd",
        "Local_Authority_District_to_Country_(December_2016)_Lookup_in_the_United_Kingdom.csv"),
    _ons_lookup(
        "ons-lad18-ctry18-uk-lu",
        "Local Authority District to Country (December 2018) Lookup in the United Kingdom",
        f"{_JTRIM}/037.csv", dt.date(2018, 12, 1), 2018,
        "c25d929029939bdc20c000913bb602b1d094bac789bd859143f586cc0aa7f74d",
        "Local_Authority_District_to_Country_(December_2018)_Lookup_in_the_United_Kingdom.csv"),
    _ons_lookup(
        "ons-lad19-ctry19-uk-lu",
        "Local Authority District to Country (April 2019) Lookup in the United Kingdom",
        f"{_JTRIM}/053.csv", dt.date(2019, 4, 1), 2019,
        "8dbfe980bb133110143206bd9e38eaee3258c103347c7285982fc4284594c104",
        "Local_Authority_District_to_Country_(April_2019)_Lookup_in_the_United_Kingdom.csv"),
)

CHANGES_RELEASE = Release(
    id="onsvisual-lad-changes-2018-2025",
    publisher="Office for National Statistics (ONS Visual team, uk-topojson)",
    title="Local authority and combined authority changes 2018-2025 (input/changes.csv)",
    url=f"{_GITHUB}/ONSvisual/uk-topojson/b2fde50cb130908b897de10b65cdc392f9b4ff78/"
        "input/changes.csv",
    landing_page="https://github.com/ONSvisual/uk-topojson",
    published=dt.date(2025, 1, 1),
    reference_period="2018 to 2025",
    geography_vintage=None,
    licence=OGL,
    sha256="f1e0a528e818d15bcfb8764be7645f15768e08287eb5834d70aaa3351f0e8c52",
    mirror_path="lad_lookups/compiled/ONSvisual_lad_changes_2018_2025.csv",
    notes=(
        "District rows only: combined-authority and county rows are dropped. 'year' is "
        "the first vintage of the new state. The 2019 Glasgow City (S12000046 -> "
        "S12000049) and North Lanarkshire (S12000044 -> S12000050) rows, typed 'new_geo' "
        "in the file, are stored as 'new_code': the areas kept their identity with a minor "
        "boundary adjustment between them. The repository records no publication date: "
        "1 January 2025 (the file lists 2025 changes) is a lower bound."
    ),
)

SUCCESSORS_RELEASE = Release(
    id="drkane-la-all-codes-2026-06",
    publisher="David Kane (drkane/geo-lookups), from ONS codes",
    title="Every lower-tier local authority since 2011 with its current successor "
          "(la_all_codes.csv)",
    url=f"{_GITHUB}/drkane/geo-lookups/435367445c4411ef36ba9c9780929a9bf9a3eb86/"
        "la_all_codes.csv",
    landing_page="https://github.com/drkane/geo-lookups",
    published=dt.date(2026, 6, 5),
    reference_period="2011 to 2025",
    geography_vintage=None,
    licence="No licence stated in the repository; data derived from ONS codes (OGL v3.0)",
    sha256="caf5e5924134107b1b61eedfb45abbb1276db7ed4fa2cd40680bc564bb55169a",
    mirror_path="lad_lookups/compiled/drkane_la_all_codes.csv",
    notes=(
        "A third-party compilation. Names, regions and countries of every district since "
        "2011 with no vintage range (vintage columns are null); regions and countries as "
        "the file gives them. Published date is the date of the last commit that changed "
        "the file."
    ),
)

ALIASES_RELEASE = Release(
    id="mysociety-uk-la-future-1-7-3",
    publisher="mySociety (uk_local_authority_names_and_codes)",
    title="UK Local Authorities (including future), datapackage v1.7.3",
    url=f"{_GITHUB}/mysociety/uk_local_authority_names_and_codes/"
        "67ef8b118938678401a452f4f19f669a7221cc73/"
        "data/packages/uk_la_future/uk_local_authorities_future.csv",
    landing_page="https://github.com/mysociety/uk_local_authority_names_and_codes",
    published=dt.date(2025, 5, 1),
    reference_period="councils current, past and announced, as of 2025",
    geography_vintage=None,
    licence="CC BY 4.0 (mySociety)",
    sha256="78996ce1cb68eeecdde44b6fac57fe072b45212acef2d84323ebc104e5ac398b",
    mirror_path="lad_lookups/compiled/mysociety_uk_local_authorities_future.csv",
    notes=(
        "Aliases of councils whose area is a district (GSS E06, E07, E08, E09, W06, S12, "
        "N09): official name, short ('nice') name and alternative spellings, "
        "de-duplicated ignoring case. Attribution required: 'Contains data from mySociety "
        "(CC BY 4.0)'. The repository records no publication date: 1 May 2025, the latest "
        "date in the file, is a lower bound."
    ),
)

# ------------------------------------------------------------ ONS lookups


def _column(table: pd.DataFrame, pattern: str) -> str | None:
    found = [c for c in table.columns if re.fullmatch(pattern, str(c).strip())]
    return found[0] if found else None


def ons_lookup_rows(table: pd.DataFrame, vintage: int) -> pd.DataFrame:
    """Area rows from an ONS LAD->region or LAD->country lookup.

    Parameters
    ----------
    table
        The lookup CSV (columns ``LADyyCD``, ``LADyyNM`` and either
        ``RGNyyCD``/``RGNyyNM`` or ``CTRYyyCD``/``CTRYyyNM``).
    vintage
        The lookup's vintage; ``yy`` in the column names must match it.

    Returns
    -------
    pandas.DataFrame
        The ``area`` columns, vintage_start = vintage_end = ``vintage``.
        Region lookups (England only) fill country = England and the region;
        country lookups leave the region null.

    Raises
    ------
    SheetFormatError
        Unknown columns, a year that differs from ``vintage``, or a region
        lookup with non-English districts.
    """
    yy = f"{vintage % 100:02d}"
    code, name = _column(table, f"LAD{yy}CD"), _column(table, f"LAD{yy}NM")
    if code is None or name is None:
        raise SheetFormatError(
            f"No LAD{yy}CD/LAD{yy}NM columns (found {list(table.columns)}): the lookup is "
            f"not for {vintage}. Check the release's geography_vintage."
        )
    out = pd.DataFrame({"code": table[code].str.strip(), "name": table[name].str.strip(),
                        "vintage_start": vintage, "vintage_end": vintage})
    rgn_cd, rgn_nm = _column(table, f"RGN{yy}CD"), _column(table, f"RGN{yy}NM")
    ctry_cd, ctry_nm = _column(table, f"CTRY{yy}CD"), _column(table, f"CTRY{yy}NM")
    if rgn_cd and rgn_nm:
        if not out["code"].str.startswith("E").all():
            raise SheetFormatError("A region lookup lists non-English districts.")
        out = out.assign(country_code="E92000001", country_name="England",
                         region_code=table[rgn_cd].str.strip(),
                         region_name=table[rgn_nm].str.strip())
    elif ctry_cd and ctry_nm:
        out = out.assign(country_code=table[ctry_cd].str.strip(),
                         country_name=table[ctry_nm].str.strip(),
                         region_code=None, region_name=None)
    else:
        raise SheetFormatError(f"No RGN{yy} or CTRY{yy} columns: not a region or country "
                               "lookup.")
    out[["vintage_start", "vintage_end"]] = out[["vintage_start", "vintage_end"]].astype(
        "Int64")
    return out[list(READER_COLUMNS["area"])]


def _read_csv(path: Path) -> pd.DataFrame:
    # utf-8-sig strips the BOM several ONS and ONSvisual files start with.
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def read_ons_lookup(release: Release, path: Path) -> pd.DataFrame:
    """Read an ONS LAD lookup CSV into ``area`` rows for the release's vintage."""
    if release.geography_vintage is None:
        raise SheetFormatError(f"{release.id} has no geography_vintage; set the lookup year.")
    return ons_lookup_rows(_read_csv(path), release.geography_vintage)


# --------------------------------------------------------------- changes

#: ONSvisual change type -> schema type, for district-to-district rows.
CHANGE_TYPES: dict[str, str] = {
    "merger": "merger",
    "new_code": "new_code",
    "new_geo": "new_code",
    "split": "split",
}


def _is_lad(codes: pd.Series) -> pd.Series:
    return codes.str.match(r"^[A-Z]\d{8}$") & codes.str[:3].isin(LAD_PREFIXES)


def change_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Change rows from the ONS Visual change list, districts only.

    Parameters
    ----------
    table
        The CSV (columns oldcd, oldnm, newcd, newnm, type, start).

    Returns
    -------
    pandas.DataFrame
        Columns old_code, old_name, new_code, new_name, type, year for rows
        whose old and new codes are both districts.

    Raises
    ------
    SheetFormatError
        Missing columns or an unknown change type on a district row.
    """
    needed = ["oldcd", "oldnm", "newcd", "newnm", "type", "start"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise SheetFormatError(f"The change list lacks columns {missing}.")
    t = table[needed].apply(lambda s: s.astype(str).str.strip())
    # Combined-authority (E47) and county (E10) rows describe other geographies.
    t = t[_is_lad(t["oldcd"]) & _is_lad(t["newcd"])]
    unknown = sorted(set(t["type"]) - set(CHANGE_TYPES))
    if unknown:
        raise SheetFormatError(f"Unknown change types {unknown}; map them in CHANGE_TYPES.")
    out = pd.DataFrame({
        "old_code": t["oldcd"], "old_name": t["oldnm"], "new_code": t["newcd"],
        "new_name": t["newnm"], "type": t["type"].map(CHANGE_TYPES),
        "year": t["start"].astype(int),
    })
    return out[list(READER_COLUMNS["change"])].reset_index(drop=True)


def read_changes(release: Release, path: Path) -> pd.DataFrame:
    """Read the ONS Visual change list into ``change`` rows."""
    return change_rows(_read_csv(path))


# ------------------------------------------------------------ successors


def successor_area_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Area rows (no vintages) from drkane's ``la_all_codes.csv``.

    Raises
    ------
    SheetFormatError
        Missing columns or a code listed twice.
    """
    needed = ["LADCD", "LADNM", "CTRYCD", "CTRYNM", "RGNCD", "RGNNM"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise SheetFormatError(f"la_all_codes.csv lacks columns {missing}.")
    t = table[needed].apply(lambda s: s.astype(str).str.strip())
    t = t[_is_lad(t["LADCD"])]
    t = t.where(t != "")  # blank region (outside England) -> null
    if t["LADCD"].duplicated().any():
        raise SheetFormatError("A district code is listed twice in la_all_codes.csv.")
    out = pd.DataFrame({
        "code": t["LADCD"], "name": t["LADNM"],
        "vintage_start": pd.array([None] * len(t), dtype="Int64"),
        "vintage_end": pd.array([None] * len(t), dtype="Int64"),
        "country_code": t["CTRYCD"], "country_name": t["CTRYNM"],
        "region_code": t["RGNCD"], "region_name": t["RGNNM"],
    })
    return out[list(READER_COLUMNS["area"])].reset_index(drop=True)


def read_successors(release: Release, path: Path) -> pd.DataFrame:
    """Read drkane's district list into ``area`` rows."""
    return successor_area_rows(_read_csv(path))


# --------------------------------------------------------------- aliases

# Alternative names are joined by bare commas; commas inside a name are
# followed by a space ("Bristol, City of"), so only bare commas separate.
_ALT_SEPARATOR = re.compile(r",(?!\s)")


def alias_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Alias rows from mySociety's council register, districts only.

    Parameters
    ----------
    table
        The register CSV (columns gss-code, official-name, nice-name,
        alt-names).

    Returns
    -------
    pandas.DataFrame
        Columns alias, code: official name, nice name and each alternative
        name of every council whose GSS code is a district, first spelling
        kept when names repeat ignoring case.

    Raises
    ------
    SheetFormatError
        Missing columns.
    """
    needed = ["gss-code", "official-name", "nice-name", "alt-names"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise SheetFormatError(f"The council register lacks columns {missing}.")
    t = table[needed].fillna("").astype(str)
    t = t[_is_lad(t["gss-code"].str.strip())]
    pairs = [
        (name.strip(), code.strip())
        for code, official, nice, alts in t.itertuples(index=False)
        for name in (official, nice, *_ALT_SEPARATOR.split(alts))
        if name.strip()
    ]
    out = pd.DataFrame(pairs, columns=["alias", "code"])
    out = out[~out.assign(key=out["alias"].str.casefold()).duplicated(["key", "code"])]
    return out[list(READER_COLUMNS["alias"])].reset_index(drop=True)


def read_aliases(release: Release, path: Path) -> pd.DataFrame:
    """Read the mySociety council register into ``alias`` rows."""
    return alias_rows(_read_csv(path))


SOURCES: tuple[SimpleSource, ...] = (
    SimpleSource("lad_lookups_ons", "area", ONS_RELEASES, read_ons_lookup,
                 "ONS LAD to region / country lookups, one vintage per file."),
    SimpleSource("lad_changes", "change", (CHANGES_RELEASE,), read_changes,
                 "District changes 2018-2025 (ONS Visual team)."),
    SimpleSource("lad_successors", "area", (SUCCESSORS_RELEASE,), read_successors,
                 "Every district since 2011 with region and country (drkane)."),
    SimpleSource("lad_aliases", "alias", (ALIASES_RELEASE,), read_aliases,
                 "Council names and alternative spellings (mySociety, CC BY 4.0)."),
)
