"""One page, many outputs (STYLE.md #10): a :class:`Page` and its HTML.

A page builder (:mod:`keycities.web.pages`, :mod:`keycities.web.tools`)
returns a :class:`Page`: plain data (the same payloads as the JSON API), the
tables shown (each downloadable as CSV, XLSX and Parquet), the charts
(plain SVG, or Vega-Lite rendered to SVG) and the maps.  The HTML route, ``?format=json``,
the table downloads and ``keycities export site`` all start from it;
:func:`page_html` renders it with the app's links or the static pack's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from keycities._util.plain import jsonable
from keycities.present.charts import Figure
from keycities.present.figures import PlainFigure, SpecFigure
from keycities.present.indicator_charts import SvgChart
from keycities.present.tables import About, Source
from keycities.web.jobs import Job
from keycities.web.maps import Line, map_html
from keycities.web.render import FORMATS, Links, draw_charts, table_html
from keycities.web.resources import Resources
from keycities.web.session import session_context
from keycities.workspace.accounts import Session


@dataclass
class MapSpec:
    """What a map shows; drawn by :func:`keycities.web.maps.map_html` with the page's links.

    ``legend`` names the highlight classes in the map's key (class -> label);
    ``line_label`` names the lines."""

    title: str
    description: str
    highlight: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)
    zoom_to: list[str] = field(default_factory=list)
    legend: dict[str, str] = field(default_factory=dict)
    line_label: str = "Pair"
    draw: Callable[[Links], str] | None = None
    """Draws a map of its own kind (a choropleth) with the page's links, instead."""


@dataclass
class Table:
    """A table shown on a page; ``link`` names the column of LAD codes to link from."""

    frame: pd.DataFrame
    caption: str
    link: str | None = None


@dataclass
class Page:
    """Everything one view shows (see the module docstring)."""

    path: str
    template: str
    title: str
    query: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    figures: dict[str, Figure | SpecFigure | SvgChart | PlainFigure] = field(default_factory=dict)
    maps: dict[str, MapSpec] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    job: Job | None = None

    def payload(self) -> dict[str, Any]:
        """The page as plain JSON: its data, tables, charts (spec + table) and notes."""
        return jsonable({
            "page": self.path, "title": self.title, "query": self.query, "data": self.data,
            "tables": {k: {"caption": t.caption, "rows": t.frame} for k, t in self.tables.items()},
            "charts": {k: f.payload() for k, f in self.figures.items()},
            "notes": self.notes, "job": self.job.payload() if self.job else None})


def sources(res: Resources) -> dict[str, Source]:
    """Every release in the store as a :class:`~keycities.present.tables.Source`, by id
    (made once per store: a page cites several)."""
    return res.shared.get(("sources",), lambda: _sources(res))


def _sources(res: Resources) -> dict[str, Source]:
    rel = res.releases()
    out = {}
    for r in rel.to_dict(orient="records"):
        published = r.get("published")
        out[str(r["id"])] = Source(
            id=str(r["id"]), title=str(r.get("title") or ""),
            publisher=str(r.get("publisher") or ""),
            published="" if published is None or pd.isna(published)
            else pd.Timestamp(published).date().isoformat(),
            url=str(r.get("url") or ""), licence=str(r.get("licence") or ""))
    return out


def cite(res: Resources, release_id: str) -> str:
    """A release as a reader cites it: "Title, Publisher, published 2024-03-26 (id)"."""
    found = sources(res).get(release_id)
    return f"{found.cite()} ({release_id})" if found else release_id


def _subject(page: Page) -> tuple[str, str, str]:
    """(place or network, its code, the date of the figures) of ``page``."""
    d = page.data if isinstance(page.data, dict) else {}
    if "code" in d and "name" in d:
        return str(d["name"]), str(d["code"]), ""
    if "network" in d and "name" in d:
        return f"{d['name']} network", "", str(d.get("at") or "")[:10]
    return page.title, "", str(page.query.get("at") or "")[:10]


def about_of(res: Resources, page: Page, name: str) -> About:
    """What the download of table ``name`` of ``page`` is: title, subject, dates, and the
    releases it draws on (those named in the table, else those named on the page)."""
    subject, code, as_of = _subject(page)
    known = sources(res)
    table = page.tables[name]
    text = table.frame.to_json(orient="values", default_handler=str)
    used = [known[i] for i in known if i in text]
    if not used:
        whole = json.dumps(page.payload(), default=str)
        used = [known[i] for i in known if i in whole]
    return About(title=f"{table.caption} ({page.title})" if page.title not in table.caption
                 else table.caption, subject=subject, code=code, as_of=as_of,
                 sources=tuple(used))


def download_names(page: Page, formats: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """table -> format -> the file name its download is saved under."""
    subject, code, as_of = _subject(page)
    about = About(title="", subject=subject, code=code, as_of=as_of)
    return {name: {f: about.filename(name, f) for f in formats} for name in page.tables}


def page_html(res: Resources, page: Page, links: Links, *,
              session: Session | None = None) -> str:
    """Render ``page`` to HTML with ``links`` (the app's or the static pack's), for the
    signed-in ``session`` if any (its name, sign-out and editing forms)."""
    draw_charts(f.spec() for f in page.figures.values()  # those not drawn already
                if not isinstance(f, SvgChart | PlainFigure) and not getattr(f, "svg", None))
    maps = {}
    for name, spec in page.maps.items():
        if spec.draw is not None:
            maps[name] = spec.draw(links)
            continue
        maps[name] = map_html(res.shapes(), title=spec.title, description=spec.description,
                              highlight=spec.highlight, labels=spec.labels,
                              links={c: links.page(f"place/{c}") for c in spec.highlight},
                              lines=spec.lines, zoom_to=spec.zoom_to, legend=spec.legend,
                              line_label=spec.line_label, ident=f"map-{name}")
    tables = {}
    cites = {k: v.cite() for k, v in sources(res).items()} if page.tables else {}
    for name, t in page.tables.items():
        codes: list[str] = (list(t.frame[t.link].astype(str)) if t.link and t.link in t.frame
                            else [])
        tables[name] = table_html(t.frame, caption=t.caption,
                                  links={c: links.page(f"place/{c}") for c in codes},
                                  link_column=t.link, releases=cites)
    return res.renderer.render(page.template, page=page, links=links, maps=maps,
                               tables=tables, download_names=download_names(page, FORMATS),
                               query=page.query, networks=res.network_ids(),
                               network_names=res.network_names(),
                               **session_context(session))
