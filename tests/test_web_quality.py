"""Data quality on the web: findings beside an application's verdict, the ranking page, role and region."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from web_fakes import USCC, csrf_of, login, make_users, seed

from smecluster.db import open_database
from smecluster.registry.models import EnterpriseYear
from smecluster.web.app import WebSettings, create_app


@pytest.fixture
def app(database_url, tmp_path):
    """An app over the seeded registry (real verdicts) where USCC[0] reports R&D above its revenue in 2025."""
    engine = open_database(database_url)
    seed(engine)
    make_users(engine)
    rows = [
        {"uscc": USCC[0], "year": 2024, "revenue": 100.0, "rd_spending": 50.0, "employees": 20},
        {"uscc": USCC[0], "year": 2025, "revenue": 100.0, "rd_spending": 150.0, "employees": 20},
        {"uscc": USCC[2], "year": 2025, "revenue": 300.0, "rd_spending": 10.0, "employees": 30},
    ]
    with engine.begin() as conn:
        conn.execute(insert(EnterpriseYear), rows)
    return create_app(database_url, settings=WebSettings(secure_cookies=True, evidence_dir=tmp_path / "ev"))


def client_as(app, username: str) -> TestClient:
    """A client logged in as `username`."""
    c = TestClient(app, base_url="https://testserver")
    assert login(c, username).status_code == 303
    return c


def apply(c: TestClient, name: str, members: list[str]) -> int:
    """Create a draft application with these members and submit it; returns its id."""
    r = c.post("/applications", data={"name": name, "leading_industries": "2614", "members": "\n".join(members),
                                      "csrf_token": csrf_of(c)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    app_id = int(r.headers["location"].rsplit("/", 1)[1])
    version = c.get(f"/api/applications/{app_id}").json()["version"]
    r = c.post(f"/applications/{app_id}/actions/submit",
               data={"version": str(version), "comment": "", "csrf_token": csrf_of(c)}, follow_redirects=False)
    assert r.status_code in (200, 303), r.text
    return app_id


def test_application_page_shows_findings_and_marks_the_criterion(app):
    """The page lists the member's doubtful figure and marks the R&D criterion without changing its status."""
    county = client_as(app, "county_a")
    app_id = apply(county, "常熟市测试集群", [USCC[0], USCC[1]])
    data = county.get(f"/api/applications/{app_id}/quality").json()
    flagged = {(f["check"], f["uscc"], f["year"]) for f in data["findings"]}
    assert ("rd_above_revenue", USCC[0], 2025) in flagged
    marked = {d["criterion"]: d["checks"] for d in data["doubtful"]}
    stored = app.state.verdicts.get(data["cluster_id"])
    on_rd = {c.id for c in _walk(stored.criteria) if c.indicator == "sme_rd_cagr"}
    assert on_rd and all("rd_above_revenue" in marked[c] for c in on_rd)
    # USCC[0] is a member of the registry's Changshu cluster too: the membership criterion is marked
    assert any("member_of_two_clusters" in checks for checks in marked.values())
    statuses = {c.id: c.status for c in _walk(stored.criteria)}
    # the verdict the store keeps is not marked, and the marked copy keeps every status
    assert not any(c.doubtful for c in _walk(stored.criteria))
    page = county.get(f"/applications/{app_id}")
    assert 'data-check="rd_above_revenue"' in page.text
    assert page.text.count("依据的数据存疑") == len(marked)
    for cid in marked:
        assert f'data-criterion="{cid}"' in page.text
        row = page.text.split(f'data-criterion="{cid}"', 1)[1].split("</tr>", 1)[0]
        assert f"status-{statuses[cid]}" in row


def test_review_page_ranks_by_findings_and_keeps_to_the_region(app):
    """The province sees both applications, the doubtful one first; a county or city only its own."""
    a = apply(client_as(app, "county_a"), "常熟市测试集群", [USCC[0]])
    b = apply(client_as(app, "county_b"), "铜山区测试集群", [USCC[2]])
    province = client_as(app, "province").get("/api/quality").json()
    order = [x["id"] for x in province["applications"]]
    assert order == [a, b]
    first, second = province["applications"]
    assert first["high"] >= 1 and second["high"] == 0
    # USCC[2] is also a member of the registry's Tongshan cluster: b's one finding is that membership
    findings_b = client_as(app, "county_b").get(f"/api/applications/{b}/quality").json()["findings"]
    assert [f["check"] for f in findings_b] == ["member_of_two_clusters"] and second["findings"] == 1
    city_b = client_as(app, "city_b")
    seen = city_b.get("/api/quality").json()
    assert [x["id"] for x in seen["applications"]] == [b]
    assert all(c["county_code"].startswith("3203") for c in seen["counties"])
    assert city_b.get(f"/api/applications/{a}/quality").status_code == 404
    page = client_as(app, "province").get("/quality")
    assert page.status_code == 200
    assert page.text.index(f'data-application="{a}"') < page.text.index(f'data-application="{b}"')


def test_roles_outside_the_workflow_are_refused(app):
    """An enterprise account and an anonymous visitor cannot read the ranking."""
    assert client_as(app, "firm_a").get("/api/quality").status_code in (401, 403)
    anonymous = TestClient(app, base_url="https://testserver")
    assert anonymous.get("/api/quality", follow_redirects=False).status_code in (303, 401, 403)


def _walk(criteria):
    for c in criteria:
        yield c
        yield from c.children
