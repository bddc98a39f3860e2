"""The JSON API: each endpoint against the Python API on the same store, and its errors."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from keycities.errors import UnknownPlaceError
from keycities.settings import Settings
from keycities.web import create_app

AT = "2021-06-01"


@pytest.fixture(scope="module")
def settings(built_store: Path) -> Settings:
    return Settings(store=built_store, offline=True)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Any:
    with TestClient(create_app(settings)) as c:
        yield c


def get(client: TestClient, url: str, status: int = 200) -> Any:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    return r.json()


# ------------------------------------------------------------------ without a store
def test_missing_store_is_503_with_what_to_do(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(store=tmp_path / "none.duckdb"))) as c:
        body = get(c, "/api/releases", 503)
        assert "keycities build" in body["error"]
        assert "key-cities" in get(c, "/api/networks/nope/members", 404)["error"]


def test_openapi_lists_every_endpoint_with_summary_and_described_parameters(
        tmp_path: Path) -> None:
    spec = TestClient(create_app(Settings(store=tmp_path / "none.duckdb"))).get(
        "/openapi.json").json()
    assert spec["info"]["title"] == "keycities"
    assert {p for p in spec["paths"] if p.startswith("/api")} == {
        "/api/releases", "/api/networks/{network}/members", "/api/networks/{network}/headline",
        "/api/places/{query}", "/api/places/{code}/peers", "/api/twin", "/api/productivity",
        "/api/claims/audit", "/api/jobs/{job_id}", "/api/testbeds/choose",
        "/api/testbeds/rollout", "/api/indicators", "/api/indicators/{indicator}",
        "/api/scorecard/{network}", "/api/scatter"}
    for path in spec["paths"].values():
        op = path["get"]
        assert op["summary"]
        for p in op.get("parameters", []):
            assert p.get("description"), (op["summary"], p["name"])
    k = next(p for p in spec["paths"]["/api/places/{code}/peers"]["get"]["parameters"]
             if p["name"] == "k")
    assert k["schema"]["minimum"] == 1


# --------------------------------------------------------------------- endpoints
def test_releases_are_the_store_provenance(client: TestClient, built_store: Path) -> None:
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        expected = store.loaded_releases()
    body = get(client, "/api/releases")
    assert body["count"] == len(expected) > 0
    assert sorted(r["id"] for r in body["data"]) == sorted(expected["id"])
    first = body["data"][0]
    assert {"id", "publisher", "title", "url", "published", "licence", "sha256"} <= set(first)
    dt.date.fromisoformat(first["published"])


def test_members_match_the_python_api(client: TestClient, settings: Settings) -> None:
    from keycities.api import network_members

    expected = network_members("key-cities", at=AT, settings=settings)
    body = get(client, f"/api/networks/key-cities/members?at={AT}")
    assert body["count"] == len(expected) > 0
    assert [m["code"] for m in body["data"]] == list(expected["code"])
    assert all(m["name"] for m in body["data"])


def test_headline_matches_the_python_api(client: TestClient, settings: Settings) -> None:
    from keycities.api import headline

    frame = headline("key-cities", at=AT, settings=settings)
    body = get(client, f"/api/networks/key-cities/headline?at={AT}")
    population = next(f for f in body["figures"] if f["label"] == "Population")
    expected = frame.set_index("figure").loc["Population", "value"]
    assert population["value"] == pytest.approx(expected, rel=1e-12)
    assert len(body["members"]) == len(frame.attrs["headline"].members)
    assert body["releases"]
    year = population["period"] - 1
    earlier = get(client, f"/api/networks/key-cities/headline?at={AT}&year={year}")
    expected = headline("key-cities", at=AT, year=year, settings=settings)
    population = next(f for f in earlier["figures"] if f["label"] == "Population")
    assert population["period"] == year
    assert population["value"] == pytest.approx(
        expected.set_index("figure").loc["Population", "value"], rel=1e-12)


def test_place_resolves_like_the_python_api(client: TestClient, settings: Settings) -> None:
    from keycities.api import resolve_place

    body = get(client, "/api/places/Hull")
    assert body["code"] == resolve_place("Hull", settings=settings).code


def test_unknown_place_is_404_with_suggestions(client: TestClient,
                                               settings: Settings) -> None:
    from keycities.api import resolve_place

    with pytest.raises(UnknownPlaceError) as exc:
        resolve_place("Hul", settings=settings)
    body = get(client, "/api/places/Hul", 404)
    assert body["error"] == str(exc.value)
    assert "Did you mean" in body["error"]
    assert body["suggestions"] == exc.value.suggestions != []


def test_peers_match_the_analysis(client: TestClient, built_store: Path) -> None:
    import numpy as np

    from keycities.analysis.places.from_store import place_features
    from keycities.analysis.places.peers import peers
    from keycities.store.store import Store

    body = get(client, "/api/places/Hull/peers?k=5&preset=economic")
    with Store(built_store, read_only=True) as store:
        table = place_features(store, "lad")
    expected = peers(table, body["inputs"]["place"], weights="economic", k=5,
                     rng=np.random.default_rng(0))
    assert [p["code"] for p in body["peers"]] == list(expected.peers["code"])
    assert [p["distance"] for p in body["peers"]] == pytest.approx(
        list(expected.peers["distance"]))


def test_twin_matches_the_analysis_and_has_geojson(client: TestClient,
                                                   built_store: Path) -> None:
    from keycities.analysis.twinning.from_store import twin_from_store
    from keycities.analysis.twinning.spec import twin_spec
    from keycities.store.store import Store

    body = get(client, "/api/twin?mode=bridge&max_km=150&different=region")
    # The API's defaults are the CLI's: the one builder of the spec (issue 13).
    spec = twin_spec(mode="bridge", max_km=150, different="region")
    with Store(built_store, read_only=True) as store:
        expected = twin_from_store(store, spec)
    assert body["certificate"]["objective"] == pytest.approx(expected.objective)
    assert len(body["pairs"]) == len(expected.pairs) > 0
    assert all(p["km"] <= 150 for p in body["pairs"])
    assert body["geojson"]["type"] == "FeatureCollection"
    assert len(body["geojson"]["features"]) == len(body["pairs"])


def test_productivity_matches_the_analysis(client: TestClient, settings: Settings) -> None:
    from keycities.analysis.productivity.from_store import productivity_from_store
    from keycities.context import Context

    body = get(client, f"/api/productivity?network=key-cities&at={AT}&measure=hour"
                       "&horizon=5&path=linear")
    ctx = Context(settings)
    try:
        expected = productivity_from_store(ctx.store, ctx.network("key-cities"),
                                           at=dt.date.fromisoformat(AT), measure="hour",
                                           horizon=5, path="linear")
    finally:
        ctx.close()
    assert body["totals"]["annual_uplift"] == pytest.approx(expected.annual_uplift)
    assert body["totals"]["cumulative_uplift"] == pytest.approx(expected.cumulative_uplift)
    assert body["base_year"] == expected.base_year


def test_claims_audit_matches_the_analysis(client: TestClient, built_store: Path) -> None:
    from keycities.analysis.claims.from_store import audit_from_store
    from keycities.store.store import Store

    body = get(client, "/api/claims/audit")
    with Store(built_store, read_only=True) as store:
        expected = audit_from_store(store).payload()
    assert body["count"] == expected["count"] > 0
    assert body["verdicts"] == expected["verdicts"]
    assert [c["id"] for c in body["claims"]] == [c["id"] for c in expected["claims"]]


def test_expensive_tables_are_cached_per_app(client: TestClient) -> None:
    res = client.app.state.resources  # type: ignore[attr-defined]
    assert res.features() is res.features()
    assert res.audit() is res.audit()


# ------------------------------------------------------------------------ errors
@pytest.mark.parametrize(("url", "status", "says"), [
    ("/api/networks/nope/members", 404, "Unknown network"),
    ("/api/networks/nope/headline", 404, "Unknown network"),
    ("/api/productivity?network=nope", 404, "Unknown network"),
    ("/api/twin?network=nope", 404, "Unknown network"),
    ("/api/places/Nowhereville/peers", 404, "Unknown place"),
    ("/api/twin?min_km=200&max_km=100", 422, "larger than"),
    ("/api/twin?contrast=nope", 422, "Unknown feature"),
    ("/api/productivity?benchmark=region", 422, "region"),
])
def test_user_errors_are_4xx_with_a_message(client: TestClient, url: str, status: int,
                                            says: str) -> None:
    assert says in get(client, url, status)["error"]


@pytest.mark.parametrize("url", [
    "/api/networks/key-cities/members?at=2021-13-01",
    "/api/networks/key-cities/headline?at=yesterday",
    "/api/networks/key-cities/headline?year=12",
    "/api/places/Hull/peers?k=0",
    "/api/places/Hull/peers?preset=nope",
    "/api/twin?mode=nope",
    "/api/twin?min_km=-1",
    "/api/productivity?horizon=0",
    "/api/productivity?measure=nope",
])
def test_bad_parameters_are_422(client: TestClient, url: str) -> None:
    body = get(client, url, 422)
    assert body["detail"]


# ------------------------------------------- twinning checked before a job; the time limit
TWIN_MISTAKES = [  # (query, the field the message must name)
    ("places=lad&mode=bond&similar=nope", "similar"),
    ("places=lad&uk=true&contrast=nope", "contrast"),  # the UK's districts run as a job
    ("places=district&mode=mixed&similar=population", "similar"),  # a LAD total, not lent
    ("places=district&contrast=gva_per_jobs", "contrast"),
    ("places=sector&mode=bond", "similar"),  # postcode places have no default similarity
    ("places=sector&contrast=oac_9", "contrast"),
    ("places=sector&min_km=300&max_km=100", "min_km"),
]


@pytest.mark.parametrize(("query", "field"), TWIN_MISTAKES)
def test_twin_mistakes_are_422_at_once_naming_the_web_field_and_start_no_job(
        client: TestClient, query: str, field: str) -> None:
    res = client.app.state.resources  # type: ignore[attr-defined]
    res.features()  # built once per app (about a second); the check itself is what is timed
    before = len(res.jobs)
    began = time.monotonic()
    body = get(client, f"/api/twin?{query}", 422)
    took = time.monotonic() - began
    assert set(body) == {"error"}, body  # no job id, no progress
    assert re.search(rf"\b{field}\b", body["error"]) and "--" not in body["error"], body
    assert len(res.jobs) == before
    assert took < 2, took  # a postcode place set takes several seconds to build


def test_the_feature_names_checked_before_a_job_are_the_place_sets_own(
        built_store: Path) -> None:
    from keycities.analysis.places.from_store import place_features
    from keycities.analysis.places.place_sets import offered_features
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        lad = place_features(store, "lad").features
        for places in ("lad", "district", "sector"):
            assert offered_features(places, lad) == tuple(place_features(store, places).features)


def _finished(c: TestClient, job_id: str, timeout: float = 120) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status: dict[str, Any] = get(c, f"/api/jobs/{job_id}")
        if status["status"] not in ("queued", "running"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running after {timeout} s")


def test_a_twinning_job_past_the_time_limit_fails_saying_what_to_ask_instead(
        built_store: Path) -> None:
    limited = Settings(store=built_store, offline=True, job_seconds=0.5)
    with TestClient(create_app(limited)) as c:
        r = c.get("/api/twin?places=sector&mode=mixed&similar=postcodes")
        assert r.status_code == 202, r.text
        job = r.json()
        assert job["limit_seconds"] == 0.5 and job["status"] in ("queued", "running")
        status = _finished(c, job["id"])
        assert status["status"] == "failed" and status["limit_seconds"] == 0.5
        assert status["error"] == (
            "Stopped after 0.5 s, the limit for one computation on this server: ask for fewer "
            "places (postcode districts rather than sectors), or a narrower distance band "
            "(max_km).")
        # Asking again answers at once with the same error: no second run out of time.
        jobs = c.app.state.resources.jobs  # type: ignore[attr-defined]
        known = len(jobs)
        again = get(c, "/api/twin?places=sector&mode=mixed&similar=postcodes", 422)
        assert again["error"] == status["error"] and len(jobs) == known


def test_the_apps_shutdown_stops_the_worker_under_a_running_job(built_store: Path) -> None:
    from keycities.web.jobs import WORKER

    with TestClient(create_app(Settings(store=built_store, offline=True))) as c:
        job = get(c, "/api/twin?places=sector", 202)
        res = c.app.state.resources  # type: ignore[attr-defined]
        running = res.jobs.get(job["id"])
        end = time.monotonic() + 60
        while "postcode sectors" not in running.message and time.monotonic() < end:
            time.sleep(0.05)  # until the worker reports from inside the computation
        assert "postcode sectors" in running.message, running.payload()
    began = time.monotonic()
    assert res.jobs.wait(running, 30).status == "failed", running.payload()
    assert "worker process ended" in (running.error or "")
    assert time.monotonic() - began < 10
    assert WORKER.pool is None and WORKER.manager is None
