"""The catalog: every release the project knows, from every source module.

Each module in :data:`SOURCE_MODULES` exposes ``SOURCES`` (a tuple of
:class:`~keycities.sources.base.Source`) and may expose ``MEASURES``.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

from keycities.errors import KeycitiesError
from keycities.sources.base import Release, Source

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


def releases() -> tuple[Release, ...]:
    """Every release of every source (a release may serve several sources)."""
    seen: dict[str, Release] = {}
    for s in sources():
        for r in s.releases:
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
