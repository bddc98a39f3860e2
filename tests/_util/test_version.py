"""The package's one version constant (:mod:`keycities._util.version`)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import keycities
from keycities._util.version import VERSION

ROOT = Path(__file__).parents[2]


def test_the_version_is_pyproject_s() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == VERSION
    assert keycities.__version__ == VERSION
