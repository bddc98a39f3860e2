"""Fuzzing the network-file loader: any input gives a network or a line-numbered error.

Three kinds of input, for CSV and YAML alike:

* arbitrary bytes and arbitrary text;
* valid files (a few members from a pool of real places, random dates, notes
  with commas, quotes and newlines, blank lines, CRLF endings, a BOM) that must
  load back exactly;
* the same files with one thing broken (a bad or impossible date, an unknown
  place, a duplicated row, a missing or extra column, a non-UTF-8 byte, a
  huge number, NaN/inf, an unclosed quote, a YAML list where text is due, a
  key given twice, ...) where the error must name the very line (and field)
  that was broken.

The loader may only ever raise :class:`RegisterError` (a :class:`KeycitiesError`)
whose every problem starts ``line N:`` with N inside the file.  The resolver is
the real one over the package-shipped names (no mirror needed).  Budgets are
fixed and the runs derandomised so that CI is reproducible.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keycities.errors import RegisterError
from keycities.geography.names import PlaceResolver
from keycities.network.loader import load_network
from keycities.network.register import Network

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
POOL = ("Hull", "Sunderland", "Coventry", "Exeter", "Plymouth", "Bath & NES", "Stoke",
        "Wrexham", "Norwich", "Preston", "Salford", "Medway")
"""Places that resolve, uniquely, in every boundary vintage since 2010."""
PROBLEM = re.compile(r"^line (\d+): ")


@pytest.fixture(scope="module")
def resolver() -> PlaceResolver:
    return PlaceResolver.from_package()


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    # Hypothesis runs many examples per test: one module folder, not tmp_path per example.
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def load(folder: Path, name: str, data: bytes,
         resolver: PlaceResolver) -> Network | RegisterError:
    """The network, or the RegisterError; any other exception fails the test."""
    path = folder / name
    path.write_bytes(data)
    try:
        return load_network(path, resolver)
    except RegisterError as exc:
        assert_lines_named(exc, data)
        return exc


def assert_lines_named(exc: RegisterError, data: bytes) -> None:
    """Every problem names a line of the file (or the line after its end)."""
    last = len(data.decode("utf-8", "replace").splitlines()) + 1
    assert exc.problems
    for problem in exc.problems:
        if problem.startswith("... and "):
            continue
        m = PROBLEM.match(problem)
        assert m, f"problem without a line: {problem!r}"
        assert 1 <= int(m.group(1)) <= last, (problem, last)


def assert_problem(result: Network | RegisterError, line: int, *words: str) -> None:
    """The load failed with a problem on ``line`` that mentions every one of ``words``."""
    assert isinstance(result, RegisterError), "a broken file loaded"
    hits = [p for p in result.problems if p.startswith(f"line {line}: ")
            and all(w.lower() in p.lower() for w in words)]
    assert hits, (line, words, result.problems)


# --------------------------------------------------------------------------- arbitrary input


@FUZZ
@given(data=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)),
       name=st.sampled_from(["any.csv", "any.yaml"]))
def test_arbitrary_input_loads_or_names_a_line(folder: Path, resolver: PlaceResolver,
                                               data: bytes, name: str) -> None:
    load(folder, name, data, resolver)


# --------------------------------------------------------------------------- valid files


@dataclass(frozen=True)
class Member:
    place: str
    joined: dt.date | None
    left: dt.date | None
    note: str


notes = st.one_of(st.just(""), st.text(st.characters(codec="utf-8", exclude_categories=(
    "Cs", "Cc", "Cn", "Zl", "Zp")), max_size=12), st.sampled_from(
    ['said "yes", then no', "two\nlines", "a,b", "café", "  padded  "]))


@st.composite
def members(draw: st.DrawFn) -> list[Member]:
    places = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=5, unique=True))
    out = []
    for place in places:
        joined = draw(st.none() | st.dates(dt.date(2010, 1, 1), dt.date(2024, 12, 31)))
        left = draw(st.none() | st.dates((joined or dt.date(2010, 1, 1)) + dt.timedelta(1),
                                         dt.date(2026, 12, 31)))
        out.append(Member(place, joined, left, draw(notes).strip()))
    return out


@dataclass(frozen=True)
class Csv:
    """A rendered network CSV and the line each member starts on."""

    text: str
    lines: list[int]


def render_csv(rows: list[Member], *, blanks: list[int], crlf: bool) -> Csv:
    end = "\r\n" if crlf else "\n"
    out, lines, line = ["place,joined,left,note" + end], [], 2
    for i, m in enumerate(rows):
        if i in blanks:
            out.append(end)
            line += 1
        buf = io.StringIO()
        csv.writer(buf, lineterminator=end).writerow(
            [m.place, m.joined or "", m.left or "", m.note])
        lines.append(line)
        out.append(buf.getvalue())
        line += buf.getvalue().count("\n")
    return Csv("".join(out), lines)


def expected(rows: list[Member], resolver: PlaceResolver) -> list[tuple[str, object, object]]:
    return [(resolver.resolve(m.place).code, m.joined, m.left) for m in rows]


def loaded(net: Network) -> list[tuple[str, object, object]]:
    return [(m.code, m.joined, m.left) for m in net.memberships]


@FUZZ
@given(rows=members(), blanks=st.lists(st.integers(0, 4), max_size=2), crlf=st.booleans(),
       bom=st.booleans())
def test_valid_csv_loads_exactly(folder: Path, resolver: PlaceResolver, rows: list[Member],
                                 blanks: list[int], crlf: bool, bom: bool) -> None:
    text = render_csv(rows, blanks=blanks, crlf=crlf).text
    net = load(folder, "ok.csv", ("\ufeff" if bom else "").encode() + text.encode(), resolver)
    assert isinstance(net, Network), net
    assert loaded(net) == expected(rows, resolver)
    assert [m.as_published for m in net.memberships] == [m.place for m in rows]
    assert [m.joined_basis for m in net.memberships] == [m.note for m in rows]


# --------------------------------------------------------------------------- broken CSV

BAD_DATES = ("2021-02-30", "2021-13-01", "01/02/2021", "2021-01-01T10:00", "NaN", "inf",
             "-inf", "9" * 40, "1e400", "yesterday", "2021-1-1")


def broken_csv(kind: str, rows: list[Member], target: int, bad: str) -> tuple[bytes, int,
                                                                             tuple[str, ...]]:
    """(file, line, words) for one broken thing: the problem must be on ``line``."""
    ok = render_csv(rows, blanks=[], crlf=False)
    line = ok.lines[target]
    m = rows[target]
    rows_with = [*rows]
    if kind in ("joined", "left"):
        rows_with[target] = replace(m, **{kind: bad})  # type: ignore[arg-type]
        return render_csv(rows_with, blanks=[], crlf=False).text.encode(), line, (kind, "date")
    if kind == "place":
        rows_with[target] = replace(m, place="Atlantis")
        return render_csv(rows_with, blanks=[], crlf=False).text.encode(), line, ("atlantis",)
    if kind == "reversed":
        rows_with[target] = replace(m, joined=dt.date(2022, 1, 1), left=dt.date(2021, 1, 1))
        return (render_csv(rows_with, blanks=[], crlf=False).text.encode(), line,
                ("not after",))
    if kind == "duplicate":
        rows_with.insert(target + 1, m)
        again = render_csv(rows_with, blanks=[], crlf=False)
        return again.text.encode(), again.lines[target + 1], ("already listed",)
    if kind == "latin-1":  # the other notes are plain ASCII (see the test)
        rows_with[target] = replace(m, note="Ynys Môn")
        text = render_csv(rows_with, blanks=[], crlf=False).text
        return text.encode("latin-1"), line, ("byte 0xF4", "utf-8")
    if kind == "unclosed":  # no other cell is quoted (see the test)
        rows_with[target] = replace(m, note="QUOTE")
        text = render_csv(rows_with, blanks=[], crlf=False).text
        return text.replace("QUOTE", '"open', 1).encode(), line, ("not closed",)
    if kind == "extra cell":  # no row spans lines (see the test)
        lines = ok.text.splitlines(keepends=True)
        lines[line - 1] = lines[line - 1].rstrip("\n") + ",surplus\n"
        return "".join(lines).encode(), line, ("no header", "surplus")
    raise AssertionError(kind)


@FUZZ
@given(rows=members(), data=st.data(),
       kind=st.sampled_from(["joined", "left", "place", "reversed", "duplicate", "latin-1",
                             "unclosed", "extra cell"]),
       bad=st.sampled_from(BAD_DATES))
def test_broken_csv_row_is_named_by_its_line(folder: Path, resolver: PlaceResolver,
                                             rows: list[Member], data: st.DataObject,
                                             kind: str, bad: str) -> None:
    target = data.draw(st.integers(0, len(rows) - 1), label="target")
    if kind == "latin-1":  # so that the first byte latin-1 makes un-UTF-8 is the target's
        rows = [replace(m, note=m.note.encode("ascii", "ignore").decode()) for m in rows]
    if kind in ("unclosed", "extra cell"):  # so that no cell is quoted and no row spans lines
        rows = [replace(m, note=re.sub(r'[",\r\n]', " ", m.note).strip()) for m in rows]
    file, line, words = broken_csv(kind, rows, target, bad)
    assert_problem(load(folder, "bad.csv", file, resolver), line, *words)


@pytest.mark.parametrize(("text", "line", "words"), [
    ("", 1, ("empty",)),
    ("place,joined\n", 2, ("no members",)),
    ("name,joined\nHull,\n", 1, ("header", "place")),
    ("place,joined,shoe size\nHull,,9\n", 1, ("unknown column", "shoe size")),
    ("place,place\nHull,Hull\n", 1, ("more than once",)),
    ("place,note\nHull,\"" + "x" * 200_000 + "\"\n", 2, ("longer than",)),
    ("place\n" + "Hull " * 100 + "\n", 2, ("at most",)),
    ("place\nHu\x00ll\n", 2, ("nul",)),
])
def test_broken_csv_files(tmp_path: Path, resolver: PlaceResolver, text: str, line: int,
                          words: tuple[str, ...]) -> None:
    data = text.encode()
    assert_problem(load(tmp_path, "f.csv", data, resolver), line, *words)


def test_utf16_csv_is_named(tmp_path: Path, resolver: PlaceResolver) -> None:
    result = load(tmp_path, "f.csv", "place\nHull\n".encode("utf-16"), resolver)
    assert_problem(result, 1, "utf-16", "utf-8")


# --------------------------------------------------------------------------- YAML


@dataclass(frozen=True)
class Yaml:
    """A rendered YAML network and the line of each member's fields."""

    text: str
    lines: list[dict[str, int]]


