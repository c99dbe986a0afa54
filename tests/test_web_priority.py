"""Priority and recommendation pages over the small demo registry: content, region cut, confirmation."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_fakes import csrf_of, database, fake_evaluate, login, make_users  # noqa: F401 (fixtures)

from smecluster.db import session_scope
from smecluster.services.priority import rank_clusters, recommend
from smecluster.web.app import WebSettings, create_app
from smecluster.workflow.models import AuditEntry


@pytest.fixture(scope="module")
def app(database, tmp_path_factory):  # noqa: F811
    """A small demo registry with the five national clusters recognised (as `make demo` stages them), one
    account per role, and one app over it (its caches shared by the tests)."""
    from smecluster.db import open_database
    from smecluster.services.demo import build_demo, stage_demo

    _, url = database
    engine = open_database(url)
    build_demo(engine, scale=0.05)
    stage_demo(engine)
    make_users(engine)
    return create_app(url, evaluate=fake_evaluate, settings=WebSettings(evidence_dir=tmp_path_factory.mktemp("e")))


def client_as(app, username: str | None) -> TestClient:
    """A client logged in as `username`."""
    c = TestClient(app, base_url="https://testserver", follow_redirects=False)
    if username:
        assert login(c, username).status_code == 303
    return c


def test_priority_page_shows_ranking_radars_intervals_and_weights(app):
    """The province sees every recognised cluster with its rank interval, a radar each and the weights."""
    expected = rank_clusters(app.state.engine)
    c = client_as(app, "province")
    html = c.get("/priority").text
    api = c.get("/api/priority").json()
    assert [x["id"] for x in api["clusters"]] == [x.id for x in expected.clusters]
    assert len(expected.clusters) == 5
    assert len({round(x.score, 4) for x in expected.clusters}) == 5  # the demo's ranking is not a tie
    for x in expected.clusters:
        row = re.search(rf'<tr data-cluster="{x.id}">(.*?)</tr>', html, re.S).group(1)
        assert x.name in row and f"{x.rank_p05}–{x.rank_p95}" in row
    data = json.loads(re.search(r'id="priority-data">(.*?)</script>', html, re.S).group(1))
    assert len(data["radars"]) == 5 and all(len(r["values"]) == 5 for r in data["radars"])
    assert data["axes"][0] == "主导产业优势突出"
    assert [i["rank"] for i in data["intervals"]] == [x.rank for x in expected.clusters]
    assert 'id="indicator-weights"' in html and "熵权" in html and "CR = " in html
    assert api["swap"] is not None and 'id="swap"' in html


def test_county_sees_only_its_clusters_with_province_wide_ranks(app):
    """A county bureau sees its own cluster only, at the rank it has among all the province's clusters."""
    full = {x.id: x.rank for x in rank_clusters(app.state.engine).clusters}
    api = client_as(app, "county_a").get("/api/priority").json()  # 常熟市
    assert [x["name"] for x in api["clusters"]] == ["常熟市电子氟材料产业集群"]
    assert api["clusters"][0]["rank"] == full[api["clusters"][0]["id"]]
    assert api["ranked"] == 5 and api["visible"] == 1
    assert len(api["decision_matrix"]["values"]) == 1


def test_recommendation_page_is_the_provinces_and_shows_the_gap(app):
    """Only the province sees the list; the Yuhuatai cluster shows its national gap (N10) and is left out."""
    assert client_as(app, "city_a").get("/recommendation").status_code == 403
    assert client_as(app, "county_a").get("/api/recommendation").status_code == 403
    c = client_as(app, "province")
    rec = c.get("/api/recommendation").json()
    yuhuatai = next(x for x in rec["candidates"] if x["name"].startswith("南京市雨花台区"))
    assert not yuhuatai["recommended"] and any(g["id"] == "N10" for g in yuhuatai["gaps"])
    html = c.get("/recommendation").text
    row = re.search(rf'<tr data-cluster="{yuhuatai["id"]}".*?</tr>', html, re.S).group(0)
    assert "工业互联网平台应用普及率" in row and "N10" in row
    assert rec["recommended"] == [x["id"] for x in rec["candidates"] if x["recommended"]]


def test_province_confirms_the_list_with_csrf_and_it_is_audited(app):
    """The form needs the CSRF token; a stale list is refused (409); the confirmed list is stored and audited."""
    c = client_as(app, "province")
    rec = recommend(app.state.engine)
    listed = ",".join(str(i) for i in [x.cluster.id for x in rec.recommended])
    assert c.post("/recommendation/confirm", data={"year": rec.year, "clusters": listed}).status_code == 403
    token = csrf_of(c)
    stale = c.post("/recommendation/confirm", data={"year": rec.year, "clusters": "1", "csrf_token": token})
    assert stale.status_code == 409 and "名单在显示后已发生变化" in stale.text
    done = c.post("/recommendation/confirm", data={"year": rec.year, "clusters": listed, "csrf_token": token})
    assert done.status_code == 303
    page = c.get(f"/recommendation?year={rec.year}").text
    assert "已由 province 于" in page
    api = c.get(f"/api/recommendation?year={rec.year}").json()
    assert [x["id"] for x in api["confirmed"]["clusters"]] == [x.cluster.id for x in rec.recommended]
    with session_scope(app.state.engine) as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "recommendation.confirm")).first()
        assert entry.actor == "province" and entry.target == f"recommendation:{rec.year}"
    again = c.post("/api/recommendation/confirm", json={"year": rec.year, "clusters": [x.cluster.id for x in
                                                                                     rec.recommended]},
                   headers={"X-CSRF-Token": token})
    assert again.status_code == 200 and again.json()["version"] == 2


def test_english_page_after_the_switch(app):
    """The page is Chinese by default and English after the switch."""
    c = client_as(app, "province")
    assert "名次区间" in c.get("/priority").text
    c.get("/lang/en?next=/priority")
    english = c.get("/priority").text
    assert "Rank interval (5th-95th percentile)" in english and "leading industry outstanding" in english


def test_cluster_page_shows_its_radar_to_the_bureaus_over_it(app):
    """A recognised cluster's page shows its own five dimension scores, as ranked province-wide, to the
    province and its county; anonymous visitors get no radar."""
    ranking = rank_clusters(app.state.engine)
    changshu = next(x for x in ranking.clusters if x.name == "常熟市电子氟材料产业集群")
    dims = [d["id"] for d in ranking.to_json()["weights"]["dimensions"]]
    for who in ("province", "county_a"):
        html = client_as(app, who).get(f"/clusters/{changshu.id}").text
        data = json.loads(re.search(r'id="priority-data">(.*?)</script>', html, re.S).group(1))
        assert [r["id"] for r in data["radars"]] == [changshu.id]
        assert data["radars"][0]["values"] == [round(changshu.dimension_scores[d], 4) for d in dims]
        assert f"第 {changshu.rank} 名" in html or f"Rank {changshu.rank} " in html
    assert 'id="priority-data"' not in client_as(app, None).get(f"/clusters/{changshu.id}").text
