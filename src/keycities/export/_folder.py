"""The pack's folder: written beside it, swapped in whole, replaced only if it is a pack.

An export writes into a hidden folder beside the target (``.<name>-<random>``)
and renames it into place when every file is written, so a reader never sees
half a pack.  Rules:

* ``--force`` replaces only a folder that is a previous pack: it holds
  :data:`MARKER` (or, for packs written before the marker, a ``manifest.json``
  of a pack); any other folder is refused, so a mistyped path cannot delete a
  user's files;
* the working folder records its process; one left by an export that was
  killed (SIGKILL, power loss) is removed by the next export to the same
  target, and SIGTERM is turned into an interrupt by the CLI so that the
  working folder is removed at once.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from keycities.errors import KeycitiesError

MARKER = ".keycities-pack"
"""File at the root of every pack: what it is (and what ``--force`` may replace)."""

OWNER = ".keycities-export-pid"
"""File in a working folder: the process writing it."""


def check_target(folder: Path, *, force: bool) -> None:
    """Refuse a target that exists, unless ``force`` and it is a previous pack (or empty).

    Raises
    ------
    KeycitiesError
        Saying why and what to do.
    """
    if not folder.exists() and not folder.is_symlink():
        return
    if not force:
        raise KeycitiesError(f"{folder} exists: choose another folder or pass --force to "
                             "replace it.")
    if folder.is_symlink() or not folder.is_dir():
        raise KeycitiesError(f"{folder} is not a folder: --force replaces only a previous "
                             "evidence pack. Choose another folder.")
    if not is_pack(folder) and any(folder.iterdir()):
        raise KeycitiesError(f"{folder} is not a keycities evidence pack (it has no {MARKER} "
                             "file), so --force will not delete it. Choose a new folder, or "
                             "empty this one first.")


def is_pack(folder: Path) -> bool:
    """True when ``folder`` holds a pack: the marker, or an older pack's manifest."""
    if (folder / MARKER).is_file():
        return True
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and {"exported", "network", "releases"} <= set(manifest)


def working_folder(folder: Path) -> Path:
    """A new hidden folder beside ``folder`` for this process to write the pack into,
    after removing those that killed exports left behind."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    sweep(folder)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    (tmp / OWNER).write_text(str(os.getpid()), encoding="utf-8")
    (tmp / MARKER).write_text("A keycities evidence pack (`keycities export site`). "
                              "`--force` may replace this folder.\n", encoding="utf-8")
    return tmp


def sweep(folder: Path) -> list[Path]:
    """Remove working folders beside ``folder`` whose process is gone; return them."""
    gone = []
    for item in folder.parent.glob(f".{folder.name}-*"):
        owner = item / OWNER
        if item.is_dir() and not item.is_symlink() and owner.is_file() \
                and not _alive(owner.read_text(encoding="utf-8").strip()):
            shutil.rmtree(item, ignore_errors=True)
            gone.append(item)
    return gone


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def swap_in(new: Path, folder: Path) -> None:
    """Move ``new`` to ``folder``; an old ``folder`` is removed only once ``new`` is there."""
    (new / OWNER).unlink(missing_ok=True)
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(new, 0o777 & ~mask)  # mkdtemp made it 0700; a pack is as readable as any folder
    if not folder.exists():
        new.rename(folder)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{folder.name}-old-", dir=folder.parent))
    (old / OWNER).write_text(str(os.getpid()), encoding="utf-8")
    folder.rename(old / "pack")
    new.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
