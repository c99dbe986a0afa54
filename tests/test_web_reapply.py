"""An application for a cluster already in the registry, through the web: the county bureau applies from
the cluster page or the new-application page, the workflow runs to recognition, a second application is
refused while one is going on, and a rejected cluster may be applied for again (counted once)."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from web_fakes import csrf_of, fake_evaluate, login, make_users, seed

from smecluster.db import open_database, session_scope
from smecluster.registry.models import Cluster
from smecluster.web.app import WebSettings, create_app
from smecluster.workflow.models import Application, AuditEntry


class Clock:
    def __init__(self) -> None:
        self.day = date(2025, 3, 3)

    def __call__(self) -> date:
        return self.day


@pytest.fixture
def web(database_url, tmp_path):
    engine = open_database(database_url)
    ids = seed(engine)
    make_users(engine)
    with session_scope(engine) as s:  # Changshu: in the registry, never applied for (Tongshan stays recognised)
        s.get(Cluster, ids["changshu"]).status = "draft"
    clock = Clock()
    app = create_app(database_url, evaluate=fake_evaluate,
                     settings=WebSettings(evidence_dir=tmp_path / "evidence", today=clock))
    return app, clock, ids


def client_as(app, username: str) -> TestClient:
    c = TestClient(app, base_url="https://testserver")
    assert login(c, username).status_code == 303
    return c


def apply(c: TestClient, cluster_id: int):
    return c.post(f"/clusters/{cluster_id}/apply", data={"csrf_token": csrf_of(c)}, follow_redirects=False)


def do(c: TestClient, app_id: int, action: str, comment: str = ""):
    version = c.get(f"/api/applications/{app_id}").json()["version"]
    r = c.post(f"/applications/{app_id}/actions/{action}",
               data={"version": str(version), "comment": comment, "csrf_token": csrf_of(c)}, follow_redirects=False)
    assert r.status_code == 303, (action, r.status_code, r.text[-400:])


def test_registry_cluster_applied_for_and_recognised_through_the_web(web):
    """Changshu's registry cluster (no application yet): its county sees the button on the cluster page and
    on the new-application page, applies, and the application runs submit → recommend → review → notice →
    recognise with the registry's members; the creation is audited with the cluster's code."""
    app, clock, ids = web
    cid = ids["changshu"]
    county, city, prov, expert = (client_as(app, u) for u in ("county_a", "city_a", "province", "expert"))
    assert 'id="apply-existing"' in county.get(f"/clusters/{cid}").text
    assert 'id="apply-existing"' not in client_as(app, "county_b").get(f"/clusters/{cid}").text
    assert 'id="apply-existing"' not in city.get(f"/clusters/{cid}").text
    assert f'action="/clusters/{cid}/apply"' in county.get("/applications/new").text
    r = apply(county, cid)
    assert r.status_code == 303
    app_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = county.get(f"/applications/{app_id}").text
    assert "常熟市电子氟材料产业集群" in page
    do(county, app_id, "submit")
    do(city, app_id, "recommend", "同意推荐")
    do(prov, app_id, "start_review")
    prov.post(f"/applications/{app_id}/experts", data={"expert": "expert", "csrf_token": csrf_of(prov)})
    expert.post(f"/applications/{app_id}/score", data={"score": "80", "csrf_token": csrf_of(expert)})
    do(prov, app_id, "publish_notice")
    clock.day += timedelta(days=10)
    do(prov, app_id, "recognise")
    assert county.get(f"/api/applications/{app_id}").json()["stage"] == "recognised"
    with session_scope(app.state.engine) as s:
        entry = s.query(AuditEntry).filter_by(action="application.create", target=f"application:{app_id}").one()
        assert entry.actor == "county_a" and entry.detail["cluster"] == "CS-FLUORINE"
        assert s.query(Application).filter_by(cluster_id=cid).count() == 1


def test_second_application_refused_while_one_goes_on(web):
    """While the cluster's application is going on, another is refused (400) naming it and its stage in
    words (Chinese by default, English on request); other counties and roles are refused (403)."""
    app, _, ids = web
    cid = ids["changshu"]
    county = client_as(app, "county_a")
    first = int(apply(county, cid).headers["location"].rsplit("/", 1)[1])
    again = apply(county, cid)
    text = html.unescape(again.text)
    assert again.status_code == 400 and f"该集群已有申报 #{first}（阶段：草稿）" in text
    assert "draft" not in re.sub(r"<[^>]+>", " ", text)
    english = county.post(f"/clusters/{cid}/apply?lang=en", data={"csrf_token": csrf_of(county)})
    assert f"already has application #{first} in stage Draft" in html.unescape(english.text)
    assert apply(client_as(app, "county_b"), cid).status_code == 403
    assert apply(client_as(app, "city_a"), cid).status_code == 403
    assert 'id="apply-existing"' not in county.get(f"/clusters/{cid}").text
    assert f'action="/clusters/{cid}/apply"' not in county.get("/applications/new").text


def test_rejected_cluster_applied_for_again_and_counted_once(web):
    """After a rejection the county applies again: a new draft, the old application kept; the overview counts
    the cluster once, at the stage of its newest application."""
    app, _, ids = web
    cid = ids["changshu"]
    county, city, prov = (client_as(app, u) for u in ("county_a", "city_a", "province"))
    first = int(apply(county, cid).headers["location"].rsplit("/", 1)[1])
    do(county, first, "submit")
    do(city, first, "recommend")
    do(prov, first, "start_review")
    do(prov, first, "reject", "材料不全")
    r = apply(county, cid)
    assert r.status_code == 303
    second = int(r.headers["location"].rsplit("/", 1)[1])
    assert second != first
    data = county.get("/api/overview").json()
    rows = [c for c in data["clusters"] if c["id"] == cid]
    assert len(rows) == 1 and data["kpis"]["clusters"] == 1  # Changshu's county: one cluster
    assert county.get(f"/api/applications/{first}").json()["stage"] == "rejected"
    assert county.get(f"/api/applications/{second}").json()["stage"] == "draft"


def test_recognised_registry_cluster_enters_the_workflow_recognised(web):
    """Tongshan is recognised in the registry (imported, no application): its county's application takes that
    standing (stage recognised, valid to the end of its recognition year + the pack's years), so it stays
    public meanwhile, its yearly report is filed in the workflow and the province can revoke it there."""
    app, clock, ids = web
    cid = ids["tongshan"]
    county, prov = client_as(app, "county_b"), client_as(app, "province")
    r = apply(county, cid)
    assert r.status_code == 303
    app_id = int(r.headers["location"].rsplit("/", 1)[1])
    state = county.get(f"/api/applications/{app_id}").json()
    assert state["stage"] == "recognised"
    with session_scope(app.state.engine) as s:
        assert s.get(Cluster, cid).status == "recognised"
        application = s.get(Application, app_id)
        assert application.valid_until == date(2026, 12, 31)  # recognised in 2023, three years (the pack)
        entry = s.query(AuditEntry).filter_by(action="application.create", target=f"application:{app_id}").one()
        assert entry.detail == {"cluster": "TS-SAFETY", "adopted": "recognised"}
    anonymous = TestClient(app, base_url="https://testserver")
    assert "徐州市铜山区安全应急产业集群" in anonymous.get("/").text
    do(county, app_id, "yearly_report")
    do(prov, app_id, "revoke", "年度报告不实")
    assert county.get(f"/api/applications/{app_id}").json()["stage"] == "revoked"
    assert apply(county, cid).status_code == 303  # revoked: it may be applied for again, as a draft
