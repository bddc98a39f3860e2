"""The pack's folder: --force replaces only a previous pack; no half-written folder is
left behind (issue 16.8)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keycities.errors import KeycitiesError
from keycities.export._folder import MARKER, OWNER, check_target, swap_in, sweep, working_folder
from keycities.export.site import export_site
from keycities.settings import Settings


def test_force_refuses_a_folder_that_is_not_a_pack(tmp_path: Path) -> None:
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    settings = Settings(store=tmp_path / "none.duckdb")
    with pytest.raises(KeycitiesError, match="not a keycities evidence pack"):
        export_site(settings, mine, force=True)
    assert (mine / "thesis.tex").read_text() == "years of work"
    file = tmp_path / "notes.txt"
    file.write_text("x")
    with pytest.raises(KeycitiesError, match="not a folder"):
        export_site(settings, file, force=True)
    assert file.read_text() == "x"


def test_force_may_replace_a_pack_an_old_pack_or_an_empty_folder(tmp_path: Path) -> None:
    pack, old, empty = tmp_path / "pack", tmp_path / "old", tmp_path / "empty"
    for d in (pack, old, empty):
        d.mkdir()
    (pack / MARKER).write_text("")
    (old / "manifest.json").write_text(json.dumps({"exported": "2026-01-01", "network": "k",
                                                   "releases": []}))
    for d in (pack, old, empty):
        check_target(d, force=True)
    with pytest.raises(KeycitiesError, match="pass --force"):
        check_target(pack, force=False)


def test_a_written_pack_is_marked_and_replaces_the_old_one_whole(tmp_path: Path) -> None:
    target = tmp_path / "pack"
    for n in (1, 2):
        tmp = working_folder(target)
        (tmp / "index.html").write_text(str(n))
        swap_in(tmp, target)
    assert (target / "index.html").read_text() == "2" and (target / MARKER).is_file()
    assert not (target / OWNER).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]


def test_the_folder_of_a_killed_export_is_removed_by_the_next(tmp_path: Path) -> None:
    target = tmp_path / "pack"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    left = tmp_path / ".pack-abc123"
    left.mkdir()
    (left / OWNER).write_text(dead)
    alive = tmp_path / ".pack-def456"  # an export running now in another process
    alive.mkdir()
    (alive / OWNER).write_text(str(os.getpid()))
    assert sweep(target) == [left]
    assert not left.exists() and alive.exists()


@pytest.mark.mirror
def test_a_stopped_export_leaves_no_working_folder(built_store: Path, tmp_path: Path) -> None:
    target = tmp_path / "pack"
    env = {**os.environ, "KEYCITIES_STORE": str(built_store)}
    proc = subprocess.Popen([sys.executable, "-m", "keycities.cli", "export", "site",
                             str(target)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(tmp_path.glob(".pack-*/network")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(tmp_path.glob(".pack-*")), "the export never started writing"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    assert proc.returncode != 0
    assert list(tmp_path.iterdir()) == []
