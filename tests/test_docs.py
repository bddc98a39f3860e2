"""The user guide runs: every ```console example in docs/*.md is checked against the real CLI.

An example is a ``$ keycities ...`` line in a ```console block followed by the
output it shows.  Each command is run in-process (Typer's ``CliRunner``) on the
store the session builds from the mirror (``built_store``), with a fixed
terminal width (``WIDTH``) so that Rich wraps tables the same way every time.
The shown lines must appear in the actual output, in order, after stripping
trailing whitespace:

* consecutive shown lines must be consecutive in the output;
* a line holding only ``...`` stands for any number of left-out lines;
* the block is anchored: without a leading ``...`` the first shown line is the
  output's first line, and without a trailing ``...`` the last shown line is
  its last.

A command that fails with a :class:`~keycities.errors.KeycitiesError` shows
``Error: <message>`` as ``keycities`` prints it on a terminal of that width.

Without the mirror the examples are skipped, but ``test_docs_name_real_commands``
still fails when any block in docs/*.md names a ``keycities`` command, subcommand
or option that does not exist, so the guide cannot go stale on renames.
"""

from __future__ import annotations

import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
from rich.console import Console
from typer.testing import CliRunner

from keycities.cli import app
from keycities.errors import KeycitiesError

DOCS = Path(__file__).parents[1] / "docs"
WIDTH = 120
"""Terminal width (COLUMNS) the guide's output was made with."""
SKIP = "..."
NOT_RUN = {"build", "fetch", "serve", "export"}
"""Commands an example may not run (they rebuild the store, write files or never return)."""

FENCE = re.compile(r"^\s*```(\S*)\s*$")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
COMMAND = re.compile(
    r"^\s*(?:\$\s+)?(?:[A-Z_][A-Z0-9_]*=\S*\s+)*(?:python3 -m\s+)?(?:uv run\s+(?:--[a-z-]+\s+)*)?"
    r"keycities(?:\s+(?P<args>.*))?$")
"""``keycities ...``, perhaps after ``$``, VAR=value settings or ``[python3 -m] uv run``."""


@dataclass(frozen=True)
class Block:
    """A fenced code block: its file, the line of its opening fence, language and lines."""

    path: Path
    line: int
    lang: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Example:
    """A ``$ keycities ...`` command in a console block and the output it shows."""

    path: Path
    line: int
    command: str
    expected: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """Every fenced code block of a Markdown file."""
    out: list[Block] = []
    lang: str | None = None
    start, body = 0, list[str]()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fence = FENCE.match(line)
        if lang is None:
            if fence:
                lang, start, body = fence.group(1), number, []
        elif line.strip() == "```":
            out.append(Block(path, start, lang, tuple(body)))
            lang = None
        else:
            body.append(line)
    assert lang is None, f"{path.name}:{start}: code block is never closed"
    return out


def examples(path: Path) -> list[Example]:
    """The ``$ keycities`` examples of the console blocks of a Markdown file."""
    out: list[Example] = []
    for block in blocks(path):
        if block.lang != "console":
            continue
        current: tuple[int, str] | None = None
        shown: list[str] = []
        for offset, line in enumerate(block.lines, start=1):
            if line.startswith("$ "):
                if current:
                    out.append(Example(path, current[0], current[1], tuple(shown)))
                current, shown = (block.line + offset, line[2:].strip()), []
            elif current is None:
                raise AssertionError(f"{path.name}:{block.line + offset}: console output "
                                     "before any '$ keycities' line")
            else:
                shown.append(line)
        if current:
            out.append(Example(path, current[0], current[1], tuple(shown)))
    return out


def doc_files() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


ALL_EXAMPLES = [e for path in doc_files() for e in examples(path)]


