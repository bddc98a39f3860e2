"""ONS Explore Local Statistics (ELS): its files as releases, and how to read them.

ELS (https://www.ons.gov.uk/explore-local-statistics/) shows about ninety
local indicators from ONS and other departments (DfE, DWP, DESNZ, OHID, DCMS,
DfT, Ofcom, ...) for every local authority, with confidence intervals where
the source has them.  Its data live in the ONS repository
``ONSdigital/explore-local-statistics-data``; this catalog is one snapshot of
it (commit :data:`COMMIT`, :data:`SNAPSHOT`), generated into
:mod:`keycities.sources._els_catalog` by ``tools/els_catalog.py``.

Catalog
    :data:`RELEASES` has one :class:`~keycities.sources.base.Release` per data
    file (id ``ons-els-<folder>-<snapshot date>``, with ``-<file>`` added where
    the file is not named after its folder).  Each data file is read with the
    metadata JSON beside it, and a ``Release`` describes exactly one file (one
    URL, one hash, one mirror path), so each JSON is a release of its own in
    :data:`METADATA_RELEASES`, id ``<data release id>-metadata``.
    :func:`metadata_release` pairs them; :func:`all_releases` lists both, for
    fetching.  A fetch puts both in the same folder of the cache, as they are
    in a mirror, which is where :func:`read_release` looks for the JSON.
    :data:`ABSENT` lists data files the snapshot lacks (only their JSON is there).
    A data release is ``published`` on the latest ``sourceDate`` of its
    indicators (when their publisher released the figures), a metadata
    release on the date in its ``_note``; either falls back to the snapshot
    date.  ``geography_vintage`` is the district boundary year of the file's
    latest period (the rule is in ``tools/els_catalog.py``); older periods
    keep the codes of their time.
Reading
    :func:`read_release` reads one data file and its JSON into the values and
    metadata frames of :mod:`keycities.sources._indicator` (the rules are in
    :mod:`keycities.sources._els_read`); :func:`read_mirror` reads every
    catalogued file of a mirror and says which it could not read, and why.

Nothing is registered in :mod:`keycities.sources.catalog` yet: the store has no
indicator table.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd

from keycities.errors import HashMismatchError, KeycitiesError, SourceUnavailableError
from keycities.sources._els_catalog import ABSENT, COMMIT, FILES, SNAPSHOT, ElsFile
from keycities.sources._els_read import META_EXTRA, VALUE_EXTRA, ElsFormatError, read_files
from keycities.sources._indicator import (
    META_COLUMNS,
    VALUE_COLUMNS,
    IndicatorFrames,
    MirrorRead,
    tables_reader,
)
from keycities.sources.base import OGL, Notice, Release, SimpleSource, sha256_file

#: Folder of the ELS files in a mirror.
FOLDER = "ons_explore_local_statistics"
PUBLISHER = "Office for National Statistics"
REPOSITORY = "https://github.com/ONSdigital/explore-local-statistics-data"
RAW = f"https://raw.githubusercontent.com/ONSdigital/explore-local-statistics-data/{COMMIT}/"
METADATA_SUFFIX = "-metadata"


def _release_id(path: str) -> str:
    folder, name = path.split("/", 1)
    stem = name.rsplit(".", 1)[0]
    slug = folder if stem == folder else f"{folder}-{stem}"
    return f"ons-els-{slug}-{SNAPSHOT.isoformat()}"


def _releases(f: ElsFile) -> tuple[Release, Release]:
    """The data file's release and its metadata JSON's release."""
    folder = f.path.split("/", 1)[0]
    json_path = f.path.rsplit(".", 1)[0] + ".json"
    snapshot = f"Repository snapshot {COMMIT[:7]} of {SNAPSHOT:%d %B %Y}."
    data = Release(
        id=_release_id(f.path), publisher=PUBLISHER,
        title=f"Explore Local Statistics data: {f.title}", url=RAW + f.path,
        landing_page=f"{REPOSITORY}/tree/{COMMIT}/{folder}", published=f.published,
        reference_period=f.reference_period, geography_vintage=f.geography_vintage,
        licence=OGL, sha256=f.sha256, mirror_path=f"{FOLDER}/{f.path}",
        notes=f"{f.notes} {snapshot}",
    )
    meta = data.model_copy(update={
        "id": data.id + METADATA_SUFFIX, "title": f"Explore Local Statistics metadata: {f.title}",
        "url": RAW + json_path, "published": f.metadata_published, "geography_vintage": None,
        "sha256": f.metadata_sha256, "mirror_path": f"{FOLDER}/{json_path}",
        "notes": f"Labels, units, sources and caveats of {f.path.rsplit('/', 1)[-1]}, as "
                 f"Explore Local Statistics shows them. {snapshot}",
    })
    return data, meta


_PAIRS = tuple(_releases(f) for f in FILES)

#: One release per ELS data file.
RELEASES: tuple[Release, ...] = tuple(data for data, _ in _PAIRS)
#: One release per metadata JSON, in the order of :data:`RELEASES`.
METADATA_RELEASES: tuple[Release, ...] = tuple(meta for _, meta in _PAIRS)
_METADATA = {data.id: meta for data, meta in _PAIRS}
_BY_ID = {r.id: r for pair in _PAIRS for r in pair}


def all_releases() -> tuple[Release, ...]:
    """Every ELS file the tool reads: each data release followed by its metadata release."""
    return tuple(r for pair in _PAIRS for r in pair)


def find_release(release_id: str) -> Release:
    """The ELS release (data or metadata) with id ``release_id``.

    Raises
    ------
    KeycitiesError
        No such release; the message names the closest ids.
    """
    if release_id in _BY_ID:
        return _BY_ID[release_id]
    close = difflib.get_close_matches(release_id, list(_BY_ID), n=3, cutoff=0.6)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise KeycitiesError(f"No Explore Local Statistics release {release_id!r}.{hint}")


def metadata_release(release: Release) -> Release:
    """The release of the metadata JSON that goes with data release ``release``.

    Raises
    ------
    KeycitiesError
        ``release`` is not an ELS data release.
    """
    if release.id not in _METADATA:
        raise KeycitiesError(f"{release.id} is not an Explore Local Statistics data release; "
                             "its metadata cannot be found.")
    return _METADATA[release.id]


def _check_hash(release: Release, path: Path) -> None:
    """Raise unless ``path`` exists and has the release's sha256."""
    if not path.is_file():
        raise SourceUnavailableError(
            f"{release.id}: {path} is missing. Fetch it with the other Explore Local "
            f"Statistics files (from a mirror: KEYCITIES_MIRROR / --mirror; or from {release.url})."
        )
    got = sha256_file(path)
    if got != release.sha256:
        raise HashMismatchError(
            f"{release.id}: {path} has sha256 {got}, but the catalog expects {release.sha256}. "
            f"It is damaged or another edition: replace it with {release.url}."
        )


