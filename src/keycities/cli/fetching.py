"""`keycities fetch` and `keycities sources`: files, progress, status."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from keycities.context import Context
from keycities.errors import HashMismatchError, KeycitiesError, SourceUnavailableError
from keycities.settings import Settings
from keycities.sources import catalog
from keycities.sources.base import cached_path, fetch_release, is_cached
from keycities.store.build import fetchers_for


def fetch_all(settings: Settings, names: Sequence[str] | None, *, force: bool,
              console: Console) -> pd.DataFrame:
    """Fetch every release of the named sources into the cache, with a progress bar.

    Parameters
    ----------
    settings
        Mirror, cache and offline settings.
    names
        Source names; default all.
    force
        Fetch again even when the cached copy is good.
    console
        Where the progress bar is drawn (stderr).

    Returns
    -------
    pandas.DataFrame
        One row per release: source, release, status (ok, missing, failed),
        file, message.  ``failed`` includes a file whose bytes do not match the
        catalog's sha256 (message: the file, both hashes, what to do); ``ok``
        with a message means a damaged cached or mirror copy was met and a
        verified one obtained elsewhere.
    """
    wanted = [catalog.source(n) for n in names] if names else list(catalog.sources())
    fetchers = fetchers_for(settings)
    rows = []
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        for src in wanted:
            for rel in src.releases:
                task = bar.add_task(rel.id, total=None)

                def tick(done: int, total: int | None, _task: TaskID = task) -> None:
                    bar.update(_task, completed=done, total=total)

                status, message = "ok", ""
                notes: list[str] = []
                try:
                    fetch_release(rel, settings.cache, fetchers, progress=tick, force=force,
                                  notice=notes.append)
                    message = " ".join(notes)  # damaged files met and worked around
                except HashMismatchError as exc:
                    status, message = "failed", str(exc)
                except SourceUnavailableError as exc:
                    status, message = "missing", str(exc)
                except KeycitiesError as exc:
                    status, message = "failed", str(exc)
                bar.remove_task(task)
                rows.append({"source": src.name, "release": rel.id, "status": status,
                             "file": str(cached_path(settings.cache, rel)) if status == "ok"
                             else "", "message": message})
    return pd.DataFrame(rows)


def catalog_frame(ctx: Context) -> pd.DataFrame:
    """Every release with its URL, vintage, and cached/loaded status."""
    loaded: set[str] = set()
    if ctx.has_store():
        loaded = set(ctx.store.loaded_releases()["id"])
    rows = []
    for src in catalog.sources():
        for rel in src.releases:
            rows.append({
                "source": src.name, "release": rel.id, "published": rel.published,
                "vintage": rel.geography_vintage, "cached": is_cached(ctx.settings.cache, rel),
                "loaded": rel.id in loaded, "downloadable": rel.downloadable, "url": rel.url,
            })
    return pd.DataFrame(rows).astype({"vintage": "Int64"})
