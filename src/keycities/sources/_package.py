"""Data shipped inside Python packages: locate the files and check their hash.

A package-shipped release pins the sha256 of its data files concatenated in
file-name order, so an upgraded or edited package is noticed instead of
silently changing figures.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from keycities.errors import HashMismatchError, SourceUnavailableError
from keycities.sources.base import Release


@dataclass(frozen=True)
class PackageData:
    """Where a release's files live in an installed distribution."""

    distribution: str
    folder: str
    pattern: str


def data_files(release: Release, spec: PackageData, *,
               directory: Path | None = None) -> list[Path]:
    """The release's data files, sorted by name.

    Parameters
    ----------
    release
        The package-shipped release.
    spec
        Its distribution, folder and file pattern.
    directory
        Read this folder instead of the installed package (tests).

    Raises
    ------
    SourceUnavailableError
        The package is not installed or holds no matching files.
    """
    if directory is None:
        try:
            dist = importlib.metadata.distribution(spec.distribution)
        except importlib.metadata.PackageNotFoundError as exc:
            raise SourceUnavailableError(
                f"{release.id}: the package {spec.distribution} is not installed; "
                "run `uv sync` in the project."
            ) from exc
        directory = Path(str(dist.locate_file(spec.folder)))
    files = sorted((p for p in directory.glob(spec.pattern) if p.is_file()),
                   key=lambda p: p.name)
    if not files:
        raise SourceUnavailableError(
            f"{release.id}: no files matching {spec.pattern} in {directory}; reinstall "
            f"{spec.distribution} (`uv sync --reinstall-package {spec.distribution}`)."
        )
    return files


def package_data_sha256(files: list[Path]) -> str:
    """Hex sha256 of the files' bytes concatenated in the given order."""
    h = hashlib.sha256()
    for path in files:
        h.update(path.read_bytes())
    return h.hexdigest()


def verify_data(release: Release, spec: PackageData, *, directory: Path | None = None) -> None:
    """Check that the installed package holds exactly the data ``release`` pins.

    Raises
    ------
    HashMismatchError
        The data differ (another package version, or edited files).
    SourceUnavailableError
        The package is not installed.
    """
    files = data_files(release, spec, directory=directory)
    got = package_data_sha256(files)
    if got != release.sha256:
        raise HashMismatchError(
            f"{release.id}: the data files in {files[0].parent} have sha256 {got[:12]}…, but "
            f"the catalog pins {release.sha256[:12]}…. Install the pinned {spec.distribution} "
            f"with `uv sync --reinstall-package {spec.distribution}`, or, after checking the "
            "new data, update the release in keycities."
        )
