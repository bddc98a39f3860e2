"""Load a user's own network from CSV or YAML, validating every row.

CSV columns (header required): ``place`` (a name or GSS code) and optionally
``joined``, ``left`` (ISO dates) and ``note``.  YAML: a mapping with ``id``,
``name`` and ``members``, a list of mappings with the same keys.

Every row is checked (place resolves, dates parse, joined before left, no
duplicate membership); all problems are reported together with their line
numbers and nothing is loaded when any row is bad.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from keycities.errors import KeycitiesError, RegisterError
from keycities.geography.vintage import vintage_of_date
from keycities.network.register import Membership, Network, builtin_network


class _Place(Protocol):
    @property
    def code(self) -> str: ...

    @property
    def name(self) -> str: ...


class Resolver(Protocol):
    """Anything that turns what people write into a place (see geography.names)."""

    def resolve(self, query: str, *, vintage: int | None = None) -> _Place: ...


@dataclass(frozen=True)
class _Row:
    line: int
    values: dict[str, Any]


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
    """
    if not path.is_file():
        raise KeycitiesError(f"Network file {path} does not exist.")
    if path.suffix.lower() == ".csv":
        rows, meta = _csv_rows(path), {"id": path.stem, "name": path.stem}
    elif path.suffix.lower() in {".yaml", ".yml"}:
        rows, meta = _yaml_rows(path)
    else:
        raise KeycitiesError(f"{path}: a network file must be .csv, .yaml or .yml.")
    memberships, problems = _validate(rows, resolver)
    if problems:
        raise RegisterError(str(path), problems)
    if not memberships:
        raise RegisterError(str(path), ["the file lists no members"])
    return Network(str(meta.get("id", path.stem)), str(meta.get("name", path.stem)),
                   tuple(memberships), str(meta.get("description", "")))


def _csv_rows(path: Path) -> list[_Row]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        fields = [c.strip().lower() for c in reader.fieldnames or []]
        if "place" not in fields:
            raise RegisterError(str(path), [f"line 1: header must include 'place' (got {fields})"])
        return [_Row(i + 2, {k.strip().lower(): (v or "").strip() for k, v in r.items() if k})
                for i, r in enumerate(reader)]


def _yaml_rows(path: Path) -> tuple[list[_Row], dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RegisterError(str(path), [f"not valid YAML: {exc}"]) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("members"), list):
        raise RegisterError(str(path), ["line 1: expected a mapping with a 'members' list"])
    members_node = next(v for k, v in root.value if k.value == "members")  # type: ignore[union-attr]
    rows = []
    for node, item in zip(members_node.value, doc["members"], strict=True):
        values = item if isinstance(item, dict) else {"place": item}
        rows.append(_Row(node.start_mark.line + 1, {str(k).lower(): v for k, v in values.items()}))
    return rows, {k: v for k, v in doc.items() if k != "members"}


def _parse_date(value: Any, line: int, column: str, problems: list[str]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"line {line}: {column} {value!r} is not a date (use YYYY-MM-DD)")
        return None


KNOWN_KEYS = ("place", "joined", "left", "note")


def _validate(rows: list[_Row], resolver: Resolver) -> tuple[list[Membership], list[str]]:
    problems: list[str] = []
    out: list[tuple[int, Membership]] = []
    for row in rows:
        n = len(problems)
        unknown = sorted(k for k in row.values if k not in KNOWN_KEYS)
        if unknown:
            problems.append(f"line {row.line}: unknown field(s) {', '.join(unknown)} "
                            f"(expected {', '.join(KNOWN_KEYS)})")
        place = str(row.values.get("place") or "").strip()
        joined = _parse_date(row.values.get("joined"), row.line, "joined", problems)
        left = _parse_date(row.values.get("left"), row.line, "left", problems)
        if not place:
            problems.append(f"line {row.line}: 'place' is empty")
        if joined and left and left <= joined:
            problems.append(f"line {row.line}: left {left} is not after joined {joined}")
        if len(problems) > n:
            continue
        vintage = vintage_of_date(joined.year, joined.month) if joined else None
        try:
            found = resolver.resolve(place, vintage=vintage)
        except KeycitiesError as exc:
            problems.append(f"line {row.line}: {exc}")
            continue
        note = str(row.values.get("note") or "")
        out.append((row.line, Membership(found.code, place, joined, left, note, note)))
    problems.extend(_overlaps(out))
    return [m for _, m in out], problems


def _overlaps(memberships: list[tuple[int, Membership]]) -> list[str]:
    problems = []
    seen: dict[str, list[Membership]] = {}
    for line, m in memberships:
        clash = [p for p in seen.get(m.code, []) if _intervals_overlap(p, m)]
        if clash:
            problems.append(
                f"line {line}: {m.as_published} ({m.code}) is already listed as "
                f"{clash[0].as_published!r} with overlapping dates"
            )
        seen.setdefault(m.code, []).append(m)
    return problems


def _intervals_overlap(a: Membership, b: Membership) -> bool:
    lo, hi = dt.date.min, dt.date.max
    return (a.joined or lo) < (b.left or hi) and (b.joined or lo) < (a.left or hi)
