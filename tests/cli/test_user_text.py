"""User text is shown as text: never read as Rich markup, no terminal escapes (issue 16.2)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from keycities.cli import main
from keycities.cli.output import Format, markup_safe, print_frame, safe_text

HOSTILE = "[/red]Sunderland \x1b[31mred\x1b[0m \x1b]0;owned\x07 [bold]x[/bold]\x07\x9b2J"


def test_safe_text_strips_control_characters_and_escape_sequences() -> None:
    assert safe_text(HOSTILE) == "[/red]Sunderland red  [bold]x[/bold]2J"
    assert safe_text("tab\tand\nnewline") == "tab\tand\nnewline"


def test_markup_safe_text_prints_literally() -> None:
    console = Console(record=True, width=200)
    console.print(f"[bold]Error:[/bold] {markup_safe('network [draft].csv [/]')}")
    assert console.export_text().strip() == "Error: network [draft].csv [/]"


def test_a_table_shows_cells_titles_and_notes_as_written() -> None:
    console = Console(record=True, width=200, force_terminal=True)
    df = pd.DataFrame({"place [x]": [HOSTILE, "[/]"], "value": [1, 2]})
    print_frame(df, Format.table, title="Members of [draft] [/]", notes=[HOSTILE],
                console=console)
    out = console.export_text(styles=False)
    assert "Members of [draft] [/]" in out and "place [x]" in out
    assert "[/red]Sunderland red" in out and "[/]" in out and "[bold]x[/bold]" in out
    raw = console.export_text(styles=True)
    assert "\x1b]0;" not in raw and "\x07" not in raw and "\x1b[31m" not in raw


@pytest.mark.parametrize("argv", [["places", "[/]"],
                                  ["network", "show", "network [draft].csv"],
                                  ["network", "show", "x[/bold]\x1b[2J.csv"]])
def test_errors_quote_user_text_literally(argv: list[str], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["keycities", *argv, "--store",
                                     str(tmp_path / "none.duckdb")])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "\x1b[2J" not in err
    assert safe_text(argv[-1]) in err.replace("\n", "")


def test_a_network_file_with_markup_in_a_cell_is_reported_not_crashed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    net = tmp_path / "net [draft].csv"
    net.write_text("place,note\n[/red]Sunderland,\x1b[31mhi\n")
    monkeypatch.setattr("sys.argv", ["keycities", "network", "show", str(net), "--store",
                                     str(tmp_path / "none.duckdb")])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert "net [draft].csv" in err and "'[/red]Sunderland'" in err
