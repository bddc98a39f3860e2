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
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, ClassVar, Literal, Protocol, runtime_checkable

import pandas as pd
from pydantic import BaseModel, ConfigDict, field_validator

from keycities.errors import HashMismatchError, SourceUnavailableError

#: Tables a source can load into.  ``fact`` rows are
#: (area_code, measure, period, value, unit); see :mod:`keycities.store.schema`.
TableName = Literal["fact", "area", "change", "alias", "boundary"]

Progress = Callable[[int, int | None], None]
"""Called with (bytes done, bytes total or None) while a file is fetched."""

OGL = "Open Government Licence v3.0"


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
    returns rows for ``table`` (without ``release_id``, which the store adds).
    """

    name: str
    table: TableName
    releases: tuple[Release, ...]

    def read(self, release: Release, path: Path) -> pd.DataFrame: ...


@dataclass(frozen=True)
class SimpleSource:
    """A :class:`Source` made from a reader function."""

    name: str
    table: TableName
    releases: tuple[Release, ...]
    reader: Callable[[Release, Path], pd.DataFrame]
    description: str = ""

    def read(self, release: Release, path: Path) -> pd.DataFrame:
        """Read ``path`` (the verified file of ``release``) into table rows."""
        return self.reader(release, path)


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
    """True when the cached copy exists and has the catalog's hash."""
    p = cached_path(cache, release)
    return p.is_file() and sha256_file(p) == release.sha256


def fetch_release(release: Release, cache: Path, fetchers: Iterable[Fetcher], *,
                  progress: Progress | None = None, force: bool = False) -> Path:
    """Make sure the verified file of ``release`` is in ``cache``; return its path.

    Each fetcher is tried in turn.  Bytes go to a temporary file in the
    destination directory, are hashed, and only a file with the catalog's
    sha256 replaces the cached copy (``os.replace`` is atomic), so an
    interrupted or corrupt fetch never leaves a half file and never damages
    the previous good copy.

    Raises
    ------
    HashMismatchError
        A fetcher delivered a file whose hash differs from the catalog's.
    SourceUnavailableError
        No fetcher could deliver the file; the message lists what was tried.
    """
    dest = cached_path(cache, release)
    if not force and dest.is_file() and sha256_file(dest) == release.sha256:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tried: list[str] = []
    for fetcher in fetchers:
        try:
            _fetch_one(fetcher, release, dest, progress)
            return dest
        except SourceUnavailableError as exc:
            tried.append(str(exc))
    raise SourceUnavailableError(
        f"{release.id} ({release.title}) is not available. Tried: "
        + (" | ".join(tried) if tried else "nothing (offline and no mirror)")
        + ". Set KEYCITIES_MIRROR / --mirror to a copy of the official files, "
        f"or download {release.url} when online."
    )



def _fetch_one(fetcher: Fetcher, release: Release, dest: Path,
               progress: Progress | None) -> None:
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            fetcher.fetch_into(release, out, progress)
        got = sha256_file(Path(tmp))
        if got != release.sha256:
            raise HashMismatchError(
                f"{release.id}: the file from {fetcher.describe(release)} has sha256 "
                f"{got[:12]}…, but the catalog expects {release.sha256[:12]}…."
                + (" The mirror holds a different file from the catalog's release."
                   if fetcher.kind == "mirror" else
                   " The publisher may have replaced the file.")
                + " Any previously fetched copy was kept."
            )
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
