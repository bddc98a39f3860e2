"""The one interface every publisher's data comes through.

A :class:`Release` is a catalog entry *and* the provenance record of every
value read from it: publisher, title, official URL, dates, geography vintage,
licence, the sha256 of the file and its relative path in a mirror.  Its ``id``
is stable and is stored on every fact row.

A :class:`Source` groups the releases of one dataset and knows how to read a
release's file into a tidy table.  Files come through a :class:`Fetcher`:
:class:`HttpFetcher` (the official URL), :class:`MirrorFetcher` (a local copy
laid out by ``mirror_path``) or :class:`FakeFetcher` (unit tests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, ClassVar, Literal, Protocol, runtime_checkable

import pandas as pd
from pydantic import BaseModel, ConfigDict, field_validator

from keycities.errors import HashMismatchError, KeycitiesError, SourceUnavailableError
from keycities.sources._indicator import META_COLUMNS, VALUE_COLUMNS

if sys.platform != "win32":
    import fcntl

#: Tables a source can load into.  ``fact`` rows are
#: (area_code, measure, period, value, unit); see :data:`READER_COLUMNS`.
TableName = Literal["fact", "area", "change", "alias", "boundary", "indicator",
                    "indicator_value"]

#: Columns a reader must return, per table (the store adds ``release_id``
#: and the geography vintage; see :mod:`keycities.store.schema`).
READER_COLUMNS: dict[str, tuple[str, ...]] = {
    "fact": ("area_code", "measure", "period", "value", "unit"),
    "area": ("code", "name", "vintage_start", "vintage_end", "country_code",
             "country_name", "region_code", "region_name"),
    "change": ("old_code", "old_name", "new_code", "new_name", "type", "year"),
    "alias": ("alias", "code"),
    "boundary": ("code", "name", "geojson"),
    "indicator": META_COLUMNS,
    "indicator_value": VALUE_COLUMNS,
}

Rows = pd.DataFrame | Mapping[str, pd.DataFrame]
"""What a reader returns: rows for its source's table, or rows for several tables
(table name -> rows), all from one file and loaded together."""

ExtraReader = Callable[["Release", Path], Mapping[str, pd.DataFrame]]
"""Reads more tables from a release another source owns (e.g. the age structure
from the population workbooks); see :func:`keycities.sources.catalog.extra_readers`."""

Progress = Callable[[int, int | None], None]
"""Called with (bytes done, bytes total or None) while a file is fetched."""

Notice = Callable[[str], None]
"""Called with a message about a damaged file that was worked around."""

OGL = "Open Government Licence v3.0"

#: Suffix of a cached file set aside because its bytes no longer matched its hash.
CORRUPT_SUFFIX = ".corrupt"

#: Part files are locked with ``flock`` while written (not on Windows).
_LOCKING = sys.platform != "win32"


class Release(BaseModel):
    """One published file of official statistics, as the catalog knows it.

    Parameters
    ----------
    id
        Stable identifier stored on every row read from this file,
        e.g. ``"ons-mye-mid2022-lad2023"``.
    publisher, title
        Who published it and under what title.
    url
        Official download URL of the exact file.
    landing_page
        The dataset page the file is listed on, when different.
    published
        Release date.
    reference_period
        What the figures refer to, e.g. ``"mid-2001 to mid-2020"``.
    geography_vintage
        Boundary year of the areas in the file (see
        :data:`keycities.geography.vintage.Vintage`); ``None`` for files that
        are not about areas.
    licence
        Licence of the file.
    sha256
        Hash of the exact file (hex); fetches are verified against it.
    mirror_path
        Relative path of the file in a mirror directory; ``None`` for data
        shipped inside a Python package.
    notes
        Caveats worth carrying with every figure.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    publisher: str
    title: str
    url: str
    landing_page: str | None = None
    published: dt.date
    reference_period: str
    geography_vintage: int | None
    licence: str = OGL
    sha256: str
    mirror_path: str | None
    notes: str = ""
    downloadable: bool = True
    """False when ``url`` is a landing page or a moving "latest" link that will
    not serve these exact bytes: the file can then only come from a mirror."""

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, v: str) -> str:
        if not v or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789-_." for c in v):
            raise ValueError(f"release id must be a lower-case slug, got {v!r}")
        return v

    @field_validator("sha256")
    @classmethod
    def _sha_is_hex(cls, v: str) -> str:
        if len(v) != 64 or any(c not in "0123456789abcdef" for c in v):
            raise ValueError("sha256 must be 64 lower-case hex digits")
        return v

    @property
    def filename(self) -> str:
        """The file's base name."""
        return Path(self.mirror_path or self.id).name

    def citation(self) -> str:
        """One line naming the release, for figure footnotes."""
        return f"{self.publisher}, {self.title} ({self.published:%d %b %Y}) <{self.url}>"


