"""From a page's payload to HTML: templates, links, number formats, charts as SVG.

One payload, many outputs (STYLE.md #10): a :class:`~keycities.web.page.Page`
holds plain data, tables, figures and maps; this module turns it into HTML
for the running app or for the static evidence pack.  The two differ only in
their :class:`Links`: the app links to ``/place/E06000047?...``, the pack to
``../../place/E06000047/index.html`` (relative, so the folder can be published
anywhere or opened from disk).

Charts are drawn as SVG on the server, so pages need no JavaScript and no CDN;
each chart comes with its description and its data table, and is drawn twice,
for a laptop and for a phone (the stylesheet shows one).  The pages' line and
bar charts come drawn (:class:`~keycities.present.figures.PlainFigure`, as the
indicator pages' :class:`~keycities.present.indicator_charts.SvgChart`); the
others are Vega-Lite specs rendered here by ``vl-convert`` (which bundles
Vega).  vl-convert holds Python's interpreter lock while it draws (about 50 ms
a chart), which would stall every other request of the app; the running app
therefore draws in a worker process (:data:`SVG_WORKER`), and the export, which
has no other requests, draws in its own.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import vl_convert as vlc
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from keycities._util.units import with_unit
from keycities._util.version import VERSION
from keycities.analysis.places.params import PLACE_SET
from keycities.analysis.productivity.params import BASIS, BENCHMARK, MEASURE, PATH
from keycities.analysis.testbed.outcomes import OUTCOMES
from keycities.analysis.twinning.spec import MODE
from keycities.present.charts import phone_spec
from keycities.present.labels import cell as people_cell
from keycities.present.labels import certificate_words, column, label
from keycities.web.jobs import WorkerProcess

FORMATS = ("csv", "xlsx", "parquet")
"""Download formats of every table."""


@dataclass(frozen=True)
class Links:
    """How pages, assets and downloads are addressed.

    ``export=False``: absolute paths of the running app (query strings kept).
    ``export=True``: relative file paths of the static pack from a page at
    ``here`` (query strings dropped: the pack holds each page's default view).
    """

    export: bool = False
    here: str = ""

    def _base(self) -> str:
        depth = len([p for p in self.here.split("/") if p])
        return "../" * depth if self.export else "/"

    def page(self, path: str, **query: Any) -> str:
        """The URL of page ``path`` ("" = home, "place/E06000047", ...)."""
        path = path.strip("/")
        if self.export:
            return self._base() + (f"{path}/" if path else "") + "index.html"
        q = {k: v for k, v in query.items() if v not in (None, "", False)}
        return "/" + path + (f"?{urlencode(q, doseq=True)}" if q else "")

    def asset(self, name: str) -> str:
        """The URL of a static asset (stylesheet, icon)."""
        return f"{self._base()}static/{name}"

    def download(self, table: str, fmt: str, query: Mapping[str, Any] | None = None) -> str:
        """The URL of table ``table`` of the current page in format ``fmt``."""
        if self.export:
            return f"{table}.csv-metadata.json" if fmt == "about" else f"{table}.{fmt}"
        q = {k: v for k, v in (query or {}).items() if v not in (None, "", False)}
        q.update({"table": table, "format": fmt})
        return "/" + self.here.strip("/") + "?" + urlencode(q, doseq=True)

    def json(self, query: Mapping[str, Any] | None = None) -> str:
        """The URL of the current page's JSON payload."""
        if self.export:
            return "page.json"
        q = {k: v for k, v in (query or {}).items() if v not in (None, "", False)}
        q["format"] = "json"
        return "/" + self.here.strip("/") + "?" + urlencode(q, doseq=True)


# ------------------------------------------------------------------------ numbers


def num(x: Any, digits: int = 0) -> str:
    """A number with thousands separators; "n/a" for missing."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, int | float):
        return f"{x:,.{digits}f}"
    return str(x)


def pct(x: Any, digits: int = 1) -> str:
    """A share as a percentage."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{100 * float(x):.{digits}f}%"


def money(x: Any, unit: str = "") -> str:
    """Pounds, in £bn / £m when large."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    v = float(x)
    if abs(v) >= 1e9:
        return f"£{v / 1e9:,.1f}bn"
    if abs(v) >= 1e6:
        return f"£{v / 1e6:,.1f}m"
    return f"£{v:,.0f}"


def cell(x: Any) -> str:
    """A table cell: numbers formatted, missing as a dash."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.4g}"
    if isinstance(x, int):
        return f"{x:,}" if abs(x) >= 10000 else str(x)
    if isinstance(x, list | tuple):
        return ", ".join(map(str, x))
    if isinstance(x, pd.Timestamp | dt.date):
        return x.isoformat()[:10]
    return str(x)


_CODE = re.compile(r"\(([A-Z]\d{8})\)")


def code_of(suggestion: str) -> str:
    """The GSS code in a suggestion such as "Cherwell (E07000177)" (else the text)."""
    found = _CODE.search(suggestion)
    return found.group(1) if found else suggestion


# ------------------------------------------------------------------------ charts


def draw_svg(spec_json: str) -> str:
    """A Vega-Lite spec (JSON text) drawn as SVG by vl-convert, in this process."""
    svg: str = vlc.vegalite_to_svg(json.loads(spec_json))
    # vl-convert writes a fixed size; let CSS scale it to the column.
    return svg.replace("<svg ", '<svg role="presentation" aria-hidden="true" ', 1)


CHART_WORKERS = 2
"""Chart-drawing processes: a page's charts are drawn side by side (see
:func:`draw_charts`), one per core of a small server."""


class SvgWorker:
    """Draws charts in worker processes once :meth:`start` is called, else in this one.

    The web app starts it: vl-convert keeps the interpreter lock while it draws,
    so drawing here would pause every other request for the chart's 50-100 ms.
    The worker (:class:`~keycities.web.jobs.WorkerProcess`) starts on first use;
    a worker that died is replaced once.
    """

    def __init__(self) -> None:
        self.process = WorkerProcess(workers=CHART_WORKERS)
        self.enabled = False

    def start(self) -> None:
        """Draw in the worker process from now on."""
        self.enabled = True

    def draw(self, spec_json: str) -> str:
        """:func:`draw_svg` of ``spec_json``, in the worker when started."""
        if not self.enabled:
            return draw_svg(spec_json)
        for attempt in range(2):
            pool = self.process.get()
            try:
                return pool.submit(draw_svg, spec_json).result()
            except BrokenProcessPool:
                self.process.replace(pool)
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        """Stop the worker (the app is shutting down); later charts are drawn here."""
        self.enabled = False
        self.process.stop()


SVG_WORKER = SvgWorker()
"""Where the app's charts are drawn (see :class:`SvgWorker`)."""


@lru_cache(maxsize=512)
def _svg(spec_json: str) -> str:
    return SVG_WORKER.draw(spec_json)


def _key(spec: Mapping[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, default=str)


def _drawn(spec: Mapping[str, Any], cls: str) -> str:
    svg = _svg(_key(spec))
    return svg.replace('class="marks"', f'class="marks {cls}"', 1)


def chart_svg(spec: Mapping[str, Any]) -> Markup:
    """A Vega-Lite spec as inline SVG (cached by the spec), twice: as specified (class
    ``wide``) and for a phone (class ``narrow``, :func:`~keycities.present.charts.phone_spec`);
    the stylesheet shows one of them by the screen's width."""
    return Markup(_drawn(spec, "wide") + _drawn(phone_spec(spec), "narrow"))  # noqa: S704


_DRAWERS = ThreadPoolExecutor(max_workers=CHART_WORKERS, thread_name_prefix="charts")


def draw_charts(specs: Iterable[Mapping[str, Any]]) -> None:
    """Draw a page's charts (each as specified and for a phone) side by side in the chart
    workers, kept for :func:`chart_svg`, rather than one after another as the template
    meets them."""
    keys = list(dict.fromkeys(_key(s) for spec in specs for s in (spec, phone_spec(spec))))
    if len(keys) > 1 and SVG_WORKER.enabled:
        list(_DRAWERS.map(_svg, keys))


# ------------------------------------------------------------------------ templates


#: The closed sets of options the pages offer, declared once in the analysis packages.
CHOICES = {"benchmark": BENCHMARK, "measure": MEASURE, "path": PATH, "places": PLACE_SET,
           "mode": MODE, "basis": BASIS}


@dataclass
class Renderer:
    """The Jinja environment of the pages (autoescaping, our filters)."""

    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(loader=PackageLoader("keycities.web", "templates"),
                               autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters.update(num=num, pct=pct, money=money, cell=cell, code_of=code_of,
                                label=label, chart_cell=chart_cell)
        self.env.globals.update(version=VERSION, chart_svg=chart_svg,
                                certificate_words=certificate_words,
                                FORMATS=FORMATS, choices=CHOICES, outcomes=OUTCOMES)

    def render(self, template: str, **context: Any) -> str:
        """Render ``template`` with ``context``."""
        return self.env.get_template(template).render(**context)


def table_html(df: pd.DataFrame, *, caption: str, links: Mapping[str, str] | None = None,
               link_column: str | None = None, max_rows: int = 500,
               releases: dict[str, str] | None = None) -> Markup:
    """A DataFrame as an accessible HTML table (caption, column headers, row headers).

    Headings and values are written for people by :mod:`keycities.present.labels`
    (``releases``: release id -> its title, publisher and date, for source columns).
    ``links``: value of ``link_column`` -> URL, to link the first column.
    """
    cols = list(df.columns)
    kinds = [column(c).kind for c in cols]
    head = "".join(f'<th scope="col">{escape(label(c))}</th>' for c in cols)
    rows = []
    unit_at = cols.index("unit") if "unit" in cols else None
    for rec in df.head(max_rows).itertuples(index=False):
        cells = []
        for i, (c, v) in enumerate(zip(cols, rec, strict=True)):
            if unit_at is not None and kinds[i] in ("number", "text") and _is_number(v):
                # A row's "unit" says how its figures read: a share as a percentage.
                text = escape(with_unit(v, str(rec[unit_at] or "")))
            else:
                text = escape(people_cell(v, kinds[i], releases=releases))
            if links and link_column and c == cols[0]:
                key = getattr(rec, link_column) if link_column in cols else None
                href = links.get(str(key)) if key is not None else None
                if href:
                    text = Markup(f'<a href="{escape(href)}">{text}</a>')
            num_cls = ' class="n"' if isinstance(v, int | float) and not isinstance(v, bool) else ""
            tag = "th" if i == 0 else "td"
            scope = ' scope="row"' if i == 0 else ""
            cells.append(f"<{tag}{scope}{num_cls}>{text}</{tag}>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (f"<p class='note'>Showing {max_rows:,} of {len(df):,} rows; the downloads hold "
            "them all.</p>" if len(df) > max_rows else "")
    return Markup(f'<div class="scroll" tabindex="0" role="region" aria-label="{escape(caption)}">'
                  f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
                  f"<tbody>{''.join(rows)}</tbody></table></div>{more}")  # noqa: S704


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def chart_cell(value: Any, col: Any) -> str:
    """A cell of a chart's data table, written as column ``col``'s values are."""
    return people_cell(value, column(col).kind)
