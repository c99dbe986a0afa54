"""The cluster page shows where the cluster is: its footprint on the county map (the area the verdict
measures) and, for the bureaus over it, its located members flagged outside the county."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_fakes import database, demo_url, fake_evaluate, login  # noqa: F401 (fixtures)

from smecluster.analytics.footprints import cluster_geography
from smecluster.analytics.snapshot import load_snapshot
from smecluster.db import session_scope
from smecluster.registry.models import Cluster
from smecluster.web.app import WebSettings, create_app


@pytest.fixture(scope="module")
def app(demo_url, tmp_path_factory):  # noqa: F811
    return create_app(demo_url, evaluate=fake_evaluate,
                      settings=WebSettings(evidence_dir=tmp_path_factory.mktemp("ev")))


@pytest.fixture(scope="module")
def detail(app):
    """The verdict's footprint figures per cluster id (analytics/footprints.py over a snapshot)."""
    snap = load_snapshot(app.state.engine, None, scope="clusters")
    cluster_geography(snap)
    return {r["cluster_id"]: r for r in snap.extra["footprint_detail"].iter_rows(named=True)}


def client_as(app, username: str | None) -> TestClient:
    c = TestClient(app, base_url="https://testserver")
    if username:
        assert login(c, username).status_code == 303
    return c


def _cluster(app, code: str) -> tuple[int, str]:
    with session_scope(app.state.engine) as s:
        return s.execute(select(Cluster.id, Cluster.county_code).where(Cluster.code == code)).one()


def test_footprint_is_the_area_the_verdict_measures(app, detail):
    """Changshu's cluster (a declared park boundary): the map's footprint is that boundary, of the area
    the verdict uses; a near miss without a boundary gets its members' hull."""
    cid, county = _cluster(app, "changshu-fluorine")
    data = client_as(app, "county_a").get(f"/api/clusters/{cid}/map").json()
    foot = [f for f in data["features"] if f["properties"]["kind"] == "footprint"]
    assert len(foot) == 1 and foot[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert data["footprint_source"] == detail[cid]["footprint_source"] == "boundary"
    assert data["footprint_km2"] == pytest.approx(detail[cid]["boundary_km2"], rel=1e-3)
    assert data["county_code"] == county
    hull_id, _ = _cluster(app, "danyang-optics")
    hull = client_as(app, "province").get(f"/api/clusters/{hull_id}/map").json()
    assert hull["footprint_source"] == detail[hull_id]["footprint_source"] == "members_hull"
    assert hull["footprint_km2"] == pytest.approx(detail[hull_id]["hull_km2"], rel=1e-3)


def test_members_for_the_bureaus_over_it_only(app, detail):
    """The county over the cluster gets every located member as a point; anonymous visitors get the
    footprint alone. Kunshan's near miss (members registered elsewhere) has members flagged outside."""
    cid, _ = _cluster(app, "changshu-fluorine")
    mine = client_as(app, "county_a").get(f"/api/clusters/{cid}/map").json()
    members = [f for f in mine["features"] if f["properties"]["kind"] == "members"]
    assert len(members) == 1 and len(members[0]["geometry"]["coordinates"]) == detail[cid]["located"]
    assert mine["located_members"] == detail[cid]["located"] > 0
    public = client_as(app, None).get(f"/api/clusters/{cid}/map")
    if public.status_code == 200:  # the demo's Changshu cluster is recognised, so public
        assert [f["properties"]["kind"] for f in public.json()["features"]] == ["footprint"]
    ks, _ = _cluster(app, "kunshan-pcb")
    flags = [f for f in client_as(app, "province").get(f"/api/clusters/{ks}/map").json()["features"]
             if f["properties"]["kind"] == "members"][0]["properties"]["outside"]
    assert any(flags) and not all(flags)


def test_cluster_page_has_the_map_and_its_legend(app):
    cid, _ = _cluster(app, "changshu-fluorine")
    html = client_as(app, "county_a").get(f"/clusters/{cid}").text
    assert f'data-src="/api/clusters/{cid}/map"' in html and "/static/cluster_map.js" in html
    assert "集群位置" in html and "圆点为成员企业" in html
    assert "圆点为成员企业" not in client_as(app, None).get(f"/clusters/{cid}").text


def test_unknown_or_hidden_cluster_is_404(app):
    assert client_as(app, None).get("/api/clusters/999999/map").status_code == 404


def test_chinese_cluster_page_says_actions_and_industries_in_words(app):
    """The application history names each workflow action (提交申报, 推荐, ...), never its code, and the cluster
    list names the leading industries beside their codes."""
    import re

    from web_fakes import csrf_of

    cid, _ = _cluster(app, "changshu-fluorine")
    county = client_as(app, "county_a")  # an application with a history: applied for and submitted (last test)
    app_id = int(county.post(f"/clusters/{cid}/apply", data={"csrf_token": csrf_of(county)},
                             follow_redirects=False).headers["location"].rsplit("/", 1)[1])
    version = county.get(f"/api/applications/{app_id}").json()["version"]
    assert county.post(f"/applications/{app_id}/actions/submit", data={"version": str(version), "comment": "",
                       "csrf_token": csrf_of(county)}, follow_redirects=False).status_code == 303
    c = client_as(app, "province")
    page = c.get(f"/clusters/{cid}").text
    history = " ".join(re.findall(r"<td>([a-z_]+|[^<]*)</td>", page))
    assert "提交申报" in page
    assert not re.search(r"\b(submit|recommend|start_review|publish_notice|recognise)\b", history)
    listing = c.get("/?list_per=200").text
    with session_scope(app.state.engine) as s:
        from smecluster.registry.models import Industry

        code = s.scalar(select(Cluster.leading_industries).where(Cluster.id == cid))[0]
        name = s.scalar(select(Industry.name).where(Industry.code == code))
    assert f"{code} {name}" in listing
