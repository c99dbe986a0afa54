"""What a cluster indicator is computed from besides the registry's rows: the chain system the database
holds (not the shipped lists) and the parameters a criterion asks (not the builder's defaults)."""

from __future__ import annotations

import math

import polars as pl
import pytest

from smecluster.analytics.cluster_indicators import compute_cluster_indicators
from smecluster.analytics.snapshot import load_snapshot
from smecluster.db import open_database
from smecluster.policy.compile import indicator_column
from smecluster.services.clusters import latest_year

CHAIN_SYSTEM = "leading_on_chain_system"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small demo registry (SQLite) and its data year."""
    from smecluster.services.demo import build_demo

    engine = open_database(f"sqlite:///{tmp_path_factory.mktemp('inputs') / 'demo.db'}")
    build_demo(engine, scale=0.02)
    return engine, latest_year(engine)


def _with_system(snapshot, codes: list[str]) -> None:
    """The snapshot holds a province's own, complete jiangsu-1650 system listing only `codes`."""
    snapshot.extra["chain_system_class"] = pl.DataFrame(
        {"system_id": ["jiangsu-1650"] * len(codes), "chain_id": ["own"] * len(codes), "code": codes,
         "complete": [True] * len(codes)}, schema={"system_id": pl.Utf8, "chain_id": pl.Utf8, "code": pl.Utf8,
                                                   "complete": pl.Boolean})
    snapshot.extra["chain_system"] = pl.DataFrame({"system_id": ["jiangsu-1650"], "complete": [True]})


def test_the_database_chain_system_decides_not_the_shipped_lists(demo):
    """A system read with the registry (a province's import) is the one J9 looks up: listing only the
    first cluster's leading industry puts that cluster on it and, the list being complete, every other
    cluster off it (the shipped draft is incomplete: it would give 1 or unknown)."""
    engine, year = demo
    snapshot = load_snapshot(engine, None, scope="clusters")
    clusters = snapshot.frames["cluster"].sort("id")
    first_id, first_codes = clusters["id"][0], clusters["leading_industries"][0].to_list()
    others = {c for codes in clusters["leading_industries"][1:].to_list() for c in codes}
    assert not any(a.startswith(b) or b.startswith(a) for a in first_codes for b in others), "codes overlap"
    _with_system(snapshot, first_codes[:1])
    table = compute_cluster_indicators(snapshot, year, {(CHAIN_SYSTEM, ())}).sort("cluster_id")
    values = dict(zip(table["cluster_id"].to_list(), table[indicator_column(CHAIN_SYSTEM, {})].to_list(), strict=True))
    assert values[first_id] == 1.0
    assert {v for k, v in values.items() if k != first_id} == {0.0}


def test_a_criterion_parameter_reaches_its_indicator(demo):
    """rd_cagr over 1 year (a pack's parameter) is the members' R&D growth from y-1 to y, computed here by
    hand from the snapshot's rows; it differs from the default 3-year figure."""
    engine, year = demo
    snapshot = load_snapshot(engine, None, scope="clusters")
    table = compute_cluster_indicators(snapshot, year, {("rd_cagr", ()), ("rd_cagr", (("years", 1),))})
    one, three = indicator_column("rd_cagr", {"years": 1}), indicator_column("rd_cagr", {})
    rows = snapshot.frames["enterprise_year"].select("uscc", "year", "rd_spending")
    members = snapshot.frames["cluster_member"].select("cluster_id", "uscc")
    now = rows.filter(pl.col("year") == year).drop("year")
    before = rows.filter(pl.col("year") == year - 1).drop("year").rename({"rd_spending": "rd_before"})
    panel = members.join(now, on="uscc").join(before, on="uscc").drop_nulls(["rd_spending", "rd_before"])
    sums = panel.group_by("cluster_id").agg(pl.col("rd_spending").sum(), pl.col("rd_before").sum())
    by_hand = {c: n / b - 1 for c, n, b in sums.iter_rows() if b > 0}
    got = dict(zip(table["cluster_id"].to_list(), table[one].to_list(), strict=True))
    assert by_hand and all(math.isclose(got[c], v, rel_tol=1e-9) for c, v in by_hand.items())
    assert any(not math.isclose(a, b, rel_tol=1e-6) for a, b in zip(table[one], table[three], strict=True)
               if a is not None and b is not None)


