"""The HTML pages: each page, its JSON and downloads, bad input, background jobs, the export."""

from __future__ import annotations

import io
import re
import time
import zipfile
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import jsonschema
import pandas as pd
import pytest
from altair.vegalite.v6.schema.core import load_schema
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from keycities.cli import app as cli
from keycities.settings import Settings
from keycities.web import create_app

PAGES = {
    "/network/key-cities?at=2024-06-01": ["Headline figures", "Members", "svg", "map"],
    "/place/E08000024": ["Sunderland", "Peers", "Suggested twin", "EU referendum"],
    "/places": ["Sunderland", "E08000024"],
    "/compare?places=Sunderland&places=Plymouth": ["Sunderland", "Plymouth", "= 100"],
    "/claims": ["reproduced", "differs", "cannot be checked"],
    "/productivity": ["Result", "a year", "Benchmark"],
    "/twin?network=key-cities&min_km=150": ["Certificate", "Proven optimal"],
    "/testbeds": ["synthetic control", "Evaluate"],
    "/testbeds/design": ["Design a pilot", "Choose", "proves"],
    "/testbeds/rollout": ["Roll-out", "Predict", "extrapolation"],
    "/data": ["Releases", "sha256", "Open Government Licence"],
}


@pytest.fixture(scope="module")
def client(built_store: Path) -> Any:
    with TestClient(create_app(Settings(store=built_store, offline=True))) as c:
        yield c


def html(client: TestClient, url: str, status: int = 200) -> str:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:800])
    assert r.headers["content-type"].startswith("text/html")
    return r.text


@pytest.mark.parametrize("url", list(PAGES))
def test_page_renders_with_its_content_one_h1_and_labelled_controls(client: TestClient,
                                                                   url: str) -> None:
    text = html(client, url)
    for want in PAGES[url]:
        assert want in text, (url, want)
    assert text.count("<h1") == 1
    assert 'lang="en-GB"' in text
    # Every form control has a <label for=...> naming its id.
    ids = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', text)
    controls = re.findall(r"<(?:input|select|textarea)\b[^>]*>", text)
    assert len(ids) == len(controls), (url, "a control without an id")
    for i in ids:
        assert f'<label for="{i}"' in text, (url, i)
    # Nothing is loaded from elsewhere: no external scripts, styles or images.
    assert "<script" not in text
    assert not re.search(r'<(?:link|img)[^>]+(?:href|src)="https?:', text)


@pytest.mark.parametrize("url", list(PAGES))
def test_every_chart_has_a_description_and_a_data_table(client: TestClient, url: str) -> None:
    text = html(client, url)
    charts = text.count('<figure class="chart"')
    assert text.count('<p class="desc"') == charts
    assert text.count("<summary>The chart's data</summary>") == charts
    assert text.count("<svg") >= charts
    for block in re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" class="map".*?</svg>',
                            text, flags=re.S):
        assert "<title" in block and "<desc" in block


@pytest.mark.parametrize("url", list(PAGES))
def test_every_chart_spec_is_valid_vega_lite(client: TestClient, url: str) -> None:
    # Charts are made without Altair's validation (it took longer than drawing them).
    schema = load_schema()
    sep = "&" if "?" in url else "?"
    charts = client.get(f"{url}{sep}format=json").json()["charts"]
    for name, chart in charts.items():
        errors = list(jsonschema.Draft7Validator(schema).iter_errors(chart["spec"]))
        assert not errors, (url, name, errors[0].message[:300])


def test_page_json_is_the_api_payload(client: TestClient) -> None:
    page = client.get("/productivity?benchmark=uk&format=json").json()
    api = client.get("/api/productivity?benchmark=uk").json()
    assert page["data"] == api
    assert page["tables"]["members"]["rows"][0]["code"]
    assert "spec" in page["charts"]["cumulative"]
    assert page["data"]["benchmark"]["key"] == "uk"


def test_productivity_changes_with_the_form(client: TestClient) -> None:
    def annual(text: str) -> str:
        found = re.search(r'id="annual">([^<]+)<', text)
        assert found, text[:500]
        return found.group(1)

    england = annual(html(client, "/productivity"))
    ex_london = annual(html(client, "/productivity?benchmark=england-ex-london"))
    assert england != ex_london
    # Blank fields of the form mean "default", as in the CLI.
    assert annual(html(client, "/productivity?year=&converge_years=&region=")) == england


