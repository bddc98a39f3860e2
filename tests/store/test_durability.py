"""SIGKILL during `keycities build` or `keycities fetch` never leaves a broken store or cache.

Each trial runs the real CLI in a subprocess (in its own session, so the
postcode step's worker process dies with it), waits until it has started
writing (the build's copy of the store exists: builds write a copy and rename it
over the store; the cache folder or, with ``--force``, a ``.part`` file
exists), sleeps a seeded random
fraction of the measured work time (from that moment to the end of a clean
run), and SIGKILLs the whole process group.  Then:

* the store opens read-only and every table is readable; each release in the
  ``release`` table has exactly the rows a clean build gives it, in every
  table, and its provenance row matches; a release not in ``release`` has no
  rows anywhere (never partial); the split weights are all there or absent
  with their ``meta`` key;
* the cache holds no file, under its final name, whose sha256 differs from
  the catalog's (a half copy may only sit in a hidden ``.part`` file);
* running the command again succeeds and gives the clean result: the same
  tables, row for row (only ``release.loaded_at`` differs), and no ``.part``
  files left behind.

Half the trials start from nothing, half from a complete store or cache with
``--force`` (then every release or file must still be there, old or new).
The build uses a small subset of sources with the big steps (boundaries,
business counts, the postcode profiles and split weights).  Most of a build's
time is spent reading files and computing postcode profiles, not inside a
transaction, so a kill inside one is made certain by
``test_sigkill_inside_a_write_transaction_keeps_the_old_rows``, which stops a
writer half-way through ``Store.load_release`` and kills it there.  Likewise
a fetch copies each file in milliseconds (most of its window is fsync and
hashing), so ``test_sigkill_halfway_through_a_fetch_leaves_no_half_file``
kills a fetch that has written half a file.

``KEYCITIES_TEST_KILLS`` sets the number of kills per test (default 6).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keycities.errors import KeycitiesError
from keycities.sources import catalog
from keycities.sources.base import Release, sha256_file
from keycities.store.schema import DDL, SCHEMA_VERSION
from keycities.store.store import Store

SEED = 7
#: Kills per test; KEYCITIES_TEST_KILLS=30 (say) for a long soak run.
TRIALS = int(os.environ.get("KEYCITIES_TEST_KILLS", "6"))
BUILD_SOURCES = ["authorities", "lad_changes", "boundaries_2016", "boundaries_2021",
                 "business_counts", "productivity_la", "postcodes", "split_weights"]
TABLES = [*DDL, "meta"]
#: Tables whose rows belong to a release through ``release_id`` (split weights
#: are keyed by their inputs instead; see ``check_store``).
RELEASE_TABLES = [t for t in DDL if t not in ("release", "release_history", "split_weight")]


# ------------------------------------------------------------------ processes


def command(verb: str, *args: str, mirror: Path) -> list[str]:
    return [sys.executable, "-m", "keycities.cli", verb, *args, "--mirror", str(mirror),
            "--offline", "--format", "csv"]


def environment(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYCITIES_")}
    return {**env, "KEYCITIES_CACHE": str(cache), "KEYCITIES_OFFLINE": "1"}


def run(cmd: list[str], env: dict[str, str]) -> None:
    """Run to completion; it must succeed with no failed release."""
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert ",failed," not in out.stdout, out.stdout


def exists(path: Path) -> Callable[[], bool]:
    return path.exists


def staging(store: Path) -> Callable[[], bool]:
    """True once a build has made its copy of ``store`` (it writes there, then swaps)."""
    return lambda: any(store.parent.glob(f".{store.name}.*.building"))


def has_part_file(folder: Path) -> Callable[[], bool]:
    return lambda: any(folder.rglob("*.part"))


def kill_during(cmd: list[str], env: dict[str, str], started: Callable[[], bool],
                delay: float) -> bool:
    """SIGKILL ``cmd`` ``delay`` s after ``started()`` turns true; True if it was running."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        _wait_until(started, proc)
        time.sleep(delay)
        running = proc.poll() is None
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: the CLI and its workers
    except ProcessLookupError:
        running = False
    finally:
        proc.wait(timeout=60)
    return running


def _wait_until(started: Callable[[], bool], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not started() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)


