"""Reference data: GB/T 2260 regions with county areas, and the shipped GB/T 4754 table."""

import csv

import pytest
from conftest import shared_file
from sqlalchemy import func, select

from smecluster.db import open_database
from smecluster.registry.industries import shipped_industries
from smecluster.registry.models import Region
from smecluster.registry.regions import load_regions, region_rows


def test_jiangsu_has_13_cities_and_95_counties():
    """Jiangsu loads as 1 province, 13 cities and 95 county-level divisions."""
    levels = [r["level"] for r in region_rows("32")]
    assert (levels.count("province"), levels.count("city"), levels.count("county")) == (1, 13, 95)


def test_county_area_is_computed_on_the_ellipsoid():
    """Liyang's area from its boundary is close to its official 1,535 km2."""
    liyang = next(r for r in region_rows("32") if r["code"] == "320481")
    assert liyang["area_km2"] == pytest.approx(1535, rel=0.03)


def test_counties_hang_under_their_city():
    """Every Jiangsu county's parent is one of the 13 cities."""
    rows = region_rows("32")
    cities = {r["code"] for r in rows if r["level"] == "city"}
    assert all(r["parent_code"] in cities for r in rows if r["level"] == "county")


def test_all_of_china_loads():
    """Without a prefix every province of the division table is there."""
    rows = region_rows()
    assert sum(r["level"] == "province" for r in rows) >= 31
    assert sum(r["level"] == "county" for r in rows) > 2800


def test_loading_regions_twice_changes_nothing(database_url):
    """Regions are upserted: a second load leaves the same rows."""
    engine = open_database(database_url)
    load_regions(engine, "32")
    load_regions(engine, "32")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Region)).scalar() == 109


def test_shipped_industries_match_the_standard():
    """The shipped sections, divisions, groups and classes carry the standard's names and parents."""
    path = shared_file("data/gbt4754-2017-codes.csv")
    with path.open(encoding="utf-8") as fh:
        reference = {r["code"]: r for r in csv.DictReader(fh)}
    shipped = shipped_industries()
    assert sum(r["level"] == 1 for r in shipped) == 20
    assert sum(r["level"] == 2 for r in shipped) == 97
    for r in shipped:
        ref = reference[r["code"]]
        assert (r["name"], r["parent"] or "", str(r["level"])) == (ref["name"], ref["parent"], ref["level"])
