"""Load a user's own network from CSV or YAML, validating every row.

CSV columns (header required): ``place`` (a name or GSS code) and optionally
``joined``, ``left`` (ISO dates) and ``note``.  YAML: a mapping with ``id``,
``name``, optionally ``description``, and ``members``, a list of mappings with
the same keys as the CSV columns (or of bare place names).

Every row is checked (place resolves, dates parse, joined before left, no
duplicate membership); all problems are reported together with their line
numbers and nothing is loaded when any row is bad.

The file itself is checked first, since it comes from anywhere: it must be
UTF-8 text (a byte-order mark is fine; anything else is reported with the line
of the first undecodable byte), a CSV must parse strictly (an unclosed quote
or an over-long cell is reported with its line, not read silently), and YAML
is read with the safe loader, dates kept as text (so that a bad date such as
``2020-02-30`` is reported like any other field rather than failing inside
the YAML library), every value's type checked before use.  These checks are
shared with the places CSV reader (:mod:`keycities.analysis.places.place_sets`).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from keycities._util.numbers import iso_date
from keycities.errors import KeycitiesError, RegisterError
from keycities.network.register import Membership, Network, builtin_network
from keycities.network.rules import (
    Resolver,
    check_memberships,
    date_problems,
    overlaps,
    resolve_for,
)

__all__ = ["Resolver", "check_memberships", "get_network", "load_network"]

KNOWN_KEYS = ("place", "joined", "left", "note")
"""Fields of one membership (CSV columns, keys of a YAML member)."""
YAML_KEYS = ("id", "name", "description", "members")
"""Top-level keys of a YAML network file."""
MAX_TEXT = 200
"""Longest place name or note accepted (the longest LAD name is under 40 characters)."""
MAX_PROBLEMS = 100
"""Problems listed in one error; the rest are counted."""
_CSV_FIELD_LIMIT = csv.field_size_limit()
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class _Row:
    line: int
    values: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)
    """Line of each field when it differs from ``line`` (YAML members span lines)."""

    def at(self, key: str) -> int:
        return self.lines.get(key, self.line)


@dataclass(frozen=True)
class _Parsed:
    """A file's rows before validation, its metadata and the problems met reading it."""

    rows: list[_Row]
    meta: dict[str, str]
    problems: list[str]
    """Problems with the file's structure: the rows are not validated."""
    members_line: int
    """Line to name when the file lists no members."""
    row_problems: list[str] = field(default_factory=list)
    """Problems of single rows or keys, reported with the rows' own."""


def get_network(spec: str, resolver: Resolver) -> Network:
    """A built-in network by id, or a user's network from a CSV/YAML path."""
    path = Path(spec)
    if path.suffix.lower() in {".csv", ".yaml", ".yml"} or path.exists():
        return load_network(path, resolver)
    return builtin_network(spec)


def load_network(path: Path, resolver: Resolver) -> Network:
    """Read and validate a user's network file.

    Raises
    ------
    RegisterError
        Listing every problem with its line number; nothing is loaded.
    KeycitiesError
        When the file does not exist, cannot be read or is not .csv/.yaml/.yml.
    """
    suffix = path.suffix.lower()
    if path.is_file() and suffix not in {".csv", ".yaml", ".yml"}:
        raise KeycitiesError(f"{path}: a network file must be .csv, .yaml or .yml.")
    return network_from_bytes(read_user_file(path, "Network file"), resolver, source=str(path),
                              stem=path.stem, yaml_text=suffix != ".csv")


def network_from_bytes(data: bytes, resolver: Resolver, *, source: str, stem: str,
                       yaml_text: bool = False) -> Network:
    """Read and validate a network file's content (an upload: nothing touches the disk).

    Parameters
    ----------
    data
        The file's bytes, CSV (or YAML with ``yaml_text``).
    resolver
        Turns place names and codes into places.
    source
        What the file is called in messages (its path, or an upload's name).
    stem
        The network's id and name when the file does not give them (a CSV never does).

    Raises
    ------
    RegisterError
        Listing every problem with its line number, exactly as :func:`load_network`.
    """
    text, problems = decode_user_text(data)
    if problems:
        raise RegisterError(source, problems)
    parsed = _yaml_rows(text) if yaml_text else _csv_rows(text)
    if parsed.problems:
        raise RegisterError(source, capped(by_line(parsed.problems)))
    memberships, problems = _validate(parsed.rows, resolver)
    problems = by_line([*parsed.row_problems, *problems])
    if not problems and not memberships:
        problems.append(f"line {parsed.members_line}: the file lists no members")
    if problems:
        raise RegisterError(source, capped(problems))
    meta = parsed.meta
    return Network(meta.get("id", stem), meta.get("name", stem),
                   tuple(memberships), meta.get("description", ""))


