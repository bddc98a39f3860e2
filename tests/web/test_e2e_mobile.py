"""Phones and keyboards, in a real browser (issue 16, point 11).

At 390 x 844 CSS px (a common phone) no page may scroll sideways (tables scroll
in their own box, inputs fit), chart text must render at 11 px or more, maps
must be framed on their places with a legend, and map colours must differ by
3:1 or more from the land and the sea around them.  Keyboard focus outlines
must contrast 3:1 with what they are drawn on.  At 1280 px the laptop layout
is kept: charts at their own size, no sideways scroll.

The app is served over the store built from the mirror and Debian's chromium
is driven through Playwright, as in ``test_e2e.py``.  Screenshots go to
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from keycities.settings import Settings
from keycities.web import create_app

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which(
    "chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
SLOW_MS = 240_000
"""Timeout of one page: the first place page builds the place features, jobs take a while."""
MIN_TEXT_PX = 11.0
"""Smallest chart text a phone may render."""
MIN_CONTRAST = 3.0
"""WCAG 2.2 1.4.11 (non-text contrast) and 2.4.13 (focus appearance)."""
FORMER = "E07000028"
"""Carlisle, abolished in 2023: the former-district page."""

pytestmark = [
    pytest.mark.mirror,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                       "(.ci/run installs it: apt-get install chromium)"),
]


# ------------------------------------------------------------------ server and browser
@pytest.fixture(scope="module")
def base_url(built_store: Path, serve: Any) -> Iterator[str]:
    """The app over the built store, on a free local port in a background thread."""
    with serve(create_app(Settings(store=built_store, offline=True))) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


def new_page(browser: Browser, viewport: dict[str, int]) -> Page:
    ctx = browser.new_context(locale="en-GB", viewport=viewport)  # type: ignore[arg-type]
    ctx.set_default_timeout(SLOW_MS)
    ctx.set_default_navigation_timeout(SLOW_MS)
    return ctx.new_page()


def open_page(page: Page, url: str) -> None:
    """Go to ``url``; if it starts a background job, wait for the job (through its JSON
    status) and open the page again, with the result."""
    page.goto(url)
    job = page.locator("section.job code")
    if job.count() == 0:
        return
    status = urljoin(url, f"/api/jobs/{job.first.inner_text()}")
    deadline = time.monotonic() + SLOW_MS / 1000
    while httpx.get(status, timeout=30).json()["status"] in ("queued", "running"):
        if time.monotonic() > deadline:
            pytest.fail(f"{url}: the job did not finish in {SLOW_MS / 1000:.0f} s")
        time.sleep(1)
    page.goto(url)
    assert page.locator("section.job").count() == 0, url


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].lower()).strip("-") or "home"


@pytest.fixture(scope="module")
def paths(base_url: str) -> list[str]:
    """Every kind of page, with results where a page computes them."""
    members = httpx.get(base_url + "/api/networks/key-cities/members", timeout=60).json()
    a, b = members["data"][0]["code"], members["data"][1]["code"]
    return ["/network/key-cities", f"/place/{a}", f"/place/{FORMER}", "/places",
            f"/compare?places={a}&places={b}", "/claims", "/productivity",
            "/twin?network=key-cities&min_km=150", "/testbeds?treated=Plymouth:2016&similar=12",
            "/testbeds/design?k=2&grid=20&similar=12&min_donors=5&max_imbalance=2",
            "/testbeds/rollout?treated=Plymouth:2016,Norwich:2017&to=key-cities",
            "/data", "/login", "/history"]


# ------------------------------------------------------------------ colour arithmetic
def rgb(css: str) -> tuple[float, float, float]:
    """``"rgb(16, 42, 67)"`` (or ``rgba``/``#hex``) -> its channels."""
    if css.startswith("#"):
        h = css[1:]
        return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]
    r, g, b = (float(x) for x in re.findall(r"[\d.]+", css)[:3])
    return r, g, b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS colours."""
    def lum(c: str) -> float:
        ch = [x / 255 for x in rgb(c)]
        lin = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in ch]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted([lum(a), lum(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_arithmetic() -> None:
    assert contrast("rgb(0, 0, 0)", "#ffffff") == pytest.approx(21.0)
    assert contrast("#8fb3d9", "#e3e7eb") == pytest.approx(1.76, abs=0.01)  # the issue's
    assert contrast("rgb(217, 95, 2)", "rgb(31, 78, 121)") < MIN_CONTRAST


# ------------------------------------------------------------------ what a page shows
LAYOUT = """() => {
  const visible = (e) => e.getBoundingClientRect().width > 0;
  const charts = [...document.querySelectorAll('figure.chart svg')].filter(visible).map(s => {
    const r = s.getBoundingClientRect();
    const k = r.width / s.viewBox.baseVal.width;
    const sizes = [...s.querySelectorAll('text')].filter(t => t.textContent.trim())
      .map(t => parseFloat(getComputedStyle(t).fontSize) * k);
    return {cls: s.getAttribute('class'), scale: k, minText: Math.min(...sizes)};
  });
  const maps = [...document.querySelectorAll('figure.map-block')].map(f => {
    const svg = f.querySelector('svg.map');
    const fill = (sel) => { const p = svg.querySelector(sel);
                            return p ? getComputedStyle(p).fill : null; };
    const classes = [...new Set([...svg.querySelectorAll('g.areas path')]
      .map(p => p.getAttribute('class')).filter(c => c))];
    const key = {};
    for (const s of f.querySelectorAll('ul.legend .swatch')) {
      key[s.className.replace('swatch', '').trim()] = getComputedStyle(s).backgroundColor;
    }
    const vb = svg.viewBox.baseVal, ov = f.querySelector('svg.overview');
    const inside = [...svg.querySelectorAll('g.areas path:not([class=""])')].every(p => {
      const b = p.getBBox();
      return b.x >= vb.x && b.y >= vb.y && b.x + b.width <= vb.x + vb.width
        && b.y + b.height <= vb.y + vb.height; });
    return {
      classes, key, inside,
      fills: Object.fromEntries(classes.map(c => [c, fill('g.areas path.' + c)])),
      land: fill('path.land'), sea: getComputedStyle(svg).backgroundColor,
      legendText: [...f.querySelectorAll('ul.legend li')].map(li => li.textContent.trim()),
      area: vb.width * vb.height, overview: !!ov,
      ukArea: (b => b.width * b.height)(svg.querySelector('path.land').getBBox()),
    };
  });
  return {scrollWidth: document.documentElement.scrollWidth, charts, maps};
}"""


def layout(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(LAYOUT)
    return found


def map_problems(m: dict[str, Any], where: str) -> list[str]:
    """What is wrong with a map: a colour drawn that its legend does not name, a key
    colour that is not the map's, a fill under 3:1 against the land or the sea, an area
    outside the frame."""
    out = []
    if not m["classes"]:
        out.append(f"{where}: a map with nothing highlighted")
    missing = set(m["classes"]) - set(m["key"])
    if missing or "rest" not in m["key"]:
        out.append(f"{where}: no legend entry for {sorted(missing | {'rest'} - set(m['key']))}")
    if len(m["legendText"]) != len(m["key"]) or not all(m["legendText"]):
        out.append(f"{where}: legend entries without a label")
    for cls, fill in m["fills"].items():
        if cls in m["key"] and rgb(m["key"][cls]) != rgb(fill):
            out.append(f"{where}: the key's {cls} {m['key'][cls]} is not the map's {fill}")
        for other, name in ((m["land"], "the land"), (m["sea"], "the sea")):
            ratio = contrast(fill, other)
            if ratio < MIN_CONTRAST:
                out.append(f"{where}: {cls} {fill} on {name} {other}: {ratio:.2f}:1")
    if not m["inside"]:
        out.append(f"{where}: a highlighted area lies outside the map's frame")
    return out


def test_no_page_scrolls_sideways_on_a_phone_and_charts_and_maps_read(
        browser: Browser, base_url: str, paths: list[str]) -> None:
    page = new_page(browser, PHONE)
    wide: dict[str, int] = {}
    small_text: dict[str, float] = {}
    bad_maps: list[str] = []
    charts = maps = 0
    for path in paths:
        open_page(page, base_url + path)
        shot(page, f"m-390-{slug(path)}")
        found = layout(page)
        if found["scrollWidth"] > PHONE["width"]:
            wide[path] = found["scrollWidth"]
        for c in found["charts"]:
            charts += 1
            if c["minText"] < MIN_TEXT_PX:
                small_text[path] = min(small_text.get(path, 99.0), round(c["minText"], 1))
        for m in found["maps"]:
            maps += 1
            bad_maps += map_problems(m, path)
    assert wide == {}, "pages wider than the phone (scrollWidth, px)"
    assert small_text == {}, "chart text smaller than 11 px on a phone"
    assert bad_maps == [], "maps without a legend or with colours under 3:1"
    # not vacuous: the network, place, compare, productivity, testbeds and pilot pages draw
    # charts; the network, place, compare, twin and pilot pages draw maps
    assert charts >= 12
    assert maps >= 6
    page.context.close()


def test_a_place_map_is_framed_on_the_place_and_its_peers(
        browser: Browser, base_url: str, paths: list[str]) -> None:
    page = new_page(browser, PHONE)
    open_page(page, base_url + paths[1])
    (m,) = layout(page)["maps"]
    page.locator("figure.map-block").screenshot(path=str(SHOTS / "m-390-place-map.png"))
    assert map_problems(m, "place") == []
    assert set(m["classes"]) == {"place", "peer"}
    assert contrast(m["fills"]["place"], m["fills"]["peer"]) >= MIN_CONTRAST
    assert m["area"] <= 0.5 * m["ukArea"], "the map shows (about) the whole UK"
    assert m["overview"], "no overview of the UK beside a framed map"
    page.context.close()


def test_laptop_layout_is_kept(browser: Browser, base_url: str, paths: list[str]) -> None:
    page = new_page(browser, LAPTOP)
    for path in paths[:2] + [paths[4]]:
        open_page(page, base_url + path)
        found = layout(page)
        assert found["scrollWidth"] <= LAPTOP["width"], path
        assert found["charts"], path
        for c in found["charts"]:
            assert c["cls"].split()[-1] == "wide", path  # the phone's drawing is hidden
            assert c["scale"] == pytest.approx(1.0, abs=0.01), path  # at its own size
        shot(page, f"m-1280-{slug(path)}")
    page.context.close()


# ------------------------------------------------------------------ focus
FOCUS = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const off = parseFloat(s.outlineOffset || '0') + parseFloat(s.outlineWidth || '0') / 2;
  // the middle of each side's part on the screen (a tall table reaches past it)
  const mx = (Math.max(r.left, 0) + Math.min(r.right, innerWidth)) / 2;
  const my = (Math.max(r.top, 0) + Math.min(r.bottom, innerHeight)) / 2;
  const points = [[r.left - off, my], [r.right + off, my], [mx, r.top - off], [mx, r.bottom + off]];
  const behind = [];
  for (const [x, y] of points) {
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
    let bg = 'rgb(255, 255, 255)';
    for (const e of document.elementsFromPoint(x, y)) {
      if (e === el || el.contains(e)) continue;
      const c = getComputedStyle(e).backgroundColor;
      if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { bg = c; break; }
    }
    behind.push(bg);
  }
  return {what: el.outerHTML.slice(0, 80), style: s.outlineStyle,
          width: parseFloat(s.outlineWidth), color: s.outlineColor, behind};
}"""


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1280"])
def test_focus_outlines_contrast_with_what_is_behind_them(
        browser: Browser, base_url: str, viewport: dict[str, int]) -> None:
    page = new_page(browser, viewport)
    open_page(page, base_url + "/network/key-cities")
    weak = []
    seen = 0
    for n in range(60):  # the skip link, the header, the page's form, cards, map and table
        page.keyboard.press("Tab")
        f = page.evaluate(FOCUS)
        if f["what"].startswith("<body"):
            break
        seen += 1
        if n == 3:
            page.screenshot(path=str(SHOTS / f"m-{viewport['width']}-focus-header.png"))
        ratios = [contrast(f["color"], b) for b in f["behind"]]
        if f["style"] == "none" or f["width"] < 2 or not ratios or min(ratios) < MIN_CONTRAST:
            weak.append((f["what"], f["style"], f["width"], f["color"], f["behind"]))
    assert seen >= 30
    assert weak == [], "focus outlines under 3:1 against their background"
    page.context.close()
