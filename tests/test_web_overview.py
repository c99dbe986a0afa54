"""Overviews by region: counts from cached aggregates, scope by role, the county map data."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from web_fakes import fake_evaluate, login, make_users, seed

from smecluster.db import open_database
from smecluster.web.app import WebSettings, create_app


@pytest.fixture
def url(database_url):
    """A seeded database with one account per role."""
    engine = open_database(database_url)
    seed(engine)
    make_users(engine)
    return database_url


def client_as(app, username: str) -> TestClient:
    """A client logged in as `username`."""
    c = TestClient(app, base_url="https://testserver")
    assert login(c, username).status_code == 303
    return c


def test_province_overview_counts_every_county(url, tmp_path):
    """The province sees both seeded clusters and one meeting the conditions."""
    app = create_app(url, evaluate=fake_evaluate, settings=WebSettings(evidence_dir=tmp_path))
    data = client_as(app, "province").get("/api/overview").json()
    assert data["kpis"]["clusters"] == 2 and data["kpis"]["meeting_conditions"] == 1
    assert {c["code"] for c in data["counties"]} == {"320581", "320582", "320312"}
    assert data["kpis"]["target"] == 100


def test_city_overview_only_its_counties(url, tmp_path):
    """Suzhou's bureau sees Suzhou's counties and clusters only."""
    app = create_app(url, evaluate=fake_evaluate, settings=WebSettings(evidence_dir=tmp_path))
    data = client_as(app, "city_a").get("/api/overview").json()
    assert {c["code"] for c in data["counties"]} == {"320581", "320582"}
    assert [c["name"] for c in data["clusters"]] == ["常熟市电子氟材料产业集群"]


def test_counties_geojson_for_a_city():
    """The map endpoint serves Suzhou's county polygons, each with its six-digit code."""
    app = create_app("sqlite://", evaluate=fake_evaluate)
    geo = TestClient(app).get("/geo/counties.geojson?prefix=3205").json()
    codes = {f["properties"]["code"] for f in geo["features"]}
    assert "320581" in codes and all(c.startswith("3205") for c in codes)


def test_overview_answers_while_verdicts_compute(url, tmp_path):
    """With a background warm-up, the overview answers at once without outcomes, then adds them."""
    release = threading.Event()

    def slow_evaluate(engine, **kwargs):
        release.wait(10)
        return fake_evaluate(engine, **kwargs)

    app = create_app(url, evaluate=slow_evaluate, settings=WebSettings(evidence_dir=tmp_path, warm_up=True))
    c = client_as(app, "province")
    first = c.get("/api/overview").json()
    assert first["verdicts_ready"] is False and first["kpis"]["meeting_conditions"] == 0
    assert "仍在计算中" in c.get("/overview").text
    release.set()
    for _ in range(100):
        if app.state.verdicts.ready:
            break
        threading.Event().wait(0.05)
    later = c.get("/api/overview").json()
    assert later["verdicts_ready"] is True and later["kpis"]["meeting_conditions"] == 1