# --------------------------------------------------------------------------- the file


def read_user_file(path: Path, what: str = "File") -> bytes:
    """The bytes of a file a user named, or a :class:`KeycitiesError` saying why not."""
    if not path.is_file():
        raise KeycitiesError(f"{what} {path} does not exist.")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeycitiesError(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def decode_user_text(data: bytes) -> tuple[str, list[str]]:
    """The text of a user's file, which must be UTF-8 (a byte-order mark is dropped).

    Returns
    -------
    tuple
        ``(text, problems)``: ``problems`` is empty or holds one message
        naming the line of the first byte that is not UTF-8 text (or of a NUL
        character, the mark of a binary file such as a spreadsheet).
    """
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                      (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        if data.startswith(bom):
            return "", [f"line 1: the file is {name} text; save it as UTF-8 "
                        "(in Excel: 'CSV UTF-8')"]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        return "", [f"line {line}: byte 0x{data[exc.start]:02X} is not UTF-8 text; save the "
                    "file as UTF-8 (in Excel: 'CSV UTF-8')"]
    if "\x00" in text:
        line = _line_of(data, data.index(b"\x00"))
        return "", [f"line {line}: the file contains a NUL character: it is not a text file "
                    "(save a spreadsheet as CSV)"]
    return text.removeprefix("\ufeff"), []


def _line_of(data: bytes, offset: int) -> int:
    return len(_LINE_BREAK.findall(data[:offset])) + 1


def csv_records(text: str) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """The rows of a CSV text with the line each starts on; blank lines are skipped.

    The first row returned is the header (when the text has one).  Parsing is
    strict: an unclosed or stray quote, or a cell longer than the csv module's
    limit, ends the reading with a problem naming the line.

    Returns
    -------
    tuple
        ``(rows, problems)`` where ``rows`` holds ``(line, cells)`` pairs.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        return rows, [f"line {start}: {_csv_problem(str(exc))}"]
    return rows, []


def _csv_problem(message: str) -> str:
    if "field larger than field limit" in message:
        return f"a cell is longer than {_CSV_FIELD_LIMIT} characters (is a quote not closed?)"
    if "unexpected end of data" in message:
        return "a quoted cell is not closed: the file ends inside quotes"
    if "expected after" in message:
        return 'a quote inside a cell must be doubled ("") and the cell quoted'
    return f"not valid CSV ({message})"


def clip(text: str, width: int = 40) -> str:
    """``text`` cut to ``width`` characters for quoting in a message."""
    return text if len(text) <= width else text[:width - 3] + "..."


def by_line(problems: list[str]) -> list[str]:
    """Problems ordered by the line they name (stable; unnumbered ones first)."""
    def line(problem: str) -> int:
        head = problem.split(":", 1)[0]
        return int(head[5:]) if head.startswith("line ") and head[5:].isdigit() else 0

    return sorted(problems, key=line)


def capped(problems: list[str]) -> list[str]:
    """The first :data:`MAX_PROBLEMS` problems, and a count of the rest."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return [*problems[:MAX_PROBLEMS],
            f"... and {len(problems) - MAX_PROBLEMS} more problem(s) not shown"]


# --------------------------------------------------------------------------- CSV


def _csv_rows(text: str) -> _Parsed:
    records, problems = csv_records(text)
    if not records:
        return _Parsed([], {}, [*problems, "line 1: the file is empty; it needs a header with "
                                           "a 'place' column"], 1)
    header_line, raw = records[0]
    header = [c.strip().strip("\ufeff").strip().lower() for c in raw]
    problems = _csv_header_problems(header, header_line) + problems
    rows, stray_problems = [], []
    for line, cells in records[1:]:
        stray = [c for h, c in zip([*header, *[""] * len(cells)], cells, strict=False)
                 if not h and c.strip()]
        if stray:
            stray_problems.append(f"line {line}: {len(stray)} value(s) in columns with no "
                                  f"header (the first is {clip(stray[0])!r})")
        rows.append(_Row(line, {h: c.strip() for h, c in zip(header, cells, strict=False)
                                if h}))
    return _Parsed(rows, {}, problems, header_line + 1, stray_problems)


def _csv_header_problems(header: list[str], line: int) -> list[str]:
    problems = []
    if "place" not in header:
        problems.append(f"line {line}: header must include 'place' "
                        f"(got {[clip(h) for h in header[:10]]})")
    unknown = sorted({clip(h) for h in header if h and h not in KNOWN_KEYS})
    if unknown:
        problems.append(f"line {line}: unknown column(s) {', '.join(map(repr, unknown))} "
                        f"(expected {', '.join(KNOWN_KEYS)})")
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        problems.append(f"line {line}: column(s) {', '.join(dupes)} appear more than once")
    return problems


# --------------------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """The safe loader, with dates kept as text and value errors given a line.

    PyYAML's own converters raise bare ``ValueError``/``KeyError`` for scalars
    that look like a type but are not one (``2020-02-30``, ``0x_``, ``!!bool
    x``); here they become a ``ConstructorError`` with the scalar's position.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            what = (f"the value {clip(str(node.value))!r}" if isinstance(node, yaml.ScalarNode)
                    else "this value")
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {what} ({clip(str(exc))})", node.start_mark) from exc


