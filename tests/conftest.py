"""Shared test fixtures.

Tests that need the official files use the ``mirror`` fixture: it returns the
mirror directory named by ``KEYCITIES_MIRROR`` and skips the test, with the
reason, when it is not set or not there.  Unit tests use tiny fixtures under
``tests/data/`` or made in the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The local mirror of official files, or skip."""
    root = os.environ.get("KEYCITIES_MIRROR")
    if not root:
        pytest.skip("KEYCITIES_MIRROR is not set: no local mirror of the official files")
    path = Path(root)
    if not path.is_dir():
        pytest.skip(f"KEYCITIES_MIRROR={root} is not a directory")
    return path


@pytest.fixture
def data_dir() -> Path:
    """Directory of the tiny test fixtures."""
    return DATA


@pytest.fixture(scope="session")
def built_store(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store built once per test session from the mirror (cold cache)."""
    from keycities.settings import Settings
    from keycities.store.build import build_store
    from keycities.store.store import Store

    root = tmp_path_factory.mktemp("built")
    settings = Settings(store=root / "k.duckdb", mirror=mirror, cache=root / "cache",
                        offline=True)
    with Store(settings.store) as store:
        report = build_store(store, settings)
    failed = report.by_status("failed")
    assert not failed, [f"{o.release.id}: {o.message}" for o in failed]
    return settings.store