def render_yaml(rows: list[Member], *, values: Callable[[int, str, str], str] | None = None,
                extra: dict[int, list[str]] | None = None) -> Yaml:
    """One field a line; ``values(i, field, text)`` may rewrite a value; ``extra`` adds
    raw lines to member ``i``."""
    out = ["id: mine", "name: My network", "members:"]
    lines = []
    for i, m in enumerate(rows):
        fields = {"place": json.dumps(m.place), "joined": str(m.joined or ""),
                  "left": str(m.left or ""), "note": json.dumps(m.note, ensure_ascii=False)}
        at: dict[str, int] = {}
        for n, (key, text) in enumerate((k, v) for k, v in fields.items() if v):
            text = values(i, key, text) if values else text
            at[key] = len(out) + 1
            out.append(f"  {'- ' if n == 0 else '  '}{key}: {text}")
        for raw in (extra or {}).get(i, []):
            at.setdefault("extra", len(out) + 1)
            out.append(f"    {raw}")
        lines.append(at)
    return Yaml("\n".join(out) + "\n", lines)


@FUZZ
@given(rows=members(), bom=st.booleans())
def test_valid_yaml_loads_exactly(folder: Path, resolver: PlaceResolver, rows: list[Member],
                                  bom: bool) -> None:
    text = render_yaml(rows).text
    net = load(folder, "ok.yaml", ("\ufeff" if bom else "").encode() + text.encode(), resolver)
    assert isinstance(net, Network), net
    assert (net.id, net.name) == ("mine", "My network")
    assert loaded(net) == expected(rows, resolver)
    assert [m.as_published for m in net.memberships] == [m.place for m in rows]
    assert [m.joined_basis for m in net.memberships] == [m.note for m in rows]


