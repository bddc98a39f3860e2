"""Tables as downloads that describe themselves: CSV, XLSX and Parquet.

Every download names what it is (STYLE.md #21): the place or network (name and
code), the date of the figures, when it was made, its sources and their licence
(:class:`About`).  Each format carries that in its own way:

* **CSV** stays one clean table (one heading row, then data), so it loads
  anywhere; a table about one place starts with the place's name and code; it is
  UTF-8 with a byte-order mark, so "£" opens right in Excel, and its file name
  says what it is (:meth:`About.filename`,
  ``keycities-kingston-upon-hull-city-of-E06000010-profile-2026-12-06.csv``).
  Its description is a W3C "CSV on the Web" sidecar (:func:`csv_metadata`):
  ``NAME.csv-metadata.json`` beside it in the evidence pack, and
  ``?table=NAME&format=about`` in the app.
* **XLSX** has the table on its first sheet, then an "About" sheet (title,
  place or network, as-of and generated dates, licence) and a "Sources" sheet
  (each release's title, publisher, date, address and licence).
* **Parquet** is for programs: the column ids and full-precision values of the
  JSON payload, with the description in the file's key-value metadata.

CSV and XLSX use the headings of :mod:`keycities.present.labels` and sensible
precision (years as whole numbers, shares as percentages, no 17-digit floats).
Cells of text that a spreadsheet would run as a formula (starting ``= + - @``,
a tab or a carriage return) are neutralised with a leading apostrophe
(:func:`neutralise`, OWASP "CSV injection"); numbers stay numbers.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from keycities._util.plain import jsonable
from keycities.errors import KeycitiesError
from keycities.present.labels import column, frame_for_people

MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "parquet": "application/vnd.apache.parquet"}
"""Media type of each download format."""

OGL = "Open Government Licence v3.0"
"""The licence of ONS and other UK public-sector data."""

BOM = "\ufeff"
"""UTF-8 byte-order mark: tells Excel the CSV is UTF-8 (else "£" shows as "Â£")."""


@dataclass(frozen=True)
class Source:
    """One release a table draws on, as a reader cites it."""

    id: str
    title: str = ""
    publisher: str = ""
    published: str = ""
    url: str = ""
    licence: str = ""

    def cite(self) -> str:
        """"Title, Publisher, published 2024-06-12" (the id if nothing else is known)."""
        parts = [p for p in (self.title, self.publisher) if p]
        if self.published:
            parts.append(f"published {self.published}")
        return ", ".join(parts) or self.id


@dataclass(frozen=True)
class About:
    """What a download is: its title, subject, dates, sources and licence."""

    title: str
    subject: str = ""
    code: str = ""
    as_of: str = ""
    generated: str = field(default_factory=lambda: dt.date.today().isoformat())
    sources: tuple[Source, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def licence(self) -> str:
        """The sources' licences, one each ("Open Government Licence v3.0" by default)."""
        found = dict.fromkeys(s.licence.split(";")[0].strip() for s in self.sources
                              if s.licence)
        return "; ".join(found) or OGL

    def filename(self, table: str, fmt: str) -> str:
        """A name that says what the file is: tool, place or network, table, date."""
        words = [_slug(self.subject), self.code, _slug(table), self.as_of or self.generated]
        return "-".join(["keycities", *[w for w in words if w]]) + f".{fmt}"

    def rows(self) -> list[tuple[str, str]]:
        """(field, value) pairs of the "About" sheet."""
        return [("Title", self.title), ("Place or network", self.subject),
                ("ONS code", self.code), ("Figures as of", self.as_of or self.generated),
                ("Generated", self.generated), ("Licence", self.licence),
                ("Sources", "; ".join(s.cite() for s in self.sources)
                 or "no release is named in this table: see the Data & methods page"),
                ("Made by", "keycities"), *[("Note", n) for n in self.notes]]

    def payload(self) -> dict[str, Any]:
        """Plain data (JSON)."""
        return {"title": self.title, "subject": self.subject, "code": self.code,
                "as_of": self.as_of or self.generated, "generated": self.generated,
                "licence": self.licence, "notes": list(self.notes),
                "sources": [vars(s) for s in self.sources]}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ------------------------------------------------------------------ cells


_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d,]*(\.\d+)?%?")


def neutralise(x: Any) -> Any:
    """Text that a spreadsheet would run as a formula, made inert with a leading "'".

    Cells starting ``= + - @``, a tab or a carriage return are prefixed; numbers (and
    text that is just a signed number, such as "-3.5%") are left as they are.
    """
    if isinstance(x, str) and x.startswith(_FORMULA) and not _PLAIN_NUMBER.fullmatch(x):
        return "'" + x
    return x


def _flat(x: Any) -> Any:
    if isinstance(x, list | tuple):
        return "; ".join(map(str, x))
    if isinstance(x, dict):
        return json.dumps(x, default=str)
    return x