def test_a_footprint_says_where_its_area_comes_from():
    """The footprint is the declared boundary's area when there is one, else the hull of the located members
    (three at least), else none; footprint_detail names the source: boundary, members_hull or null."""
    import json

    import polars as pl

    from smecluster.analytics.footprints import cluster_geography
    from smecluster.analytics.snapshot import Snapshot

    square = json.dumps({"type": "Polygon", "coordinates": [[[120.70, 31.60], [120.72, 31.60], [120.72, 31.62],
                                                             [120.70, 31.62], [120.70, 31.60]]]})
    firms = pl.DataFrame({"uscc": ["A", "B", "C", "D", "E"], "lon": [120.70, 120.75, 120.70, 120.71, 120.72],
                          "lat": [31.60, 31.60, 31.65, 31.61, 31.62]})
    members = pl.DataFrame({"cluster_id": [1, 1, 1, 2, 2, 3, 3, 3], "uscc": ["A", "B", "C", "D", "E", "A", "B", "C"]})
    clusters = pl.DataFrame({"id": [1, 2, 3], "county_code": ["320581"] * 3, "boundary_geojson": [None, None, square]})
    snap = Snapshot(frames={"cluster": clusters, "cluster_member": members, "enterprise": firms})
    footprints, located = cluster_geography(snap)
    detail = {r["cluster_id"]: r for r in snap.extra["footprint_detail"].iter_rows(named=True)}
    assert {k: (r["footprint_source"], r["located"]) for k, r in detail.items()} == {
        1: ("members_hull", 3), 2: (None, 2), 3: ("boundary", 3)}
    area = dict(footprints.iter_rows())
    # a right triangle of 0.05° by 0.05° at 31.6°N: about 5.5 km by 4.7 km, half of it about 13 km²
    assert area[1] == detail[1]["hull_km2"] and 12.0 < area[1] < 14.0
    assert area[2] is None and detail[2]["hull_km2"] is None
    # the boundary (0.02° square: about 2.2 km by 1.9 km) wins over the members' larger hull
    assert area[3] == detail[3]["boundary_km2"] and 3.8 < area[3] < 4.6 and detail[3]["hull_km2"] == area[1]
    assert located.height == 8


def test_footprints_computed_once_per_snapshot_and_again_for_new_frames(demo, monkeypatch):
    """The watch computes the indicators of several years on one snapshot: the footprints (which do not
    depend on the year) are computed once, give what a fresh snapshot gives, and are computed again when
    the snapshot's members change."""
    import smecluster.analytics.cluster_indicators as indicators

    engine, year = demo
    calls = []
    real = indicators.cluster_geography
    monkeypatch.setattr(indicators, "cluster_geography", lambda snap: calls.append(1) or real(snap))
    needed = {("footprint_km2", ()), ("members", ())}
    snapshot = load_snapshot(engine, None, scope="clusters")
    first = compute_cluster_indicators(snapshot, year, needed)
    again = compute_cluster_indicators(snapshot, year - 1, needed)
    assert len(calls) == 1 and "footprint_detail" in snapshot.extra
    fresh = compute_cluster_indicators(load_snapshot(engine, None, scope="clusters"), year - 1, needed)
    assert again.equals(fresh) and first["footprint_km2"].equals(again["footprint_km2"])
    assert first["footprint_km2"].drop_nulls().len() > 0
    members = snapshot.frames["cluster_member"]
    snapshot.frames["cluster_member"] = members.filter(pl.col("cluster_id") != members["cluster_id"][0])
    compute_cluster_indicators(snapshot, year, needed)
    assert len(calls) == 3  # once for each snapshot above, once more for the changed members