def work_seconds(cmd: list[str], env: dict[str, str], started: Callable[[], bool]) -> float:
    """Seconds from ``started()`` turning true to the end of a clean run of ``cmd``."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    _wait_until(started, proc)
    t = time.perf_counter()
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    return time.perf_counter() - t


# ------------------------------------------------------------------ checks


@dataclass
class Snapshot:
    """What a store holds, in the terms the checks compare."""

    tables: set[str]
    counts: dict[tuple[str, str], int]
    releases: pd.DataFrame
    meta: dict[str, str]
    digests: dict[str, str]


def snapshot(path: Path) -> Snapshot:
    with Store(path, read_only=True) as s:
        tables = set(s.query("SELECT table_name FROM information_schema.tables")["table_name"])
        if not tables:
            return Snapshot(set(), {}, pd.DataFrame(), {}, {})
        assert tables == set(TABLES), f"some tables missing: {set(TABLES) - tables}"
        counts: dict[tuple[str, str], int] = {}
        digests: dict[str, str] = {}
        for t in DDL:
            rows = {"release": "(SELECT * EXCLUDE (loaded_at) FROM release)",
                    # one row per load: a re-run after a kill adds loads of the same files
                    "release_history": "(SELECT DISTINCT * EXCLUDE (loaded_at) "
                                       "FROM release_history)"}.get(t, t)
            # Every row, in a canonical order, hashed (reading it all: every table readable).
            digests[t] = str(s.query(
                "SELECT md5(coalesce(string_agg(r::VARCHAR, chr(10) ORDER BY r::VARCHAR), '')) "
                f"FROM {rows} AS r").iloc[0, 0])  # noqa: S608 - fixed names
            if t not in ("release", "release_history"):
                by = s.query(f"SELECT release_id, count(*) AS n FROM {t} GROUP BY ALL")  # noqa: S608
                counts.update({(t, str(r)): int(n) for r, n in by.itertuples(index=False)})
        releases = s.query("SELECT * EXCLUDE (loaded_at) FROM release").set_index("id")
        meta = dict(s.query("SELECT key, value FROM meta").itertuples(index=False))
    return Snapshot(tables, counts, releases.sort_index(), meta, digests)


def check_store(path: Path, ref: Snapshot, *, complete: bool) -> Snapshot | None:
    """Assert the store at ``path`` is a consistent state; return what it holds."""
    if not path.exists():
        assert not complete
        return None
    got = snapshot(path)
    if not got.tables:  # killed before the schema was committed: an empty store
        assert not complete
        return None
    assert got.meta["schema_version"] == str(SCHEMA_VERSION)
    loaded = set(got.releases.index)
    assert loaded <= set(ref.releases.index)
    if complete:
        assert loaded == set(ref.releases.index)
    if loaded:
        pd.testing.assert_frame_equal(got.releases, ref.releases.loc[sorted(loaded)])
        with Store(path, read_only=True) as s:  # every load in force is in the history
            missing = s.query("SELECT id FROM release r WHERE NOT EXISTS (SELECT 1 FROM "
                              "release_history h WHERE h.id = r.id AND h.sha256 = r.sha256 "
                              "AND h.loaded_at = r.loaded_at)")
        assert missing.empty, list(missing["id"])
    for table in RELEASE_TABLES:
        for rid in set(ref.releases.index) | {r for t, r in got.counts if t == table}:
            want = ref.counts.get((table, rid), 0) if rid in loaded else 0
            assert got.counts.get((table, rid), 0) == want, (table, rid)
    weights = sum(n for (t, _), n in got.counts.items() if t == "split_weight")
    if "split_weight_inputs" in got.meta:
        assert weights == sum(n for (t, _), n in ref.counts.items() if t == "split_weight")
        assert got.digests["split_weight"] == ref.digests["split_weight"]
    else:
        assert weights == 0
    return got


def by_mirror_path() -> dict[str, Release]:
    return {r.mirror_path: r for s in catalog.sources() for r in s.releases if r.mirror_path}


def check_cache(cache: Path) -> int:
    """Every file under a final name has the catalog's hash; return the count of .part files."""
    known = by_mirror_path()
    parts = 0
    for path in (p for p in cache.rglob("*") if p.is_file()):
        if path.name.endswith(".part"):
            assert path.name.startswith(".")  # hidden, never a final name
            parts += 1
            continue
        rel = known[path.relative_to(cache).as_posix()]
        assert sha256_file(path) == rel.sha256, f"{path} is not the catalog's file"
    return parts


