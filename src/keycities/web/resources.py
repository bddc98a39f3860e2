"""What one application keeps: the store, the geography, and the results slow to build.

A :class:`Resources` belongs to one application (made by
:func:`keycities.web.factory.create_app`; there is no module-level app or
connection) or to one static export.  It opens the store read-only on first
use and keeps the connection and the tables that are slow to build (the place
features behind peers and twinning, the claims audit, results already
computed for the same parameters), each a :class:`Memo`.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis.claims.from_store import audit_from_store
from keycities.analysis.headline.from_store import headline_from_store
from keycities.analysis.indicators.from_store import (
    catalogue_from_store,
    districts_subject,
    indicator_from_store,
    network_subject,
    scorecard_from_store,
)
from keycities.analysis.indicators.scorecard import Scorecard, for_subject, same_members
from keycities.analysis.indicators.view import IndicatorView
from keycities.analysis.places.from_store import place_features
from keycities.analysis.places.params import default_contrast
from keycities.analysis.referendum.from_store import referendum_from_store
from keycities.analysis.testbed.from_store import outcome_panel, release_panels
from keycities.analysis.testbed.outcomes import get_outcome
from keycities.analysis.twinning.spec import GB, TwinSpec
from keycities.analysis.twinning.twinning import inputs_from_features, twin
from keycities.context import Context
from keycities.errors import KeycitiesError, StoreNotBuiltError
from keycities.geography.areas import COUNTRIES
from keycities.geography.vintage import FIRST_VINTAGE
from keycities.network.register import BUILTIN, Network
from keycities.present.indicators import (
    comparator_table,
    indicator_payload,
    members_table,
    ranking_table,
)
from keycities.present.payloads import headline_payload
from keycities.settings import Settings
from keycities.store.queries import area_series, boundaries
from keycities.store.store import Store
from keycities.web.cache import ResponseStore
from keycities.web.jobs import WORKER, Jobs
from keycities.web.maps import shapes_from_boundaries
from keycities.web.render import SVG_WORKER, Renderer
from keycities.web.uploads import PREFIX, VISITOR, Uploads, is_private
from keycities.workspace import saved_networks
from keycities.workspace.db import Workspace

PLACE_VINTAGE = 2023
"""Boundary vintage of place pages, peers and maps (the newest the store's features use)."""

ENGLAND = COUNTRIES["E"][0]
"""England's GSS code (its series is drawn beside a place's productivity)."""


class UnknownNetworkError(KeycitiesError, LookupError):
    """A network id that is neither built in, saved in the workspace, nor uploaded by
    this visitor (files on the server are not reachable from the web)."""

    def __init__(self, network: str, known: list[str] | None = None) -> None:
        self.network = network
        super().__init__(f"Unknown network {network!r}. Networks: "
                         f"{', '.join(known or BUILTIN)}.")


class Memo:
    """A cache of a function's results by arguments, each computed once even when many
    threads ask at the same time (the others wait for the first), at most ``size`` kept."""

    def __init__(self, fn: Callable[..., Any], size: int = 64) -> None:
        self.fn, self.size = fn, size
        self.values: dict[tuple[Any, ...], Any] = {}
        self.locks: dict[tuple[Any, ...], threading.Lock] = {}
        self.guard = threading.Lock()
        self.generation = 0

    def __call__(self, *args: Any) -> Any:
        return self.get(args, lambda: self.fn(*args))

    def get(self, key: tuple[Any, ...], compute: Callable[[], Any],
            keep: Callable[[Any], bool] | None = None) -> Any:
        """The value kept for ``key``, else ``compute()`` (kept unless ``keep`` says no, or
        the key names a visitor's uploaded network)."""
        try:
            return self.values[key]
        except KeyError:
            pass
        if is_private(repr(key)):
            return compute()  # a visitor's uploaded network: never kept for others
        with self.guard:
            lock = self.locks.setdefault(key, threading.Lock())
        with lock:
            if key in self.values:
                return self.values[key]
            generation = self.generation
            value = compute()
            with self.guard:
                # computed from what was just forgotten, or not to be kept
                if generation != self.generation or (keep is not None and not keep(value)):
                    return value
                while len(self.values) >= self.size:
                    old = next(iter(self.values))
                    self.values.pop(old)
                    self.locks.pop(old, None)
                self.values[key] = value
            return value

    def cache_clear(self) -> None:
        """Forget every result; results being computed now will not be kept."""
        with self.guard:
            self.generation += 1
            self.values.clear()


def _unused(*args: Any) -> Any:
    raise AssertionError("values are kept through Memo.get")  # pragma: no cover


class _Ready:
    """``with res.ready:`` makes sure the shared objects exist; it does not serialise.

    Once the store connection, the geography and the resolver are made (under
    one lock, the first time), reads run in parallel: each DuckDB query has its
    own cursor, and the cached tables are :class:`Memo` (built once).
    """

    def __init__(self, res: Resources) -> None:
        self.res = res
        self.init = threading.Lock()
        self.done = False

    def __enter__(self) -> None:
        self.res.follow_rebuild()
        if not self.done:
            with self.init:
                if not self.done:
                    # Which file is opened: noted before opening, so that a build swapping
                    # a new file in meanwhile is seen at the next check (and opened then).
                    self.res.opened = file_identity(self.res.context.settings.store)
                    _ = self.res.context.resolver  # builds the geography (and opens the store)
                    self.done = True

    def __exit__(self, *exc: object) -> None:
        return None


def file_identity(path: Path) -> tuple[int, ...] | None:
    """Device, inode, modification time and size of ``path`` (None when absent)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


class Resources:
    """The store, the geography and cached results of one application.

    Reads run in parallel (see :class:`_Ready`); the slow tables are built once
    (:class:`Memo`) and forgotten when the register changes.  A build swaps a new
    store file in (:mod:`keycities.store.staging`); the app notices it within
    ``recheck`` seconds and opens it, forgetting every result of the old one.
    """

    recheck = 1.0
    """Seconds between checks for a rebuilt store file."""

    def __init__(self, settings: Settings, *, as_of: str | None = None) -> None:
        self.as_of = as_of
        self.workspace = Workspace(settings.workspace_path)
        self.context = Context(settings, write=False, workspace=self.workspace)
        self.ready = _Ready(self)
        self.releases = Memo(self._releases)
        self.features = Memo(self._features)
        self.audit = Memo(self._audit)
        self.headline = Memo(self._headline, size=64)
        self.panel = Memo(self._panel, size=16)
        self.england = Memo(self._england, size=16)
        self.release_panels = Memo(self._release_panels, size=16)
        self.shapes = Memo(self._shapes)
        self.lad_twins = Memo(self._lad_twins)
        self.indicator_view = Memo(self._indicator_view, size=128)
        self.indicator_parts = Memo(self._indicator_parts, size=128)
        self.indicator_catalogue = Memo(self._indicator_catalogue, size=64)
        self.scorecard = Memo(self._scorecard, size=16)
        self.scorecard_rows: Memo = Memo(_unused, size=16)
        """Scorecards by subject without its date (see :meth:`_scorecard`)."""
        self.shapes_at = Memo(self._shapes_at, size=8)
        self.referendum = Memo(self._referendum, size=16)
        self.saved_network = Memo(self._saved_network, size=64)
        self.uploads = Uploads()
        self.shared: Memo = Memo(_unused, size=64)
        """Tables the pages derive from the others and share (every district's scorecard
        rows in words, the releases as sources), by a key each page names."""
        self.pages: Memo = Memo(_unused, size=256)
        """Built pages by path and query (see :func:`keycities.web.views.respond`): a
        signed-in reader, whom the response cache skips, gets the same page built once."""
        self.jobs = Jobs(workers=1, limit_seconds=settings.job_seconds)
        self.renderer = Renderer()
        self.responses = ResponseStore()
        self.opened: tuple[int, ...] | None = None
        self._checked = time.monotonic()

    def follow_rebuild(self) -> None:
        """Open the store file anew when a build has replaced it (checked every
        ``recheck`` seconds); results computed from the old file are forgotten."""
        now = time.monotonic()
        if not self.ready.done or now - self._checked < self.recheck:
            return
        self._checked = now
        path = self.context.settings.store
        if file_identity(path) == self.opened:
            return
        with self.ready.init:
            if not self.ready.done or file_identity(path) == self.opened:
                return
            # Readers still using the old connection finish on it; it closes when the
            # last of them lets it go.
            self.context = Context(self.context.settings, write=False,
                                   workspace=self.workspace)
            self.ready.done = False
            for memo in vars(self).values():
                if isinstance(memo, Memo):
                    memo.cache_clear()
            self.responses.clear()
            self.jobs.forget_finished()

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn`` once the shared objects exist."""
        with self.ready:
            pass
        return fn(*args, **kwargs)

    @property
    def store(self) -> Store:
        """The store, opened read-only on first use."""
        with self.ready:
            return self.context.store

    def network(self, network_id: str) -> Network:
        """A built-in network with its register as edited in the workspace, a network an
        editor saved in the workspace, or one this request's visitor uploaded (files on
        the server are not reachable from the web)."""
        if network_id.startswith(PREFIX):
            uploaded = self.uploads.get(network_id, VISITOR.get())
            if uploaded is None:
                raise UnknownNetworkError(network_id, self.network_ids())
            return uploaded
        if network_id not in BUILTIN:
            saved = self.saved_network(network_id)
            if saved is None:
                raise UnknownNetworkError(network_id, self.network_ids())
            return saved
        with self.ready:
            return self.context.network(network_id, as_of=self.as_of)

    def _saved_network(self, network_id: str) -> Network | None:
        with self.ready:
            resolver = self.context.resolver
        return saved_networks.load(self.workspace, network_id, resolver)

    def network_ids(self) -> list[str]:
        """Every network a form may offer this request's visitor: built-in, saved in the
        workspace, then the visitor's own uploads."""
        return [*BUILTIN, *(n["id"] for n in saved_networks.listed(self.workspace)),
                *(n.id for n in self.uploads.of(VISITOR.get()))]

    def network_names(self) -> dict[str, str]:
        """The name of each of :meth:`network_ids` (an upload's random id is no name)."""
        names = {n["id"]: n["name"] for n in saved_networks.listed(self.workspace)}
        names.update({n.id: f"{n.name} (your upload)" for n in self.uploads.of(VISITOR.get())})
        return {i: names.get(i, i) for i in self.network_ids()}

    def changed(self) -> None:
        """Forget everything computed from the register: a change was just made."""
        for memo in (self.headline, self.indicator_view, self.indicator_parts, self.scorecard,
                     self.scorecard_rows, self.referendum, self.pages, self.saved_network,
                     self.shared):
            memo.cache_clear()
        self.responses.clear()

    def lad_names(self) -> dict[str, str]:
        """Name of every known LAD code."""
        with self.ready:
            lads = self.context.geography[0]
        return dict(zip(lads["code"], lads["name"], strict=True))

    def _releases(self) -> pd.DataFrame:
        with self.ready:
            return self.context.store.loaded_releases()

    def _features(self) -> Any:
        with self.ready:
            return place_features(self.context.store, "lad")

    def _audit(self) -> dict[str, Any]:
        with self.ready:
            return jsonable(audit_from_store(self.context.store).payload())

    def _headline(self, network_id: str, at: dt.date, year: int | None) -> dict[str, Any]:
        net = self.network(network_id)
        with self.ready:
            result = headline_from_store(self.context.store, net, at=at, year=year)
        return jsonable(headline_payload(result))

    def _panel(self, outcome: str) -> Any:
        with self.ready:
            return outcome_panel(self.context.store, outcome)

    def _england(self, outcome: str) -> pd.DataFrame:
        """England's own series of ``outcome`` (year, value, release) for the years of the
        newest one-release series (:meth:`release_panels`): from that release, or from
        its publication's national table (a release published the same day, e.g. ONS's
        ITL table beside its local-authority one); empty when neither has England."""
        panel = self.release_panels(outcome)[0]
        used = set(panel.sources["release_id"])
        published = set(panel.releases["published"].astype(str)) if "published" in \
            panel.releases else set()
        with self.ready:
            df = area_series(self.context.store, ENGLAND, panel.outcome)
        df = df[df["period"].isin(panel.years)]
        same = df[df["release_id"].isin(used)]
        if same.empty:
            same = df[df["published"].astype(str).isin(published)]
        out = same.rename(columns={"period": "year", "release_id": "release"})
        return out.drop_duplicates("year").sort_values("year")[["year", "value", "release"]
                                                             ].reset_index(drop=True)

    def own_series(self, outcome: str, code: str) -> pd.DataFrame:
        """year, value, release of ``outcome`` as published for ``code`` itself (no mapping),
        from the one release with the longest series of it (the newest of equals): a
        former district's figures."""
        measure = get_outcome(outcome).measure
        with self.ready:
            df = area_series(self.context.store, code, measure)
        if df.empty:
            return pd.DataFrame(columns=["year", "value", "release"])
        counts = df.groupby("release_id", sort=False)["period"].nunique()
        best = counts.index[int(counts.to_numpy().argmax())]  # df is newest first
        one = df[df["release_id"] == best].rename(columns={"period": "year",
                                                             "release_id": "release"})
        return one.sort_values("year")[["year", "value", "release"]].reset_index(drop=True)

    def _release_panels(self, outcome: str) -> list[Any]:
        with self.ready:
            return release_panels(self.context.store, outcome, vintage=PLACE_VINTAGE)

    def _shapes(self) -> Any:
        with self.ready:
            rows = boundaries(self.context.store, PLACE_VINTAGE)
        if rows.empty:
            raise StoreNotBuiltError(f"The store has no {PLACE_VINTAGE} LAD boundaries: "
                                     "run `keycities build` with the boundary files.")
        return shapes_from_boundaries(rows, vintage=PLACE_VINTAGE)

    def _indicator_view(self, indicator: str, network_id: str | None, at: dt.date,
                        period: str | None) -> IndicatorView:
        """One indicator in one period (:func:`indicator_from_store`), members of a
        built-in network marked ("districts": every district's own scorecard rows)."""
        net = self.network(network_id) if network_id else None
        with self.ready:
            return indicator_from_store(self.context.store, indicator, network=net, at=at,
                                        period=period)

    def _indicator_parts(self, indicator: str, network_id: str | None, at: dt.date,
                         period: str | None) -> dict[str, Any]:
        """What an indicator page shows that its parameters fix: the payload (as
        ``keycities indicator --format json``) and the tables for people."""
        view = self.indicator_view(indicator, network_id, at, period)
        return {"payload": indicator_payload(view), "comparators": comparator_table(view),
                "members": None if view.members is None else members_table(view),
                "ranking": ranking_table(view) if len(view.ranking) else None}

    def _indicator_catalogue(self, area: str | None, search: str | None) -> pd.DataFrame:
        with self.ready:
            return catalogue_from_store(self.context.store, area=area, search=search)

    def _scorecard(self, network_id: str, at: dt.date) -> Scorecard:
        """A built-in network's scorecard, or with ``"districts"`` every district's.  Dates
        with the same members on the same boundaries share one computation (the rows do
        not depend on the date; :func:`~keycities.analysis.indicators.scorecard.for_subject`)."""
        with self.ready:
            store = self.context.store
            subject = (districts_subject(store, at) if network_id == "districts"
                       else network_subject(self.network(network_id), at))
            card = self.scorecard_rows.get(same_members(subject),
                                           lambda: scorecard_from_store(store, subject))
            return for_subject(card, subject)

    def _shapes_at(self, vintage: int) -> Any:
        """Map outlines of the newest boundaries in the store on or before ``vintage``."""
        for v in range(vintage, FIRST_VINTAGE - 1, -1):
            if v == PLACE_VINTAGE:
                return self.shapes()
            with self.ready:
                rows = boundaries(self.context.store, v)
            if len(rows):
                return shapes_from_boundaries(rows, vintage=v)
        return self.shapes()

    def _referendum(self, network_id: str, at: dt.date) -> Any:
        net = self.network(network_id)
        with self.ready:
            return referendum_from_store(self.context.store, net, at=at)

    def _lad_twins(self) -> dict[str, Any]:
        """Every GB LAD's suggested twin: bridge on the default contrast, >= 150 km apart."""
        spec = TwinSpec(mode="bridge", contrast=tuple(default_contrast("lad")), min_km=150)
        features = self.features()
        result = twin(inputs_from_features(features, countries=GB), spec)
        words = dict(zip(features.meta["feature"], features.meta["label"], strict=True))
        return {"pairs": result.pairs, "spec": "bridge twinning of all GB districts on "
                + ", ".join(words.get(f, f) for f in spec.contrast)
                + ", at least 150 km apart"}

    def memberships_of(self, code: str) -> list[dict[str, Any]]:
        """Every built-in network membership of LAD ``code``."""
        out = []
        for nid in BUILTIN:
            net = self.network(nid)
            for m in net.memberships:
                if m.code == code:
                    out.append({"network": nid, "name": net.name,
                                "joined": m.joined if m.joined_known else None,
                                "member_by": m.joined, "joined_text": m.joined_text,
                                "left": m.left, "as_published": m.as_published})
        return jsonable(out)

    def close(self) -> None:
        """Close the store connection and stop the job pool and its worker process."""
        self.jobs.shutdown()
        WORKER.stop()
        SVG_WORKER.stop()
        self.workspace.close()
        with self.ready:
            self.context.close()
