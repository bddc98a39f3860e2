"""The command line, end to end, as a user runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keycities.cli import app, main
from keycities.errors import KeycitiesError

runner = CliRunner()
README = Path(__file__).parents[2] / "README.md"


def command_summary() -> str:
    """`keycities` commands and their one-line help, as the README shows them."""
    import typer.main

    group = typer.main.get_command(app)
    lines = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        lines.append(f"{'keycities ' + name:<27} {(cmd.help or '').splitlines()[0]}")
        for sub, subcmd in getattr(cmd, "commands", {}).items():
            path = f"keycities {name} {sub}"
            lines.append(f"{path:<27} {(subcmd.help or '').splitlines()[0]}")
    return "\n".join(lines)


def test_readme_shows_the_current_command_list() -> None:
    block = re.search(r"<!-- commands -->\n```text\n(.*?)\n```", README.read_text(), re.S)
    assert block, "README lacks the <!-- commands --> block"
    assert block.group(1) == command_summary()


def test_the_required_commands_exist() -> None:
    import typer.main

    group = typer.main.get_command(app)
    names = set(group.commands)  # type: ignore[attr-defined]
    assert {"fetch", "build", "places", "network", "headline", "sources"} <= names
    assert "show" in group.commands["network"].commands  # type: ignore[attr-defined]


@pytest.mark.parametrize("cmd", [["fetch"], ["build"], ["places"], ["network", "show"],
                                 ["headline"], ["sources"]])
def test_every_command_takes_store_and_mirror(cmd: list[str]) -> None:
    out = runner.invoke(app, [*cmd, "--help"], env={"COLUMNS": "200"}).output
    assert "--store" in out and "--mirror" in out
    assert "--format" in out


def test_places_resolves_without_a_store(tmp_path: Path) -> None:
    r = runner.invoke(app, ["places", "Hull", "--store", str(tmp_path / "none.duckdb"),
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["data"][0]["code"] == "E06000010"


def test_unknown_place_is_one_readable_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["keycities", "places", "Sunderlnd", "--store",
                                     str(tmp_path / "none.duckdb")])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Unknown place 'Sunderlnd'" in err and "Sunderland" in err
    assert "Traceback" not in err


def test_headline_without_a_store_says_to_build(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["keycities", "headline", "--store",
                                     str(tmp_path / "none.duckdb")])
    with pytest.raises(SystemExit):
        main()
    assert "keycities build" in capsys.readouterr().err


@pytest.mark.mirror
def test_network_show_2021(built_store: Path) -> None:
    r = runner.invoke(app, ["network", "show", "key-cities", "--at", "2021-06-01",
                            "--store", str(built_store), "--format", "json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert body["count"] == 25
    names = {m["name"] for m in body["data"]}
    assert {"Carlisle", "Blackpool", "Doncaster"} <= names


@pytest.mark.mirror
def test_headline_json_names_releases_and_mapping(built_store: Path) -> None:
    r = runner.invoke(app, ["headline", "key-cities", "--at", "2021-06-01", "--year", "2019",
                            "--store", str(built_store), "--format", "json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    figures = {f["key"]: f for f in body["figures"]}
    assert set(figures) == {"population", "filled_jobs", "gva", "business_local_units"}
    assert all(f["release_id"] for f in figures.values())
    assert {r["id"] for r in body["releases"]} == {f["release_id"] for f in figures.values()}
    assert any("Carlisle" in n for n in figures["filled_jobs"]["notes"])


def test_places_vintage_out_of_range(tmp_path: Path) -> None:
    r = runner.invoke(app, ["places", "--vintage", "2030", "--store", str(tmp_path / "n.db")])
    assert r.exit_code != 0
    assert "outside the covered range" in str(r.exception)


def test_package_only_listing_refuses_years_it_cannot_know(tmp_path: Path) -> None:
    r = runner.invoke(app, ["places", "--vintage", "2019", "--store", str(tmp_path / "n.db")])
    assert r.exit_code != 0 and "Without the official lookups" in str(r.exception)
    ok = runner.invoke(app, ["places", "--vintage", "2021", "--store", str(tmp_path / "n.db"),
                             "--format", "csv"])
    assert ok.exit_code == 0 and len(ok.stdout.splitlines()) == 332  # header + 331 (E&W)


@pytest.mark.mirror
def test_headline_csv(built_store: Path) -> None:
    r = runner.invoke(app, ["headline", "--at", "2024-06-01", "--store", str(built_store),
                            "--format", "csv"])
    assert r.exit_code == 0, r.output
    header = r.output.splitlines()[0]
    assert header.startswith("figure,value,unit,period")
    assert len(r.output.splitlines()) == 5


@pytest.mark.mirror
def test_claims_audit_json_gives_every_claim_a_verdict_with_reasons(built_store: Path) -> None:
    r = runner.invoke(app, ["claims", "audit", "--store", str(built_store), "--format", "json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert body["count"] == len(body["claims"]) >= 17
    for c in body["claims"]:
        assert c["verdict"] in ("reproduced", "consistent", "differs", "cannot be checked")
        assert c["reasons"], c["id"]


@pytest.mark.mirror
def test_claims_audit_markdown_report(built_store: Path) -> None:
    r = runner.invoke(app, ["claims", "audit", "--store", str(built_store),
                            "--format", "markdown"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("# Key Cities claims audit")
    assert "> We have a combined population of over 5.5 million people" in r.output


@pytest.mark.mirror
def test_referendum_json(built_store: Path) -> None:
    r = runner.invoke(app, ["referendum", "key-cities", "--at", "2024-06-01", "--store",
                            str(built_store), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert "E06000063" in r.output  # Cumberland, votes of three counting areas


@pytest.mark.mirror
def test_productivity_2024_network_2019(built_store: Path) -> None:
    r = runner.invoke(app, ["productivity", "key-cities", "--at", "2024-06-01", "--year", "2019",
                            "--store", str(built_store), "--format", "json",
                            "--benchmark-basis", "totals"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert len(body["members"]) == 26
    assert body["totals"]["annual_uplift_bn"] == pytest.approx(30.13, abs=0.01)
    assert any("Σ" in n for n in body["notes"])  # the formula is in the output


@pytest.mark.mirror
def test_productivity_sensitivity_table(built_store: Path) -> None:
    r = runner.invoke(app, ["productivity", "--at", "2024-06-01", "--year", "2019",
                            "--sensitivity", "--store", str(built_store), "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert len(r.output.splitlines()) > 10


@pytest.mark.mirror
def test_productivity_bad_option_is_readable(built_store: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["keycities", "productivity", "--path", "sideways",
                                     "--store", str(built_store)])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Unknown convergence path 'sideways'" in err and "Traceback" not in err


@pytest.mark.mirror
def test_referendum_table_with_a_member_without_result(built_store: Path, tmp_path: Path) -> None:
    net = tmp_path / "mixed.csv"
    net.write_text("place\nBelfast\nSunderland\n")
    r = runner.invoke(app, ["referendum", str(net), "--store", str(built_store)],
                      env={"COLUMNS": "160"})
    assert r.exit_code == 0, r.output
    assert "Sunderland" in r.output and "82,394" in r.output
    assert "Northern Ireland" in r.output  # why Belfast has no result


@pytest.mark.mirror
def test_productivity_table_has_a_total_row(built_store: Path) -> None:
    r = runner.invoke(app, ["productivity", "--at", "2024-06-01", "--year", "2019",
                            "--store", str(built_store)], env={"COLUMNS": "160"})
    assert r.exit_code == 0, r.output
    assert "Total" in r.output and "Sunderland" in r.output


@pytest.mark.mirror
def test_peers_by_name_json(built_store: Path) -> None:
    r = runner.invoke(app, ["peers", "Sunderland", "--k", "5", "--store", str(built_store),
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    peers = body["peers"] if "peers" in body else body["data"]
    assert len(peers) == 5 and all(p["code"] != "E08000024" for p in peers)


@pytest.mark.mirror
def test_twin_cli_writes_geojson(built_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs.geojson"
    r = runner.invoke(app, ["twin", "--network", "key-cities", "--at", "2024-06-01",
                            "--min-km", "150", "--geojson", str(out), "--store",
                            str(built_store), "--format", "json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert len(body["pairs"]) == 26 and body["certificate"]["gap"] <= 1e-6
    geo = json.loads(out.read_text())
    assert len(geo["features"]) == 26


@pytest.mark.mirror
@pytest.mark.parametrize(("args", "says"), [
    (["--mode", "bond", "--similar", "nope"], "in --similar"),
    (["--places", "district", "--contrast", "population"], "in --contrast"),
    (["--min-km", "300", "--max-km", "100"], "--min-km is larger than --max-km"),
])
def test_twin_mistakes_name_the_cli_options(built_store: Path, args: list[str],
                                            says: str) -> None:
    # The same check as the web's (TwinSpec.check), worded with the CLI's options.
    r = runner.invoke(app, ["twin", *args, "--store", str(built_store)], env={"COLUMNS": "200"})
    assert r.exit_code != 0
    assert isinstance(r.exception, KeycitiesError) and says in str(r.exception), r.output


def test_an_unexpected_error_is_one_line_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr("keycities.cli.app", boom)
    monkeypatch.delenv("KEYCITIES_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "Unexpected error (RuntimeError: kaput)" in err and "Traceback" not in err


def test_an_unreachable_cluster_fails_before_any_work(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr("keycities.analysis._parallel.CONNECT_SECONDS", 1.0)
    r = CliRunner().invoke(app, ["testbed", "choose", "--cluster", "tcp://127.0.0.1:9",
                                 "--store", str(tmp_path / "none.duckdb"), "--format", "json"])
    assert r.exit_code != 0 and r.stdout == ""
    assert "Cannot reach the Dask cluster" in str(r.exception)
    assert not (tmp_path / "none.duckdb").exists()


SNAKE_HEAD = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")


@pytest.mark.mirror
@pytest.mark.parametrize("args", [["peers", "Hull"], ["twin", "--network", "key-cities"],
                                  ["headline", "--at", "2024-06-01"], ["network", "history"],
                                  ["sources"], ["places", "--vintage", "2023"]])
def test_cli_table_headings_are_words(built_store: Path, args: list[str]) -> None:
    """Issue 15 point 7: no column heading such as ``top_features`` in a CLI table, and a
    peer's drivers are named in words."""
    r = runner.invoke(app, [*args, "--store", str(built_store)], env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    heads = [line for line in r.output.splitlines() if "┃" in line]
    assert heads, r.output[:500]
    assert not [h for h in heads if SNAKE_HEAD.search(h)], heads
    assert not re.search(r"\boac_\d\b|\bleave_share\b|\bgva_per_job\b", r.output)


@pytest.mark.mirror
def test_cli_csv_cells_cannot_run_as_formulas(tmp_path: Path, built_store: Path) -> None:
    """Issue 16 point 6: a member's note written as a formula is inert in CSV output."""
    net = tmp_path / "evil.csv"
    net.write_text('place,joined,note\nE08000024,2021-01-01,"=HYPERLINK(""http://x"",""y"")"\n'
                   "E06000010,2021-01-01,fine\n")
    r = runner.invoke(app, ["network", "history", str(net), "--store", str(built_store),
                            "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert "'=HYPERLINK" in r.output
    for line in r.output.splitlines():
        for cell in line.split(","):
            assert not cell.strip('"').startswith(("=", "@", "+")), line
