"""Fuzzing the places-and-features CSV (peers and twinning on a user's own places).

The entry point is :func:`keycities.analysis.places.place_sets.place_features` with a
CSV path, which the CLI and :func:`keycities.analysis.twinning.twinning.twin_from_store`
call: it checks the file, reads it (:meth:`PlaceSet.from_csv`) and standardises
it (:func:`csv_features`).  For arbitrary bytes, arbitrary text, grids of
awkward cells, valid files (which must load back exactly, with finite z-scores)
and valid files with one thing broken, the only outcomes allowed are a feature
table or a :class:`KeycitiesError` whose problems each name a line of the file;
for a broken file, the very line (and column) that was broken.  Budgets are
fixed and the runs derandomised so that CI is reproducible.
"""

from __future__ import annotations

import csv
import io
import math
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keycities.analysis.places.features import FeatureTable
from keycities.analysis.places.from_store import place_features
from keycities.errors import KeycitiesError, RegisterError

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
LINE = re.compile(r"^line (\d+): ")


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    # Hypothesis runs many examples per test: one module folder, not tmp_path per example.
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def features(folder: Path, data: bytes) -> FeatureTable | KeycitiesError:
    """The feature table, or the KeycitiesError; any other exception fails the test."""
    path = folder / "places.csv"
    path.write_bytes(data)
    last = len(data.decode("utf-8", "replace").splitlines()) + 1
    try:
        table = place_features(None, path)
    except KeycitiesError as exc:
        error = exc
    else:
        assert np.isfinite(table.z.to_numpy(float)).all()
        assert list(table.z.columns) == table.features
        return table
    problems = error.problems if isinstance(error, RegisterError) else [str(error)]
    assert problems
    for problem in problems:
        if problem.startswith("... and "):
            continue
        m = LINE.match(problem)
        assert m, f"problem without a line: {problem!r}"
        assert 1 <= int(m.group(1)) <= last, (problem, last)
    return error


def assert_problem(result: FeatureTable | KeycitiesError, line: int, *words: str) -> None:
    """The load failed with a problem on ``line`` that mentions every one of ``words``."""
    assert isinstance(result, KeycitiesError), "a broken file loaded"
    problems = result.problems if isinstance(result, RegisterError) else [str(result)]
    hits = [p for p in problems if p.startswith(f"line {line}: ")
            and all(w.lower() in p.lower() for w in words)]
    assert hits, (line, words, problems)


# --------------------------------------------------------------------------- arbitrary input

HEADER_CELLS = ("code", "name", "lat", "lon", "Code", " LAT ", "x", "y", "", "x", "\ufeffcode")
CELLS = ("", "A", "B", "1", "-2.5", "0", "91", "-181", "1e200", "1e400", "nan", "inf", "-inf",
         "NaN", "1_000", "0x10", "١٢", '"', '"a,b"', '"a\nb"', "x", " ", "é", "\r", ",")


@st.composite
def grids(draw: st.DrawFn) -> bytes:
    """A header and rows of awkward cells, joined without quoting."""
    header = draw(st.lists(st.sampled_from(HEADER_CELLS), min_size=0, max_size=7))
    rows = draw(st.lists(st.lists(st.sampled_from(CELLS), max_size=7), max_size=6))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return end.join(",".join(r) for r in [header, *rows]).encode()


@FUZZ
@given(data=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode),
                      grids()))
def test_arbitrary_input_gives_a_table_or_names_a_line(folder: Path, data: bytes) -> None:
    features(folder, data)


@FUZZ
@given(data=st.text(max_size=300))
def test_any_text_after_a_valid_header(folder: Path, data: str) -> None:
    features(folder, ("code,name,lat,lon,x\n" + data).encode())


# --------------------------------------------------------------------------- valid files


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    lat: float
    lon: float
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    places: list[Place]


codes = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789 -'é", min_size=1, max_size=8).map(
    str.strip).filter(bool)
names = st.one_of(st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl",
                                                                            "Zp")),
                          max_size=12).map(str.strip).filter(bool),
                  st.sampled_from(["Kingston upon Hull, City of", 'The "Potteries"', "Two\nlines",
                                   "Ynys Môn"]))
