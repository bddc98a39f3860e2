"""Tables derived from package-shipped data: postcode profiles and split weights.

* ``postcode_profile`` / ``oac_share`` from the ONS Postcode Directory and the
  2011 OAC (:mod:`keycities.store.postcode_tables`), and the postcode districts
  and sectors (``postcode_place`` and its OAC shares and notes);
* ``split_weight``: for each former LAD that is now part of a merged one, its
  number of postcodes (point-in-polygon against the generalised boundaries of
  2016 and 2021), the last-resort weight for apportioning a merged area's
  figure back to its parts (:mod:`keycities.geography.weights`) where the
  store has no official figures of the parts to share it by
  (:mod:`keycities.geography.shares`, chosen per figure when it is made).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import duckdb
import pandas as pd

from keycities.geography.areas import lad_changes
from keycities.geography.weights import parts_from_changes, postcode_split_weights
from keycities.store.report import Outcome
from keycities.store.store import Store

WEIGHT_VINTAGES = (2016, 2021)


def build_derived(store: Store, done: dict[str, tuple[str, str]], *, force: bool,
                  observer: Callable[[str], None]) -> list[Outcome]:
    """(Re)build the derived tables whose inputs changed.

    Parameters
    ----------
    store
        The store being built.
    done
        Release id -> (sha256, reader version) of what is already loaded.
    force
        Rebuild even when the inputs are unchanged.
    observer
        Called with a line of progress per step.

    Returns
    -------
    list of Outcome
        One for the postcode tables, one for the split weights.
    """
    # deferred: pyarrow, msgpack and brotli, needed only when the postcode tables are built
    from keycities.sources import postcodes as pc
    from keycities.store import postcode_tables

    out: list[Outcome] = []
    current = all(done.get(r.id) == (r.sha256, pc.READER_VERSION) for r in pc.RELEASES)
    postcodes: pd.DataFrame | None = None
    if force or not current:
        observer("postcodes: profiles from the ONS Postcode Directory and OAC 2011")
        t = time.perf_counter()
        tables = postcode_tables.build_postcode_tables(keep_postcodes=True, with_places=True)
        postcodes = tables.pop("postcodes")
        n = store.replace_derived("postcode_profile", tables["postcode_profile"],
                                  [pc.ONSPD_RELEASE.id],
                                  releases=[(pc.ONSPD_RELEASE, "postcodes", pc.READER_VERSION)])
        store.replace_derived("oac_share", tables["oac_share"], [pc.OAC_RELEASE.id],
                              releases=[(pc.OAC_RELEASE, "postcodes", pc.READER_VERSION)])
        for name in ("postcode_place", "postcode_place_oac", "postcode_place_note"):
            store.replace_derived(name, tables[name], [pc.ONSPD_RELEASE.id, pc.OAC_RELEASE.id])
        out.append(Outcome("postcodes", pc.ONSPD_RELEASE, "loaded", rows=n,
                           seconds=time.perf_counter() - t))
    else:
        out.append(Outcome("postcodes", pc.ONSPD_RELEASE, "unchanged"))
    out.append(_split_weights(store, postcodes, force=force, observer=observer))
    return out


def _inputs_key(store: Store) -> str:
    df = store.query("SELECT id, sha256 FROM release WHERE source LIKE 'boundaries_%' "
                     "OR source IN ('lad_changes', 'postcodes') ORDER BY id")
    return hashlib.sha256(df.to_csv(index=False).encode()).hexdigest()


def _split_weights(store: Store, postcodes: pd.DataFrame | None, *, force: bool,
                   observer: Callable[[str], None]) -> Outcome:
    # deferred: the postcode reader loads pyarrow, msgpack and brotli
    from keycities.sources import postcodes as pc

    rel = pc.ONSPD_RELEASE
    key = _inputs_key(store)
    have = store.query("SELECT value FROM meta WHERE key = 'split_weight_inputs'")
    if not force and len(have) and have["value"].iloc[0] == key:
        return Outcome("split_weights", rel, "unchanged")
    boundaries = store.query("SELECT code, geography_vintage, geojson FROM boundary")
    changes = lad_changes(store.table("change"))
    vintages = [v for v in WEIGHT_VINTAGES if (boundaries["geography_vintage"] == v).any()]
    if not vintages or changes.empty:
        return Outcome("split_weights", rel, "missing", message=(
            "split weights need the LAD boundaries (2016, 2021) and the LAD change list; "
            "figures for a merged area's former parts will be reported unavailable"))
    observer("split weights: postcodes of former districts (point in polygon)")
    t = time.perf_counter()
    if postcodes is None:
        postcodes = pc.load_postcodes()
    by_vintage = {v: boundaries[boundaries["geography_vintage"] == v] for v in vintages}
    frames = [postcode_split_weights(postcodes, by_vintage,
                                     parts_from_changes(changes, vintage=v))
              for v in vintages]
    # A part present in both boundary sets is measured on the newest one; keep it once.
    weights = (pd.concat(frames, ignore_index=True)
               .drop_duplicates(["code", "geography_vintage"], keep="last")
               .assign(release_id=rel.id))

    def _save(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("DELETE FROM split_weight")
        con.register("_w", weights)
        con.execute("INSERT INTO split_weight BY NAME SELECT * FROM _w")
        con.unregister("_w")
        con.execute("INSERT OR REPLACE INTO meta VALUES ('split_weight_inputs', ?)", [key])

    store.write(_save)
    return Outcome("split_weights", rel, "loaded", rows=len(weights),
                   seconds=time.perf_counter() - t)
