"""Peer groups: distances and contributions by hand, presets, exclusions, properties, mirror."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keycities.analysis.places.features import FeatureTable, standardise
from keycities.analysis.places.peers import (
    PRESETS,
    contributions,
    family,
    peers,
    resolve_weights,
    weighted_distances,
)
from keycities.errors import KeycitiesError


def make_table(z: dict[str, list[float]], codes: list[str], *,
               regions: list[str] | None = None,
               changes: pd.DataFrame | None = None) -> FeatureTable:
    """A FeatureTable whose z-scores are exactly ``z``."""
    zdf = pd.DataFrame(z, index=pd.Index(codes, name="code"), dtype=float)
    regions = regions or ["R"] * len(codes)
    places = pd.DataFrame({"name": [f"{c}-town" for c in codes], "region": regions,
                           "country": "England", "region_code": regions,
                           "country_code": "E92000001", "lon": np.nan, "lat": np.nan},
                          index=zdf.index)
    meta = pd.DataFrame({"feature": list(z), "release_ids": [["r"]] * len(z)})
    return FeatureTable(zdf, zdf, meta, pd.DataFrame(columns=["place", "feature", "rule",
                                                              "value", "reason"]),
                        pd.DataFrame(columns=["place", "reason"]), places, 2023, changes)


# A(0,0), B(1,0), C(0,2), D(3,3)
HAND = {"f1": [0.0, 1.0, 0.0, 3.0], "f2": [0.0, 0.0, 2.0, 3.0]}


def test_distances_by_hand_equal_weights() -> None:
    r = peers(make_table(HAND, list("ABCD")), "A", k=3)
    assert list(r.peers["code"]) == ["B", "C", "D"]
    assert r.peers["distance"].tolist() == pytest.approx([math.sqrt(0.5), math.sqrt(2.0), 3.0])
    c = r.contributions.set_index(["code", "feature"])["share"]
    assert c[("B", "f1")] == 1.0 and c[("B", "f2")] == 0.0
    assert c[("D", "f1")] == pytest.approx(0.5) and c[("D", "f2")] == pytest.approx(0.5)
    assert r.peers.set_index("code").at["B", "top_features"].startswith("f1 100%")
    assert r.weights == {"f1": 0.5, "f2": 0.5}


def test_drivers_are_named_by_their_labels_not_their_ids() -> None:
    """Issue 15 point 7: "oac_8 24%" read as jargon; a peer's drivers are in words."""
    table = make_table(HAND, list("ABCD"))
    table.meta["label"] = ["Hard-pressed living", "Leave share"]
    top = peers(table, "A", k=3).peers.set_index("code").at["B", "top_features"]
    assert top.startswith("Hard-pressed living 100%")
    assert "f1" not in top


def test_user_weights_are_normalised() -> None:
    r = peers(make_table(HAND, list("ABCD")), "A", weights={"f1": 3.0, "f2": 1.0}, k=3)
    assert r.weights == {"f1": 0.75, "f2": 0.25}
    assert r.peers["distance"].tolist() == pytest.approx([math.sqrt(0.75), 1.0, 3.0])
    d = r.contributions[r.contributions["code"] == "D"].set_index("feature")
    assert d["contribution"].tolist() == pytest.approx([0.75 * 9, 0.25 * 9])


def test_presets_pick_their_features() -> None:
    feats = ["oac_1", "oac_2", "gva_per_job", "earnings", "population", "leave_share"]
    w, name = resolve_weights("economic", feats)
    assert name == "economic" and w[w > 0].to_dict() == {"gva_per_job": 0.5, "earnings": 0.5}
    w, _ = resolve_weights("demographic", feats)
    assert w[w > 0].to_dict() == pytest.approx(
        {"oac_1": 0.25, "oac_2": 0.25, "population": 0.25, "leave_share": 0.25})
    w, _ = resolve_weights("overall", feats)
    assert w.tolist() == pytest.approx([1 / 6] * 6)
    assert set(PRESETS) == {"overall", "economic", "demographic"}


def test_bad_weights_are_explained() -> None:
    feats = ["gva_per_job", "earnings"]
    with pytest.raises(KeycitiesError, match="Unknown weight preset 'social'"):
        resolve_weights("social", feats)
    with pytest.raises(KeycitiesError, match="Did you mean: earnings"):
        resolve_weights({"earning": 1.0}, feats)
    with pytest.raises(KeycitiesError, match="non-negative"):
        resolve_weights({"earnings": -1.0}, feats)
    with pytest.raises(KeycitiesError, match="positive weight"):
        resolve_weights({"earnings": 0.0}, feats)
    with pytest.raises(KeycitiesError, match="positive weight"):
        resolve_weights("demographic", feats)


