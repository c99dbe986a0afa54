"""A small chain checked by hand (tests/scenarios/chains/small-chain.yaml), on SQLite and PostgreSQL:
coverage statuses, why each firm is in its link, and partners nearest first, same city first."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from builders import codes
from sqlalchemy import insert

from smecluster.chains.catalogue import import_document
from smecluster.db import open_database
from smecluster.registry.importer import import_file
from smecluster.registry.models import (
    Cluster,
    ClusterMember,
    Designation,
    Enterprise,
    EnterpriseYear,
    Industry,
    Region,
)
from smecluster.services.chains import assignments, chain_coverage, cluster_partners, read_registry

SCENARIO = Path(__file__).parent / "scenarios" / "chains" / "small-chain.yaml"
SPEC = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
INDUSTRIES = [
    ("C", "制造业", 1, None), ("38", "电气机械和器材制造业", 2, "C"), ("384", "电池制造", 3, "38"),
    ("3841", "锂离子电池制造", 4, "384"), ("34", "通用设备制造业", 2, "C"), ("348", "通用零部件制造", 3, "34"),
    ("3484", "机械零部件加工", 4, "348"),
]


def _build(engine, tmp_path) -> dict[str, str]:
    firms = SPEC["firms"]
    uscc = {key: codes(1, f["county"], start=i + 1)[0] for i, (key, f) in enumerate(firms.items())}
    with engine.begin() as conn:
        conn.execute(insert(Region), [{"lon": None, "lat": None, **r} for r in SPEC["regions"]])
        conn.execute(insert(Industry), [{"code": c, "name": n, "level": lv, "parent": p, "section": "C"}
                                        for c, n, lv, p in INDUSTRIES])
        conn.execute(insert(Enterprise), [
            {"uscc": uscc[k], "name": f"企业{k}", "county_code": f["county"], "industry_code": f["class"],
             "lon": f["lon"], "lat": f["lat"], "main_products": f.get("products"), "business_scope": f.get("scope"),
             "fictional": True} for k, f in firms.items()])
        conn.execute(insert(EnterpriseYear), [
            {"uscc": uscc[k], "year": 2025, "output": float(f["output"]), "revenue": float(f["output"]),
             "employees": 50} for k, f in firms.items()])
        conn.execute(insert(Designation), [
            {"uscc": uscc[k], "kind": f["tier"], "year": 2024, "valid_from": date(2024, 1, 1),
             "valid_until": date(2026, 12, 31)} for k, f in firms.items() if f.get("tier")])
        conn.execute(insert(Cluster), [{"id": 1, "code": "toy-cluster", "name": "测试集群", "county_code": "320481",
                                        "leading_industries": ["3841"], "declared": {}, "status": "submitted",
                                        "year": 2025, "fictional": True}])
        conn.execute(insert(ClusterMember), [{"cluster_id": 1, "uscc": uscc[k]} for k in SPEC["cluster"]])
    chain_file = tmp_path / "toy.yaml"
    chain_file.write_text(yaml.safe_dump(SPEC["chain"], allow_unicode=True), encoding="utf-8")
    import_document(engine, chain_file, datetime(2026, 11, 30))
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("统一社会信用代码,产业链,环节\n" + "".join(
        f"{uscc[o['firm']]},{o['chain']},{o['link']}\n" for o in SPEC["overrides"]), encoding="utf-8")
    result = import_file(engine, "chain_links", overrides)
    assert result.written, result.errors
    return uscc


@pytest.fixture
def scenario(database_url, tmp_path):
    engine = open_database(database_url)
    uscc = _build(engine, tmp_path)
    return read_registry(engine), uscc


def test_cluster_coverage_matches_the_hand_checked_figures(scenario):
    """Present, weak by a dominant firm, weak by few firms and missing, with the figures worked by hand."""
    reg, _ = scenario
    (result,) = chain_coverage(reg, "cluster", "toy-cluster", "toy")
    links = {row["id"]: row for row in result["links"]}
    for link, expected in SPEC["expect"]["cluster"]["links"].items():
        for field, value in expected.items():
            assert links[link][field] == pytest.approx(value, abs=1e-4) if isinstance(value, float) else \
                links[link][field] == value, (link, field)
    assert result["summary"]["coverage_share"] == SPEC["expect"]["cluster"]["coverage_share"]


@pytest.mark.parametrize(("level", "code", "key"), [("county", "320481", "county"), ("city", "320400", "city")])
def test_region_coverage(scenario, level, code, key):
    """A county and a city count every firm in them, members or not."""
    reg, _ = scenario
    (result,) = chain_coverage(reg, level, code, "toy")
    status = {row["id"]: row["status"] for row in result["links"]}
    for link, expected in SPEC["expect"][key].items():
        assert status[link] == expected


def test_every_match_says_why(scenario):
    """The override wins over the keyword; the scope is read when the products are blank; the class alone."""
    reg, uscc = scenario
    assigned = assignments(reg, ["toy"])
    for key, expected in SPEC["expect"]["why"].items():
        rows = assigned.filter(assigned["uscc"] == uscc[key]).to_dicts()
        assert [r["link_id"] for r in rows] == [expected["link"]]
        assert rows[0]["via"] == expected["via"]
        if "evidence" in expected:
            assert rows[0]["evidence"] == expected["evidence"]


def _km(lon1, lat1, lon2, lat2) -> float:
    # The textbook haversine, written apart from the product's column version.
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def test_partners_nearest_first_same_city_first(scenario):
    """Partners of the missing link: same city by distance, then the province; members never; neighbours named."""
    reg, uscc = scenario
    found = cluster_partners(reg, "toy-cluster", chain_id="toy")
    gaps = {g["link_id"]: g for g in found["gaps"]}
    assert set(gaps) == {"b", "c", "d"}
    for link, keys in SPEC["expect"]["partners"].items():
        assert [p["uscc"] for p in gaps[link]["partners"]] == [uscc[k] for k in keys]
    members = {uscc[k] for k in SPEC["cluster"]}
    assert not members & {p["uscc"] for g in gaps.values() for p in g["partners"]}
    firms = SPEC["firms"]
    for p in gaps["d"]["partners"]:
        key = next(k for k, v in uscc.items() if v == p["uscc"])
        assert p["distance_km"] == pytest.approx(_km(119.48, 31.42, firms[key]["lon"], firms[key]["lat"]), abs=0.05)
        if key in SPEC["expect"]["neighbours"]:
            assert p["neighbour"] is SPEC["expect"]["neighbours"][key], key


def test_partners_of_one_link(scenario):
    """--link keeps one gap; a link the cluster's chains lack is refused."""
    from smecluster.chains.maps import ChainError

    reg, _ = scenario
    found = cluster_partners(reg, "toy-cluster", link_id="d", chain_id="toy")
    assert [g["link_id"] for g in found["gaps"]] == ["d"]
    with pytest.raises(ChainError, match="no link 'zz'"):
        cluster_partners(reg, "toy-cluster", link_id="zz", chain_id="toy")