numbers = st.floats(-1e12, 1e12, allow_nan=False) | st.integers(-10**6, 10**6).map(float)
columns = st.lists(st.text("abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=8)
                   .filter(lambda c: c not in ("code", "name", "lat", "lon")),
                   min_size=1, max_size=4, unique=True)


@st.composite
def tables(draw: st.DrawFn) -> Table:
    cols = tuple(draw(columns))
    place_codes = draw(st.lists(codes, min_size=1, max_size=6, unique=True))
    places = []
    for i, code in enumerate(place_codes):
        values = tuple(draw(numbers) if (i, j) == (0, 0) else draw(st.none() | numbers)
                       for j in range(len(cols)))  # the first column has a value
        places.append(Place(code, draw(names), draw(st.floats(-90, 90)),
                            draw(st.floats(-180, 180)), values))
    return Table(cols, places)


@dataclass(frozen=True)
class Rendered:
    text: str
    lines: list[int]
    """Line each place starts on."""


def render(table: Table, *, blanks: tuple[int, ...] = (), crlf: bool = False,
           cells: dict[int, list[str]] | None = None) -> Rendered:
    """The CSV; ``cells`` replaces the cells of some rows."""
    end = "\r\n" if crlf else "\n"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=end)
    writer.writerow(["code", "name", "lat", "lon", *table.columns])
    lines, line = [], 2
    for i, p in enumerate(table.places):
        if i in blanks:
            buf.write(end)
            line += 1
        before = buf.tell()
        writer.writerow((cells or {}).get(i, row_cells(p)))
        lines.append(line)
        line += buf.getvalue()[before:].count("\n")
    return Rendered(buf.getvalue(), lines)


def row_cells(p: Place) -> list[str]:
    return [p.code, p.name, repr(p.lat), repr(p.lon),
            *("" if v is None else repr(v) for v in p.values)]


@FUZZ
@given(table=tables(), blanks=st.lists(st.integers(0, 5), max_size=2).map(tuple),
       crlf=st.booleans(), bom=st.booleans())
def test_valid_csv_loads_exactly(folder: Path, table: Table, blanks: tuple[int, ...],
                                 crlf: bool, bom: bool) -> None:
    text = render(table, blanks=blanks, crlf=crlf).text
    result = features(folder, ("\ufeff" if bom else "").encode() + text.encode())
    assert isinstance(result, FeatureTable), result
    codes = [p.code for p in table.places]
    assert list(result.z.index) == codes
    assert list(result.places["name"]) == [p.name for p in table.places]
    assert np.allclose(result.places["lat"], [p.lat for p in table.places], rtol=0)
    for j, col in enumerate(table.columns):
        given_values = [math.nan if p.values[j] is None else p.values[j] for p in table.places]
        if all(v is None for v in (p.values[j] for p in table.places)):
            assert col not in result.features  # no value at all: left out, with a note
        else:
            assert np.allclose(result.values[col], given_values, equal_nan=True, rtol=0)


# --------------------------------------------------------------------------- broken files

BREAKS: dict[str, tuple[int, str, tuple[str, ...]]] = {
    # kind: (index of the cell in the row, new cell, words the problem must contain)
    "word": (4, "many", ("'many' is not a number",)),
    "decimal comma": (4, "1,5", ("'1,5' is not a number",)),
    "nan": (4, "nan", ("'nan' is not a number", "empty")),
    "inf": (4, "-inf", ("'-inf' is not a number", "empty")),
    "overflow": (4, "1e400", ("'1e400' is too large",)),
    "huge": (4, "-3e200", ("too large",)),
    # Forms float() reads but a spreadsheet user does not mean.
    "underscore": (4, "1_000", ("'1_000' is not a number", "'_'")),
    "other digits": (4, "\u0661\u0662", ("is not a number", "0-9")),
    "wide digits": (4, "\uff11\uff12", ("is not a number", "0-9")),
    "infinity": (4, "Infinity", ("'Infinity' is not a number",)),
    "lat": (2, "91", ("lat", "between")),
    "lat underscore": (2, "5_0", ("lat", "'5_0' is not a number", "between")),
    "lon": (3, "-180.5", ("lon", "between")),
    "empty lat": (2, "", ("lat",)),
    "empty code": (0, "", ("'code' is empty",)),
    "empty name": (1, " ", ("'name' is empty",)),
}


