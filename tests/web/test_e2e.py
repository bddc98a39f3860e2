"""End-to-end tests of the web app in a real browser (issue 6).

The app is served by uvicorn in a background thread over the store built from
the mirror; Debian's chromium is driven through Playwright.  Every test watches
its pages: console errors, uncaught page errors and any request to a host other
than this machine (aborted, so the pages are checked to work offline) are
recorded, and each test asserts at its end that there were none.  Each step is
saved as a full-page screenshot under ``test-artifacts/screenshots/``.

Expected values come from the JSON API on the same store, never from constants
copied here, so the tests check that the pages show what the API computes.

"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Route,
    expect,
    sync_playwright,
)

from keycities.settings import Settings
from keycities.web import create_app
from keycities.web.render import money

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which(
    "chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SLOW_MS = 120_000
"""Timeout of one navigation: the first place page builds the place features (~20 s)."""

pytestmark = [
    pytest.mark.mirror,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                       "(.ci/run installs it: apt-get install chromium)"),
]


# ------------------------------------------------------------------ the server
@pytest.fixture(scope="module")
def base_url(built_store: Path, serve: Any) -> Iterator[str]:
    """The app over the built store, served on a free local port in a background thread."""
    with serve(create_app(Settings(store=built_store, offline=True))) as url:
        yield url


@pytest.fixture(scope="module")
def api(base_url: str) -> Iterator[httpx.Client]:
    """A plain HTTP client on the served app (expected values, timed reads)."""
    with httpx.Client(base_url=base_url, timeout=SLOW_MS / 1000) as client:
        yield client


def get_json(api: httpx.Client, url: str) -> Any:
    r = api.get(url)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return r.json()


# ------------------------------------------------------------------ the browser
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless chromium for the module."""
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


@dataclass
class Watch:
    """What went wrong in a test's pages: console errors, page errors, outside requests."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    expected_failures: set[tuple[str, int]] = field(default_factory=set)
    _watched: set[int] = field(default_factory=set)

    def attach(self, page: Page) -> None:
        """Record ``page``'s console errors and uncaught errors (once per page)."""
        if id(page) in self._watched:
            return
        self._watched.add(id(page))
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def expect_status(self, url: str, status: int) -> None:
        """The document at ``url`` is meant to fail with ``status``: chromium's console
        line about it ("Failed to load resource ... status of 404") is not an error."""
        self.expected_failures.add((url, status))

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type != "error":
            return
        where = msg.location.get("url", "")
        for url, status in self.expected_failures:
            if where == url and f"status of {status}" in msg.text:
                return
        self.errors.append(f"console error at {where}: {msg.text}")

    def route(self, route: Route) -> None:
        """Let requests to this machine through; abort and record any other."""
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def check(self) -> None:
        """Assert that nothing went wrong."""
        assert self.errors == [], "console or page errors"
        assert self.outside == [], "requests to other hosts (aborted)"


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def context(browser: Browser, watch: Watch) -> Iterator[BrowserContext]:
    ctx = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(SLOW_MS)
    ctx.set_default_navigation_timeout(SLOW_MS)
    ctx.route("**/*", watch.route)
    ctx.on("page", watch.attach)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext, watch: Watch) -> Page:
    p = context.new_page()
    watch.attach(p)
    return p