def test_override_naming_an_unknown_link_is_refused_with_row_and_column(scenario, database_url, tmp_path):
    """An override whose link is not in its chain is an error naming row, column and reason; nothing is stored."""
    from sqlalchemy import func, select

    from smecluster.chains.models import ChainLinkOverride

    _, uscc = scenario
    bad = tmp_path / "bad.csv"
    bad.write_text(f"统一社会信用代码,产业链,环节\n{uscc['m1']},toy,b\n{uscc['m2']},toy,zz\n{uscc['m3']},nochain,a\n",
                   encoding="utf-8")
    engine = open_database(database_url)
    result = import_file(engine, "chain_links", bad)
    assert not result.written
    errors = {(r["row"], r["column"]): r["reason"] for r in result.errors.to_dicts()}
    assert "no such link" in errors[(3, "环节")] and "no such chain" in errors[(4, "产业链")]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ChainLinkOverride)).scalar() == 1  # the scenario's own


def test_pruned_partners_equal_the_brute_force_nearest():
    """Partners computed on the nearest counties only equal the first of all candidates ranked in full."""
    import numpy as np
    import polars as pl

    from smecluster.chains.partners import partners
    from smecluster.registry.regions import region_rows
    from smecluster.services.chains import _counties

    rng = np.random.default_rng(1)
    regions = pl.DataFrame(region_rows("32")).select("code", "name", "level", "parent_code", "lon", "lat")
    counties = _counties(regions)
    n = 20_000
    pick = rng.integers(0, counties.height, n)
    firms = pl.DataFrame({"uscc": [f"F{i:08d}" for i in range(n)], "name": "x",
                          "county_code": counties["code"].gather(pick),
                          "lon": counties["lon"].gather(pick) + rng.normal(0, 0.15, n),
                          "lat": counties["lat"].gather(pick) + rng.normal(0, 0.15, n)})
    assigned = pl.DataFrame({"uscc": firms["uscc"], "chain_id": "c", "link_id": [f"l{i % 3}" for i in range(n)],
                             "via": "class", "evidence": "x"})
    homes = counties["code"].gather(rng.integers(0, counties.height, 6))
    members = pl.concat([firms.filter(pl.col("county_code") == h).head(30).select(
        pl.lit(i, pl.Int64).alias("cluster_id"), "uscc") for i, h in enumerate(homes)])
    centres = pl.DataFrame({"cluster_id": range(6), "county_code": homes, "lon": None, "lat": None},
                           schema={"cluster_id": pl.Int64, "county_code": pl.Utf8, "lon": pl.Float64,
                                   "lat": pl.Float64})
    gaps = pl.DataFrame({"cluster_id": [i for i in range(6) for _ in range(3)], "chain_id": "c",
                         "link_id": [f"l{k}" for _ in range(6) for k in range(3)], "status": "weak"})
    facts = firms.select("uscc", pl.lit(1.0).alias("output"), pl.lit(None, pl.Utf8).alias("tier"),
                         pl.lit(None, pl.Utf8).alias("size"))
    args = (gaps, assigned, firms, members, centres, counties, county_neighbours_frame(), facts)
    few = partners(*args, per_link=8)
    full = partners(*args, per_link=n)
    keys = ["cluster_id", "link_id"]
    expected = full.group_by(keys, maintain_order=True).head(8)
    assert few.select(*keys, "uscc").equals(expected.select(*keys, "uscc"))


def county_neighbours_frame():
    import polars as pl

    return pl.DataFrame(schema={"county_code": pl.Utf8, "neighbour_code": pl.Utf8})
