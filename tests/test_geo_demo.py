"""The demo's national clusters: footprints inside their counties, and found by discovery."""

from __future__ import annotations

import polars as pl
import pytest

from smecluster.demo.generator import generate
from smecluster.geo.area import area_km2
from smecluster.geo.discover import discover
from smecluster.geo.footprint import containment, footprint_from_points


@pytest.fixture(scope="module")
def demo():
    return generate()


@pytest.fixture(scope="module")
def national(demo) -> dict[str, dict]:
    return {s["code"]: s for s in demo.specs if s.get("national")}


def test_five_national_clusters(national):
    """The demo carries Jiangsu's five national clusters."""
    assert len(national) == 5


def test_national_footprints_small_and_inside(demo, national):
    """Each national cluster's member footprint is under 100 km2 and inside its county."""
    members = demo.cluster_member.join(demo.enterprise, on="uscc")
    for code, spec in national.items():
        pts = members.filter(pl.col("cluster_code") == code)
        fp = footprint_from_points(pts["lon"].to_numpy(), pts["lat"].to_numpy())
        assert area_km2(fp) < 100, code
        assert containment(fp, spec["county"]).inside, code


def test_discovery_finds_national_clusters(demo, national):
    """Discovery over the raw firm locations has a candidate made of each national cluster's members."""
    found = discover(demo.enterprise, demo.designation, demo.platform, prefix="32")
    hits = (
        found.select("candidate", "county_code", "area_km2", "inside_county", "members", "member_uscc")
        .explode("member_uscc")
        .rename({"member_uscc": "uscc"})
        .join(demo.cluster_member, on="uscc")
        .group_by("cluster_code", "candidate", "county_code", "area_km2", "inside_county", "members")
        .agg(pl.len().alias("from_cluster"))
    )
    for code, spec in national.items():
        mine = hits.filter(
            (pl.col("cluster_code") == code) & (pl.col("from_cluster") >= 0.9 * pl.col("members"))
        )
        assert mine.height >= 1, code
        assert (mine["county_code"] == spec["county"]).all() and mine["inside_county"].all(), code
        assert (mine["area_km2"] < 100).all(), code
