"""The indicator library: ``library.yaml`` read, checked and looked up.

Each :class:`Entry` says, for one indicator id, its work area, whether higher
is better, how members' values combine into a network's value (and from which
counts), the smallest areas it is published for, and the judgement behind any
of these where it is one.  ``derived`` entries are ratios keycities computes
from two stored counts (a share of the population in an age band), with their
own label and unit.

:func:`load_library` reads the packaged file once; :func:`read_library` reads
any file (tests, a user's own library) and raises one error listing every
problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from keycities.analysis.indicators.params import (
    COMBINE,
    COVERAGE,
    DIRECTION,
    WORK_AREA,
    Combine,
    Coverage,
    Direction,
    WorkArea,
)
from keycities.errors import KeycitiesError

RATE_TIMES = "rate x "
# PyYAML's C parser where it is built (it is in the wheels): the same documents, parsed
# about ten times faster than the pure-Python SafeLoader (issue 18 point 5).
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""How a numerator derived from the indicator's own rate starts: ``rate x COUNT_ID``."""

_ENTRY_KEYS = {"area", "direction", "combine", "numerator", "denominator", "scale", "weight",
               "why", "coverage", "judgement"}
_DERIVED_KEYS = _ENTRY_KEYS - {"combine"} | {"label", "subtitle", "unit", "decimals"}


@dataclass(frozen=True)
class Derived:
    """What a derived indicator is called (it has no row in the store's ``indicator`` table)."""

    label: str
    subtitle: str
    unit: str
    decimals: int


@dataclass(frozen=True)
class Entry:
    """One indicator's classification (see ``library.yaml`` for the fields)."""

    id: str
    area: WorkArea
    direction: Direction
    combine: Combine
    coverage: Coverage
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    weight: str | None = None
    why: str | None = None
    judgement: str | None = None
    derived: Derived | None = None

    @property
    def rate_times(self) -> str | None:
        """The count a ``rate x COUNT`` numerator multiplies this indicator's value by."""
        if self.numerator and self.numerator.startswith(RATE_TIMES):
            return self.numerator[len(RATE_TIMES):].strip()
        return None

    @property
    def stored_ids(self) -> tuple[str, ...]:
        """The stored indicators its values come from: itself, or a derived one's counts."""
        if self.derived is not None:
            return (str(self.numerator), str(self.denominator))
        return (self.id,)

    @property
    def references(self) -> tuple[str, ...]:
        """The other indicator ids this entry needs (numerator, denominator, weight)."""
        refs = [self.rate_times or self.numerator, self.denominator, self.weight]
        return tuple(r for r in refs if r)

    @property
    def rule(self) -> str:
        """The combination rule in plain English, with its counts."""
        if self.combine == "sum":
            return "Sum of the members' values."
        if self.combine == "ratio" and self.rate_times:
            return (f"Ratio of sums: sum(value x {self.rate_times}) / sum({self.rate_times}) "
                    "over the members (each member's rate times its denominator gives its "
                    "count back).")
        if self.combine == "ratio":
            scale = f"{self.scale:,.0f} x " if self.scale != 1 else ""
            return (f"Ratio of sums: {scale}sum({self.numerator}) / sum({self.denominator}) "
                    "over the members.")
        if self.combine == "weighted_mean":
            return (f"Weighted mean of the members' values, weighted by {self.weight} (an "
                    f"estimate): {self.why}")
        return "Not combined: the members' range and median are shown instead."


class UnknownIndicatorError(KeycitiesError, LookupError):
    """An indicator id the library does not have; ``suggestions`` are the closest ids."""

    def __init__(self, indicator: str, known: Iterable[str]) -> None:
        self.indicator = indicator
        self.suggestions = closest_ids(indicator, known)
        super().__init__(unknown_message(indicator, known))


@dataclass(frozen=True)
class Library:
    """Every entry by id."""

    entries: Mapping[str, Entry]
    path: str = ""

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, indicator: object) -> bool:
        return indicator in self.entries

    def get(self, indicator: str) -> Entry:
        """The entry of ``indicator``.

        Raises
        ------
        KeycitiesError
            For an unknown id; the message lists the closest ids.
        """
        try:
            return self.entries[indicator]
        except KeyError:
            raise UnknownIndicatorError(indicator, self.entries) from None

    def in_area(self, area: str | None) -> list[Entry]:
        """The entries of a work area (all when None), in the file's order."""
        return [e for e in self if area is None or e.area == area]

    def missing(self, stored: Iterable[str]) -> list[str]:
        """Stored indicator ids the library does not classify."""
        return sorted(set(stored) - set(self.entries))


def closest_ids(indicator: str, known: Iterable[str]) -> list[str]:
    """Up to five known ids closest to ``indicator`` (by spelling, else containing it)."""
    ids = sorted(known)
    close = difflib.get_close_matches(indicator, ids, n=5, cutoff=0.5)
    return close or [i for i in ids if indicator.lower() in i][:5]


def unknown_message(indicator: str, known: Iterable[str]) -> str:
    """"Unknown indicator 'x'. Closest: a, b, c." (or how to list them)."""
    close = closest_ids(indicator, known)
    hint = (f" Closest: {', '.join(close)}." if close else "")
    return (f"Unknown indicator {indicator!r}.{hint} `keycities indicators --search TEXT` "
            "lists the indicators.")