def test_twin_page_draws_a_line_per_pair(client: TestClient) -> None:
    text = html(client, "/twin?network=key-cities&min_km=150&at=2024-06-01")
    data = client.get("/twin?network=key-cities&min_km=150&at=2024-06-01&format=json").json()
    pairs = len(data["data"]["pairs"])
    assert pairs == 26
    lines = re.search(r'<g class="lines">(.*?)</g>', text, flags=re.S)
    assert lines and lines.group(1).count("<line") == pairs
    assert data["data"]["certificate"]["gap"] == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_tables_download_in_each_format(client: TestClient, fmt: str) -> None:
    """Issue 15 point 8: each download names the network, the date, its sources and
    licence; CSV and XLSX in words, Parquet with the JSON's ids."""
    r = client.get(f"/network/key-cities?at=2024-06-01&table=members&format={fmt}")
    assert r.status_code == 200, r.text[:300]
    assert (f'filename="keycities-key-cities-network-members-2024-06-01.{fmt}"'
            in r.headers["content-disposition"])
    if fmt == "csv":
        assert r.content.startswith(b"\xef\xbb\xbf")  # BOM: "£" opens right in Excel
        assert 'rel="describedby"' in r.headers["link"]
        df = pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig")
        code = "ONS code"
    elif fmt == "parquet":
        df = pd.read_parquet(io.BytesIO(r.content))
        code = "code"
    else:
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            strings = z.read("xl/sharedStrings.xml").decode()
            book = z.read("xl/workbook.xml").decode()
        assert "Sunderland" in strings and "Name as the network published it" in strings
        assert "as_published" not in strings
        assert '<sheet name="About"' in book and '<sheet name="Sources"' in book
        assert "Open Government Licence v3.0" in strings and "Key Cities network" in strings
        return
    assert len(df) == 26
    assert "E08000024" in set(df[code])


def test_a_csv_download_is_described_by_its_sources_and_licence(client: TestClient) -> None:
    url = "/place/E06000010?table=profile&format="
    meta = client.get(url + "about").json()
    assert meta["dc:spatial"] == "Kingston upon Hull, City of E06000010"
    assert meta["dc:license"].startswith("Open Government Licence v3.0")
    assert any(s["dc:publisher"].startswith("Office for National Statistics")
               and s["dc:issued"] for s in meta["dc:source"])
    r = client.get(url + "csv")
    assert "keycities-kingston-upon-hull-city-of-E06000010-profile-" in (
        r.headers["content-disposition"])
    text = r.content.decode("utf-8-sig")
    assert not re.search(r"\d\.\d{8,}", text)  # no 17-digit floats
    assert not re.search(r"(?<![\d.])(19|20)\d\d\.0\b", text)  # no 2015.0


SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
YEAR_WITH_COMMA = re.compile(r"^(1,9|2,0)\d\d$")


@pytest.mark.parametrize("url", [u for u in PAGES if "testbeds" not in u]
                         + ["/place/E06000010", "/place/E07000028",
                            "/productivity?at=2024-06-01"])
def test_every_table_a_person_reads_is_in_words(client: TestClient, url: str) -> None:
    """Issue 15 point 7: no snake_case heading, no "2,015", no share as 0.009166, no
    feature id such as "oac_8 24%", in any HTML table or chart data table."""
    text = html(client, url)
    heads = [unescape(h) for h in re.findall(r'<th scope="col">(.*?)</th>', text)]
    assert heads, url
    bad = [h for h in heads if SNAKE.match(h)]
    assert not bad, (url, bad)
    for table in re.findall(r"<table>(.*?)</table>", text, flags=re.S):
        first = re.search(r'<th scope="col">(.*?)</th>', table)
        if first and first.group(1) == "Year":
            years = re.findall(r"<tr><t[dh][^>]*>([^<]*)</t[dh]>", table)
            assert years and not [y for y in years if YEAR_WITH_COMMA.match(y)], url
    cells = [unescape(c) for c in re.findall(r"<t[dh][^>]*>([^<]*)</t[dh]>", text)]
    assert not [c for c in cells if re.search(r"\boac_\d|\bgva_per_job\b|\bleave_share\b",
                                               c)], url
    assert not [c for c in cells if re.fullmatch(r"0\.\d{4,}", c)], url