def test_exclusions_by_code_and_region() -> None:
    t = make_table(HAND, list("ABCD"), regions=["N", "N", "S", "S"])
    r = peers(t, "A", k=3, exclude={"C"})
    assert list(r.peers["code"]) == ["B", "D"]
    assert r.excluded.set_index("code").at["C", "reason"].startswith("excluded by the caller")
    assert any("Only 2 candidates" in n for n in r.notes)
    r = peers(t, "A", k=3, exclude_same_region=True)
    assert list(r.peers["code"]) == ["C", "D"]
    assert r.excluded.set_index("code").at["B", "reason"] == "in the same region (N)"


def test_parent_child_geography_is_kept_out() -> None:
    changes = pd.DataFrame({"old_code": ["E07000001", "E07000002"],
                            "old_name": ["X", "Y"], "new_code": ["E06000099"] * 2,
                            "new_name": ["Z", "Z"], "type": ["merger"] * 2, "year": [2023] * 2})
    codes = ["E07000001", "E07000002", "E06000099", "E07000003"]
    assert family("E07000001", changes) == {"E07000002", "E06000099"}
    assert family("E06000099", changes) == {"E07000001", "E07000002"}
    t = make_table({"f": [0.0, 0.1, 0.2, 5.0]}, codes, changes=changes)
    r = peers(t, "E07000001", k=3)
    assert list(r.peers["code"]) == ["E07000003"]
    assert set(r.excluded["code"]) == {"E07000002", "E06000099"}
    r = peers(t, "E07000001", k=3, exclude_family=False)
    assert list(r.peers["code"]) == ["E07000002", "E06000099", "E07000003"]


def test_place_errors() -> None:
    t = make_table(HAND, list("ABCD"))
    assert peers(t, "b-town", k=1).place == "B"
    with pytest.raises(KeycitiesError, match="Did you mean: A-town"):
        peers(t, "A-twn")
    with pytest.raises(KeycitiesError, match="k must be at least 1"):
        peers(t, "A", k=0)
    with pytest.raises(KeycitiesError, match="No candidate peers"):
        peers(t, "A", exclude={"B", "C", "D"})


def test_missing_value_rules_reach_the_peers() -> None:
    values = pd.DataFrame({"a": [1.0, 2.0, None, 4.0], "b": [1.0, 1.5, 3.0, None]},
                          index=pd.Index(list("PQRS"), name="code"))
    reasons = pd.DataFrame({"place": ["R"], "feature": ["a"], "reason": ["not published"]})
    med = standardise(values, reasons=reasons)
    r = peers(med, "R", k=3)
    assert set(r.peers["code"]) == {"P", "Q", "S"}
    assert any("R's a is imputed (median): not published" in n for n in r.notes)
    assert r.peers.set_index("code").at["S", "imputed_features"] == "b"
    excl = standardise(values, impute="exclude", reasons=reasons)
    with pytest.raises(KeycitiesError, match="left out of the feature table"):
        peers(excl, "R")
    assert list(peers(excl, "P", k=5).peers["code"]) == ["Q"]


def test_stability_of_a_clear_peer_and_reproducibility() -> None:
    t = make_table({"f1": [0.0, 0.1, 5.0, 6.0], "f2": [0.0, 0.1, 5.0, 6.0]}, list("ABCD"))
    r = peers(t, "A", k=1, rng=np.random.default_rng(1), perturbations=50)
    row = r.peers.iloc[0]
    assert row["code"] == "B" and row["stability_weights"] == 1.0
    assert row["stability_drop"] == 1.0
    a = peers(make_table(HAND, list("ABCD")), "A", k=1, rng=np.random.default_rng(7))
    b = peers(make_table(HAND, list("ABCD")), "A", k=1, rng=np.random.default_rng(7))
    assert a.peers.equals(b.peers)


def test_stability_responds_to_dropping_a_feature() -> None:
    # B is nearest on f1 only; dropping f1 makes C (identical on f2) the nearest.
    t = make_table({"f1": [0.0, 0.0, 2.0], "f2": [0.0, 1.0, 0.0]}, list("ABC"))
    r = peers(t, "A", weights={"f1": 0.9, "f2": 0.1}, k=1)
    assert r.peers.iloc[0]["code"] == "B"
    assert r.peers.iloc[0]["stability_drop"] == 0.5


def test_payload_is_plain_json() -> None:
    r = peers(make_table(HAND, list("ABCD")), "A", k=2)
    out = json.loads(json.dumps(r.payload()))
    assert out["inputs"]["place"] == "A" and out["inputs"]["k"] == 2
    assert [p["code"] for p in out["peers"]] == ["B", "C"]
    assert len(out["peers"][0]["contributions"]) == 2
    assert out["releases"] == ["r"]
    assert any(n.startswith("Distance d = sqrt") for n in out["notes"])
    assert list(r.to_frame().columns[:3]) == ["rank", "code", "name"]


