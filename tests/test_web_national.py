"""The national view: the ministry sees every province (counts, map, each province's recommendation
evaluated against miit-cluster-2022); a province account sees only its own, by page and by JSON."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from web_fakes import PASSWORD, login, make_users, seed

from smecluster.accounts.users import add_user
from smecluster.db import open_database, session_scope
from smecluster.registry.models import Cluster, ClusterMember, Designation, Enterprise, Region
from smecluster.services.national import province_comparison, province_recommendation
from smecluster.web.app import WebSettings, create_app
from smecluster.workflow.recommendations import NationalRecommendation

ZJ = ["91330282MA1ZJTS01X", "91330282MA1ZJTS02X", "91330282MA1ZJTS03X", "91330282MA1ZJTS04X"]


def _zhejiang(engine) -> int:
    """A Zhejiang county with four firms (one SRDI SME, one little giant), a recognised cluster and the
    recommendations of both provinces for 2026."""
    with session_scope(engine) as s:
        s.add_all([Region(code="330000", name="浙江省", level="province"),
                   Region(code="330200", name="宁波市", level="city", parent_code="330000"),
                   Region(code="330282", name="慈溪市", level="county", parent_code="330200")])
        s.flush()
        s.add_all(Enterprise(uscc=u, name=f"浙江测试企业{i}", county_code="330282", industry_code="2614",
                             fictional=True) for i, u in enumerate(ZJ))
        s.flush()
        s.add_all([Designation(uscc=ZJ[0], kind="srdi_sme", year=2024, valid_from=date(2024, 1, 1)),
                   Designation(uscc=ZJ[1], kind="little_giant", year=2024, valid_from=date(2024, 1, 1)),
                   Designation(uscc=ZJ[1], kind="srdi_sme", year=2024, valid_from=date(2024, 1, 1)),
                   # expired before the data year: not counted
                   Designation(uscc=ZJ[2], kind="srdi_sme", year=2015, valid_from=date(2015, 1, 1),
                               valid_until=date(2017, 12, 31))])
        cluster = Cluster(code="ZJ-CIXI", name="慈溪市家电产业集群", county_code="330282", leading_industries=["2614"],
                          declared={}, status="recognised", year=2024, fictional=True)
        s.add(cluster)
        s.flush()
        s.add_all(ClusterMember(cluster_id=cluster.id, uscc=u) for u in ZJ)
        changshu = s.query(Cluster).filter(Cluster.code == "CS-FLUORINE").one()
        now = datetime(2026, 3, 1, 9, 0)
        s.add_all([
            NationalRecommendation(province_code="33", year=2026, priority_pack="p", national_pack="miit-cluster-2022",
                                   quota=2, stage="confirmed", version=1, confirmed_at=now,
                                   clusters=[{"id": cluster.id, "code": "ZJ-CIXI", "name": "慈溪市家电产业集群",
                                              "score": 0.7, "rank": 1}]),
            NationalRecommendation(province_code="32", year=2026, priority_pack="p", national_pack="miit-cluster-2022",
                                   quota=3, stage="confirmed", version=1, confirmed_at=now,
                                   clusters=[{"id": changshu.id, "code": "CS-FLUORINE", "name": changshu.name,
                                              "score": 0.8, "rank": 1}]),
        ])
        return cluster.id


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The web fakes' Jiangsu registry plus a Zhejiang county; accounts: the fakes' (ministry included)
    and `province_zj`, Zhejiang's provincial department."""
    path = tmp_path_factory.mktemp("national") / "n.db"
    url = f"sqlite:///{path}"
    engine = open_database(url)
    seed(engine)
    cluster = _zhejiang(engine)
    make_users(engine)
    with session_scope(engine) as s:
        add_user(s, "province_zj", PASSWORD, "province_admin", region_code="330000")
    app = create_app(url, settings=WebSettings(evidence_dir=path.parent / "evidence"))
    return app, engine, cluster


def _client(app, who: str) -> TestClient:
    c = TestClient(app, base_url="https://testserver", follow_redirects=False)
    assert login(c, who).status_code == 303
    return c


def test_ministry_sees_every_province(site):
    """31 provinces (and their totals); Jiangsu's and Zhejiang's counts and rates per million firms."""
    app, _, _ = site
    data = _client(app, "ministry").get("/api/national").json()
    rows = {p["code"]: p for p in data["provinces"]}
    assert len(rows) == 31 and data["scope"] == "nation"
    zj = rows["33"]
    assert (zj["firms"], zj["clusters"], zj["srdi_sme"], zj["little_giant"]) == (4, 1, 2, 1)
    assert zj["srdi_per_million"] == 500_000.0 and zj["little_giant_per_million"] == 250_000.0
    assert zj["recommendation"] == {"year": 2026, "quota": 2, "listed": 1, "national_pack": "miit-cluster-2022",
                                    "meeting": 0}
    assert rows["32"]["firms"] == 3 and rows["32"]["clusters"] == 2
    assert rows["11"]["firms"] == 0 and rows["11"]["srdi_per_million"] is None
    assert data["totals"]["firms"] == 7
    page = _client(app, "ministry").get("/national")
    assert page.status_code == 200 and "浙江省" in page.text and "江苏省" in page.text
    assert 'data-geo="/geo/provinces.geojson"' in page.text