def read_release(release: Release, path: Path, *, metadata_path: Path | None = None,
                 notice: Notice | None = None) -> IndicatorFrames:
    """Read one ELS data file and its metadata JSON into the two indicator frames.

    Parameters
    ----------
    release
        A data release of :data:`RELEASES`.
    path
        The release's verified data file (the caller checks its hash, as for
        every :class:`~keycities.sources.base.Source`).
    metadata_path
        The metadata JSON; by default the ``.json`` file beside ``path``, as
        in a mirror or cache.  Its hash is checked here.
    notice
        Called with a message for each thing worked around (rows dropped,
        cells that are not numbers).

    Returns
    -------
    IndicatorFrames
        ``values`` (:data:`VALUE_COLUMNS` and ``geography``) and ``meta``
        (:data:`META_COLUMNS` and ``standardised``), without ``release_id``.

    Raises
    ------
    SourceUnavailableError, HashMismatchError
        The metadata JSON is missing or not the catalog's.
    ElsFormatError
        A file is not in a layout the reader knows.
    """
    meta_release = metadata_release(release)
    json_path = metadata_path or path.with_suffix(".json")
    _check_hash(meta_release, json_path)
    values, meta = read_files(path, json_path, notice=notice)
    return IndicatorFrames(values, meta)


def _read_from(root: Path, release: Release, *, verify: bool,
               notice: Notice | None) -> IndicatorFrames:
    path = root / str(release.mirror_path)
    if verify:
        _check_hash(release, path)
    elif not path.is_file():
        raise SourceUnavailableError(f"{release.id}: {path} is not in the mirror.")
    return read_release(release, path, notice=notice)


def _uncatalogued(root: Path) -> list[tuple[str, str]]:
    """Data files in the mirror's ELS folder that the catalog does not know."""
    known = {r.mirror_path for r in RELEASES}
    return [(f"{FOLDER}/{p.relative_to(root / FOLDER).as_posix()}",
             "not in the catalog (added after the snapshot?): regenerate it with "
             "tools/els_catalog.py")
            for p in sorted((root / FOLDER).glob("*/*.csv"))
            if f"{FOLDER}/{p.relative_to(root / FOLDER).as_posix()}" not in known]


def read_mirror(root: Path, *, releases: tuple[Release, ...] = RELEASES, verify: bool = True,
                notice: Notice | None = None) -> MirrorRead:
    """Read every catalogued ELS file in a mirror.

    Parameters
    ----------
    root
        The mirror root (the folder that holds ``ons_explore_local_statistics/``).
    releases
        The data releases to read (all by default).
    verify
        Check each data file's sha256 against the catalog (metadata JSONs are
        always checked).
    notice
        Called with a message for each thing worked around.

    Returns
    -------
    MirrorRead
        The values and metadata of every file read, with a ``release_id``
        column first, and (path, reason) for each file that could not be read:
        missing or damaged files, unknown layouts, the data files the
        snapshot lacks (:data:`ABSENT`) and files the catalog does not know.
    """
    values, metas, unread = [], [], [(f"{FOLDER}/{p}", why) for p, why in ABSENT]
    for release in releases:
        try:
            got = _read_from(root, release, verify=verify, notice=notice)
        except (KeycitiesError, OSError, ValueError) as exc:
            unread.append((str(release.mirror_path), str(exc)))
            continue
        values.append(got.values.assign(release_id=release.id))
        metas.append(got.meta.assign(release_id=release.id))
    unread.extend(_uncatalogued(root))
    return MirrorRead(_frame(values, (*VALUE_COLUMNS, *VALUE_EXTRA)),
                      _frame(metas, (*META_COLUMNS, *META_EXTRA)), unread)


def _frame(parts: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    """Parts concatenated with ``release_id`` first (an empty frame if none)."""
    cols = ["release_id", *columns]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


__all__ = ["ABSENT", "COMMIT", "FOLDER", "METADATA_RELEASES", "RELEASES", "SNAPSHOT",
           "ElsFormatError", "IndicatorFrames", "MirrorRead", "all_releases", "find_release",
           "metadata_release", "read_mirror", "read_release"]


READER_VERSION = "1"

SOURCES: tuple[SimpleSource, ...] = (
    SimpleSource(
        name="els",
        table="indicator_value",
        releases=RELEASES,
        reader=tables_reader(read_release),
        description="ONS Explore Local Statistics: about ninety local indicators with their "
                    "metadata and 95% confidence intervals.",
        companions=lambda release: (metadata_release(release),),
    ),
)
