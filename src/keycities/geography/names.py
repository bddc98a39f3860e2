"""Turn what people write ("Hull", "Bath & NES", "E06000058") into a LAD.

Resolution order, first hit wins:

1. a GSS code (any case);
2. the official name, compared after :func:`normalise` (case, punctuation,
   whitespace, "&" vs "and", hyphens);
3. an alias (the store's ``alias`` rows plus the project's own
   ``geography/data/aliases.csv`` of informal names the data lacks);
4. the same with the wrapping people add stripped (:func:`loose_forms`):
   "City of X", "X, City of", "X City Council", "London Borough of X", …

A name used by several codes over time (Barnsley E08000016, then E08000038)
resolves to the one current in ``vintage`` (or today, without a vintage) and
says so in :attr:`Place.note`.  Names that match nothing raise
:class:`~keycities.errors.UnknownPlaceError` with the closest names
(rapidfuzz); several equally good matches raise
:class:`~keycities.errors.AmbiguousPlaceError`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import pandas as pd
from rapidfuzz import fuzz, process

from keycities.errors import AmbiguousPlaceError, SharedNameError, UnknownPlaceError
from keycities.geography.areas import (
    areas_from_package,
    lad_changes,
    lad_table,
    package_changes,
    with_changes,
)
from keycities.geography.mapping import predecessors, successors
from keycities.geography.vintage import LAST_VINTAGE

MatchedOn = Literal["code", "name", "alias"]

_CODE = re.compile(r"^[EWSN]\d{8}$")
_COUNCIL = re.compile(
    r"(?:\s+(?:city|borough|district|county|metropolitan|royal|unitary|and))*\s+council$")
_LEADING = re.compile(
    r"^(?:the\s+)?(?:(?:royal|london|metropolitan)\s+)?"
    r"(?:city and county|city|county|borough|district)\s+of\s+")
_TRAILING_OF = re.compile(r"\s+(?:city|county)\s+of$")
#: "City of London" is a LAD; stripping would turn it into "London", which is not.
_KEEP_WHOLE = frozenset({"city of london"})


def normalise(text: str) -> str:
    """Comparable form of a place name: ASCII, lower case, "and" for "&", no punctuation.

    >>> normalise("Kingston-upon-Hull, City of")
    'kingston upon hull city of'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    s = ascii_text.lower().replace("&", " and ")
    s = re.sub(r"['\u2019]", "", s)
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return " ".join(s.split())


def loose_forms(key: str) -> list[str]:
    """Forms of a normalised name without the wrapping people add.

    Strips, in turn, a trailing "… council", a trailing "city of"/"county of"
    (ONS's "Bristol, City of"), a leading "the", "city of", "London borough
    of", … and a trailing "city" ("Glasgow City").  Returns the distinct
    stripped forms, most literal first; ``[]`` when nothing was stripped.
    """
    if key in _KEEP_WHOLE:
        return []
    forms: list[str] = []
    s = key
    for pattern in (_COUNCIL, _TRAILING_OF, _LEADING, re.compile(r"\s+city$")):
        stripped = pattern.sub("", s).strip()
        if stripped and stripped != s and stripped not in _KEEP_WHOLE:
            s = stripped
            forms.append(s)
    return forms


def package_aliases() -> pd.DataFrame:
    """The project's curated aliases (alias, code, note) shipped with the package."""
    path = resources.files("keycities.geography") / "data" / "aliases.csv"
    with path.open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str)


@dataclass(frozen=True)
class Place:
    """A resolved local authority district.

    ``vintage_start``/``vintage_end`` are the first and last vintages the area
    table knows (None: unknown / still current); ``matched_on`` says whether
    the query matched the code, the official name or an alias; ``note``
    explains anything a reader should know (an alias used, wording ignored, a
    name shared with another code).
    """

    code: str
    name: str
    vintage_start: int | None
    vintage_end: int | None
    country_name: str | None
    region_name: str | None
    matched_on: MatchedOn
    note: str = ""


class PlaceNotInVintageError(UnknownPlaceError):
    """A place that exists, but not in the vintage asked for.

    ``suggestions`` holds what it became or came from, as "Name (code)".
    """

    def __init__(self, query: str, vintage: int, message: str,
                 suggestions: list[str]) -> None:
        self.query = query
        self.vintage = vintage
        self.suggestions = suggestions
        Exception.__init__(self, message)


