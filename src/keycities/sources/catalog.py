"""The catalog: every release the project knows, from every source module.

Each module in :data:`SOURCE_MODULES` exposes ``SOURCES`` (a tuple of
:class:`~keycities.sources.base.Source`, possibly empty) and may expose
``MEASURES`` and ``EXTRA_READERS``: release id -> reader of more tables from a
release another module's source owns (the age structure from the population
workbooks, real GDP from the regional accounts), loaded with that release.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

from keycities.errors import KeycitiesError
from keycities.sources.base import ExtraReader, Release, Source

SOURCE_MODULES: tuple[str, ...] = (
    "keycities.sources.lookups",
    "keycities.sources.boundaries",
    "keycities.sources.population",
    "keycities.sources.gva",
    "keycities.sources.productivity",
    "keycities.sources.referendum",
    "keycities.sources.business_counts",
    "keycities.sources.imd",
    "keycities.sources.earnings",
    "keycities.sources.age_structure",
    "keycities.sources.real_gdp",
    "keycities.sources.subnational",
    "keycities.sources.gva_industry",
    "keycities.sources.els",
)


def all_source_modules() -> list[ModuleType]:
    """Import and return every source module."""
    return [importlib.import_module(name) for name in SOURCE_MODULES]


@cache
def sources() -> tuple[Source, ...]:
    """Every source, in build order (lookups and boundaries first)."""
    out: list[Source] = []
    for module in all_source_modules():
        out.extend(module.SOURCES)
    names = [s.name for s in out]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate source names: {sorted(dupes)}")
    return tuple(out)


@cache
def _extra_readers() -> dict[str, tuple[tuple[str, ExtraReader], ...]]:
    out: dict[str, list[tuple[str, ExtraReader]]] = {}
    for module in all_source_modules():
        version = str(getattr(module, "READER_VERSION", "1"))
        for release_id, reader in getattr(module, "EXTRA_READERS", {}).items():
            out.setdefault(release_id, []).append((version, reader))
    return {k: tuple(v) for k, v in out.items()}


def extra_readers(release_id: str) -> tuple[tuple[str, ExtraReader], ...]:
    """(reader version, reader) of every extra reader of a release, in module order."""
    return _extra_readers().get(release_id, ())


def releases() -> tuple[Release, ...]:
    """Every release of every source, with the files read beside them."""
    seen: dict[str, Release] = {}
    for s in sources():
        companions = getattr(s, "companions_of", lambda _r: ())
        for r in (x for rel in s.releases for x in (rel, *companions(rel))):
            if r.id in seen and seen[r.id] != r:
                raise ValueError(f"release {r.id!r} declared twice, differently")
            seen[r.id] = r
    return tuple(seen.values())


def source(name: str) -> Source:
    """The source called ``name``; the error lists the known names."""
    for s in sources():
        if s.name == name:
            return s
    known = ", ".join(s.name for s in sources())
    raise KeycitiesError(f"Unknown source {name!r}. Known sources: {known}.")


def release(release_id: str) -> Release:
    """The release with id ``release_id``."""
    for r in releases():
        if r.id == release_id:
            return r
    raise KeycitiesError(f"Unknown release {release_id!r}.")


def how_to_get(measure: str) -> str:
    """Which catalog releases carry ``measure``, and how to load them (one sentence;
    empty when no release does)."""
    ids = [r.id for m in all_source_modules()
           if any(x.name == measure for x in getattr(m, "MEASURES", ()))
           for s in m.SOURCES for r in s.releases]
    if not ids:
        return ""
    return (f"It comes from {', '.join(ids)}: run `keycities build --mirror DIR` with a copy "
            "of the official files, or `keycities build` where the official URLs are reachable.")
