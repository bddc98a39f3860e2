"""The static evidence pack: the web app's pages as files a secretariat can publish.

:func:`export_site` builds the same :class:`~keycities.web.page.Page` objects as
the running app and renders them with relative links, so the folder can be
put on any web server or opened from disk.  Beside each page's ``index.html``
are its payload (``page.json``) and every table it shows as CSV, XLSX and
Parquet.  Calculators are exported with their default settings and say how
to change them (``keycities serve``).

The pack is written to a temporary folder next to the target and moved into
place only when complete: an interrupted export leaves the previous pack (or
nothing), never half of one.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from keycities.errors import KeycitiesError, StoreNotBuiltError
from keycities.export._folder import check_target, swap_in, working_folder
from keycities.export.params import PackPlaces
from keycities.present.tables import csv_metadata, table_bytes
from keycities.settings import Settings
from keycities.store.queries import releases_in_force
from keycities.web.indicator_pages import (
    catalogue_page,
    exported_indicators,
    indicator_page,
    scatter_page,
    scorecard_page,
)
from keycities.web.page import about_of, page_html
from keycities.web.pages import (
    claims_page,
    compare_page,
    data_page,
    network_page,
    place_page,
    places_page,
)
from keycities.web.params import ProductivityQuery, TwinQuery, query_params
from keycities.web.render import FORMATS, Links
from keycities.web.resources import Resources
from keycities.web.tools import productivity_page, testbeds_page, twin_page

Progress = Callable[[int, int, str], None]
"""(pages done, pages in all, the page being written)."""


@dataclass(frozen=True)
class SiteReport:
    """What an export wrote."""

    folder: Path
    pages: int
    files: int
    bytes: int
    skipped: list[str]

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {"folder": str(self.folder), "pages": self.pages, "files": self.files,
                "bytes": self.bytes, "megabytes": round(self.bytes / 1e6, 1),
                "skipped": self.skipped}


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)


def export_site(settings: Settings, folder: Path, *, network: str = "key-cities",
                places: PackPlaces = "all", force: bool = False,
                as_of: dt.date | None = None,
                progress: Progress | None = None) -> SiteReport:
    """Write the evidence pack to ``folder``.

    Parameters
    ----------
    settings
        Where the (built) store is.
    folder
        The pack's folder; replaced as a whole when ``force``.
    network
        The network whose page is the pack's home.
    places
        Place pages for ``all`` LADs (default; every link in the pack works)
        or only the network's ``members`` (a smaller pack; links to other
        places are left out of the tables' links).
    force
        Replace an existing ``folder``.
    as_of
        Pin the pack "as published on" this date: the member register as it
        stood at the end of that day (edits made later are undone), membership
        dates on it, and a ``manifest.json`` naming the register's last change and
        every data release (id, publisher's date, sha256, reader, when loaded) the
        figures rest on.  The store keeps one version of each release, so the
        export is refused when a release was loaded, replaced or removed after
        that day (:func:`keycities.store.queries.releases_in_force`), naming each.
    progress
        Called after each page.

    Returns
    -------
    SiteReport

    Raises
    ------
    KeycitiesError
        When ``folder`` exists and ``force`` is not given, the store is not built, or
        (with ``as_of``) its data releases changed after that day.
    """
    folder = Path(folder)
    check_target(folder, force=force)
    pin = None if as_of is None else f"{as_of.isoformat()}T23:59:59.999999+00:00"
    res = Resources(settings, as_of=pin)
    try:
        if not res.context.has_store():
            raise StoreNotBuiltError(f"No evidence store at {settings.store}: run "
                                     "`keycities build` first.")
        if pin is not None:
            _check_releases_then(res, as_of, pin)
        codes = list(res.features().values.index)
        if places == "members":
            members = set(res.network(network).members_at(
                as_of or dt.date.today())["code"])
            codes = [c for c in codes if c in members]
        builders: list[tuple[str, Callable[[], Any]]] = [
            (f"network/{network}", lambda: network_page(res, network, as_of)),
            ("places", lambda: places_page(res)),
            ("compare", lambda: compare_page(res, ["Sunderland", "Plymouth"])),
            ("claims", lambda: claims_page(res)),
            ("productivity", lambda: productivity_page(
                res, query_params(ProductivityQuery.model_validate({})))),
            ("twin", lambda: twin_page(res, query_params(TwinQuery.model_validate({})))),
            ("testbeds", lambda: testbeds_page(res, {})),
            ("data", lambda: data_page(res)),
            (f"scorecard/{network}", lambda: scorecard_page(res, network, as_of)),
            ("scatter", lambda: scatter_page(res, network=network, at=as_of)),
        ]
        builders += [(f"indicator/{i}", partial(indicator_page, res, i, network=network,
                                                at=as_of)) for i in exported_indicators(res)]
        # After the indicator pages: the catalogue links only those written.
        builders.append(("indicators", lambda: catalogue_page(res, unlinked={
            s.split(":", 1)[0].removeprefix("indicator/") for s in skipped
            if s.startswith("indicator/")})))
        builders += [(f"place/{c}", partial(place_page, res, c)) for c in codes]
        tmp = working_folder(folder)
        files, skipped = 0, []
        try:
            for i, (path, build) in enumerate(builders, 1):
                try:
                    page = build()
                except KeycitiesError as exc:
                    skipped.append(f"{path}: {exc}")
                    continue
                here = tmp / page.path
                _write(here / "index.html", page_html(res, page, Links(export=True,
                                                                       here=page.path)))
                _write(here / "page.json", json.dumps(page.payload(), default=str))
                files += 2
                for name, table in page.tables.items():
                    about = about_of(res, page, name)
                    for fmt in FORMATS:
                        _write(here / f"{name}.{fmt}", table_bytes(table.frame, fmt, sheet=name,
                                                                    about=about))
                    _write(here / f"{name}.csv-metadata.json", json.dumps(
                        csv_metadata(table.frame, about, f"{name}.csv"), indent=1))
                    files += len(FORMATS) + 1
                if progress:
                    progress(i, len(builders), path)
            static = resources.files("keycities.web").joinpath("static")
            for item in static.iterdir():
                if item.is_file():
                    _write(tmp / "static" / item.name, item.read_bytes())
                    files += 1
            home = f"network/{network}/index.html"
            _write(tmp / "index.html", f'<!doctype html><html lang="en-GB"><head><meta '
                   f'charset="utf-8"><meta http-equiv="refresh" content="0; url={home}">'
                   f'<title>keycities evidence pack</title></head><body><p><a href="{home}">'
                   "The evidence pack starts here.</a></p></body></html>")
            files += 1
            _write(tmp / "manifest.json", json.dumps(_manifest(res, network, as_of, pin),
                                                     indent=1, default=str))
            files += 1
            size = sum(f.stat().st_size for f in tmp.rglob("*") if f.is_file())
            swap_in(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        res.close()
    return SiteReport(folder=folder, pages=len(builders) - len(skipped), files=files,
                      bytes=size, skipped=skipped)


def _check_releases_then(res: Any, as_of: dt.date | None, pin: str) -> None:
    """Refuse to pin a pack to a date when the store's data is not what it was then."""
    _, differences = releases_in_force(res.store, dt.datetime.fromisoformat(pin))
    if differences:
        shown = differences[:8] + ([f"and {len(differences) - 8} more."]
                                   if len(differences) > 8 else [])
        raise KeycitiesError(
            f"The store's data releases have changed since {as_of}, so a pack as published "
            "on that day cannot be made from it:\n- " + "\n- ".join(shown) + "\nBuild a "
            "store from the release files of that day (the catalog and `keycities sources` "
            "name each file's URL and sha256) and export from it with --store, or pin a "
            "later date.")


def _manifest(res: Any, network: str, as_of: dt.date | None, pin: str | None
              ) -> dict[str, Any]:
    """What the pack rests on: the register's state and the data releases."""
    changes = [c for c in res.workspace.changes(limit=100_000,
                                                entity=f"membership:{network}")
               if pin is None or c.at <= pin]
    rel = res.releases()
    cols = [c for c in ("id", "publisher", "published", "sha256", "reader_version",
                        "loaded_at") if c in rel.columns]
    return {"as_published_on": None if as_of is None else as_of.isoformat(),
            "exported": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "network": network,
            "register_last_change": None if not changes else {
                "id": changes[0].id, "at": changes[0].at, "summary": changes[0].summary},
            "releases": rel[cols].astype(str).to_dict("records")}
