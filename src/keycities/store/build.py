"""Build the evidence store from every release the catalog knows.

For each source and release: fetch the file (cache, then mirror, then the
official URL), verify its hash, read it, and replace that release's rows in
one transaction.  A release already loaded with the same file hash and reader
version is skipped, so re-running is idempotent and rebuilding one source
(``only=[...]``) leaves the rest alone.  A release whose file cannot be had is
reported as missing with how to get it; the build goes on with the rest.

Durability: each release is replaced in one transaction, so a build killed at
any point (even SIGKILL) leaves every release either as it was or fully
loaded, and the next build finishes the job.  A file whose bytes no longer
match the catalog's sha256 (a truncated mirror file, a corrupted cached copy)
is caught when it is used: the release is reported ``failed``, with the file,
both hashes and what to do, and its previously loaded rows stay in the store.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import pandas as pd

from keycities.errors import HashMismatchError, KeycitiesError, SourceUnavailableError
from keycities.settings import Settings
from keycities.sources import authorities, catalog
from keycities.sources.base import (
    Fetcher,
    HttpFetcher,
    MirrorFetcher,
    Release,
    Source,
    fetch_release,
)
from keycities.store.derived import build_derived
from keycities.store.report import BuildReport, Observer, Outcome
from keycities.store.store import Store


def fetchers_for(settings: Settings) -> list[Fetcher]:
    """Mirror first (when configured), then the official URLs (unless offline)."""
    out: list[Fetcher] = []
    if settings.mirror is not None:
        out.append(MirrorFetcher(settings.mirror))
    if not settings.offline:
        out.append(HttpFetcher(timeout=settings.http_timeout))
    return out


def build_store(store: Store, settings: Settings, *, only: Sequence[str] | None = None,
                force: bool = False, observer: Observer | None = None,
                fetchers: Sequence[Fetcher] | None = None) -> BuildReport:
    """Load every available release into ``store``.

    Parameters
    ----------
    store
        The store to write.
    settings
        Mirror, cache and offline settings.
    only
        Source names to (re)build; default all.
    force
        Reload releases even when already loaded from the same file.
    observer
        Called with a line of progress for each step.
    fetchers
        Override where files come from (tests).
    """
    t0 = time.perf_counter()
    say = observer or (lambda _msg: None)
    report = BuildReport()
    fetch_from = list(fetchers) if fetchers is not None else fetchers_for(settings)
    wanted = set(only) if only else None
    _check_names(wanted)
    done = _loaded_keys(store)
    if wanted is None or "authorities" in wanted:
        report.outcomes.append(_load_package_areas(store, done, force))
    plan = [(s, r) for s in catalog.sources() if wanted is None or s.name in wanted
            for r in s.releases]
    for i, (src, rel) in enumerate(plan, start=1):
        say(f"[{i}/{len(plan)}] {src.name}: {rel.id}")
        version = _reader_version(src.name, rel.id)
        if not force and done.get(rel.id) == (rel.sha256, version):
            report.outcomes.append(Outcome(src.name, rel, "unchanged"))
            continue
        report.outcomes.append(_load_one(store, settings, fetch_from, src, rel, version,
                                         had=rel.id in done))
    if wanted is None or "postcodes" in wanted or "split_weights" in wanted:
        report.outcomes.extend(_derived(store, done, force=force, observer=say))
    report.seconds = time.perf_counter() - t0
    return report


def _check_names(wanted: set[str] | None) -> None:
    if wanted is None:
        return
    known = {s.name for s in catalog.sources()} | {"authorities", "postcodes", "split_weights"}
    unknown = wanted - known
    if unknown:
        raise KeycitiesError(
            f"Unknown source(s) {sorted(unknown)}. Known: {', '.join(sorted(known))}."
        )


def _loaded_keys(store: Store) -> dict[str, tuple[str, str]]:
    df = store.query("SELECT id, sha256, reader_version FROM release")
    return {str(i): (str(h), str(v)) for i, h, v in
            zip(df["id"], df["sha256"], df["reader_version"], strict=True)}


def _reader_version(source_name: str, release_id: str) -> str:
    """The source's reader version, with those of any extra readers of the release."""
    version = "1"
    for module in catalog.all_source_modules():
        if any(s.name == source_name for s in module.SOURCES):
            version = str(getattr(module, "READER_VERSION", "1"))
    extra = "".join(f"+{v}" for v, _ in catalog.extra_readers(release_id))
    return version + extra