def test_shares_read_as_percentages_and_sources_as_titles(client: TestClient) -> None:
    text = unescape(html(client, "/compare?places=Sunderland&places=Plymouth"))
    assert "0.009166" not in text and re.search(r"<td[^>]*>0\.9%</td>", text)
    place = unescape(html(client, "/place/E06000010"))
    assert "Mid-Year Population Estimates" in place  # the release's title, not just its id


def test_membership_chart_counts_whole_members(client: TestClient) -> None:
    spec = client.get("/network/key-cities?at=2024-06-01&format=json").json()
    axis = spec["charts"]["membership"]["spec"]["encoding"]["y"]["axis"]
    assert axis["tickMinStep"] == 1 and axis["format"] == ",d"


@pytest.mark.parametrize(("url", "status", "says"), [
    ("/place/Nowhereville", 404, "Did you mean"),
    ("/network/nope", 404, "Unknown network"),
    ("/compare?places=Sunderland", 422, "at least two places"),
    ("/productivity?horizon=abc", 422, "horizon"),
    ("/productivity?benchmark=mars", 422, "benchmark"),
    ("/twin?min_km=900&max_km=100", 422, "max"),
    ("/twin?places=postcode", 422, "places"),
    ("/testbeds?treated=Sunderland%202015", 422, "PLACE:YEAR"),
    ("/testbeds?treated=Nowhereville:2015", 404, "Nowhereville"),
    ("/testbeds?treated=Sunderland:2015&outcome=no-such-outcome", 422, "Unknown outcome"),
])
def test_bad_input_gives_a_readable_html_error(client: TestClient, url: str, status: int,
                                               says: str) -> None:
    text = html(client, url, status)
    assert 'class="error"' in text and says in text, text[:1500]


@pytest.mark.parametrize(("query", "field"), [
    ("places=lad&uk=true&mode=bond&similar=nope", "similar"),
    ("places=district&contrast=nope", "contrast"),
    ("places=sector&mode=mixed&similar=population", "similar"),
    ("places=sector&min_km=300&max_km=100", "min_km"),
])
def test_twin_page_mistakes_are_422_at_once_naming_the_form_field_and_start_no_job(
        client: TestClient, query: str, field: str) -> None:
    res = client.app.state.resources  # type: ignore[attr-defined]
    res.features()  # built once per app; the check itself is what is timed
    before = len(res.jobs)
    began = time.monotonic()
    text = html(client, f"/twin?{query}", 422)
    assert time.monotonic() - began < 2
    error = re.search(r'class="error"[^>]*>(.*?)</', text, re.S)
    assert error and re.search(rf"\b{field}\b", error.group(1)), text[:1500]
    assert "--" not in error.group(1) and "/api/jobs/" not in text
    assert len(res.jobs) == before


def test_bad_download_and_unknown_job_are_json_errors(client: TestClient) -> None:
    r = client.get("/claims?table=nope&format=csv")
    assert r.status_code == 422 and "table=claims" in r.json()["error"]
    r = client.get("/api/jobs/doesnotexist")
    assert r.status_code == 404 and "No job" in r.json()["error"]


def test_a_testbed_runs_in_the_background_with_progress(client: TestClient) -> None:
    url = "/testbeds?treated=Bournemouth,%20Christchurch%20and%20Poole:2015&similar=20"
    first = html(client, url)
    assert "Where it would most plausibly work next" in first  # the quick part is there at once
    job = re.search(r"/api/jobs/([0-9a-f]+)", first)
    if job:  # still running: the page says so and refreshes itself
        assert "<progress" in first and 'http-equiv="refresh"' in first
        # Other pages answer meanwhile.
        assert client.get("/claims").status_code == 200
        end = time.time() + 120
        while time.time() < end:
            status = client.get(f"/api/jobs/{job.group(1)}").json()
            assert 0 <= status["progress"] <= 1
            if status["status"] in ("done", "failed"):
                break
            time.sleep(0.5)
        assert status["status"] == "done", status
    done = html(client, url)
    assert "Estimates" in done and "<progress" not in done
    assert "Bournemouth, Christchurch and Poole" in done
    heads = [unescape(h) for h in re.findall(r'<th scope="col">(.*?)</th>', done)]
    assert "Fit before the start (RMS gap)" in heads  # issue 15 point 7: not pre_rmspe
    assert not [h for h in heads if SNAKE.match(h)], heads