def shot(page: Page, name: str) -> None:
    """Save a full-page screenshot as test-artifacts/screenshots/NAME.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def goto(page: Page, url: str, status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None, url
    assert response.status == status, (url, response.status)


def number(text: str) -> float:
    """``"6,239,890"`` -> 6239890.0."""
    return float(text.replace(",", "").strip())


# ------------------------------------------------------------------ 0. the watch itself
def test_watch_records_console_and_page_errors_and_blocks_other_hosts(
        browser: Browser, watch: Watch, base_url: str) -> None:
    # The app's Content-Security-Policy already stops a page's fetch to another host before
    # it is sent; bypass it here so that the watch's own blocking is what is tested.
    ctx = browser.new_context(bypass_csp=True)
    ctx.route("**/*", watch.route)
    page = ctx.new_page()
    watch.attach(page)
    goto(page, base_url + "/data")
    page.evaluate("() => console.error('e2e: a console error')")
    page.evaluate("() => { setTimeout(() => { throw new Error('e2e: uncaught'); }, 0); }")
    outcome = page.evaluate("() => fetch('https://example.org/e2e').then(() => 'loaded', "
                            "() => 'blocked')")
    page.wait_for_timeout(200)
    assert outcome == "blocked"
    assert watch.outside == ["https://example.org/e2e"]
    assert any("e2e: a console error" in e for e in watch.errors)
    assert any("e2e: uncaught" in e for e in watch.errors)
    with pytest.raises(AssertionError, match="console or page errors"):
        watch.check()
    watch.errors.clear()
    with pytest.raises(AssertionError, match="requests to other hosts"):
        watch.check()
    ctx.close()


# ------------------------------------------------------------------ 1. network -> place
def test_network_page_cards_map_and_member_link_to_place(page: Page, watch: Watch,
                                                         base_url: str,
                                                         api: httpx.Client) -> None:
    headline = get_json(api, "/api/networks/key-cities/headline")
    members = get_json(api, "/api/networks/key-cities/members")
    goto(page, base_url + "/network/key-cities")
    shot(page, "01-network")

    cards = page.locator("section[aria-labelledby=headline-h] ul.cards li.card")
    assert cards.count() == len(headline["figures"]) > 0
    leave = page.locator("section[aria-labelledby=leave-h] li.card")
    assert leave.count() == 3  # the network, Great Britain and the UK
    shown = 0
    for card, fig in zip(cards.all(), headline["figures"], strict=True):
        assert card.locator(".label").inner_text().startswith(fig["label"])
        if fig["value"] is None:
            assert card.locator(".value.na").count() == 1
            continue
        assert number(card.locator(".value").inner_text()) == round(fig["value"])
        source = card.locator("a.source")
        assert source.get_attribute("href") == f"/data#{fig['release_id']}"
        shown += 1
    assert shown > 0, "no headline figure has a value"

    assert page.locator("svg.map").count() == 1
    assert page.locator("svg.map path.member").count() == members["count"] > 0
    rows = page.locator("#table-members tbody tr")
    assert rows.count() == members["count"]

    row = rows.first
    code = row.locator("a").first.inner_text()
    name = row.locator("td").first.inner_text()
    assert (code, name) == (members["data"][0]["code"], members["data"][0]["name"])
    row.locator("a").first.click()
    page.wait_for_url(re.compile(r"/place/E\d{8}$"))
    assert urlsplit(page.url).path == f"/place/{code}"
    assert name in page.locator("h1").inner_text()
    charts = page.locator("figure.chart")
    assert charts.count() > 0
    for chart in charts.all():
        assert chart.locator("svg").count() > 0, "a chart figure without a drawn chart"
    shot(page, "02-place")
    watch.check()


# ------------------------------------------------------------------ 2. productivity
def test_productivity_benchmark_changes_the_annual_uplift(page: Page, watch: Watch,
                                                          base_url: str,
                                                          api: httpx.Client) -> None:
    england = get_json(api, "/api/productivity?benchmark=england")["totals"]
    ex_london = get_json(api, "/api/productivity?benchmark=england-ex-london")["totals"]
    goto(page, base_url + "/productivity")
    shot(page, "03-productivity")
    before = page.locator("#annual").inner_text()
    assert before == money(england["annual_uplift"])

    page.select_option("#benchmark", "england-ex-london")
    with page.expect_navigation():
        page.locator("form.controls button[type=submit]").click()
    shot(page, "04-productivity-ex-london")
    assert parse_qs(urlsplit(page.url).query)["benchmark"] == ["england-ex-london"]
    assert page.locator("#benchmark").input_value() == "england-ex-london"
    after = page.locator("#annual").inner_text()
    assert after != before
    assert after == money(ex_london["annual_uplift"])
    watch.check()


# ------------------------------------------------------------------ 3. twinning
def test_twin_key_cities_150_km_draws_every_pair_and_is_proven_optimal(
        page: Page, watch: Watch, base_url: str, api: httpx.Client) -> None:
    expected = get_json(api, "/api/twin?network=key-cities&min_km=150")
    assert expected["certificate"]["gap"] == 0
    goto(page, base_url + "/twin")
    shot(page, "05-twin-form")
    page.select_option("#network", "key-cities")
    page.fill("#min_km", "150")
    with page.expect_navigation():
        page.locator("form.controls button[type=submit]").click()
    query = parse_qs(urlsplit(page.url).query)
    assert query["network"] == ["key-cities"]
    assert query["min_km"] == ["150"]
    expect(page.locator("p.certificate")).to_contain_text("Proven optimal")
    shot(page, "06-twin-key-cities")

    lines = page.locator("svg.map .lines line")
    assert lines.count() == len(expected["pairs"]) > 0
    titles = lines.locator("title").evaluate_all("ts => ts.map(t => t.textContent)")
    drawn = {t.rsplit(", ", 1)[0] for t in titles}
    assert drawn == {f"{p['name_a']} – {p['name_b']}" for p in expected["pairs"]}
    assert page.locator("#table-pairs tbody tr").count() == len(expected["pairs"])
    watch.check()


# ------------------------------------------------------------------ 4. keyboard and labels
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(e => e.type !== 'hidden')
    .map(e => ({html: e.outerHTML.slice(0, 120),
                labelled: (e.labels && e.labels.length > 0) || !!e.getAttribute('aria-label')}))"""