# ------------------------------------------------------------------ matching
def clean(text: str) -> list[str]:
    """Output lines without colour codes or trailing whitespace, trailing blank lines dropped."""
    lines = [ANSI.sub("", line).rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def segments(shown: tuple[str, ...] | list[str]) -> tuple[list[list[str]], bool, bool]:
    """Shown lines split at ``...`` lines; and whether the block starts / ends anchored."""
    lines = [line.rstrip() for line in shown]
    while lines and not lines[-1]:
        lines.pop()
    parts: list[list[str]] = [[]]
    for line in lines:
        if line == SKIP:
            parts.append([])
        else:
            parts[-1].append(line)
    head = bool(lines) and lines[0] != SKIP
    tail = bool(lines) and lines[-1] != SKIP
    return [p for p in parts if p], head, tail


def _find(actual: list[str], part: list[str], start: int) -> int:
    for i in range(start, len(actual) - len(part) + 1):
        if actual[i:i + len(part)] == part:
            return i
    return -1


def mismatch(shown: tuple[str, ...] | list[str], actual: list[str]) -> str | None:
    """None if ``shown`` matches ``actual`` (see the module docstring), else what is wrong."""
    parts, head, tail = segments(shown)
    if not parts:
        return "the example shows no output"
    pos = 0
    for k, part in enumerate(parts):
        last = k == len(parts) - 1
        if last and tail:
            at = len(actual) - len(part)
            found = at if at >= pos and actual[at:] == part else -1
        else:
            found = _find(actual, part, pos)
        if found < 0 or (k == 0 and head and found != 0):
            where = ("at the start of" if k == 0 and head else
                     "at the end of" if last and tail else "further on in")
            absent = [line for line in part if line not in actual]
            first = f"\nfirst shown line not in the output at all: {absent[0]!r}" if absent else ""
            return (f"these shown lines are not {where} the output:\n  "
                    + "\n  ".join(part) + first)
        pos = found + len(part)
    return None


# ------------------------------------------------------------------ running
def run_example(command: str, store: Path) -> str:
    """Run ``keycities ...`` in-process on ``store``; its output as a terminal shows it."""
    args = shlex.split(command)
    assert args and args[0] == "keycities", f"not a keycities command: {command!r}"
    assert args[1:2] and args[1] not in NOT_RUN, (
        f"{command!r}: examples may not run {args[1]}; show it in a ```bash block")
    env = {"KEYCITIES_STORE": str(store), "KEYCITIES_CACHE": str(store.parent / "cache"),
           "KEYCITIES_OFFLINE": "1", "KEYCITIES_DEBUG": "0", "COLUMNS": str(WIDTH),
           "NO_COLOR": "1", "FORCE_COLOR": None, "TTY_COMPATIBLE": None,
           "TTY_INTERACTIVE": None}
    result = CliRunner().invoke(app, args[1:], env=env)
    output = result.output
    if isinstance(result.exception, KeycitiesError):
        buffer = io.StringIO()  # as keycities.cli.main prints it
        Console(file=buffer, width=WIDTH, no_color=True).print(
            f"[bold red]Error:[/bold red] {result.exception}", highlight=False)
        output += buffer.getvalue()
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return output


@pytest.mark.mirror
@pytest.mark.parametrize("example", ALL_EXAMPLES, ids=[e.id for e in ALL_EXAMPLES])
def test_example_output_is_real(example: Example, built_store: Path) -> None:
    actual = clean(run_example(example.command, built_store))
    problem = mismatch(example.expected, actual)
    assert problem is None, (
        f"{example.id}: $ {example.command}\n{problem}\n--- actual output "
        f"(COLUMNS={WIDTH}) ---\n" + "\n".join(actual))


# ------------------------------------------------------------------ no mirror needed
def command_lines(block: Block) -> list[tuple[int, str]]:
    """(line, arguments after 'keycities') of each keycities command a block shows."""
    out = []
    for offset, line in enumerate(block.lines, start=1):
        if block.lang == "console" and not line.startswith("$ "):
            continue  # output, not a command
        for part in re.split(r"&&|\|\||;", line):
            m = COMMAND.match(part)
            if m:
                out.append((block.line + offset, (m.group("args") or "").strip()))
    return out


def _options(cmd: Any) -> set[str]:
    """Every option name of a Click command (Typer ships its own copy of Click)."""
    names = {"--help"}
    for p in cmd.params:
        if p.param_type_name == "option":
            names.update(p.opts)
            names.update(p.secondary_opts)
    return names


def unknown_names(args: str) -> list[str]:
    """Commands, subcommands and options in ``keycities <args>`` that do not exist."""
    tokens = shlex.split(args, comments=True)
    group: Any = typer.main.get_command(app)
    if not tokens or tokens[0] == "--help":
        return []
    cmd = group.commands.get(tokens[0])
    if cmd is None:
        return [f"command {tokens[0]!r}"]
    rest = tokens[1:]
    if hasattr(cmd, "commands"):  # a group: network, testbed, claims
        if not rest or rest[0] == "--help":
            return []
        sub = cmd.commands.get(rest[0])
        if sub is None:
            return [f"subcommand {tokens[0]} {rest[0]!r}"]
        cmd, rest = sub, rest[1:]
    known = _options(cmd)
    return [f"option {t.split('=')[0]!r} of {cmd.name}" for t in rest
            if re.match(r"^--?[A-Za-z]", t) and t.split("=")[0] not in known]


def test_docs_name_real_commands() -> None:
    assert doc_files(), f"no Markdown files in {DOCS}"
    problems = []
    named = 0
    for path in doc_files():
        for block in blocks(path):
            for line, args in command_lines(block):
                named += 1
                problems += [f"{path.name}:{line}: {p}" for p in unknown_names(args)]
    assert named, "the docs show no keycities command at all"
    assert not problems, "docs name things keycities does not have:\n" + "\n".join(problems)


def test_every_example_shows_output_and_is_runnable() -> None:
    assert ALL_EXAMPLES, "no ```console examples in docs/*.md"
    for e in ALL_EXAMPLES:
        assert segments(e.expected)[0], f"{e.id}: the example shows no output"
        args = shlex.split(e.command)
        assert args[0] == "keycities", f"{e.id}: console blocks hold keycities commands only"
        assert args[1] not in NOT_RUN, f"{e.id}: {args[1]} cannot run as an example"


def test_a_command_that_does_not_exist_is_caught() -> None:
    assert unknown_names("headline --at 2024-06-01 -f csv") == []
    assert unknown_names("network show key-cities --at 2021-06-01") == []
    assert unknown_names("testbed --help") == []
    assert unknown_names("peers Sunderland --no-exclude-same-region") == []
    assert unknown_names("headlines --at 2024-06-01") == ["command 'headlines'"]
    assert unknown_names("network list") == ["subcommand network 'list'"]
    assert unknown_names("twin --min-distance 150") == ["option '--min-distance' of twin"]
    assert unknown_names("peers Hull  # --not-an-option in a comment") == []


def test_matching_rules() -> None:
    out = ["title", "a", "b", "c", "d", "end"]
    assert mismatch(["title", "a", "...", "d", "end"], out) is None
    assert mismatch(["...", "b", "c", "..."], out) is None
    assert mismatch(["...", "end"], out) is None
    assert mismatch(["title", "...", "c", "...", "end"], out) is None
    assert mismatch(["title  ", "a", "..."], out) is None  # trailing spaces do not count
    assert mismatch(["a", "..."], out) is not None  # anchored at the start
    assert mismatch(["...", "d"], out) is not None  # anchored at the end
    assert mismatch(["...", "b", "d", "..."], out) is not None  # shown lines are consecutive
    assert mismatch(["...", "c", "...", "b", "..."], out) is not None  # in order
    assert mismatch(["title", "a", "b", "c", "d", "end"], out) is None
    assert mismatch(["title", "a", "b", "c", "d", "end", "more"], out) is not None
    assert mismatch(["...", "..."], out) is not None  # shows nothing


def test_parser_finds_examples_and_commands(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text("text\n\n```console\n$ keycities places Hull\nline 1\n...\n"
                   "$ keycities headline --at 2024-06-01\nfigure\nkeycities has no list\n```\n\n"
                   "```bash\nkeycities peers Sunderland   # peers\n"
                   "python3 -m pip install uv && python3 -m uv run --locked keycities build\n"
                   "```\n\n* a list item:\n\n  ```bash\n  KEYCITIES_MIRROR=DIR keycities fetch\n"
                   "  ```\n")
    found = examples(doc)
    assert [(e.line, e.command, e.expected) for e in found] == [
        (4, "keycities places Hull", ("line 1", "...")),
        (7, "keycities headline --at 2024-06-01", ("figure", "keycities has no list"))]
    cmds = [c for b in blocks(doc) for c in command_lines(b)]
    assert cmds == [(4, "places Hull"), (7, "headline --at 2024-06-01"),
                    (13, "peers Sunderland   # peers"), (14, "build"), (20, "fetch")]


def _setup_commands(path: Path) -> list[str]:
    """The commands of the first bash block of ``path``'s set-up section."""
    text = path.read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text[text.index("wo commands"):], re.S)
    assert block, f"{path.name} has no set-up block"
    return [x for x in block.group(1).splitlines() if x.strip() and not x.startswith("#")]


@pytest.mark.parametrize("path", [DOCS.parent / "README.md", DOCS / "guide.md"],
                         ids=["README", "guide"])
def test_set_up_is_two_commands_and_the_main_job_installs_only_what_it_runs(
        path: Path) -> None:
    main_job, tests = _setup_commands(path)
    assert "keycities build --headline" in main_job
    # The main job leaves out the development group (pytest, Playwright, mypy, ...)
    # and compiles the packages to bytecode at install time.
    assert "--no-dev" in main_job and "--compile-bytecode" in main_job
    assert "pytest" in tests and "--no-dev" not in tests
