"""Store adapters shared by several capabilities: the geography tables of a built store."""

from __future__ import annotations

from keycities.geography.tables import GeographyTables
from keycities.store.queries import geography_tables
from keycities.store.store import Store


def geography_from_store(store: Store) -> GeographyTables:
    """The geography tables of a built store, ready for mapping.

    Built once per open store (:meth:`~keycities.store.store.Store.memo`): every
    figure, panel and audit shares them and their cached crosswalks.  Treat them as
    read-only.
    """
    def build() -> GeographyTables:
        area_rows, changes, _aliases, weights = geography_tables(store)
        return GeographyTables.from_rows(area_rows, changes, weights)

    return store.memo("geography", build)