def _date_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(None, None, "a date must be text",
                                                node.start_mark)
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _date_as_text)


def _parse_yaml(text: str) -> tuple[yaml.Node | None, Any, list[str]]:
    """The root node and the document, or a problem naming its line."""
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # checks the characters
        node = loader.get_single_node()
        if node is None:
            return None, None, []
        # Before construction, which keeps the last of two equal keys and flattens merges.
        dupes = _duplicate_keys(node)
        return node, loader.construct_document(node), dupes
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return None, None, [f"line {line}: not valid YAML: {exc.problem or exc.context}"]
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return None, None, [f"line {line}: not valid YAML: character U+{char:04X} is not "
                            "allowed"]
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error is one of the above
        return None, None, [f"line 1: not valid YAML: {exc}"]
    except RecursionError:
        return None, None, [f"line {_too_deep_line(text)}: the YAML is nested too deeply "
                            "(a network file needs only members, each a mapping of fields)"]
    finally:
        if loader is not None:
            loader.dispose()


def _duplicate_keys(root: yaml.Node) -> list[str]:
    """Keys given twice (ignoring case) in the top mapping or in one member."""
    maps = [root] if isinstance(root, yaml.MappingNode) else []
    for key, value in maps[0].value if maps else []:
        if isinstance(key, yaml.ScalarNode) and key.value == "members" \
                and isinstance(value, yaml.SequenceNode):
            maps += [item for item in value.value if isinstance(item, yaml.MappingNode)]
    problems = []
    for node in maps:
        first: dict[str, int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.value == "<<":
                continue
            name, line = str(key.value).lower(), key.start_mark.line + 1
            if name in first:
                problems.append(f"line {line}: {clip(name)!r} is given twice (first on line "
                                f"{first[name]})")
            first.setdefault(name, line)
    return problems


def _too_deep_line(text: str, limit: int = 50) -> int:
    """Line where collections first nest more than ``limit`` deep (tokens are flat)."""
    depth = 0
    try:
        for token in yaml.scan(text):
            name = type(token).__name__
            depth += name.endswith("StartToken") and name != "StreamStartToken"
            depth -= name.endswith("EndToken") and name != "StreamEndToken"
            if depth > limit:
                return int(token.start_mark.line) + 1
    except yaml.YAMLError:
        pass
    return 1


def _yaml_rows(text: str) -> _Parsed:
    root, doc, problems = _parse_yaml(text)
    if not isinstance(root, yaml.MappingNode) or not isinstance(doc, dict) \
            or not isinstance(doc.get("members"), list):
        return _Parsed([], {}, problems or ["line 1: expected a mapping with a 'members' "
                                            "list"], 1)
    key_lines = {k.value: k.start_mark.line + 1 for k, _ in root.value
                 if isinstance(k, yaml.ScalarNode) and isinstance(k.value, str)}
    meta, meta_problems = _yaml_meta(doc, key_lines)
    problems += meta_problems
    # Merge keys ("<<") are flattened into root.value by the constructor; the last
    # "members" pair is the one the mapping kept.
    members = [v for k, v in root.value if isinstance(k, yaml.ScalarNode)
               and k.value == "members"]
    nodes = members[-1].value if members and isinstance(members[-1], yaml.SequenceNode) else []
    if len(nodes) != len(doc["members"]):
        nodes = [members[-1]] * len(doc["members"]) if members else []
    rows = [_yaml_row(node, item) for node, item in zip(nodes, doc["members"], strict=True)]
    return _Parsed(rows, meta, [], key_lines.get("members", 1), problems)


def _yaml_meta(doc: dict[Any, Any], key_lines: dict[str, int]) -> tuple[dict[str, str],
                                                                         list[str]]:
    meta: dict[str, str] = {}
    problems = []
    for key, value in doc.items():
        line = key_lines.get(str(key), 1)
        if key not in YAML_KEYS:
            problems.append(f"line {line}: unknown key {clip(str(key))!r} "
                            f"(expected {', '.join(YAML_KEYS)})")
        elif key != "members":
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                meta[key] = str(value)
            else:
                problems.append(f"line {line}: {key} must be text, not "
                                f"{_kind(value)}")
    return meta, problems


def _yaml_row(node: yaml.Node, item: Any) -> _Row:
    line = node.start_mark.line + 1
    if not isinstance(item, dict):
        return _Row(line, {"place": item})
    lines: dict[str, int] = {}
    pairs = node.value if isinstance(node, yaml.MappingNode) else []
    for key_node, value_node in pairs:
        if isinstance(key_node, yaml.ScalarNode):
            lines[str(key_node.value).lower()] = value_node.start_mark.line + 1
    return _Row(line, {clip(str(k).lower()): v for k, v in item.items()}, lines)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple | set):
        return "a list"
    return f"{type(value).__name__} {value!r}"


