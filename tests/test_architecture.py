"""The architecture is a test: layers, no cycles, small modules, store access in adapters.

The layers and their allowed imports are written once, in ``pyproject.toml``
(``[tool.importlinter]``), and checked here with import-linter; the README's
Development section shows the same contract.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from importlinter import api as importlinter_api

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "src" / "keycities"
MAX_LINES = 600
SQL = re.compile(r"\bSELECT\b.+\bFROM\b|\bINSERT INTO\b|\bDELETE FROM\b|\bCREATE TABLE\b|"
                 r"\bUPDATE \w+ SET\b", re.S)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _contract() -> dict[str, dict[str, object]]:
    options = importlinter_api.read_configuration(str(ROOT / "pyproject.toml"))
    return {str(c["id"]): c for c in options["contracts_options"]}


def test_the_import_contract_is_kept() -> None:
    """Layers import only downward; no package has an import cycle among its modules."""
    assert set(_contract()) >= {"layers", "acyclic"}
    from importlinter.cli import lint_imports  # deferred: builds the whole import graph

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True,
                        no_logo=True) == 0, "an import breaks the architecture (see above)"


def test_the_readme_shows_the_contract() -> None:
    """The README's Development section lists the layers as the contract has them."""
    layers = _contract()["layers"]["layers"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split("<!-- layers -->")[1].split("<!-- /layers -->")[0]
    assert [line.strip() for line in shown.strip().strip("`").strip().splitlines()
            if line.strip() and not line.startswith("```")] == list(layers)


@pytest.mark.parametrize("path", _modules(), ids=_name)
def test_modules_are_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{_name(path)} has {lines} lines (at most {MAX_LINES})"


def _package_imports(path: Path) -> list[tuple[str, int, bool]]:
    """(module imported, line, inside a function) of every keycities import."""
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inner |= {id(n) for n in ast.walk(node) if n is not node}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        out += [(n, node.lineno, id(node) in inner) for n in names]
    return out


def test_analysis_reaches_the_store_only_through_its_adapters() -> None:
    """Analysis cores take frames; only ``from_store`` modules (and the shared
    ``analysis._store``) read the evidence store."""
    offenders = []
    for path in (PACKAGE / "analysis").rglob("*.py"):
        name = _name(path)
        leaf = name.rsplit(".", 1)[-1]
        if leaf in ("from_store", "_store") or (leaf.startswith("_") and leaf.endswith("_store")):
            continue
        offenders += [f"{name} line {line} imports {mod}"
                      for mod, line, _ in _package_imports(path)
                      if mod == "keycities.store" or mod.startswith("keycities.store.")]
    assert not offenders, "\n".join(offenders)


def test_no_sql_outside_the_store() -> None:
    """SQL text lives in ``keycities.store`` (the workspace's own SQLite file aside)."""
    offenders = []
    for path in _modules():
        name = _name(path)
        if name.startswith(("keycities.store", "keycities.workspace")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    SQL.search(node.value)):
                offenders.append(f"{name} line {node.lineno}")
    assert not offenders, "SQL outside store/: " + ", ".join(offenders)


def _block_start(lines: list[str], line: int) -> int:
    """The first line (1-based) of the run of import statements holding ``line``."""
    k = line
    while k > 1:
        above = lines[k - 2].strip()
        if above.startswith(("from ", "import ")) or above.endswith(",") or above == ")":
            k -= 1
            continue
        break
    return k


def test_imports_inside_functions_say_why() -> None:
    """An import inside a function defers a slow import (or one only some paths need),
    and a comment just above the imports (within a few lines), or on the line, says so."""
    offenders = []
    for path in _modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        for mod, line, inner in _package_imports(path):
            if not inner or not mod.startswith("keycities"):
                continue
            start = _block_start(lines, line)
            if not any("#" in x for x in lines[max(0, start - 5):line]):
                offenders.append(f"{_name(path)} line {line}: {mod}")
    assert not offenders, ("imports inside functions without a comment saying why:\n"
                           + "\n".join(offenders))