@cache
def load_library() -> Library:
    """The packaged library (``library.yaml``), read and checked once per process."""
    text = resources.files("keycities.analysis.indicators").joinpath(
        "library.yaml").read_text(encoding="utf-8")
    return parse_library(text, path="library.yaml")


def read_library(path: Path) -> Library:
    """A library file read and checked (see :func:`parse_library`)."""
    return parse_library(path.read_text(encoding="utf-8"), path=str(path))


def parse_library(text: str, *, path: str = "<text>") -> Library:
    """Parse and check a library document.

    Raises
    ------
    KeycitiesError
        Listing every problem: unknown keys or values, a rule without its counts,
        references to ids the library lacks.
    """
    try:
        doc = yaml.load(text, Loader=SAFE_LOADER) or {}  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise KeycitiesError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise KeycitiesError(f"{path}: expected a mapping with 'indicators' and 'derived'")
    problems = [f"unknown section {k!r} (sections: indicators, derived; shared fields under "
                "keys starting 'x-')" for k in doc
                if k not in ("indicators", "derived") and not str(k).startswith("x-")]
    entries: dict[str, Entry] = {}
    sections = (("indicators", False), ("derived", True))
    for section, derived in sections:
        for ident, raw in (doc.get(section) or {}).items():
            entry = _entry(str(ident), raw, derived=derived, problems=problems)
            if entry is not None:
                entries[entry.id] = entry
    for e in entries.values():
        problems += [f"{e.id}: refers to {r!r}, which the library does not have"
                     for r in e.references if r not in entries]
        problems += [f"{e.id}: its {what} {r!r} is not combined by summing, so it cannot be "
                     "a count" for what, r in _counts(e)
                     if r in entries and entries[r].combine != "sum"]
    if problems:
        raise KeycitiesError(f"{path}: {len(problems)} problem(s):\n"
                             + "\n".join(f"  - {p}" for p in problems))
    return Library(entries, path)


def _counts(e: Entry) -> list[tuple[str, str]]:
    """(role, id) of the references that must be counts."""
    out = [("denominator", e.denominator), ("weight", e.weight), ("count", e.rate_times)]
    if e.derived is not None:
        out.append(("numerator", e.numerator))
    return [(w, r) for w, r in out if r]


def _entry(ident: str, raw: Any, *, derived: bool, problems: list[str]) -> Entry | None:
    if not isinstance(raw, dict):
        problems.append(f"{ident}: expected a mapping of fields, got {type(raw).__name__}")
        return None
    allowed = _DERIVED_KEYS if derived else _ENTRY_KEYS
    problems += [f"{ident}: unknown field {k!r}" for k in sorted(set(raw) - allowed)]
    raw = {**raw, "combine": "ratio"} if derived else raw
    here: list[str] = []
    area = _choice(ident, raw, "area", WORK_AREA.values, here)
    direction = _choice(ident, raw, "direction", DIRECTION.values, here)
    combine = _choice(ident, raw, "combine", COMBINE.values, here)
    coverage = _choice(ident, raw, "coverage", COVERAGE.values, here)
    here += _rule_problems(ident, raw, derived=derived)
    problems += here
    if here:
        return None
    return Entry(
        id=ident, area=area, direction=direction, combine=combine, coverage=coverage,
        numerator=raw.get("numerator"), denominator=raw.get("denominator"),
        scale=float(raw.get("scale", 1)), weight=raw.get("weight"), why=raw.get("why"),
        judgement=raw.get("judgement"),
        derived=Derived(str(raw["label"]), str(raw.get("subtitle", "")), str(raw["unit"]),
                        int(raw.get("decimals", 1))) if derived else None)


def _choice(ident: str, raw: dict[str, Any], key: str, values: tuple[str, ...],
            problems: list[str]) -> Any:
    value = raw.get(key)
    if value not in values:
        problems.append(f"{ident}: {key} {value!r} is not one of {', '.join(values)}")
    return value


def _rule_problems(ident: str, raw: dict[str, Any], *, derived: bool) -> list[str]:
    """What a combination rule lacks or has in excess."""
    combine, out = raw.get("combine"), []
    needs = {"ratio": ("numerator", "denominator"), "weighted_mean": ("weight", "why")}
    out += [f"{ident}: combine {combine} needs {k}" for k in needs.get(str(combine), ())
            if not raw.get(k)]
    extra = {"numerator", "denominator", "weight", "why", "scale"} - set(
        needs.get(str(combine), ())) - ({"scale"} if combine == "ratio" else set())
    out += [f"{ident}: {k} is only used with combine "
            + ("ratio" if k in ("numerator", "denominator", "scale") else "weighted_mean")
            for k in sorted(extra & set(raw))]
    if derived:
        out += [f"{ident}: a derived indicator needs {k}" for k in ("label", "unit")
                if not raw.get(k)]
    scale = raw.get("scale", 1)
    if not isinstance(scale, int | float) or isinstance(scale, bool) or scale <= 0:
        out.append(f"{ident}: scale {scale!r} is not a positive number")
    return out


__all__ = ["RATE_TIMES", "Derived", "Entry", "Library", "UnknownIndicatorError", "closest_ids",
           "load_library", "parse_library",
           "read_library", "unknown_message"]