YAML_BREAKS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # kind: (field, new value, words the problem must contain)
    "impossible date": ("joined", "2021-02-30", ("joined", "not a date")),
    "date and time": ("joined", "2021-01-01 10:00:00", ("joined", "not a date")),
    "american date": ("left", "01/02/2021", ("left", "not a date")),
    "hex-looking": ("left", "0x_", ("cannot read",)),
    "huge int": ("joined", "9" * 5000, ("cannot read",)),
    "not a number": ("joined", ".nan", ("joined", "not a date")),
    "infinity": ("left", "-.inf", ("left", "not a date")),
    "bad bool": ("note", "!!bool maybe", ("cannot read",)),
    "list place": ("place", "[Hull, Sunderland]", ("place", "text")),
    "mapping place": ("place", "{name: Hull}", ("place", "text")),
    "unknown place": ("place", "Atlantis", ("atlantis",)),
    "null place": ("place", "null", ("place", "empty")),
    "alias bomb": ("note", "BOMB", ("note", "text")),
    "long note": ("note", "x" * 300, ("note", "at most")),
}
BOMB = "[&a0 [1, 1, 1, 1, 1, 1, 1, 1], " + ", ".join(
    f"&a{k} [{', '.join([f'*a{k - 1}'] * 8)}]" for k in range(1, 8)) + "]"
"""Eight levels of eight aliases: as text it would be 8**8 = 16.8M items long."""


@FUZZ
@given(rows=members(), data=st.data(), kind=st.sampled_from(sorted(YAML_BREAKS)))
def test_broken_yaml_field_is_named_by_its_line(folder: Path, resolver: PlaceResolver,
                                                rows: list[Member], data: st.DataObject,
                                                kind: str) -> None:
    key, value, words = YAML_BREAKS[kind]
    target = data.draw(st.integers(0, len(rows) - 1), label="target")
    value = BOMB if value == "BOMB" else value
    # Every field present on the target, its dates in order.
    rows = [replace(m, joined=m.joined or dt.date(2010, 1, 1), left=m.left or dt.date(2027, 1, 1),
                    note=m.note or "n") if i == target else m for i, m in enumerate(rows)]
    doc = render_yaml(rows, values=lambda i, k, v: value if (i, k) == (target, key) else v)
    result = load(folder, "bad.yaml", doc.text.encode(), resolver)
    assert_problem(result, doc.lines[target][key], *words)