def test_keyboard_skip_link_and_every_control_labelled(page: Page, watch: Watch,
                                                      base_url: str) -> None:
    goto(page, base_url + "/network/key-cities")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.className, "
                            "document.activeElement.getAttribute('href')]")
    assert focused == ["skip", "#main"]
    shot(page, "07-skip-link-focused")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    assert page.evaluate("() => document.activeElement.tagName") == "MAIN"

    for n, path in enumerate(["/productivity", "/twin", "/testbeds", "/network/key-cities"]):
        goto(page, base_url + path)
        controls = page.evaluate(UNLABELLED)
        assert len(controls) > 1, path  # the place box and the page's own form
        assert [c["html"] for c in controls if not c["labelled"]] == [], path
        shot(page, f"{8 + n:02d}-labels-{path.strip('/').replace('/', '-')}")
    watch.check()


# ------------------------------------------------------------------ 5. accessibility basics
A11Y = """() => {
  const text = (el) => !!el && el.textContent.trim().length > 0;
  const charts = [...document.querySelectorAll('figure.chart')];
  const maps = [...document.querySelectorAll('svg.map')];
  return {
    lang: document.documentElement.getAttribute('lang'),
    h1: document.querySelectorAll('h1').length,
    charts: charts.length,
    maps: maps.length,
    chartsWithoutDesc: charts.filter(f => !text(f.querySelector('p.desc'))).map(f => f.id),
    chartsWithoutTable: charts.filter(f => !f.querySelector('details table')).map(f => f.id),
    mapsWithoutTitle: maps.filter(m => !text(m.querySelector(':scope > title'))).length,
    mapsWithoutDesc: maps.filter(m => !text(m.querySelector(':scope > desc'))).length,
  };
}"""


def a11y(page: Page) -> dict[str, Any]:
    """Check the page's basics (one h1, lang, chart descriptions and tables, map titles);
    return the counts of charts and maps checked."""
    found = page.evaluate(A11Y)
    where = page.url
    assert found["lang"] == "en-GB", where
    assert found["h1"] == 1, where
    assert found["chartsWithoutDesc"] == [], where
    assert found["chartsWithoutTable"] == [], where
    assert found["mapsWithoutTitle"] == 0, where
    assert found["mapsWithoutDesc"] == 0, where
    return found


def test_every_page_has_accessible_basics(page: Page, watch: Watch, base_url: str,
                                          api: httpx.Client) -> None:
    members = get_json(api, "/api/networks/key-cities/members")["data"]
    a, b = members[0]["code"], members[1]["code"]
    paths = ["/network/key-cities", f"/place/{a}", "/places", f"/compare?places={a}&places={b}",
             "/claims", "/productivity", "/twin?network=key-cities&min_km=150", "/testbeds",
             "/data"]
    charts = maps = 0
    for n, path in enumerate(paths):
        goto(page, base_url + path)
        found = a11y(page)
        charts += found["charts"]
        maps += found["maps"]
        slug = re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].lower()).strip("-")
        shot(page, f"{12 + n:02d}-a11y-{slug}")
    # the checks above are not vacuous: the place, compare, network and productivity pages
    # draw charts, and the network, place, compare and twin pages draw maps
    assert charts >= 4
    assert maps >= 4
    watch.check()


# ------------------------------------------------------------------ 6. testbeds job
TREATED = "Bournemouth, Christchurch and Poole:2015"
"""The issue's example: a district whose name has commas, in the form's own syntax."""


