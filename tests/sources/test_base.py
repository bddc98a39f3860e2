"""Release validation and atomic, verified fetching."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import BinaryIO, ClassVar

import pytest
from pydantic import ValidationError

from keycities.errors import HashMismatchError, SourceUnavailableError
from keycities.sources.base import (
    FakeFetcher,
    MirrorFetcher,
    Progress,
    Release,
    cached_path,
    fetch_release,
)

GOOD = b"area_code,value\nE08000024,1\n"


def release(data: bytes = GOOD, **kw: object) -> Release:
    fields: dict[str, object] = {
        "id": "test-release", "publisher": "ONS", "title": "Test", "url": "https://example.org/f.csv",
        "published": dt.date(2024, 1, 1), "reference_period": "2023", "geography_vintage": 2023,
        "sha256": hashlib.sha256(data).hexdigest(), "mirror_path": "folder/f.csv",
    }
    fields.update(kw)
    return Release(**fields)  # type: ignore[arg-type]


def test_release_id_must_be_a_slug() -> None:
    with pytest.raises(ValidationError, match="lower-case slug"):
        release(id="Not A Slug")


def test_release_sha_must_be_hex() -> None:
    with pytest.raises(ValidationError, match="64 lower-case hex"):
        release(sha256="abc")


def test_fetch_writes_verified_file(tmp_path: Path) -> None:
    rel = release()
    seen: list[tuple[int, int | None]] = []
    path = fetch_release(rel, tmp_path, [FakeFetcher({rel.id: GOOD})],
                         progress=lambda d, t: seen.append((d, t)))
    assert path == cached_path(tmp_path, rel)
    assert path.read_bytes() == GOOD
    assert seen and seen[-1] == (len(GOOD), len(GOOD))


def test_hash_mismatch_keeps_previous_good_copy(tmp_path: Path) -> None:
    rel = release()
    fetch_release(rel, tmp_path, [FakeFetcher({rel.id: GOOD})])
    with pytest.raises(HashMismatchError, match="catalog expects"):
        fetch_release(rel, tmp_path, [FakeFetcher({rel.id: b"tampered"})], force=True)
    assert cached_path(tmp_path, rel).read_bytes() == GOOD
    assert not list(cached_path(tmp_path, rel).parent.glob("*.part"))


class ExplodingFetcher:
    """Writes half a file, then fails like a dropped connection."""

    kind: ClassVar[str] = "exploding"

    def describe(self, release: Release) -> str:
        return "exploding"

    def fetch_into(self, release: Release, out: BinaryIO, progress: Progress | None) -> None:
        out.write(GOOD[:5])
        raise SourceUnavailableError("connection reset")


def test_interrupted_fetch_leaves_no_half_file(tmp_path: Path) -> None:
    rel = release()
    fetch_release(rel, tmp_path, [FakeFetcher({rel.id: GOOD})])
    with pytest.raises(SourceUnavailableError, match="connection reset"):
        fetch_release(rel, tmp_path, [ExplodingFetcher()], force=True)
    assert cached_path(tmp_path, rel).read_bytes() == GOOD
    assert not list(tmp_path.rglob("*.part"))


def test_falls_back_to_next_fetcher(tmp_path: Path) -> None:
    rel = release()
    mirror = MirrorFetcher(tmp_path / "empty-mirror")
    path = fetch_release(rel, tmp_path / "cache", [mirror, FakeFetcher({rel.id: GOOD})])
    assert path.read_bytes() == GOOD


def test_unavailable_everywhere_says_how_to_get_it(tmp_path: Path) -> None:
    rel = release()
    with pytest.raises(SourceUnavailableError, match="KEYCITIES_MIRROR"):
        fetch_release(rel, tmp_path, [MirrorFetcher(tmp_path / "nothing")])
    with pytest.raises(SourceUnavailableError, match="offline and no mirror"):
        fetch_release(rel, tmp_path, [])


def test_mirror_fetcher_copies_by_mirror_path(tmp_path: Path) -> None:
    rel = release()
    src = tmp_path / "mirror" / "folder" / "f.csv"
    src.parent.mkdir(parents=True)
    src.write_bytes(GOOD)
    path = fetch_release(rel, tmp_path / "cache", [MirrorFetcher(tmp_path / "mirror")])
    assert path.read_bytes() == GOOD


def test_release_without_a_stable_url_is_mirror_only(tmp_path: Path) -> None:
    from keycities.sources.base import HttpFetcher

    rel = release(downloadable=False)
    with pytest.raises(SourceUnavailableError, match="can only come from a mirror"):
        fetch_release(rel, tmp_path, [HttpFetcher(timeout=0.01)])
