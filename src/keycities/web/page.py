"""One page, many outputs (STYLE.md #10): a :class:`Page` and its HTML.

A page builder (:mod:`keycities.web.pages`, :mod:`keycities.web.tools`)
returns a :class:`Page`: plain data (the same payloads as the JSON API), the
tables shown (each downloadable as CSV, XLSX and Parquet), the charts
(Vega-Lite, rendered to SVG) and the maps.  The HTML route, ``?format=json``,
the table downloads and ``keycities export site`` all start from it;
:func:`page_html` renders it with the app's links or the static pack's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from keycities._util.plain import jsonable
from keycities.present.charts import Figure
from keycities.present.figures import SpecFigure
from keycities.present.indicator_charts import SvgChart
from keycities.web.jobs import Job
from keycities.web.maps import Line, map_html
from keycities.web.render import Links, draw_charts, table_html
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
    figures: dict[str, Figure | SpecFigure | SvgChart] = field(default_factory=dict)
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


def page_html(res: Resources, page: Page, links: Links, *,
              session: Session | None = None) -> str:
    """Render ``page`` to HTML with ``links`` (the app's or the static pack's), for the
    signed-in ``session`` if any (its name, sign-out and editing forms)."""
    draw_charts(f.spec() for f in page.figures.values() if not isinstance(f, SvgChart))
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
    for name, t in page.tables.items():
        codes: list[str] = (list(t.frame[t.link].astype(str)) if t.link and t.link in t.frame
                            else [])
        tables[name] = table_html(t.frame, caption=t.caption,
                                  links={c: links.page(f"place/{c}") for c in codes},
                                  link_column=t.link)
    return res.renderer.render(page.template, page=page, links=links, maps=maps,
                               tables=tables, query=page.query, networks=res.network_ids(),
                               network_names=res.network_names(),
                               **session_context(session))