def test_testbeds_runs_in_background_while_reads_stay_fast(
        page: Page, watch: Watch, base_url: str, api: httpx.Client) -> None:
    # warm what is built once per app, so that the timed reads below time the job's effect:
    # the network page, and the place features (the page's transfer ranking uses them)
    api.get("/network/key-cities").raise_for_status()
    api.get("/api/places/E06000058/peers", params={"k": 1}).raise_for_status()
    goto(page, base_url + "/testbeds")
    page.fill("#treated", TREATED)
    page.fill("#similar", "30")
    # The minimum detectable effect too: a job long enough (many placebo runs) that the
    # reads below surely happen while it runs, however warm the process already is.
    page.check("#design")
    loads: list[str] = []
    page.on("load", lambda p: loads.append(p.url))
    with page.expect_navigation():
        page.locator("form.controls button[type=submit]").click()
    expect(page.locator("progress#job-progress")).to_be_visible()
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    job = page.locator("section.job code").inner_text()
    shot(page, "21-testbeds-running")

    timings = {}
    for url in ["/network/key-cities", "/network/key-cities?format=json"]:
        start = time.perf_counter()
        api.get(url).raise_for_status()
        timings[url] = time.perf_counter() - start
    status = get_json(api, f"/api/jobs/{job}")["status"]
    assert status in ("queued", "running"), "the job ended before the reads: they prove nothing"
    # Not a speed test (benchmarks/web.py measures speed): a read queued behind the job
    # would take as long as the job (tens of seconds).
    assert all(t < 2.0 for t in timings.values()), timings

    expect(page.locator("#est-h")).to_be_visible(timeout=180_000)
    assert len(loads) >= 2, "the page did not refresh itself while the job ran"
    assert page.locator("progress").count() == 0
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    assert parse_qs(urlsplit(page.url).query)["treated"] == [TREATED]
    summary = page.locator("#table-summary tbody tr")
    assert summary.count() >= 1
    expect(page.locator("#table-summary")).to_contain_text("E06000058")
    assert get_json(api, f"/api/jobs/{job}")["status"] == "done"
    found = a11y(page)
    assert found["charts"] >= 1
    shot(page, "22-testbeds-done")
    watch.check()


def test_design_a_pilot_shows_the_chosen_set_frontier_and_reasons(
        page: Page, watch: Watch, base_url: str) -> None:
    goto(page, base_url + "/testbeds/design?k=2&grid=20&similar=12&min_donors=5"
         "&max_imbalance=2")
    expect(page.locator("#chosen-h")).to_be_visible(timeout=180_000)
    expect(page.locator("#map-chosen svg.map")).to_be_visible()
    expect(page.locator("#chart-frontier")).to_be_visible()
    expect(page.locator("#table-reasons")).to_contain_text("Out")
    shot(page, "22b-design-done")
    watch.check()


# ------------------------------------------------------------------ 6b. indicator explorer
def test_indicator_explorer_search_map_ranking_series_and_scorecard(
        page: Page, watch: Watch, base_url: str, api: httpx.Client) -> None:
    ind = "gross-median-weekly-pay"
    expected = get_json(api, f"/api/indicators/{ind}")
    card = get_json(api, "/api/scorecard/key-cities")
    goto(page, base_url + "/indicators")
    shot(page, "25-indicators")
    page.fill("#search", "weekly pay")
    with page.expect_navigation():
        page.locator("form.controls button[type=submit]").click()
    assert parse_qs(urlsplit(page.url).query)["search"] == ["weekly pay"]
    with page.expect_navigation():
        page.locator(f'main ul a[href="/indicator/{ind}"]').click()
    assert urlsplit(page.url).path == f"/indicator/{ind}"
    shot(page, "26-indicator")

    ranked = [r for r in expected["ranking"] if r["value"] is not None]
    expect(page.locator("#map-values svg.choropleth")).to_be_visible()
    assert page.locator("#map-values svg.choropleth g.areas path").count() >= len(ranked) - 5
    members = [m for m in expected["members"] if m["value"] is not None]
    assert page.locator("#map-values svg.choropleth path.member").count() == len(members) > 0
    bars = page.locator("#chart-ranking svg rect title")
    assert bars.count() == len(ranked)
    assert bars.first.text_content().startswith(ranked[0]["name"])
    expect(page.locator("#chart-series svg polyline").first).to_be_visible()
    assert page.locator("#chart-series svg polyline").count() >= 1
    england = [c for c in expected["comparators"] if c["code"] == "E92000001"][0]["value"]
    assert number(page.locator("#england-value").inner_text()) == round(england)
    assert page.locator("#table-ranking tbody tr").count() == len(ranked)
    a11y(page)

    page.select_option("#period", expected["periods"][0]["label"])
    with page.expect_navigation():
        page.locator("form.controls button[type=submit]").click()
    assert page.locator("h1").inner_text().endswith(expected["periods"][0]["label"])

    goto(page, base_url + "/scorecard/key-cities")
    shot(page, "27-scorecard")
    for area in card["areas"]:
        rows = [r for r in card["rows"] if r["area"] == area["id"]]
        if rows:
            assert page.locator(f"#table-{area['id']} tbody tr").count() == len(rows)
    a11y(page)
    watch.check()