# ------------------------------------------------------------------ tests


CHILD = """
import sys, time
import pandas as pd
import keycities.store.store as st
from keycities.sources.base import Release

path, ready, release_json = sys.argv[1:4]

def pause(*args, **kwargs):  # called inside the transaction, after DELETE and INSERT
    open(ready, "w").close()
    time.sleep(120)

st._record_release = pause
rel = Release.model_validate_json(release_json)
rows = pd.DataFrame({"area_code": "E08000024", "measure": "m", "period": range(300_000),
                     "value": 1.0, "unit": "u"})
with st.Store(path) as s:
    s.load_release(rel, source="t", table="fact", rows=rows, reader_version="2")
"""


def test_sigkill_inside_a_write_transaction_keeps_the_old_rows(tmp_path: Path) -> None:
    """Old rows survive; meanwhile no other process can even open the store to read."""

    def release(rid: str) -> Release:
        return Release(id=rid, publisher="ONS", title="T", url="https://example.org/x",
                       published=dt.date(2023, 4, 25), reference_period="2021",
                       geography_vintage=2021, sha256=hashlib.sha256(rid.encode()).hexdigest(),
                       mirror_path=f"{rid}.csv")

    def facts(n: int) -> pd.DataFrame:
        return pd.DataFrame({"area_code": "E08000024", "measure": "m", "period": range(n),
                             "value": np.arange(n, dtype=float), "unit": "u"})

    path, ready = tmp_path / "k.duckdb", tmp_path / "ready"
    with Store(path) as s:
        s.load_release(release("r1"), source="t", table="fact", rows=facts(1000),
                       reader_version="1")
        s.load_release(release("r2"), source="t", table="fact", rows=facts(10),
                       reader_version="1")
    before = snapshot(path)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(ready),
                             release("r1").model_dump_json()], start_new_session=True)
    try:
        _wait_until(exists(ready), proc)
        assert ready.exists(), "the writer never reached its transaction"
        # A second process cannot open the store while the writer holds it, even to read:
        # DuckDB's file lock refuses it, and the Store says why.
        with pytest.raises(KeycitiesError, match="Another process is writing it"):
            Store(path, read_only=True).connect()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    after = snapshot(path)
    assert after.counts == before.counts == {("fact", "r1"): 1000, ("fact", "r2"): 10}
    assert after.digests == before.digests
    pd.testing.assert_frame_equal(after.releases, before.releases)
    with Store(path) as s:  # and the next writer can finish the job
        s.load_release(release("r1"), source="t", table="fact", rows=facts(5),
                       reader_version="2")
    assert snapshot(path).counts[("fact", "r1")] == 5


FETCH_CHILD = """
import sys, time
from pathlib import Path
from keycities.sources.base import Release, fetch_release

cache, ready, release_json, force = sys.argv[1:5]


class HalfThenStall:
    kind = "stall"

    def describe(self, release):
        return "stall"

    def fetch_into(self, release, out, progress):
        out.write(b"half a file")
        out.flush()
        open(ready, "w").close()
        time.sleep(120)


fetch_release(Release.model_validate_json(release_json), Path(cache), [HalfThenStall()],
              force=force == "1")
"""


@pytest.mark.parametrize("had_good_copy", [False, True])
def test_sigkill_halfway_through_a_fetch_leaves_no_half_file(tmp_path: Path,
                                                             had_good_copy: bool) -> None:
    """The random kills above rarely land while bytes are copied (it takes milliseconds)."""
    from keycities.sources.base import FakeFetcher, cached_path, fetch_release

    good = b"area_code,value\nE08000024,1\n"
    rel = Release(id="r1", publisher="ONS", title="T", url="https://example.org/x",
                  published=dt.date(2023, 4, 25), reference_period="2021",
                  geography_vintage=2021, sha256=hashlib.sha256(good).hexdigest(),
                  mirror_path="folder/r1.csv")
    cache, ready = tmp_path / "cache", tmp_path / "ready"
    dest = cached_path(cache, rel)
    if had_good_copy:
        fetch_release(rel, cache, [FakeFetcher({rel.id: good})])
    proc = subprocess.Popen([sys.executable, "-c", FETCH_CHILD, str(cache), str(ready),
                             rel.model_dump_json(), "1" if had_good_copy else "0"],
                            start_new_session=True)
    try:
        _wait_until(exists(ready), proc)
        assert ready.exists(), "the fetch never started writing"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    assert len(list(dest.parent.glob(f".{dest.name}.*.part"))) == 1  # the half file, hidden
    assert (dest.read_bytes() == good) if had_good_copy else not dest.exists()
    fetch_release(rel, cache, [FakeFetcher({rel.id: good})])
    assert dest.read_bytes() == good
    assert not list(cache.rglob("*.part"))  # the dead writer's part file was cleaned