def _load_one(store: Store, settings: Settings, fetch_from: Sequence[Fetcher], src: Source,
              rel: Release, version: str, *, had: bool) -> Outcome:
    name = src.name
    t = time.perf_counter()
    notes: list[str] = []
    companions: tuple[Release, ...] = getattr(src, "companions_of", lambda _r: ())(rel)
    try:
        for other in companions:  # read beside the main file: fetched first
            fetch_release(other, settings.cache, fetch_from, notice=notes.append)
        path = fetch_release(rel, settings.cache, fetch_from, notice=notes.append)
    except SourceUnavailableError as exc:
        return Outcome(name, rel, "missing", message=str(exc), seconds=time.perf_counter() - t)
    except HashMismatchError as exc:
        return Outcome(name, rel, "failed", message=f"{exc} {_kept(had)}",
                       seconds=time.perf_counter() - t)
    except KeycitiesError as exc:
        return Outcome(name, rel, "failed", message=str(exc), seconds=time.perf_counter() - t)
    try:
        rows = src.read(rel, path)
        tables: dict[str, pd.DataFrame] = (dict(rows) if isinstance(rows, Mapping)
                                           else {str(src.table): rows})
        for _version, reader in catalog.extra_readers(rel.id):
            tables.update(reader(rel, path))
        n = store.load_release(rel, source=name, table=src.table, rows=tables,
                               reader_version=version, also=companions)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the build
        msg = f"could not read {path.name}: {exc.__class__.__name__}: {exc} {_kept(had)}"
        return Outcome(name, rel, "failed", message=msg, seconds=time.perf_counter() - t)
    return Outcome(name, rel, "loaded", rows=n, message=" ".join(notes),
                   seconds=time.perf_counter() - t)


def _kept(had: bool) -> str:
    """What a failed release leaves in the store."""
    if had:
        return ("The rows previously loaded for this release were kept unchanged; "
                "`keycities build` again once the file is fixed.")
    return "Nothing was loaded for this release; `keycities build` again once the file is fixed."


def _load_package_areas(store: Store, done: dict[str, tuple[str, str]],
                        force: bool) -> Outcome:
    rel = authorities.RELEASE
    if not force and done.get(rel.id) == (rel.sha256, authorities.READER_VERSION):
        return Outcome("authorities", rel, "unchanged")
    t = time.perf_counter()
    try:
        n = store.load_release(rel, source="authorities", table="area",
                               rows=authorities.read_package(),
                               reader_version=authorities.READER_VERSION)
    except KeycitiesError as exc:  # the installed package data fail their hash
        return Outcome("authorities", rel, "failed", message=f"{exc} {_kept(rel.id in done)}",
                       seconds=time.perf_counter() - t)
    return Outcome("authorities", rel, "loaded", rows=n, seconds=time.perf_counter() - t)


def _derived(store: Store, done: dict[str, tuple[str, str]], *, force: bool,
             observer: Observer) -> list[Outcome]:
    """The derived tables; a damaged package leaves their previous rows in place."""
    from keycities.sources import postcodes as pc  # deferred: pyarrow and the postcode reader

    try:
        return build_derived(store, done, force=force, observer=observer)
    except KeycitiesError as exc:
        had = pc.ONSPD_RELEASE.id in done
        return [Outcome("postcodes", pc.ONSPD_RELEASE, "failed", message=f"{exc} {_kept(had)}")]