# ------------------------------------------------------------------ 7. bad input
def test_unknown_place_and_bad_parameter_are_readable_html(page: Page, watch: Watch,
                                                          base_url: str) -> None:
    url = base_url + "/place/Nowhereville"
    watch.expect_status(url, 404)
    response = page.goto(url)
    assert response is not None
    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    assert page.locator("h1").inner_text() == "Not found"
    expect(page.locator("main p.error")).to_contain_text("Nowhereville")
    suggestions = page.locator("main p", has_text="Did you mean:").locator("a")
    assert suggestions.count() >= 1
    shot(page, "23-unknown-place")

    url = base_url + "/productivity?horizon=abc"
    watch.expect_status(url, 422)
    response = page.goto(url)
    assert response is not None
    assert response.status == 422
    assert response.headers["content-type"].startswith("text/html")
    assert page.evaluate("() => document.contentType") == "text/html"
    assert page.locator("h1").count() == 1
    expect(page.locator("main p.error")).to_contain_text("horizon")
    shot(page, "24-bad-parameter")
    watch.check()


def test_unknown_place_suggestions_lead_to_place_pages(page: Page, watch: Watch,
                                                       base_url: str,
                                                       api: httpx.Client) -> None:
    url = base_url + "/place/Nowhereville"
    watch.expect_status(url, 404)
    goto(page, url, 404)
    hrefs = page.locator("main p", has_text="Did you mean:").locator("a").evaluate_all(
        "links => links.map(a => a.href)")
    assert hrefs
    statuses = {h: api.get(h, follow_redirects=True).status_code for h in hrefs}
    assert set(statuses.values()) == {200}, statuses
    watch.check()


# ------------------------------------------------------------------ the API documentation
@pytest.mark.parametrize(("path", "title"), [("/docs", ".swagger-ui .info .title"),
                                             ("/redoc", ".redoc-wrap h1")])
def test_api_documentation_renders_offline(page: Page, watch: Watch, base_url: str,
                                           path: str, title: str) -> None:
    goto(page, base_url + path)
    expect(page.locator(title).first).to_contain_text("keycities", timeout=60_000)
    shot(page, "docs" + path.replace("/", "-"))
    watch.check()  # nothing asked of another host, no console errors


# ------------------------------------------------------------------ 8. a user's own network
def test_an_uploaded_network_csv_is_shown_and_offered_to_its_session_only(
        page: Page, watch: Watch, base_url: str, api: httpx.Client) -> None:
    csv = b"place,joined\nSunderland,\nPlymouth,2020-01-01\nWakefield,\n"
    goto(page, base_url + "/network/key-cities")
    with page.expect_navigation():
        page.get_by_role("link", name="Use your own network (a CSV)").click()
    assert urlsplit(page.url).path == "/networks/own"
    page.set_input_files("#upload-file", files=[{"name": "towns.csv", "mimeType": "text/csv",
                                                 "buffer": csv}])
    page.fill("#upload-name", "Three towns")
    with page.expect_navigation():
        page.get_by_role("button", name="Upload and show").click()
    path = urlsplit(page.url).path
    assert re.fullmatch(r"/network/u-[A-Za-z0-9_-]{22}", path), path
    shot(page, "28-own-network")
    assert page.locator("h1").inner_text().startswith("Three towns")
    text = page.locator("main").inner_text()
    assert all(name in text for name in ("Sunderland", "Plymouth", "Wakefield"))
    network_id = path.rsplit("/", 1)[1]
    assert page.locator(f'#network option[value="{network_id}"]').count() == 1
    # the indicator page marks the upload's three members on the map
    goto(page, base_url + "/indicator/gross-median-weekly-pay")
    page.select_option("#network", network_id)
    with page.expect_navigation():
        page.locator("form.controls button[type=submit]").click()
    assert page.locator("#map-values svg.choropleth path.member").count() == 3
    # another visitor (no cookie) is told there is no such network
    assert api.get(path).status_code == 404
    assert network_id not in api.get("/indicator/gross-median-weekly-pay").text
    watch.check()