@FUZZ
@given(rows=members(), data=st.data(),
       kind=st.sampled_from(["key twice", "key twice in another case", "unknown field",
                             "duplicate member", "tab"]))
def test_broken_yaml_member_is_named_by_its_line(folder: Path, resolver: PlaceResolver,
                                                 rows: list[Member], data: st.DataObject,
                                                 kind: str) -> None:
    target = data.draw(st.integers(0, len(rows) - 1), label="target")
    raw = {"key twice": "place: Exeter", "key twice in another case": "PLACE: Exeter",
           "unknown field": "shoe_size: 9", "tab": "\tnote: x"}.get(kind)
    if kind == "duplicate member":
        rows = [*rows[:target + 1], rows[target], *rows[target + 1:]]
        doc = render_yaml(rows)
        line, words = doc.lines[target + 1]["place"], ("already listed",)
    else:
        doc = render_yaml(rows, extra={target: [raw or ""]})
        line = doc.lines[target]["extra"]
        words = {"key twice": ("twice",), "key twice in another case": ("twice",),
                 "unknown field": ("unknown field", "shoe_size"), "tab": ("yaml",)}[kind]
    result = load(folder, "bad.yaml", doc.text.encode(), resolver)
    if kind == "unknown field":  # reported on the member's first line
        line = doc.lines[target]["place"]
    assert_problem(result, line, *words)


@pytest.mark.parametrize(("text", "line", "words"), [
    ("", 1, ("members",)),
    ("- Hull\n- Sunderland\n", 1, ("members",)),
    ("members: Hull\n", 1, ("members",)),
    ("members: []\n", 1, ("no members",)),
    ("id: x\nname: [a]\nmembers: [Hull]\n", 2, ("name", "text")),
    ("id: x\nmembers: [Hull]\nmembers: [Coventry]\n", 3, ("twice",)),
    ("id: x\nmember: [Hull]\n", 1, ("members",)),
    ("members: [Hull]\nnmae: x\n", 2, ("unknown key", "nmae")),
    ("members:\n  - place: Hull\n  - place: [\n", 4, ("yaml",)),
    ("members: [Hull]\n---\nmembers: [Coventry]\n", 2, ("yaml",)),
    ("members: " + "[" * 2000 + "]" * 2000 + "\n", 1, ("nested too deeply",)),
    ("members:\n  - place: !!python/object:os.system x\n", 2, ("yaml",)),
    ("members:\n  - place: Hull\n    joined: !!timestamp [1]\n", 3, ("yaml",)),
    ("members: [Hull]\nid: \x07\n", 2, ("yaml", "not allowed")),
])
def test_broken_yaml_files(tmp_path: Path, resolver: PlaceResolver, text: str, line: int,
                           words: tuple[str, ...]) -> None:
    assert_problem(load(tmp_path, "f.yaml", text.encode(), resolver), line, *words)


def test_merge_keys_and_aliases_in_members_are_read(tmp_path: Path,
                                                    resolver: PlaceResolver) -> None:
    text = ("members:\n  - &hull {place: Hull, joined: 2021-05-01, note: founder}\n"
            "  - <<: *hull\n    place: Coventry\n")
    net = load(tmp_path, "f.yaml", text.encode(), resolver)
    assert isinstance(net, Network), net
    assert [(m.as_published, m.joined, m.joined_basis) for m in net.memberships] == [
        ("Hull", dt.date(2021, 5, 1), "founder"), ("Coventry", dt.date(2021, 5, 1), "founder")]


def test_row_problems_of_every_kind_are_reported_together_in_line_order(
        tmp_path: Path, resolver: PlaceResolver) -> None:
    csv_text = "place,joined\nCoventry,,stray\nHull,2021-02-30\nAtlantis,\n"
    result = load(tmp_path, "f.csv", csv_text.encode(), resolver)
    assert isinstance(result, RegisterError)
    assert [p.split(":")[0] for p in result.problems] == ["line 2", "line 3", "line 4"]
    yaml_text = ("id: x\nname: [a]\nmembers:\n  - place: Hull\n    place: Hull\n"
                 "  - place: Atlantis\n")
    result = load(tmp_path, "f.yaml", yaml_text.encode(), resolver)
    assert isinstance(result, RegisterError)
    assert [p.split(":")[0] for p in result.problems] == ["line 2", "line 5", "line 6"]