def flatten(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with list/dict cells as text, column names as strings, no index."""
    out = df.reset_index(drop=True).copy()
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(_flat)
            # Parquet needs one type per column: text if mixed.
            kinds = {type(v) for v in out[c].dropna()}
            if len(kinds) > 1:
                out[c] = out[c].map(lambda v: v if v is None or pd.isna(v) else str(v))
    return out


def safe_text(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell :func:`neutralise` d (column names too)."""
    out = df.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for c in out.columns:
        if pd.api.types.is_object_dtype(out[c]) or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(neutralise)
    return out


def with_subject(df: pd.DataFrame, about: About | None) -> pd.DataFrame:
    """``df`` with the place's name and code as its first columns, when it is about one
    place and does not already say which (a profile, a series), so that each row of a
    CSV says what it is about even when copied away from its file name."""
    if about is None or not about.code or "code" in df.columns or "place" in df.columns:
        return df
    out = df.reset_index(drop=True).copy()
    out.insert(0, "code", about.code)
    out.insert(0, "place", about.subject)
    return out


def for_people(df: pd.DataFrame, about: About | None = None) -> pd.DataFrame:
    """The table as a CSV or spreadsheet shows it: labelled, rounded, neutralised."""
    return safe_text(frame_for_people(flatten(with_subject(df, about))))


# ------------------------------------------------------------------ files


def table_bytes(df: pd.DataFrame, fmt: str, *, sheet: str = "data",
                about: About | None = None) -> bytes:
    """``df`` as the bytes of a ``csv``, ``xlsx`` or ``parquet`` file described by ``about``.

    Raises
    ------
    KeycitiesError
        For another format.
    """
    about = about or About(title=sheet)
    buf = io.BytesIO()
    if fmt == "csv":
        buf.write((BOM + for_people(df, about).to_csv(index=False)).encode("utf-8"))
    elif fmt == "xlsx":
        _xlsx(buf, for_people(df, about), about, sheet)
    elif fmt == "parquet":
        _parquet(buf, flatten(df), about)
    else:
        raise KeycitiesError(f"Unknown download format {fmt!r}: use one of {', '.join(MEDIA)}.")
    return buf.getvalue()


def _xlsx(buf: io.BytesIO, data: pd.DataFrame, about: About, sheet: str) -> None:
    # No text becomes a formula or a link, whatever it starts with.
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    about_rows = pd.DataFrame(about.rows(), columns=["Field", "Value"])
    sources = pd.DataFrame([{"Title": s.title, "Publisher": s.publisher,
                             "Published": s.published, "Address": s.url,
                             "Licence": s.licence or OGL, "Release id": s.id}
                            for s in about.sources],
                           columns=["Title", "Publisher", "Published", "Address", "Licence",
                                    "Release id"])
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": options}) as xl:
        data.to_excel(xl, sheet_name=_sheet_name(sheet), index=False)
        safe_text(about_rows).to_excel(xl, sheet_name="About", index=False)
        safe_text(sources).to_excel(xl, sheet_name="Sources", index=False)
        for name, frame in ((_sheet_name(sheet), data), ("About", about_rows),
                            ("Sources", sources)):
            ws = xl.sheets[name]
            for i, c in enumerate(frame.columns):
                longest = max([len(str(c)), *(len(str(v)) for v in frame[c].head(200))])
                ws.set_column(i, i, min(60, max(8, longest + 1)))


def _sheet_name(sheet: str) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", sheet)[:31].strip() or "data"
    return "Table" if name in ("About", "Sources") else name


def _parquet(buf: io.BytesIO, flat: pd.DataFrame, about: About) -> None:
    import pyarrow as pa  # deferred: only Parquet downloads need it
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(flat, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"keycities"] = json.dumps(about.payload()).encode("utf-8")
    pq.write_table(table.replace_schema_metadata(meta), buf)


def csv_metadata(df: pd.DataFrame, about: About, url: str) -> dict[str, Any]:
    """The W3C CSV on the Web description of the CSV download of ``df`` at ``url``.

    It names the table's subject, dates, licence and sources, and maps each heading
    of the CSV back to the column id of the JSON payload.
    """
    flat = flatten(with_subject(df, about))
    people = frame_for_people(flat)
    columns = [{"titles": title, "name": re.sub(r"\W+", "_", str(col)).strip("_") or "col",
                "dc:description": column(col).label}
               for col, title in zip(flat.columns, people.columns, strict=True)]
    return jsonable({
        "@context": "http://www.w3.org/ns/csvw", "url": url,
        "dc:title": about.title, "dc:spatial": " ".join(p for p in (about.subject, about.code)
                                                      if p),
        "dc:temporal": about.as_of or about.generated, "dc:created": about.generated,
        "dc:license": about.licence, "dc:creator": "keycities",
        "dc:source": [{"dc:identifier": s.id, "dc:title": s.title,
                       "dc:publisher": s.publisher, "dc:issued": s.published,
                       "url": s.url, "dc:license": s.licence} for s in about.sources],
        "dialect": {"header": True, "encoding": "utf-8"},
        "tableSchema": {"columns": columns}})