# --------------------------------------------------------------------------- rows


def _text(row: _Row, key: str, problems: list[str]) -> str:
    """A field as text, or "" with a problem when it is a list, mapping or too long."""
    value = row.values.get(key)
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple | set):
        problems.append(f"line {row.at(key)}: {key} must be text, not {_kind(value)}")
        return ""
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        problems.append(f"line {row.at(key)}: {key} is {len(text)} characters long "
                        f"(at most {MAX_TEXT})")
        return ""
    return text


def _parse_date(row: _Row, key: str, problems: list[str]) -> dt.date | None:
    text = _text(row, key, problems)
    if not text:
        return None
    try:
        return iso_date(text)
    except ValueError:
        problems.append(f"line {row.at(key)}: {key} {clip(text)!r} is not a date "
                        "(use YYYY-MM-DD)")
        return None


def _row_problems(row: _Row) -> list[str]:
    problems = []
    unknown = sorted(k for k in row.values if k not in KNOWN_KEYS)
    if unknown:
        problems.append(f"line {row.line}: unknown field(s) {', '.join(unknown)} "
                        f"(expected {', '.join(KNOWN_KEYS)})")
    return problems


def _validate(rows: list[_Row], resolver: Resolver) -> tuple[list[Membership], list[str]]:
    problems: list[str] = []
    out: list[tuple[str, Membership]] = []
    for row in rows:
        n = len(problems)
        problems += _row_problems(row)
        place = _text(row, "place", problems)
        joined = _parse_date(row, "joined", problems)
        left = _parse_date(row, "left", problems)
        note = _text(row, "note", problems)
        if not place and len(problems) == n:
            problems.append(f"line {row.at('place')}: 'place' is empty")
        problems += [f"line {row.at(key)}: {problem}"
                     for key, problem in date_problems(joined, left)]
        if len(problems) > n:
            continue
        try:
            found = resolve_for(resolver, place, joined, left)
        except KeycitiesError as exc:
            problems.append(f"line {row.at('place')}: {exc}")
            continue
        # A GSS code is no name: show the council's own.
        name = found.name if _is_code(place) else place
        out.append((f"line {row.line}", Membership(found.code, name, joined, left, note, note)))
    problems.extend(problem for _, problem in overlaps(out))
    return [m for _, m in out], problems


def _is_code(text: str) -> bool:
    return bool(re.fullmatch(r"[EWSN]\d{8}", text.strip().upper()))