def _opt_int(value: object) -> int | None:
    return None if pd.isna(value) else int(value)  # type: ignore[call-overload]


def _opt_str(value: object) -> str | None:
    return None if pd.isna(value) else str(value)  # type: ignore[call-overload]


def _years(start: int | None, end: int | None) -> str:
    if start is None and end is None:
        return "years unknown"
    return f"{start if start is not None else '?'}–{end if end is not None else ''}"


class PlaceResolver:
    """Resolve place names and GSS codes to LADs.

    Parameters
    ----------
    lads
        A LAD table (:func:`keycities.geography.areas.lad_table`).
    aliases
        Alias rows (alias, code[, note]), e.g. the store's ``alias`` table.
        The package's curated aliases are added unless
        ``include_package_aliases`` is False; aliases of codes not in ``lads``
        are ignored.
    changes
        Change rows (store ``change`` table).  They fix when codes ended or
        began and let vintage errors say what a place became or came from.
        The package's post-2021 changes (:func:`~keycities.geography.areas.
        package_changes`) are always added: they are facts the store may lack.
    include_package_aliases
        Add ``geography/data/aliases.csv``.
    """

    def __init__(self, lads: pd.DataFrame, aliases: pd.DataFrame | None = None, *,
                 changes: pd.DataFrame | None = None,
                 include_package_aliases: bool = True) -> None:
        given = [lad_changes(changes)] if changes is not None and len(changes) else []
        self._changes = lad_changes(pd.concat([*given, package_changes()], ignore_index=True)
                                    .drop_duplicates(["old_code", "new_code", "year"]))
        table = with_changes(lads, self._changes)
        self._lads = table.drop_duplicates("code").set_index("code", drop=False)
        self._created = set(self._changes["new_code"])
        self._alias_rows = self._collect_aliases(aliases, include_package_aliases)
        self._index: dict[tuple[MatchedOn, bool], dict[str, set[str]]] = {
            (kind, loose): {} for kind in ("name", "alias") for loose in (False, True)}
        for code, name in zip(self._lads["code"], self._lads["name"], strict=True):
            if isinstance(name, str):
                self._add("name", normalise(name), code)
        for alias, code in zip(self._alias_rows["alias"], self._alias_rows["code"], strict=True):
            self._add("alias", normalise(alias), code)
        self._choices = sorted(set(self._index[("name", False)])
                               | set(self._index[("alias", False)]))
        self._curated_keys = ({normalise(a) for a in package_aliases()["alias"]}
                              if include_package_aliases else set())

    @classmethod
    def from_package(cls) -> PlaceResolver:
        """A resolver over the package-shipped names alone (no official files needed)."""
        return cls(lad_table(areas_from_package()), None, changes=package_changes())

    def _collect_aliases(self, aliases: pd.DataFrame | None, with_package: bool) -> pd.DataFrame:
        frames = [] if aliases is None else [aliases]
        if with_package:
            frames.append(package_aliases())
        if not frames:
            return pd.DataFrame(columns=["alias", "code", "note"])
        rows = pd.concat(frames, ignore_index=True).reindex(columns=["alias", "code", "note"])
        rows["code"] = rows["code"].astype("str").str.strip().str.upper()
        rows = rows[rows["code"].isin(self._lads.index) & rows["alias"].notna()]
        return rows.drop_duplicates(["alias", "code"]).reset_index(drop=True)

    def _add(self, kind: MatchedOn, key: str, code: str) -> None:
        self._index[(kind, False)].setdefault(key, set()).add(code)
        for form in loose_forms(key):
            self._index[(kind, True)].setdefault(form, set()).add(code)

    # ------------------------------------------------------------------ lookup

    def resolve(self, query: str, *, vintage: int | None = None) -> Place:
        """The LAD a name or GSS code refers to.

        Parameters
        ----------
        query
            What a person wrote: a name, an informal name or a GSS code.
        vintage
            Boundary year the place must exist in; None for the current place.

        Returns
        -------
        Place

        Raises
        ------
        UnknownPlaceError
            Nothing matches; the message lists the closest names with codes.
        AmbiguousPlaceError
            Several places match equally well; the message lists them.
        PlaceNotInVintageError
            The place did not exist in ``vintage``; the message says what it
            became or came from.
        """
        text = str(query).strip()
        if _CODE.match(text.upper()):
            code = text.upper()
            if code not in self._lads.index:
                close = process.extract(code, list(self._lads.index), scorer=fuzz.ratio,
                                        limit=3, score_cutoff=75)
                raise UnknownPlaceError(query, [self._label(c) for c, _, _ in close])
            return self._choose(query, {code}, "code", "", vintage)
        key = normalise(text)
        starting = self._names_starting(key)
        for kind, loose, form, codes in self._matches(key):
            if kind == "alias" and len(starting - codes) >= 1 and not self._curated(key):
                # "Newcastle" names Newcastle upon Tyne and Newcastle-under-Lyme alike.
                raise self._ambiguous(query, starting | codes)
            note = self._match_note(kind, loose, form, codes)
            return self._choose(query, codes, kind, note, vintage)
        if len(starting) > 1:  # "Kingston": Kingston upon Hull or Kingston upon Thames
            raise self._ambiguous(query, starting)
        raise UnknownPlaceError(query, self._suggest(key))

    def _names_starting(self, key: str) -> set[str]:
        """Codes of places whose official name begins with the words of ``key``."""
        if not key:
            return set()
        return {c for name, codes in self._index[("name", False)].items()
                if name != key and re.match(re.escape(key) + r"\b", name) for c in codes}

    def _curated(self, key: str) -> bool:
        """Whether ``key`` is one of the project's own aliases ("Hull", "Stoke")."""
        return key in self._curated_keys

    def _ambiguous(self, query: str, codes: set[str]) -> SharedNameError:
        return SharedNameError(query, [f"{self._lads.at[c, 'name']!s} ({c})"
                                       for c in sorted(codes, key=self._label)])

    def successors_of(self, code: str, *, vintage: int = LAST_VINTAGE) -> list[Place]:
        """The places ``code``'s area is part of on ``vintage`` boundaries (none if it
        still exists)."""
        return [self._place(c, "code", "") for c in successors(code, self._changes,
                                                                vintage=vintage)
                if c != code and c in self._lads.index]

    def resolve_many(self, queries: Iterable[str], *,
                     vintage: int | None = None) -> list[Place]:
        """:meth:`resolve` each query, in order."""
        return [self.resolve(q, vintage=vintage) for q in queries]

    def _matches(self, key: str) -> Iterable[tuple[MatchedOn, bool, str, set[str]]]:
        """Candidate codes per stage, most literal stage first."""
        kinds: tuple[MatchedOn, MatchedOn] = ("name", "alias")
        for kind in kinds:
            hit = self._index[(kind, False)].get(key)
            if hit:
                yield kind, False, key, hit
        forms = [key, *loose_forms(key)]
        for kind in kinds:
            for form in forms:
                hit = (self._index[(kind, True)].get(form, set())
                       | (self._index[(kind, False)].get(form, set()) if form != key else set()))
                if hit:
                    yield kind, True, form, hit

    def _match_note(self, kind: MatchedOn, loose: bool, form: str, codes: set[str]) -> str:
        notes = []
        if kind == "alias":
            rows = self._alias_rows[self._alias_rows["code"].isin(codes)]
            reasons = [f"{a!r}: {n}" for a, n in zip(rows["alias"], rows["note"], strict=True)
                       if form in {normalise(a), *loose_forms(normalise(a))}
                       and isinstance(n, str)]
            notes.append("alias " + (reasons[0] if reasons else repr(form)))
        if loose:
            notes.append("matched ignoring wording such as 'City of' or 'Council'")
        return "; ".join(notes)

    def _suggest(self, key: str) -> list[str]:
        close = process.extract(key, self._choices, scorer=fuzz.WRatio, limit=8,
                                score_cutoff=60)
        out: list[str] = []
        for choice, _, _ in close:
            codes = (self._index[("name", False)].get(choice, set())
                     | self._index[("alias", False)].get(choice, set()))
            for code in sorted(codes):
                label = self._label(code)
                if label not in out:
                    out.append(label)
        return out[:5]

    # ------------------------------------------------------------------ choosing

    def _label(self, code: str) -> str:
        if code in self._lads.index:
            return f"{self._lads.at[code, 'name']!s} ({code})"
        return code

    def _span(self, code: str) -> tuple[int | None, int | None]:
        row = self._lads.loc[code]
        return _opt_int(row["vintage_start"]), _opt_int(row["vintage_end"])

    def _status(self, code: str, vintage: int | None) -> int:
        """2 = known to exist (now / in vintage), 1 = probably (years unknown), 0 = not.

        A vintage before the first one the area table lists is only "did not
        exist" when the change list records the code's creation: the package
        list starts in 2021 but Hull existed in 2019.
        """
        start, end = self._span(code)
        if vintage is None:
            return 0 if end is not None else (2 if start is not None else 1)
        if end is not None and vintage > end:
            return 0
        if start is not None and vintage < start:
            return 0 if code in self._created else 1
        return 2 if (start is not None or end is not None) else 1

    def _choose(self, query: str, codes: set[str], kind: MatchedOn, note: str,
                vintage: int | None) -> Place:
        # Newest first (open-ended = newest), then by code, so messages are stable.
        ordered = sorted(codes, key=lambda c: (-(self._span(c)[1] or 10**4), c))
        status = {c: self._status(c, vintage) for c in ordered}
        best = max(status.values())
        winners = [c for c in ordered if status[c] == best]
        if best == 0 and vintage is not None:
            raise self._not_in_vintage(query, ordered[0], vintage)
        if len(winners) > 1:
            raise AmbiguousPlaceError(
                query, [f"{self._lads.at[c, 'name']!s} ({c}, {_years(*self._span(c))})"
                        for c in winners])
        chosen = winners[0]
        start = self._span(chosen)[0]
        if vintage is not None and start is not None and vintage < start:
            note = "; ".join(filter(None, [note, f"the area table first lists it in {start}; "
                                                 f"taken to exist in {vintage} as no change "
                                                 "created it later"]))
        others = [c for c in ordered if c != chosen]
        if others:
            when = f"in {vintage}" if vintage is not None else "now"
            used = ", ".join(f"{c} ({_years(*self._span(c))})" for c in others)
            note = "; ".join(filter(None, [note, f"name also used by {used}; chose the code "
                                                 f"in use {when}"]))
        return self._place(chosen, kind, note)

    def _place(self, code: str, kind: MatchedOn, note: str) -> Place:
        row = self._lads.loc[code]
        start, end = self._span(code)
        return Place(code=code, name=str(row["name"]), vintage_start=start, vintage_end=end,
                     country_name=_opt_str(row["country_name"]),
                     region_name=_opt_str(row["region_name"]), matched_on=kind, note=note)

    def _not_in_vintage(self, query: str, code: str, vintage: int) -> PlaceNotInVintageError:
        start, end = self._span(code)
        label = self._label(code)
        ch = self._changes
        if end is not None and vintage > end:
            related = successors(code, ch, vintage=vintage)
            steps = ch[ch["old_code"] == code]
            what = self._after_text(label, steps, related, vintage, end)
        else:
            related = predecessors(code, ch, vintage=vintage)
            steps = ch[ch["new_code"] == code]
            what = self._before_text(label, steps, related, vintage, start)
        related = [c for c in related if c != code]
        message = (f"{what} Use a place that exists in {vintage}, or ask for the boundaries "
                   "of a year when it existed.")
        return PlaceNotInVintageError(query, vintage, message, [self._label(c) for c in related])

    def _after_text(self, label: str, steps: pd.DataFrame, related: list[str], vintage: int,
                    end: int) -> str:
        if steps.empty or not related:
            return (f"{label} is not a {vintage} LAD: the area table has it up to {end} and "
                    "the change list does not say what replaced it.")
        year, kind = int(steps["year"].min()), str(steps["type"].iloc[0])
        targets = ", ".join(self._label(c) for c in related)
        if kind == "merger":
            return f"{label} was abolished in {year}; in {vintage} its area is part of {targets}."
        if kind == "split" or len(steps) > 1:
            return f"{label} was split in {year}; in {vintage} its area is in {targets}."
        return f"{label} was given a new code in {year}; in {vintage} it is {targets}."

    def _before_text(self, label: str, steps: pd.DataFrame, related: list[str], vintage: int,
                     start: int | None) -> str:
        if steps.empty or not related:
            return (f"{label} is not a {vintage} LAD: the loaded area table only knows it "
                    f"from {start}.")
        year, kind = int(steps["year"].max()), str(steps["type"].iloc[0])
        sources = ", ".join(self._label(c) for c in related)
        if kind == "merger":
            return f"{label} was created in {year}; in {vintage} its area was {sources}."
        return f"{label} took its code in {year}; in {vintage} it was {sources}."