@runtime_checkable
class Source(Protocol):
    """A dataset: its releases and how to read one of their files.

    ``read`` is pure: given the release and the path of its verified file it
    returns rows for ``table`` (without ``release_id``, which the store adds), or
    rows for several tables (:data:`Rows`).
    """

    name: str
    table: TableName
    releases: tuple[Release, ...]

    def read(self, release: Release, path: Path) -> Rows: ...


@dataclass(frozen=True)
class SimpleSource:
    """A :class:`Source` made from a reader function."""

    name: str
    table: TableName
    releases: tuple[Release, ...]
    reader: Callable[[Release, Path], Rows]
    description: str = ""
    companions: Callable[[Release], tuple[Release, ...]] | None = None
    """Files a release is read with (fetched beside it first, each its own release)."""

    def read(self, release: Release, path: Path) -> Rows:
        """Read ``path`` (the verified file of ``release``) into table rows."""
        return self.reader(release, path)

    def companions_of(self, release: Release) -> tuple[Release, ...]:
        """The releases fetched with ``release`` (none by default)."""
        return self.companions(release) if self.companions is not None else ()


# --------------------------------------------------------------------------- fetch


def sha256_file(path: Path, *, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


class Fetcher(Protocol):
    """Puts the bytes of a release's file into an open binary file."""

    kind: ClassVar[str]

    def describe(self, release: Release) -> str: ...

    def fetch_into(self, release: Release, out: BinaryIO,
                   progress: Progress | None) -> None: ...


@dataclass
class MirrorFetcher:
    """Copies files from a local mirror laid out by ``Release.mirror_path``."""

    root: Path
    kind: ClassVar[str] = "mirror"

    def describe(self, release: Release) -> str:
        return str(self.root / (release.mirror_path or "?"))

    def fetch_into(self, release: Release, out: BinaryIO,
                   progress: Progress | None) -> None:
        if release.mirror_path is None:
            raise SourceUnavailableError(f"{release.id} is package data, not a mirrored file")
        src = self.root / release.mirror_path
        if not src.is_file():
            raise SourceUnavailableError(f"{release.id}: not in the mirror (looked for {src})")
        total = src.stat().st_size
        done = 0
        with open(src, "rb") as f:
            while block := f.read(1 << 20):
                out.write(block)
                done += len(block)
                if progress:
                    progress(done, total)


@dataclass
class HttpFetcher:
    """Downloads a release's file from its official URL."""

    timeout: float = 60.0
    kind: ClassVar[str] = "download"

    def describe(self, release: Release) -> str:
        return release.url

    def fetch_into(self, release: Release, out: BinaryIO,
                   progress: Progress | None) -> None:
        import httpx

        if not release.downloadable:
            raise SourceUnavailableError(
                f"{release.id}: {release.url} does not serve this exact file (it is a landing "
                "page or a link to the latest edition), so it can only come from a mirror"
            )

        try:
            with httpx.stream("GET", release.url, timeout=self.timeout,
                              follow_redirects=True) as r:
                r.raise_for_status()
                total = int(r.headers["content-length"]) if "content-length" in r.headers else None
                done = 0
                for block in r.iter_bytes(1 << 16):
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(done, total)
        except httpx.HTTPError as exc:
            raise SourceUnavailableError(
                f"{release.id}: could not download {release.url} ({exc.__class__.__name__}: {exc})."
            ) from exc


@dataclass
class FakeFetcher:
    """Serves bytes from memory, for unit tests."""

    files: dict[str, bytes] = field(default_factory=dict)
    kind: ClassVar[str] = "fake"

    def describe(self, release: Release) -> str:
        return f"fake:{release.id}"

    def fetch_into(self, release: Release, out: BinaryIO,
                   progress: Progress | None) -> None:
        if release.id not in self.files:
            raise SourceUnavailableError(f"{release.id}: fake fetcher has no file")
        data = self.files[release.id]
        out.write(data)
        if progress:
            progress(len(data), len(data))


def cached_path(cache: Path, release: Release) -> Path:
    """Where a release's verified file lives in the cache."""
    return cache / (release.mirror_path or release.id)


def is_cached(cache: Path, release: Release) -> bool:
    """True when the cached copy exists and has the catalog's hash (it is re-hashed)."""
    p = cached_path(cache, release)
    return p.is_file() and sha256_file(p) == release.sha256


def fetch_release(release: Release, cache: Path, fetchers: Iterable[Fetcher], *,
                  progress: Progress | None = None, force: bool = False,
                  notice: Notice | None = None) -> Path:
    """Make sure the verified file of ``release`` is in ``cache``; return its path.

    A cached copy is re-hashed on every use.  One whose bytes no longer match
    the catalog (truncated or corrupted on disk) is moved aside to
    ``<name>.corrupt``, reported through ``notice``, and fetched again.

    Each fetcher is tried in turn; one that delivers the wrong bytes (a
    damaged mirror file, a replaced download) is reported and the next is
    tried.  Bytes go to a temporary ``.part`` file in the destination folder,
    are flushed to disk and hashed, and only a file with the catalog's sha256
    replaces the cached copy (``os.replace`` is atomic), so a fetch killed at
    any point never leaves a half file under the final name.  ``.part`` files
    left by a killed fetch are removed by the next fetch of the same file.

    Parameters
    ----------
    release
        The release whose file is wanted.
    cache
        The cache folder (laid out like a mirror).
    fetchers
        Where to get the file, in order of preference.
    progress
        Called with (bytes done, bytes total) while copying.
    force
        Fetch again even when the cached copy is good.
    notice
        Called with a message for each damaged file met on the way (cached
        copy or fetcher) when a good copy was nevertheless obtained.

    Raises
    ------
    HashMismatchError
        Damaged bytes were met (in the cache or from a fetcher) and no fetcher
        delivered the catalog's file; the message names each file, its hash
        and the expected one, and what to do.
    SourceUnavailableError
        No fetcher could deliver the file; the message lists what was tried.
    """
    dest = cached_path(cache, release)
    damaged: list[str] = []
    if dest.parent.is_dir():
        _remove_stale_parts(dest)
    dest_damaged = False
    if not force and dest.is_file():
        got = sha256_file(dest)
        if got == release.sha256:
            return dest
        damaged.append(_set_aside(dest, release, got))
        dest_damaged = True
    dest.parent.mkdir(parents=True, exist_ok=True)
    tried: list[str] = []
    for fetcher in fetchers:
        try:
            _fetch_one(fetcher, release, dest, progress)
        except HashMismatchError as exc:
            damaged.append(str(exc))
            continue
        except SourceUnavailableError as exc:
            tried.append(str(exc))
            continue
        if notice is not None:
            for message in damaged:
                notice(f"{message} A verified copy was then obtained from "
                       f"{fetcher.describe(release)}.")
        return dest
    if damaged:
        kept = "" if dest_damaged else " Any cached copy was left as it was."
        raise HashMismatchError(
            " ".join(damaged + tried) + f" No verified copy of {release.id} could be had.{kept}"
        )
    raise SourceUnavailableError(
        f"{release.id} ({release.title}) is not available. Tried: "
        + (" | ".join(tried) if tried else "nothing (offline and no mirror)")
        + ". Set KEYCITIES_MIRROR / --mirror to a copy of the official files, "
        f"or download {release.url} when online."
    )


def _set_aside(dest: Path, release: Release, got: str) -> str:
    """Move a damaged cached copy out of the way; describe what was found."""
    size = dest.stat().st_size
    aside = dest.with_name(dest.name + CORRUPT_SUFFIX)
    os.replace(dest, aside)
    return (
        f"{release.id}: the cached file {dest} ({size:,} bytes) has sha256 {got}, but the "
        f"catalog expects {release.sha256}: it was truncated or corrupted on disk. It was "
        f"moved to {aside.name} (delete it once inspected)."
    )


def _mismatch(fetcher: Fetcher, release: Release, got: str, size: int) -> HashMismatchError:
    if fetcher.kind == "mirror":
        todo = (" The mirror file is truncated, corrupted or a different edition: replace it "
                f"with the official file from {release.url} (or restore it from a good copy).")
    elif fetcher.kind == "download":
        todo = (" The publisher may have replaced the file: use a mirror (--mirror / "
                "KEYCITIES_MIRROR) holding the catalog's edition, or report it.")
    else:
        todo = ""
    return HashMismatchError(
        f"{release.id}: the file from {fetcher.describe(release)} ({size:,} bytes) has sha256 "
        f"{got}, but the catalog expects {release.sha256}.{todo}"
    )


def _fetch_one(fetcher: Fetcher, release: Release, dest: Path,
               progress: Progress | None) -> None:
    fd, tmp = _new_part(dest)
    try:
        with os.fdopen(fd, "wb") as out:
            fetcher.fetch_into(release, out, progress)
            out.flush()
            os.fsync(out.fileno())
            size = out.tell()
            got = sha256_file(Path(tmp))
            if got != release.sha256:
                raise _mismatch(fetcher, release, got, size)
            if _LOCKING:
                # Replace while still holding the lock, so that no other
                # process takes the finished part for a stale one.
                os.replace(tmp, dest)
        if not _LOCKING:
            os.replace(tmp, dest)
        fsync_path(dest.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _new_part(dest: Path) -> tuple[int, str]:
    """A new ``.part`` file next to ``dest``, locked (POSIX) while this process writes it."""
    for _attempt in range(5):
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        if not _LOCKING:
            return fd, tmp
        _lock(fd, wait=True)
        try:
            if os.path.samestat(os.fstat(fd), os.stat(tmp)):
                return fd, tmp
        except FileNotFoundError:
            pass
        # Another process's clean-up removed it between creation and locking.
        os.close(fd)
    raise KeycitiesError(f"Could not create a temporary file next to {dest}; is the cache "
                         "folder being cleaned by another program?")


def _remove_stale_parts(dest: Path) -> None:
    """Delete ``.part`` files of ``dest`` that no live process is writing.

    A writer holds an exclusive ``flock`` on its part file, which the kernel
    releases when the process dies, however it dies.  On Windows (no
    ``flock``) a file open in another process cannot be deleted, so trying is
    safe there too.
    """
    for part in dest.parent.glob(f".{dest.name}.*.part"):
        try:
            if not _LOCKING:
                part.unlink()
                continue
            with open(part, "rb") as f:
                if _lock(f.fileno(), wait=False):
                    part.unlink()
        except OSError:
            continue


def _lock(fd: int, *, wait: bool) -> bool:
    """Take an exclusive ``flock`` on ``fd``; False if another process holds it."""
    if sys.platform == "win32":  # pragma: no cover - no flock; see _remove_stale_parts
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def fsync_path(path: Path) -> None:
    """Flush a file, or a folder's entries (a rename), to disk, where the platform allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
