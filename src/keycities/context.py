"""Wiring shared by the CLI and the Python API: settings -> store, resolver, network."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from keycities._util.numbers import iso_date
from keycities.errors import KeycitiesError
from keycities.geography.areas import areas_from_package, lad_table
from keycities.geography.names import Place, PlaceResolver
from keycities.geography.tables import GeographyTables
from keycities.network.loader import get_network
from keycities.network.register import BUILTIN, Network
from keycities.settings import Settings
from keycities.sources.authorities import RELEASE as _AUTHORITIES
from keycities.store.queries import official_area_count
from keycities.store.store import Store
from keycities.workspace.db import Workspace
from keycities.workspace.edits import edited, register_at

AUTHORITIES_RELEASE_ID = _AUTHORITIES.id


@dataclass
class Context:
    """Lazily opened store and geography for one command or API call."""
    settings: Settings = field(default_factory=Settings)
    write: bool = False
    workspace: Workspace | None = None
    """The workspace whose edited register built-in networks have (default: the
    settings' workspace file, opened on first use)."""

    _owns_workspace: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.workspace is None:
            self.workspace, self._owns_workspace = Workspace(self.settings.workspace_path), True

    @cached_property
    def store(self) -> Store:
        """The evidence store (read-only unless ``write``)."""
        store = Store(self.settings.store, read_only=not self.write)
        store.connect()
        return store

    def has_store(self) -> bool:
        """True when the store file exists."""
        return self.settings.store.exists()

    def has_official_areas(self) -> bool:
        """True when the store holds LAD lists from the official lookups."""
        if not self.has_store():
            return False
        return bool(official_area_count(self.store, besides=AUTHORITIES_RELEASE_ID))

    @cached_property
    def geography(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(LAD table, change rows, alias rows): from the store when built, else
        from the package-shipped names alone."""

        if self.has_store():
            area = self.store.table("area")
            if len(area):
                changes = self.store.table("change")
                lads = GeographyTables.from_rows(area, changes, pd.DataFrame()).lads
                return lads, changes, self.store.table("alias")
        empty_changes = pd.DataFrame(columns=["old_code", "old_name", "new_code", "new_name",
                                              "type", "year"])
        return (lad_table(areas_from_package()), empty_changes,
                pd.DataFrame(columns=["alias", "code"]))

    @cached_property
    def resolver(self) -> PlaceResolver:
        """A place-name resolver over the known LADs and aliases."""
        lads, changes, aliases = self.geography
        return PlaceResolver(lads, aliases, changes=changes)

    def network(self, spec: str, *, as_of: str | None = None) -> Network:
        """A built-in network by id, with its register as edited in the workspace (the
        one register the CLI, the web app and the Python API all read), or a user's
        network file.

        Parameters
        ----------
        spec
            A built-in network's id, or the path of a CSV or YAML file.
        as_of
            For a built-in network: its register as it stood at this moment (ISO time
            or date) rather than now.
        """
        lazy = self._lazy_resolver
        net = get_network(spec, lazy)
        if spec not in BUILTIN or self.workspace is None:
            return net
        if as_of is not None:
            return register_at(self.workspace, net, as_of, lazy)
        return edited(self.workspace, net, lazy)

    @cached_property
    def _lazy_resolver(self) -> _ResolverOf:
        """The resolver, built only when a name is to be resolved (see :class:`_ResolverOf`)."""
        return _ResolverOf(self)

    def close(self) -> None:
        """Close the store if it was opened (and the workspace, if this context opened it)."""
        if "store" in self.__dict__:
            self.store.close()
        if self._owns_workspace and self.workspace is not None:
            self.workspace.close()


def parse_date(value: str | dt.date | None) -> dt.date:
    """A date from ISO text; today when None."""
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.date):
        return value

    try:
        return iso_date(value)
    except ValueError as exc:
        raise KeycitiesError(f"{value!r} is not a date; use YYYY-MM-DD.") from exc


class _ResolverOf:
    """A context's place resolver, built when first asked to resolve: a built-in
    network needs none, and building it (the fuzzy name index) takes a while."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def resolve(self, query: str, *, vintage: int | None = None) -> Place:
        """:meth:`keycities.geography.names.PlaceResolver.resolve`."""
        return self.ctx.resolver.resolve(query, vintage=vintage)