def test_province_sees_only_its_own(site):
    """Jiangsu's department: one row, its own, in the JSON and on the page; Zhejiang's the same the other
    way round."""
    app, _, _ = site
    data = _client(app, "province").get("/api/national").json()
    assert [p["code"] for p in data["provinces"]] == ["32"] and data["scope"] == "province"
    assert data["totals"]["firms"] == 3
    page = _client(app, "province").get("/national")
    assert page.status_code == 200 and "江苏省" in page.text and "浙江省" not in page.text
    assert "慈溪" not in page.text
    other = _client(app, "province_zj").get("/api/national").json()
    assert [p["code"] for p in other["provinces"]] == ["33"]


def test_another_provinces_recommendation_is_refused(site):
    """A province account reading another province's recommendation gets 403 on the page and the JSON; the
    ministry reads both."""
    app, _, _ = site
    jiangsu = _client(app, "province")
    for url in ("/national/provinces/33", "/api/national/provinces/33"):
        r = jiangsu.get(url)
        assert r.status_code == 403, url
        assert "慈溪" not in r.text
    assert jiangsu.get("/api/national/provinces/32").status_code == 200
    ministry = _client(app, "ministry")
    for code, name in (("33", "慈溪市家电产业集群"), ("32", "常熟市电子氟材料产业集群")):
        r = ministry.get(f"/api/national/provinces/{code}")
        assert r.status_code == 200 and [c["name"] for c in r.json()["clusters"]] == [name]
        assert name in ministry.get(f"/national/provinces/{code}").text


def test_other_roles_have_no_national_view(site):
    """City and county bureaus, experts and administrators are refused; anonymous visitors sent to log in."""
    app, _, _ = site
    for who in ("city_a", "county_a", "expert", "sysadmin"):
        assert _client(app, who).get("/api/national").status_code == 403, who
    anonymous = TestClient(app, base_url="https://testserver", follow_redirects=False)
    assert anonymous.get("/api/national").status_code == 401


def test_recommendations_are_evaluated_against_the_national_pack(site):
    """Each listed cluster carries its verdict under miit-cluster-2022: an outcome and the conditions it
    fails or lacks data for (a four-firm cluster with no yearly figures is not recognised)."""
    _, engine, cluster = site
    r = province_recommendation(engine, "33")
    assert r["national_pack"] == "miit-cluster-2022" and r["confirmed"]["quota"] == 2
    (c,) = r["clusters"]
    assert c["id"] == cluster and c["outcome"] in ("not_recognised", "insufficient_data")
    assert not c["meets_national"] and c["failing"] and {f["status"] for f in c["failing"]} <= {"fail", "unknown"}
    assert r["meeting"] == 0
    with pytest.raises(LookupError):
        province_recommendation(engine, "99")


def test_confirmation_is_stored_per_province(tmp_path):
    """Two provinces confirm the same year: one row each (unique by province and year), not one overwriting
    the other."""
    from sqlalchemy import select

    engine = open_database(f"sqlite:///{tmp_path / 'c.db'}")
    now = datetime(2026, 3, 1)
    with session_scope(engine) as s:
        for p in ("32", "33"):
            s.add(NationalRecommendation(province_code=p, year=2026, priority_pack="p", national_pack="n", quota=1,
                                         stage="confirmed", clusters=[], version=1, confirmed_at=now))
    with session_scope(engine) as s:
        assert sorted(s.scalars(select(NationalRecommendation.province_code))) == ["32", "33"]
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(NationalRecommendation(province_code="33", year=2026, priority_pack="p", national_pack="n", quota=1,
                                     stage="confirmed", clusters=[], version=1, confirmed_at=now))


def test_comparison_from_a_parquet_registry(tmp_path):
    """From the national demo's Parquet files: every province has firms, the planted clusters are counted
    as recognised in their provinces, and SRDI SMEs per million firms are near the national rate."""
    from smecluster.demo.national import PLANTED, write_national

    out = tmp_path / "national"
    write_national(out, 2000)
    engine = open_database(f"sqlite:///{tmp_path / 'p.db'}")
    data = province_comparison(engine, parquet=out)
    rows = {p["code"]: p for p in data["provinces"]}
    assert data["source"] == "parquet" and data["year"] == 2025
    assert len(rows) == 31 and all(r["firms"] > 0 for r in rows.values())
    planted = {}
    for county, _, _ in PLANTED:
        planted[county[:2]] = planted.get(county[:2], 0) + 1
    assert {p: r["clusters"] for p, r in rows.items() if r["clusters"]} == planted
    assert sum(r["srdi_sme"] for r in rows.values()) > 0


def test_migration_gives_existing_lists_the_configured_province(database_url):
    """A database at 0012_chains with a confirmed list: after 0018_national the row belongs to the
    configured province (32) and a second province may confirm the same year."""
    from alembic import command
    from sqlalchemy import text

    from smecluster.db import alembic_config, get_engine

    engine = get_engine(database_url)
    with engine.begin() as connection:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0012_chains")
        connection.execute(text(
            "INSERT INTO national_recommendation (year, priority_pack, national_pack, quota, stage, clusters, "
            "version, confirmed_at) VALUES (2026, 'p', 'n', 1, 'confirmed', '[]', 1, '2026-03-01 09:00:00')"))
    engine = open_database(database_url)  # to head
    with engine.begin() as connection:
        assert connection.execute(text("SELECT province_code, year FROM national_recommendation")).all() == [
            ("32", 2026)]
        connection.execute(text(
            "INSERT INTO national_recommendation (province_code, year, priority_pack, national_pack, quota, stage, "
            "clusters, version, confirmed_at) VALUES ('33', 2026, 'p', 'n', 1, 'confirmed', '[]', 1, "
            "'2026-03-01 09:00:00')"))
