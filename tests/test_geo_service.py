"""Discovery through the service layer: candidates from the stored demo, with verdicts."""

from __future__ import annotations

import polars as pl

from smecluster.db import open_database
from smecluster.services.demo import build_demo
from smecluster.services.geography import discover_candidates


def test_candidates_carry_verdicts(database_url):
    """Stored demo firms give candidates with verdicts: Tongshan's meets all, Yixing's misses J5."""
    engine = open_database(database_url)
    build_demo(engine, scale=0.05)
    found = discover_candidates(engine)
    assert (found["conditions"] > 0).all()
    tongshan = found.filter(pl.col("county_code") == "320312").row(0, named=True)
    assert tongshan["outcome"] == "recognised" and tongshan["conditions_met"] == tongshan["conditions"]
    yixing = found.filter(pl.col("county_code") == "320282").row(0, named=True)
    assert yixing["missing"] == "J5"


def test_candidates_as_geojson(database_url):
    """Candidates export as a FeatureCollection of footprint polygons with their figures."""
    from smecluster.services.geography import candidates_geojson

    engine = open_database(database_url)
    build_demo(engine, scale=0.05)
    found = discover_candidates(engine, industry="38")
    collection = candidates_geojson(found)
    assert len(collection["features"]) == found.height >= 1
    feature = collection["features"][0]
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert feature["properties"]["industry"] == "38" and feature["properties"]["members"] >= 15


def test_candidates_count_only_designations_valid_at_the_years_end(database_url):
    """The candidates' SRDI and high-tech counts follow the one validity rule: titles that ended
    before 31 December of the year do not count."""
    from datetime import date

    from sqlalchemy import update

    from smecluster.registry.models import Designation

    engine = open_database(database_url)
    build_demo(engine, scale=0.05)
    before = discover_candidates(engine, year=2025)
    assert before["srdi"].sum() > 0 and before["high_tech"].sum() > 0
    with engine.begin() as conn:
        conn.execute(update(Designation).values(valid_until=date(2025, 12, 30)))
    after = discover_candidates(engine, year=2025)
    assert after["srdi"].sum() == 0 and after["high_tech"].sum() == 0
