"""The indicator explorer's pages and API on a store built from the mirror: the same numbers
as the CLI, the map, charts and tables, bad input answered as the CLI answers it."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from keycities.cli import app as cli
from keycities.settings import Settings
from keycities.web import create_app

pytestmark = pytest.mark.mirror


@pytest.fixture(scope="module")
def client(built_store: Path) -> Any:
    with TestClient(create_app(Settings(store=built_store, offline=True))) as c:
        yield c


def cli_json(store: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, [*args, "--store", str(store), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def get(client: TestClient, url: str, status: int = 200) -> Any:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    return r


def test_catalogue_lists_every_indicator_by_work_area_and_searches_on_the_server(
        client: TestClient, built_store: Path) -> None:
    expected = cli_json(built_store, "indicators")
    page = get(client, "/indicators?format=json").json()
    assert page["data"]["count"] == expected["count"] > 80
    assert [r["indicator"] for r in page["data"]["data"]] == [
        r["indicator"] for r in expected["data"]]
    text = get(client, "/indicators").text
    assert text.count('href="/indicator/') >= expected["count"]
    assert '<form class="controls" method="get" action="/indicators"' in text
    found = get(client, "/indicators?search=weekly+pay&format=json").json()["data"]
    assert found["count"] == cli_json(built_store, "indicators", "--search",
                                      "weekly pay")["count"] > 0
    assert all("pay" in r["label"].lower() or "pay" in r["indicator"] for r in found["data"])
    assert get(client, "/api/indicators?search=weekly+pay").json()["count"] == found["count"]


def test_indicator_page_shows_the_cli_numbers_map_charts_and_source(
        client: TestClient, built_store: Path) -> None:
    ind = "gross-median-weekly-pay"
    expected = cli_json(built_store, "indicator", ind, "--network", "key-cities")
    data = get(client, f"/indicator/{ind}?format=json").json()["data"]
    assert data["ranking"] == expected["ranking"]
    assert data["members"] == expected["members"]
    assert data["network"]["value"] == expected["network"]["value"]
    assert data["comparators"] == expected["comparators"]
    assert get(client, f"/api/indicators/{ind}").json()["ranking"] == expected["ranking"]
    text = get(client, f"/indicator/{ind}?place=Sunderland").text
    assert text.count('class="choropleth"') == 1 and "choropleth inset" in text
    members = [m for m in expected["members"] if m["value"] is not None]
    assert text.count('class="member"') >= len(members)
    assert f"Legend ({expected['meta']['unit']})" in text
    for chart in ("ranking", "series", "distribution"):
        assert f'id="chart-{chart}"' in text
    assert "Sunderland" in text and expected["meta"]["source_url"] in text
    assert "Caveats" in text
    england = [c for c in expected["comparators"] if c["code"] == "E92000001"][0]
    assert f"England {england['value']:,.0f}" in text  # the ranking's reference line
    csv = get(client, f"/indicator/{ind}?table=ranking&format=csv").text
    frame = pd.read_csv(io.StringIO(csv))
    assert len(frame) == len(expected["ranking"])


def test_indicator_period_and_network_are_selectable(client: TestClient,
                                                     built_store: Path) -> None:
    ind = "claimant-count"
    expected = cli_json(built_store, "indicator", ind, "--period", "2023")
    data = get(client, f"/indicator/{ind}?period=2023&network=none&format=json").json()["data"]
    assert data["period"] == expected["period"]
    assert data["ranking"] == expected["ranking"]
    assert data["network"] is None
    at = get(client, f"/indicator/{ind}?at=2024-06-01&format=json").json()["data"]
    assert at["network"]["at"] == "2024-06-01"


def test_unknown_indicator_is_404_with_the_closest_ids(client: TestClient) -> None:
    text = html.unescape(get(client, "/indicator/claimant-cont", 404).text)
    assert "Unknown indicator 'claimant-cont'" in text
    assert 'href="/indicator/claimant-count"' in text
    body = get(client, "/api/indicators/claimant-cont", 404).json()
    assert "claimant-count" in body["indicators"]


def test_missing_period_lists_the_periods_as_the_cli_does(client: TestClient,
                                                          built_store: Path) -> None:
    result = CliRunner().invoke(cli, ["indicator", "claimant-count", "--period", "1990",
                                      "--store", str(built_store)])
    assert result.exit_code != 0
    body = get(client, "/api/indicators/claimant-count?period=1990", 422).json()
    assert "Periods it has: " in body["error"]
    assert body["error"] == str(result.exception)


def test_network_not_covered_names_the_members_without_values_and_gives_no_total(
        client: TestClient, built_store: Path) -> None:
    # Sports facilities are published for England only; the Key Cities have Welsh members.
    expected = cli_json(built_store, "indicator", "sports-facilities", "--network",
                        "key-cities")
    page = get(client, "/indicator/sports-facilities?format=json").json()
    value = page["data"]["network"]["value"]
    assert value["value"] is None and value == expected["network"]["value"]
    assert "Newport" in value["refused"] and "Wrexham" in value["refused"]
    assert value["refused"] in html.unescape(get(client, "/indicator/sports-facilities").text)


def test_scatter_gives_the_correlation_and_periods(client: TestClient) -> None:
    url = "/scatter?x=gross-median-weekly-pay&y=claimant-count"
    data = get(client, url + "&format=json").json()["data"]
    x = get(client, "/api/indicators/gross-median-weekly-pay").json()["ranking"]
    y = get(client, "/api/indicators/claimant-count").json()["ranking"]
    both = pd.DataFrame(x).merge(pd.DataFrame(y), on="code")
    assert data["districts"] == len(both)
    assert data["pearson"] == pytest.approx(both["value_x"].corr(both["value_y"]))
    text = get(client, url).text
    assert "Pearson" in text and data["x"]["period_label"] in text
    api = get(client, "/api/scatter?x=gross-median-weekly-pay&y=claimant-count").json()
    assert api["pearson"] == data["pearson"] and len(api["points"]) == data["districts"]


def test_scorecard_page_is_the_cli_scorecard(client: TestClient, built_store: Path) -> None:
    expected = cli_json(built_store, "scorecard", "key-cities")
    data = get(client, "/scorecard/key-cities?format=json").json()["data"]
    assert data["rows"] == expected["rows"]
    text = get(client, "/scorecard/key-cities").text
    for area in {r["area"] for r in expected["rows"]}:
        assert f'id="area-{area}"' in text
    assert get(client, "/api/scorecard/key-cities").json()["rows"] == expected["rows"]
    get(client, "/scorecard/no-such-network", 404)


def test_a_scorecard_on_another_date_with_the_same_members_is_not_computed_again(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 18 point 3: a first view of /scorecard/key-cities?at=DATE took 10-30 s for
    # every new date; the rows depend only on the members and their boundaries.
    import keycities.web.resources as resources

    calls: list[str] = []
    real = resources.scorecard_from_store

    def counted(store: Any, subject: Any, **kw: Any) -> Any:
        calls.append(str(subject.at))
        return real(store, subject, **kw)

    monkeypatch.setattr(resources, "scorecard_from_store", counted)
    first = get(client, "/scorecard/key-cities?at=2024-06-01&format=json").json()
    calls.clear()
    second = get(client, "/scorecard/key-cities?at=2024-06-02&format=json").json()
    assert calls == []
    assert second["data"]["rows"] == first["data"]["rows"]
    assert "2 June 2024" in second["title"] and "1 June 2024" in first["title"]


def test_place_page_scorecard_matches_the_cli(client: TestClient, built_store: Path) -> None:
    expected = cli_json(built_store, "scorecard", "Sunderland")
    page = get(client, "/place/E08000024?format=json").json()
    tables = {k: v["rows"] for k, v in page["tables"].items() if k.startswith("scorecard-")}
    rows = {r["Id"]: r for rows in tables.values() for r in rows}
    assert set(rows) == {r["indicator"] for r in expected["rows"]}
    for r in expected["rows"]:
        shown = rows[r["indicator"]]
        assert shown["Rank"] == (f"{r['rank']} of {r['of']}" if r["rank"] is not None else "")
        assert shown["Trend"] == (r["trend"] or "")


def test_network_page_shows_the_leave_share_beside_gb_and_uk(client: TestClient,
                                                             built_store: Path) -> None:
    expected = cli_json(built_store, "referendum", "key-cities")
    data = get(client, "/network/key-cities?format=json").json()["data"]["referendum"]
    assert data["network"] == pytest.approx(expected["total"]["leave_share"])
    by_code = {c["code"]: c for c in expected["comparisons"]}
    assert data["great_britain"] == pytest.approx(by_code["K03000001"]["leave_share"])
    assert data["united_kingdom"] == pytest.approx(by_code["K02000001"]["leave_share"])
    text = get(client, "/network/key-cities").text
    assert re.search(r'id="leave-network".*?\d+\.\d%', text, re.S)
    assert re.search(r'id="leave-uk".*?\d+\.\d%', text, re.S)