def test_openapi_documents_pages_and_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ["/network/{network}", "/place/{query}", "/compare", "/productivity", "/twin",
                 "/testbeds", "/claims", "/data", "/api/productivity", "/api/jobs/{job_id}"]:
        assert path in spec["paths"], path
    for path, ops in spec["paths"].items():
        for p in ops["get"].get("parameters", []):
            assert p.get("description"), (path, p["name"])


# ------------------------------------------------------------------ the static pack


def test_export_site_writes_a_pack_whose_links_all_resolve(built_store: Path,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "pack"
    r = CliRunner().invoke(cli, ["export", "site", str(out), "--places", "members",
                                 "--store", str(built_store)])
    assert r.exit_code == 0, r.output
    assert "Wrote" in r.output and "MB" in r.output
    pages = list(out.rglob("index.html"))
    assert (out / "network" / "key-cities" / "index.html").exists()
    assert (out / "place" / "E08000024" / "peers.xlsx").exists()
    assert len(list((out / "place").iterdir())) == 26
    broken = []
    for page in pages:
        text = page.read_text()
        assert "<script" not in text
        for href in re.findall(r'(?:href|src)="([^"]+)"', text):
            if href.startswith(("http://", "https://", "#", "mailto:")):
                continue
            assert not href.startswith("/"), (page, href)  # relative, so it works anywhere
            target = (page.parent / unquote(urlparse(href).path)).resolve()
            if not target.exists():
                broken.append((str(page.relative_to(out)), href))
    # Links to places outside the members are expected to be missing with --places members;
    # everything else must resolve.
    assert [b for b in broken if "/place/" not in b[1]] == []
    # An existing folder is not overwritten without --force.
    again = CliRunner().invoke(cli, ["export", "site", str(out), "--store", str(built_store)])
    assert again.exit_code != 0 and "--force" in str(again.exception)


def test_place_series_keep_their_promise_and_come_from_one_release(client: TestClient) -> None:
    """Issue 15, points 1 and 2: 'GVA per filled job, Hull and England' drew Hull alone, and
    the population line joined pre-census and census-based releases with false jumps."""
    data = client.get("/place/E06000010?format=json").json()
    for key, fig in data["charts"].items():
        if "and England" in fig["title"]:
            assert "England" in fig["table"][0], key  # the promised line is drawn
    pop = data["charts"]["population"]
    years = [row["year"] for row in pop["table"]]
    assert min(years) == 2011  # one release (mid-2022): no line through the 2011 rebase
    table = pd.DataFrame(data["tables"]["population"]["rows"])
    assert table.groupby("release")["year"].agg(["min", "max"]).shape[0] == 2
    assert any("the series breaks there" in n for n in data["notes"])
    gva = data["charts"]["gva_per_filled_job"]
    assert gva["title"].endswith("Kingston upon Hull, City of and England")


def test_a_former_district_has_a_page_and_messages_name_no_module(client: TestClient) -> None:
    """Issue 15, point 4: the network page linked Carlisle to /place/E07000028, a 404
    telling the reader to look at a Python module."""
    text = html(client, "/place/E07000028")
    assert "Carlisle (E07000028) was a local authority district" in text
    assert '<a href="/place/E06000063">Cumberland</a>' in text
    data = client.get("/place/E07000028?format=json").json()
    assert data["data"]["became"] == [{"code": "E06000063", "name": "Cumberland"}]
    assert data["charts"]["population"]["table"]  # its figures while it existed
    assert data["data"]["networks"][0]["left"] == "2023-04-01"
    net = html(client, "/network/key-cities?at=2021-06-01")
    assert 'href="/place/E07000028"' in net
    r = client.get("/api/places/Carlisle?vintage=2024")
    assert "keycities." not in r.text and "module" not in r.text


def _wait_for_job(client: TestClient, text: str) -> None:
    job = re.search(r"/api/jobs/([0-9a-f]+)", text)
    if not job:
        return
    assert "<progress" in text and 'http-equiv="refresh"' in text
    end = time.time() + 300
    while time.time() < end:
        status = client.get(f"/api/jobs/{job.group(1)}").json()
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert status["status"] == "done", status


def test_design_a_pilot_and_its_roll_out_run_as_jobs(client: TestClient) -> None:
    assert "Choose" in html(client, "/testbeds/design")  # the form alone starts no job
    url = ("/testbeds/design?k=2&candidates=key-cities&grid=20&similar=12&min_donors=5"
           "&max_imbalance=2&min_km=40")
    _wait_for_job(client, html(client, url))
    done = html(client, url)
    assert "The chosen testbeds" in done and "proven optimal" in done
    assert "Power against representativeness" in done and "Out" in done
    body = client.get("/api/testbeds/choose?k=2&candidates=key-cities&grid=20&similar=12"
                      "&min_donors=5&max_imbalance=2&min_km=40").json()
    assert len(body["chosen"]) == 2
    url = "/testbeds/rollout?treated=Plymouth:2016,Norwich:2017&to=key-cities"
    _wait_for_job(client, html(client, url))
    done = html(client, url)
    assert "Predicted effects" in done and "National roll-out" in done
    assert 'class="rise' in done or 'class="fall' in done or 'class="flat' in done
    bad = client.get("/testbeds/design?k=2&require=Nowhereville")
    assert bad.status_code == 404 and "Nowhereville" in bad.text


def test_a_signed_in_reader_gets_a_page_built_once_until_the_register_changes(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # The response cache skips signed-in readers; the page itself is still built once.
    import keycities.web.views as views

    built: list[str] = []
    real = views.place_page

    def counting(res: Any, code: str) -> Any:
        built.append(code)
        return real(res, code)

    monkeypatch.setattr(views, "place_page", counting)
    res = client.app.state.resources  # type: ignore[attr-defined]
    res.changed()
    cookie = {"Cookie": "kc_session=not-a-real-session"}
    first = client.get("/place/E06000047", headers=cookie)
    again = client.get("/place/E06000047", headers=cookie)
    as_json = client.get("/place/E06000047?format=json", headers=cookie)
    assert first.status_code == again.status_code == as_json.status_code == 200
    assert built == ["E06000047"]
    res.changed()  # an edit to the register forgets built pages
    assert client.get("/place/E06000047", headers=cookie).status_code == 200
    assert built == ["E06000047", "E06000047"]


def test_the_suggested_twin_names_its_measures_in_words(client: TestClient) -> None:
    # Issue 15 point 7: the place page said "on leave_share, gva_per_job, earnings".
    text = html(client, "/place/E08000024")
    line = text[text.index("bridge twinning of all GB districts"):][:300]
    assert "GVA per filled job" in line
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", line.split("(")[0]), line


def test_first_views_draw_their_charts_without_vega(client: TestClient,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 18 point 3: each chart drawn by Vega (vl-convert) cost about 50 ms, twice (a
    # laptop's drawing and a phone's), on every first view of the place, network,
    # productivity and compare pages.  Their line and bar charts are plain SVG now.
    import keycities.web.render as render

    def no_vega(spec_json: str) -> str:
        raise AssertionError("a chart drawn by Vega: " + spec_json[:120])

    monkeypatch.setattr(render, "_svg", no_vega)
    client.app.state.resources.changed()  # type: ignore[attr-defined]
    cookie = {"Cookie": "kc_session=not-a-real-session"}  # skips the response cache
    for url in ("/place/E06000026", "/network/key-cities?at=2023-03-03",
                "/productivity?growth=1.7", "/compare?places=E06000026&places=E08000024",
                "/scatter?x=gross-median-weekly-pay&y=claimant-count"):
        r = client.get(url, headers=cookie)
        assert r.status_code == 200, (url, r.status_code, r.text[:800])
        text = r.text
        charts = text.count('<figure class="chart"')
        assert charts >= 1, url
        assert text.count('class="plain wide"') == text.count('class="plain narrow"') == charts
    # The JSON payload still offers each chart's Vega-Lite spec (made only when asked for).
    data = client.get("/compare?places=E06000026&places=E08000024&format=json",
                      headers=cookie).json()
    assert all(chart["spec"]["mark"] for chart in data["charts"].values())