@pytest.fixture(scope="module")
def clean_build(mirror: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[Path, Snapshot, float]:
    """A clean subset build: (store path, its snapshot, seconds of work after the build's
    copy of the store appears)."""
    root = tmp_path_factory.mktemp("clean")
    store = root / "k.duckdb"
    cmd = command("build", *BUILD_SOURCES, "--store", str(store), mirror=mirror)
    work = work_seconds(cmd, environment(root / "cache"), staging(store))
    ref = snapshot(store)
    assert set(ref.releases["source"]) == set(BUILD_SOURCES) - {"split_weights"}
    assert "split_weight_inputs" in ref.meta and ref.counts[("postcode_profile",
                                                             "onspd-nov2025-qlacref-2026.1.1")]
    check_cache(root / "cache")
    return store, ref, work


@pytest.mark.mirror
def test_sigkill_during_build_leaves_a_consistent_store(
        mirror: Path, tmp_path: Path, clean_build: tuple[Path, Snapshot, float]) -> None:
    clean, ref, work = clean_build
    rng = np.random.default_rng(SEED)
    delays = rng.uniform(0.0, work, size=TRIALS)
    running = 0
    for i, delay in enumerate(delays):
        forced = i % 2 == 1
        trial = tmp_path / f"trial{i}"
        trial.mkdir()
        store, cache = trial / "k.duckdb", trial / "cache"
        if forced:  # a complete store being rebuilt with --force
            shutil.copyfile(clean, store)
        extra = ["--force"] if forced else []
        cmd = command("build", *BUILD_SOURCES, "--store", str(store), *extra, mirror=mirror)
        env = environment(cache)
        # Work starts when the build has made its copy of the store (it writes the copy,
        # then renames it over the store).
        running += kill_during(cmd, env, staging(store), float(delay))
        check_store(store, ref, complete=forced)
        if cache.exists():
            check_cache(cache)
        run(command("build", *BUILD_SOURCES, "--store", str(store), mirror=mirror), env)
        final = check_store(store, ref, complete=True)
        assert final is not None and final.digests == ref.digests
        assert not list(trial.rglob("*.part"))
        assert not staging(store)(), "the re-run left a stale copy of the store"
    assert running >= TRIALS // 2, "too few kills landed while the build ran"


@pytest.mark.mirror
def test_sigkill_during_fetch_never_leaves_a_bad_file(mirror: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    cmd = command("fetch", mirror=mirror)
    work = work_seconds(cmd, environment(probe), exists(probe))
    assert check_cache(probe) == 0
    every = {p.relative_to(probe) for p in probe.rglob("*") if p.is_file()}
    assert len(every) == len(by_mirror_path())
    rng = np.random.default_rng(SEED + 1)
    running = 0
    for i, delay in enumerate(rng.uniform(0.0, work, size=TRIALS)):
        forced = i % 2 == 1
        cache = tmp_path / f"cache{i}"
        if forced:  # a complete cache being fetched again with --force
            shutil.copytree(probe, cache)
        env = environment(cache)
        started = has_part_file(cache) if forced else exists(cache)
        running += kill_during(cmd + (["--force"] if forced else []), env, started,
                               float(delay))
        check_cache(cache)
        if forced:  # replacing a good file is atomic: every file is still there
            assert {p.relative_to(cache) for p in cache.rglob("*")
                    if p.is_file() and not p.name.endswith(".part")} == every
        run(cmd, env)
        assert check_cache(cache) == 0, "stale .part files were not cleaned"
        assert {p.relative_to(cache) for p in cache.rglob("*") if p.is_file()} == every
    assert running >= TRIALS // 2, "too few kills landed while the fetch ran"
