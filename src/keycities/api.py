"""The Python API: the same results as the CLI, as DataFrames.

Examples
--------
>>> import keycities
>>> keycities.build()                                   # doctest: +SKIP
>>> keycities.headline("key-cities", at="2021-06-01", year=2019)   # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from keycities.context import Context, parse_date
from keycities.settings import Settings


def _ctx(settings: Settings | None, **overrides: Any) -> Context:
    s = settings or Settings()
    if overrides:
        s = s.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    return Context(s)


def build(*, settings: Settings | None = None, only: list[str] | None = None,
          force: bool = False) -> pd.DataFrame:
    """Build (or update) the evidence store.

    The build writes a copy of the store and swaps it in at the end
    (:func:`keycities.store.staging.staged`), so readers, such as a running
    ``keycities serve``, keep working, and a failed build changes nothing.

    Parameters
    ----------
    settings
        Store, mirror and cache locations (default: from the environment).
    only
        Source names to (re)build; default all.
    force
        Reload releases even when already loaded from the same file.

    Returns
    -------
    pandas.DataFrame
        One row per release: source, release, status (loaded, unchanged,
        missing, failed), rows, seconds, message.
    """
    # deferred: loaded when called, so `import keycities` stays light
    from keycities.store.build import build_store
    from keycities.store.staging import staged

    s = settings or Settings()
    with staged(s.store) as store:
        return build_store(store, s, only=only, force=force).to_frame()


def headline(network: str = "key-cities", *, at: str | dt.date | None = None,
             year: int | None = None, settings: Settings | None = None) -> pd.DataFrame:
    """Headline figures of a network on a date.

    Parameters
    ----------
    network
        ``"key-cities"`` or the path of a CSV/YAML network file.
    at
        Membership date (default today).
    year
        Data year (default the latest available for each figure).

    Returns
    -------
    pandas.DataFrame
        One row per figure.  ``.attrs["headline"]`` holds the full result
        (per-member values, mapping notes, releases).
    """
    # deferred: loaded when called, so `import keycities` stays light
    from keycities.analysis.headline.from_store import headline_from_store

    ctx = _ctx(settings)
    try:
        result = headline_from_store(ctx.store, ctx.network(network), at=parse_date(at),
                                     year=year)
    finally:
        ctx.close()
    df = result.to_frame()
    df.attrs["headline"] = result
    return df


def network_members(network: str = "key-cities", *, at: str | dt.date | None = None,
                    settings: Settings | None = None) -> pd.DataFrame:
    """Members of a network on a date, with join/leave dates and their bases."""
    ctx = _ctx(settings)
    try:
        return ctx.network(network).members_at(parse_date(at))
    finally:
        ctx.close()


def resolve_place(query: str, *, vintage: int | None = None,
                  settings: Settings | None = None) -> Any:
    """Resolve what people write ("Hull", "BCP", a GSS code) to a place."""
    ctx = _ctx(settings)
    try:
        return ctx.resolver.resolve(query, vintage=vintage)
    finally:
        ctx.close()