def test_payload_gives_each_peer_its_own_contributions_in_order() -> None:
    from keycities._util.plain import jsonable

    r = peers(make_table(HAND, list("ABCD")), "A", k=3)
    want = {c: jsonable(g.drop(columns="code")) for c, g in r.contributions.groupby("code")}
    got = {p["code"]: p["contributions"] for p in r.payload()["peers"]}
    assert got == want and len(got) == 3
    assert all("code" not in c for rows in got.values() for c in rows)


@st.composite
def z_tables(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.Series]:
    n = draw(st.integers(2, 8))
    f = draw(st.integers(1, 4))
    vals = st.floats(-5, 5, allow_nan=False, allow_infinity=False)
    z = pd.DataFrame(draw(st.lists(st.lists(vals, min_size=f, max_size=f), min_size=n,
                                   max_size=n)),
                     index=[f"P{i}" for i in range(n)], columns=[f"f{j}" for j in range(f)])
    w = draw(st.lists(st.floats(0.01, 10), min_size=f, max_size=f))
    ws = pd.Series(w, index=z.columns)
    return z, ws / ws.sum()


@settings(max_examples=60, deadline=None)
@given(z_tables())
def test_properties_distance_and_contributions(data: tuple[pd.DataFrame, pd.Series]) -> None:
    z, w = data
    codes = list(z.index)
    dmat = np.vstack([weighted_distances(z, c, w).to_numpy() for c in codes])
    assert (dmat >= 0).all()
    assert np.allclose(dmat, dmat.T)
    assert np.allclose(np.diag(dmat), 0.0)
    c = contributions(z, codes[0], codes[1:], w)
    sums = c.groupby("code")["share"].sum(min_count=1)
    d = weighted_distances(z, codes[0], w)
    for code, s in sums.items():
        if d[code] > 1e-9:
            assert s == pytest.approx(1.0)
        assert c[c["code"] == code]["contribution"].sum() == pytest.approx(d[code] ** 2)


@settings(max_examples=40, deadline=None)
@given(z_tables(), st.integers(1, 10))
def test_property_place_never_its_own_peer(data: tuple[pd.DataFrame, pd.Series],
                                           k: int) -> None:
    z, w = data
    t = make_table({c: z[c].tolist() for c in z.columns}, list(z.index))
    r = peers(t, "P0", weights=w.to_dict(), k=k, perturbations=5)
    assert "P0" not in set(r.peers["code"])
    assert len(r.peers) == min(k, len(z) - 1)
    assert r.peers["distance"].is_monotonic_increasing


# ------------------------------------------------------------------ mirror

SUNDERLAND = "E08000024"


@pytest.mark.mirror
def test_sunderland_overall_peers(built_store: Path) -> None:
    from keycities.analysis._store import geography_from_store
    from keycities.analysis.places.from_store import lad_features_from_store
    from keycities.geography.areas import areas_in_vintage
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        table = lad_features_from_store(store, vintage=2023)
        lads = set(areas_in_vintage(geography_from_store(store).lads, 2023)["code"])
    r = peers(table, SUNDERLAND)
    assert len(table.z) == 361 and len(r.peers) == 15
    assert SUNDERLAND not in set(r.peers["code"])
    assert set(r.peers["code"]) <= lads
    assert r.peers["distance"].is_monotonic_increasing
    sums = r.contributions.groupby("code")["share"].sum()
    assert sums.to_numpy() == pytest.approx(np.ones(15))
    assert r.peers["stability_weights"].between(0, 1).all()
    assert "ons-productivity-la-2024-06" in r.releases
    imd = table.imputed[table.imputed["feature"] == "imd_score"]
    assert {"Scotland", "Wales", "Northern Ireland"} <= {table.countries[p] for p in
                                                           imd["place"]}
    # Near neighbours any analyst would expect for Sunderland: ex-industrial northern boroughs.
    assert {"E08000016", "E08000036"} <= set(r.peers["code"])  # Barnsley, Wakefield


@pytest.mark.mirror
def test_sunderland_with_exclusions(built_store: Path) -> None:
    from keycities.analysis.places.from_store import peers_from_store
    from keycities.network.register import builtin_network
    from keycities.store.store import Store

    members = set(builtin_network("key-cities").members_at(dt.date(2024, 6, 1))["code"])
    with Store(built_store, read_only=True) as store:
        r = peers_from_store(store, SUNDERLAND, exclude=members, exclude_same_region=True,
                             weights="economic", perturbations=20)
    assert len(r.peers) == 15
    assert not set(r.peers["code"]) & members
    assert "North East" not in set(r.peers["region"])
    assert r.weights == pytest.approx({"gva_per_job": 0.25, "gva_per_head": 0.25,
                                       "earnings": 0.25, "imd_score": 0.25})