@FUZZ
@given(table=tables(), data=st.data(), kind=st.sampled_from(sorted(BREAKS)))
def test_broken_cell_is_named_by_its_line_and_column(folder: Path, table: Table,
                                                     data: st.DataObject, kind: str) -> None:
    target = data.draw(st.integers(0, len(table.places) - 1), label="target")
    index, cell, words = BREAKS[kind]
    places = [*table.places]
    # The broken row may span lines (a quoted name with line breaks): its start is named.
    name = data.draw(st.sampled_from([places[target].name, "Two\nlines", "Three\r\nline\nname"]),
                     label="name")
    places[target] = replace(places[target], name=name)
    cells = row_cells(places[target])
    cells[index] = cell
    doc = render(replace(table, places=places), cells={target: cells})
    column = ["code", "name", "lat", "lon", *table.columns][index]
    words = (*words, column) if index >= 2 else words
    assert_problem(features(folder, doc.text.encode()), doc.lines[target], *words)


@FUZZ
@given(table=tables(), data=st.data(),
       kind=st.sampled_from(["duplicate code", "extra cell", "missing cell", "latin-1",
                             "unclosed quote"]))
def test_broken_row_is_named_by_its_line(folder: Path, table: Table, data: st.DataObject,
                                         kind: str) -> None:
    target = data.draw(st.integers(0, len(table.places) - 1), label="target")
    multiline = data.draw(st.booleans(), label="multiline")  # the row starts a line earlier
    places = [replace(p, name="Two\nlines" if multiline else p.name.replace("\n", " "))
              if i == target else p for i, p in enumerate(table.places)]
    if kind in ("latin-1", "unclosed quote"):  # so that the target holds the first such byte
        places = [replace(p, code=p.code.replace("é", "~"),
                          name=re.sub(r"[^A-Za-z ]", "", p.name).strip() or "N")
                  for p in places]
    cells = row_cells(places[target])
    line_of = target
    if kind == "duplicate code":
        places.insert(target + 1, places[target])
        line_of, words = target + 1, ("already given on line",)
        edits: dict[int, list[str]] = {}
    elif kind in ("extra cell", "missing cell"):
        edits = {target: [*cells, "9"] if kind == "extra cell" else cells[:-1]}
        words = ("cells, the header has",)
    elif kind == "latin-1":
        edits, words = {target: [cells[0], "Ynys Môn", *cells[2:]]}, ("byte 0xF4", "utf-8")
    else:
        edits, words = {target: [cells[0], "QUOTE", *cells[2:]]}, ("not closed",)
    doc = render(replace(table, places=places), cells=edits)
    text = doc.text.replace("QUOTE", '"open', 1)
    data_bytes = text.encode("latin-1") if kind == "latin-1" else text.encode()
    assert_problem(features(folder, data_bytes), doc.lines[line_of], *words)


@pytest.mark.parametrize(("text", "line", "words"), [
    ("", 1, ("no places",)),
    ("code,name,lat,lon,x\n", 2, ("no places",)),
    ("code,name,lat,lon,x\n\n\n", 2, ("no places",)),
    ("code,name,lon,x\nA,B,1,2\n", 1, ("header lacks lat",)),
    ("code,name,lat,lon\nA,B,1,2\n", 1, ("no feature columns",)),
    ("code,name,lat,lon,x,X\nA,B,1,2,3,4\n", 1, ("more than once",)),
    ("code,name,lat,lon,x,y\nA,B,1,2,,\nC,D,1,2,,\n", 1, ("no feature column", "x, y")),
    ("code,name,lat,lon,x\nA,\"" + "n" * 200_000 + "\",1,2,3\n", 2, ("longer than",)),
    ("code,name,lat,lon,x\nA,B\x00,1,2,3\n", 2, ("nul",)),
    ('code,name,lat,lon,x\nA,"B"C,1,2,3\n', 2, ("doubled",)),
])
def test_broken_files(tmp_path: Path, text: str, line: int, words: tuple[str, ...]) -> None:
    assert_problem(features(tmp_path, text.encode()), line, *words)


def test_utf16_file_is_named(tmp_path: Path) -> None:
    data = "code,name,lat,lon,x\nA,B,1,2,3\n".encode("utf-16")
    assert_problem(features(tmp_path, data), 1, "utf-16", "utf-8")


def test_a_large_but_safe_value_standardises(tmp_path: Path) -> None:
    result = features(tmp_path, b"code,name,lat,lon,x\nA,B,1,2,1e150\nC,D,1,2,-1e150\n")
    assert isinstance(result, FeatureTable), result
    assert list(result.z["x"]) == [1.0, -1.0]
