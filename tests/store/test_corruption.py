"""Damaged files are caught by their hash when used, and the good data stay in use.

Unit tests use tiny synthetic files; the build tests copy the one mirror file
they need to a temporary mirror and damage that copy (never the shared mirror).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from keycities.errors import HashMismatchError
from keycities.settings import Settings
from keycities.sources.base import (
    CORRUPT_SUFFIX,
    FakeFetcher,
    MirrorFetcher,
    Release,
    cached_path,
    fetch_release,
    is_cached,
    sha256_file,
)
from keycities.store.build import build_store
from keycities.store.store import Store

GOOD = b"area_code,value\nE08000024,1\nE08000025,2\n"


def release(data: bytes = GOOD) -> Release:
    return Release(id="test-release", publisher="ONS", title="Test",
                   url="https://example.org/f.csv", published=dt.date(2024, 1, 1),
                   reference_period="2023", geography_vintage=2023,
                   sha256=hashlib.sha256(data).hexdigest(), mirror_path="folder/f.csv")


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


# ------------------------------------------------------------------ fetching


def test_flipped_byte_in_cache_is_reported_set_aside_and_refetched(tmp_path: Path) -> None:
    rel = release()
    write(tmp_path / "mirror" / "folder" / "f.csv", GOOD)
    cached = write(cached_path(tmp_path / "cache", rel), GOOD)
    flip(cached, 3)
    bad_hash = sha256_file(cached)
    notes: list[str] = []
    path = fetch_release(rel, tmp_path / "cache", [MirrorFetcher(tmp_path / "mirror")],
                         notice=notes.append)
    assert path.read_bytes() == GOOD
    assert len(notes) == 1
    assert str(cached) in notes[0] and bad_hash in notes[0] and rel.sha256 in notes[0]
    assert "mirror" in notes[0]  # says where the good copy came from
    aside = cached.with_name(cached.name + CORRUPT_SUFFIX)
    assert aside.read_bytes() != GOOD and sha256_file(aside) == bad_hash


def test_truncated_mirror_file_is_refused_with_both_hashes_and_what_to_do(
        tmp_path: Path) -> None:
    rel = release()
    src = write(tmp_path / "mirror" / "folder" / "f.csv", GOOD[:10])
    with pytest.raises(HashMismatchError) as info:
        fetch_release(rel, tmp_path / "cache", [MirrorFetcher(tmp_path / "mirror")])
    msg = str(info.value)
    assert str(src) in msg and "(10 bytes)" in msg
    assert hashlib.sha256(GOOD[:10]).hexdigest() in msg and rel.sha256 in msg
    assert "replace it with the official file from https://example.org/f.csv" in msg
    cache = tmp_path / "cache"
    assert not cached_path(cache, rel).exists()
    assert not list(cache.rglob("*.part"))


def test_damaged_mirror_falls_back_to_the_next_fetcher_and_says_so(tmp_path: Path) -> None:
    rel = release()
    write(tmp_path / "mirror" / "folder" / "f.csv", GOOD[:-1])
    notes: list[str] = []
    path = fetch_release(rel, tmp_path / "cache",
                         [MirrorFetcher(tmp_path / "mirror"), FakeFetcher({rel.id: GOOD})],
                         notice=notes.append)
    assert path.read_bytes() == GOOD
    assert len(notes) == 1 and "fake:test-release" in notes[0] and rel.sha256 in notes[0]


def test_damaged_cache_and_mirror_name_both_files(tmp_path: Path) -> None:
    rel = release()
    src = write(tmp_path / "mirror" / "folder" / "f.csv", GOOD[:-3])
    cached = write(cached_path(tmp_path / "cache", rel), GOOD + b"junk")
    with pytest.raises(HashMismatchError) as info:
        fetch_release(rel, tmp_path / "cache", [MirrorFetcher(tmp_path / "mirror")])
    msg = str(info.value)
    assert str(cached) in msg and str(src) in msg and CORRUPT_SUFFIX in msg
    assert not cached.exists()  # never a damaged file under the final name


@settings(max_examples=40, deadline=None)
@given(data=st.binary(min_size=1, max_size=200), cut=st.integers(min_value=0),
       at=st.integers(min_value=0), truncate=st.booleans())
def test_any_truncation_or_flipped_byte_is_caught(tmp_path_factory: pytest.TempPathFactory,
                                                  data: bytes, cut: int, at: int,
                                                  truncate: bool) -> None:
    cache = tmp_path_factory.mktemp("cache")
    rel = release(data)
    cached = write(cached_path(cache, rel), data)
    assert is_cached(cache, rel)
    if truncate:
        cached.write_bytes(data[: cut % len(data)])
    else:
        flip(cached, at % len(data))
    assert not is_cached(cache, rel)
    with pytest.raises(HashMismatchError, match=rel.sha256):
        fetch_release(rel, cache, [])
    assert not cached.exists()


def test_stale_part_files_are_removed_but_live_ones_kept(tmp_path: Path) -> None:
    rel = release()
    cache = tmp_path / "cache"
    dest = write(cached_path(cache, rel), GOOD)
    stale = write(dest.with_name(f".{dest.name}.dead1.part"), b"half")
    live = write(dest.with_name(f".{dest.name}.live1.part"), b"half")
    other = write(dest.with_name(".other.csv.x.part"), b"not ours")
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # as a running fetch holds it
        fetch_release(rel, cache, [])
        assert not stale.exists() and live.exists() and other.exists()
    fetch_release(rel, cache, [])  # the writer is gone: its lock went with it
    assert not live.exists() and other.exists()


# ------------------------------------------------------------------ building

REFERENDUM = "eu_referendum_2016/EU-referendum-result-data.csv"
REL_ID = "ec-eu-referendum-2016"


@pytest.fixture
def small_mirror(mirror: Path, tmp_path: Path) -> Path:
    """A writable copy of the one mirror file these tests damage."""
    root = tmp_path / "mirror"
    (root / REFERENDUM).parent.mkdir(parents=True)
    shutil.copyfile(mirror / REFERENDUM, root / REFERENDUM)
    return root


def rows_of(store: Store) -> tuple[str, object]:
    df = store.query("SELECT * FROM fact WHERE release_id = ? ORDER BY ALL", [REL_ID])
    loaded = store.query("SELECT loaded_at FROM release WHERE id = ?", [REL_ID])
    assert len(df) > 1000
    return hashlib.sha256(df.to_csv(index=False).encode()).hexdigest(), loaded.iloc[0, 0]


@pytest.mark.mirror
def test_damaged_files_fail_the_release_and_keep_its_loaded_rows(small_mirror: Path,
                                                                 tmp_path: Path) -> None:
    settings_ = Settings(store=tmp_path / "k.duckdb", mirror=small_mirror,
                         cache=tmp_path / "cache", offline=True)
    with Store(settings_.store) as s:
        assert [o.status for o in build_store(s, settings_, only=["referendum"]).outcomes] \
            == ["loaded"]
        before = rows_of(s)
        mirrored = small_mirror / REFERENDUM
        mirrored.write_bytes(mirrored.read_bytes()[:5000])
        cached = tmp_path / "cache" / REFERENDUM
        flip(cached, 2500)
        # Unchanged releases are not re-read: the verified rows stay in use.
        assert [o.status for o in build_store(s, settings_, only=["referendum"]).outcomes] \
            == ["unchanged"]
        report = build_store(s, settings_, only=["referendum"], force=True)
        (out,) = report.outcomes
        assert out.status == "failed" and not report.ok
        for needle in (str(cached), str(mirrored), "(5,000 bytes)", out.release.sha256,
                       sha256_file(mirrored), "previously loaded for this release were kept"):
            assert needle in out.message
        assert rows_of(s) == before


@pytest.mark.mirror
def test_corrupt_cache_with_a_good_mirror_reloads_and_notes_it(small_mirror: Path,
                                                               tmp_path: Path) -> None:
    settings_ = Settings(store=tmp_path / "k.duckdb", mirror=small_mirror,
                         cache=tmp_path / "cache", offline=True)
    with Store(settings_.store) as s:
        build_store(s, settings_, only=["referendum"])
        digest, _ = rows_of(s)
        flip(tmp_path / "cache" / REFERENDUM, 10)
        (out,) = build_store(s, settings_, only=["referendum"], force=True).outcomes
        assert out.status == "loaded" and "truncated or corrupted" in out.message
        assert rows_of(s)[0] == digest


@pytest.mark.mirror
def test_cli_fetch_and_build_report_a_truncated_mirror_file(small_mirror: Path,
                                                            tmp_path: Path) -> None:
    from keycities.cli import app

    mirrored = small_mirror / REFERENDUM
    mirrored.write_bytes(mirrored.read_bytes()[:777])
    runner = CliRunner()
    env = {"KEYCITIES_CACHE": str(tmp_path / "cache"), "COLUMNS": "300"}
    args = ["--mirror", str(small_mirror), "--offline", "--format", "json"]
    fetched = runner.invoke(app, ["fetch", "referendum", *args], env=env)
    assert fetched.exit_code == 1
    assert "(777 bytes)" in fetched.stdout and sha256_file(mirrored) in fetched.stdout
    built = runner.invoke(app, ["build", "referendum", "--store", str(tmp_path / "k.duckdb"),
                                *args], env=env)
    assert built.exit_code == 1
    assert '"status":"failed"' in built.stdout.replace(" ", "")
    assert "Nothing was loaded for this release" in built.stdout


def test_package_data_failing_its_hash_keeps_the_loaded_tables(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from keycities.sources import authorities
    from keycities.store import postcode_tables

    settings_ = Settings(store=tmp_path / "k.duckdb", cache=tmp_path / "c", offline=True,
                         mirror=None)
    with Store(settings_.store) as s:
        build_store(s, settings_, only=["authorities", "postcodes"])
        before = {t: s.table(t) for t in ("area", "postcode_profile", "oac_share")}
        prov = s.loaded_releases()

        def damaged(*_args: object, **_kwargs: object) -> None:
            raise HashMismatchError("the data files in /site-packages/x have sha256 0123…")

        monkeypatch.setattr(authorities, "read_package", damaged)
        monkeypatch.setattr(postcode_tables, "build_postcode_tables", damaged)
        report = build_store(s, settings_, only=["authorities", "postcodes"], force=True)
        failed = {o.source: o.message for o in report.by_status("failed")}
        assert set(failed) == {"authorities", "postcodes"}
        assert all("previously loaded for this release were kept" in m for m in failed.values())
        for table, df in before.items():
            pd.testing.assert_frame_equal(s.table(table), df)
        pd.testing.assert_frame_equal(s.loaded_releases(), prov)
