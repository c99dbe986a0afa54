"""Access matrix: every route of the app, every role, an object in the account's own region and another's.

The matrix below is written by hand, independent of the code; a route added to the app without a
row here makes `test_every_route_is_in_the_matrix` fail.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from web_fakes import PASSWORD, PDF, USCC, USERS, csrf_of, fake_evaluate, login, make_users, seed

from smecluster.accounts.models import Account
from smecluster.accounts.users import add_user
from smecluster.db import open_database, session_scope
from smecluster.web.app import WebSettings, create_app
from smecluster.web.routing_table import route_table
from smecluster.workflow.applications import act, create_application
from smecluster.workflow.evidence import store_evidence
from smecluster.workflow.reviews import assign_expert

ANON = "anonymous"
EVERYONE = {ANON, *USERS}
LOGGED_IN = set(USERS)
BUSINESS = {"province", "city_a", "county_a", "city_b", "county_b", "expert"}
SEES_A = {
    "province",
    "city_a",
    "county_a",
    "expert",
}  # application A (Changshu), under review, expert assigned
SEES_B = {"province", "city_b", "county_b"}  # application B (Tongshan), submitted
OVERVIEW = {"province", "city_a", "county_a", "city_b", "county_b"}
COUNTIES = {"county_a", "county_b"}

# (method, path) -> list of (url template, form or json body, who is let through)
MATRIX: dict[tuple[str, str], list[tuple[str, dict | None, set[str]]]] = {
    ("GET", "/"): [("/", None, EVERYONE)],
    ("GET", "/clusters/{cluster_id}"): [
        ("/clusters/{registry_cluster}", None, EVERYONE),
        ("/clusters/{cluster_a}", None, SEES_A),
        ("/clusters/{cluster_b}", None, SEES_B),
    ],
    ("GET", "/lang/{code}"): [("/lang/en", None, EVERYONE)],
    ("GET", "/login"): [("/login", None, EVERYONE)],
    ("POST", "/login"): [("/login", {"username": "loginuser", "password": PASSWORD}, EVERYONE)],
    ("POST", "/logout"): [("/logout", {}, LOGGED_IN)],
    ("GET", "/account/password"): [("/account/password", None, LOGGED_IN)],
    ("POST", "/account/password"): [("/account/password", {"current": "x", "new": "y"}, LOGGED_IN)],
    ("GET", "/openapi.json"): [("/openapi.json", None, EVERYONE)],
    ("GET", "/static/{path}"): [("/static/app.css", None, EVERYONE)],
    ("GET", "/geo/counties.geojson"): [("/geo/counties.geojson?prefix=3205", None, EVERYONE)],
    ("GET", "/admin/users"): [("/admin/users", None, {"sysadmin"})],
    ("POST", "/admin/users"): [("/admin/users", {"username": ""}, {"sysadmin"})],
    ("GET", "/admin/roles"): [("/admin/roles", None, {"secadmin"})],
    ("POST", "/admin/roles"): [("/admin/roles", {"username": "", "role": "expert"}, {"secadmin"})],
    ("GET", "/account/token"): [("/account/token", None, EVERYONE)],
    ("POST", "/account/token"): [("/account/token", {"token": "x", "new": "y"}, EVERYONE)],
    ("POST", "/admin/users/{account_id}/disable"): [("/admin/users/{victim}/disable", {}, {"sysadmin"})],
    ("POST", "/admin/users/{account_id}/reset"): [("/admin/users/{victim}/reset", {}, {"sysadmin"})],
    ("GET", "/admin/security"): [("/admin/security", None, {"secadmin"})],
    ("POST", "/admin/security"): [
        ("/admin/security", {"key": "lockout_threshold", "value": "5"}, {"secadmin"})
    ],
    ("GET", "/admin/audit"): [("/admin/audit", None, {"auditor"})],
    ("GET", "/enterprise"): [("/enterprise", None, {"firm_a"})],
    ("POST", "/enterprise/figures"): [("/enterprise/figures", {"year": "2025", "employees": "-1"}, {"firm_a"})],
    ("GET", "/overview"): [
        ("/overview", None, OVERVIEW),
        ("/overview?region=320300", None, {"province", "city_b"}),
    ],
    ("GET", "/api/overview"): [
        ("/api/overview", None, OVERVIEW),
        ("/api/overview?region=320581", None, {"province", "city_a", "county_a"}),
    ],
    ("GET", "/targets"): [
        ("/targets", None, OVERVIEW),
        ("/targets?region=320300", None, {"province", "city_b"}),
    ],
    ("GET", "/api/targets"): [
        ("/api/targets", None, OVERVIEW),
        ("/api/targets?region=320300", None, {"province", "city_b"}),
    ],
    ("GET", "/whatif"): [
        ("/whatif", None, OVERVIEW),
        ("/whatif?pack=jiangsu-cluster-2023", None, OVERVIEW),
        ("/whatif?region=320581", None, {"province", "city_a", "county_a"}),
    ],
    ("POST", "/whatif/scenarios"): [
        ("/whatif/scenarios", {"name": "m", "pack": "jiangsu-cluster-2023", "changes": "J7.threshold=0.25"},
         {"province"}),
    ],
    ("GET", "/api/whatif/simulate"): [
        ("/api/whatif/simulate?pack=jiangsu-cluster-2023&set=J7.threshold=0.25", None, OVERVIEW),
        ("/api/whatif/simulate?pack=jiangsu-cluster-2023&set=J7.threshold=0.25&region=320312", None,
         {"province", "city_b", "county_b"}),
    ],
    ("GET", "/api/whatif/scenarios"): [("/api/whatif/scenarios", None, OVERVIEW)],
    ("POST", "/api/whatif/scenarios"): [
        ("/api/whatif/scenarios", {"json": {"name": "api", "pack": "jiangsu-cluster-2023",
                                            "changes": ["J7.threshold=0.2"]}}, {"province"}),
    ],
    ("GET", "/discover"): [("/discover", None, OVERVIEW), ("/discover?industry=26", None, OVERVIEW)],
    ("GET", "/api/discover"): [("/api/discover", None, OVERVIEW), ("/api/discover?industry=26", None, OVERVIEW)],
    ("GET", "/chains"): [
        ("/chains", None, OVERVIEW),
        ("/chains?level=county&code=320581", None, {"province", "city_a", "county_a"}),
        ("/chains?chain=electronic-fluorine&level=cluster&code={registry_cluster}", None,
         {"province", "city_a", "county_a"}),
    ],
    ("GET", "/api/chains"): [("/api/chains", None, OVERVIEW)],
    ("GET", "/api/chains/coverage"): [
        ("/api/chains/coverage?level=city&code=320300", None, {"province", "city_b"}),
        ("/api/chains/coverage?level=cluster&code={registry_cluster}", None, {"province", "city_a", "county_a"}),
    ],
    ("GET", "/api/chains/partners"): [
        ("/api/chains/partners?cluster={registry_cluster}", None, {"province", "city_a", "county_a"}),
    ],
    ("GET", "/api/counties/{county}/related"): [
        ("/api/counties/320312/related", None, {"province", "city_b", "county_b"}),
    ],
    ("GET", "/api/enterprises/{uscc}/diagnosis"): [
        (f"/api/enterprises/{USCC[0]}/diagnosis", None, {"province", "city_a", "county_a", "firm_a"}),
        (f"/api/enterprises/{USCC[2]}/diagnosis", None, {"province", "city_b", "county_b"}),
        ("/api/enterprises/91320581MA1NOBODYX/diagnosis", None, set()),
    ],
    ("GET", "/enterprises/{uscc}/diagnosis"): [
        (f"/enterprises/{USCC[0]}/diagnosis", None, {"province", "city_a", "county_a", "firm_a"}),
        (f"/enterprises/{USCC[2]}/diagnosis", None, {"province", "city_b", "county_b"}),
        ("/enterprises/91320581MA1NOBODYX/diagnosis", None, set()),
    ],
    ("GET", "/applications"): [("/applications", None, BUSINESS)],
    ("GET", "/api/applications"): [("/api/applications", None, BUSINESS)],
    ("GET", "/applications/new"): [("/applications/new", None, COUNTIES)],
    ("POST", "/applications"): [("/applications", {"name": "", "leading_industries": "x"}, COUNTIES)],
    # a registry cluster's own county only (refused with 400 here: each has an application going on)
    ("POST", "/clusters/{cluster_id}/apply"): [
        ("/clusters/{cluster_a}/apply", {}, {"county_a"}),
        ("/clusters/{cluster_b}/apply", {}, {"county_b"}),
    ],
    ("GET", "/applications/{application_id}"): [
        ("/applications/{app_a}", None, SEES_A),
        ("/applications/{app_b}", None, SEES_B),
    ],
    ("GET", "/api/applications/{application_id}"): [
        ("/api/applications/{app_a}", None, SEES_A),
        ("/api/applications/{app_b}", None, SEES_B),
    ],
    ("GET", "/quality"): [("/quality", None, OVERVIEW)],
    ("GET", "/api/quality"): [("/api/quality", None, OVERVIEW)],
    ("GET", "/api/applications/{application_id}/quality"): [
        ("/api/applications/{app_a}/quality", None, SEES_A),
        ("/api/applications/{app_b}/quality", None, SEES_B),
    ],
    ("POST", "/applications/{application_id}/actions/{action}"): [
        ("/applications/{app_a}/actions/publish_notice", {"version": "999"}, {"province"}),
        ("/applications/{app_b}/actions/recommend", {"version": "999"}, {"city_b"}),
    ],
    ("POST", "/api/applications/{application_id}/actions/{action}"): [
        ("/api/applications/{app_a}/actions/publish_notice", {"json": {"version": 999}}, {"province"}),
        ("/api/applications/{app_b}/actions/recommend", {"json": {"version": 999}}, {"city_b"}),
    ],
    ("POST", "/applications/{application_id}/evidence"): [
        ("/applications/{app_a}/evidence", {"file": True}, {"province", "city_a", "county_a"}),
        ("/applications/{app_b}/evidence", {"file": True}, {"province", "city_b", "county_b"}),
    ],
    ("GET", "/evidence/{evidence_id}"): [
        ("/evidence/{evidence_a}", None, SEES_A),
        ("/evidence/{evidence_b}", None, SEES_B),
    ],
    ("POST", "/applications/{application_id}/experts"): [
        ("/applications/{app_a}/experts", {"expert": "expert"}, {"province"}),
        ("/applications/{app_b}/experts", {"expert": "expert"}, {"province"}),
    ],
    ("POST", "/applications/{application_id}/score"): [
        ("/applications/{app_a}/score", {"score": "200"}, {"expert"}),
        ("/applications/{app_b}/score", {"score": "50"}, set()),
    ],
    ("GET", "/watch"): [
        ("/watch", None, OVERVIEW),
        ("/watch?region=320581", None, {"province", "city_a", "county_a"}),
    ],
    ("GET", "/api/watch"): [
        ("/api/watch", None, OVERVIEW),
        ("/api/watch?region=320312", None, {"province", "city_b", "county_b"}),
    ],
    # trends and dossiers: bureaus whose region holds the cluster (and who may see it)
    ("GET", "/api/clusters/{cluster_id}/trends"): [
        ("/api/clusters/{registry_cluster}/trends", None, {"province", "city_a", "county_a"}),
        ("/api/clusters/{cluster_b}/trends", None, {"province", "city_b", "county_b"}),
    ],
    ("GET", "/clusters/{cluster_id}/dossier.{fmt}"): [
        ("/clusters/{registry_cluster}/dossier.xlsx", None, {"province", "city_a", "county_a"}),
        ("/clusters/{cluster_a}/dossier.docx", None, {"province", "city_a", "county_a"}),
    ],
    ("GET", "/priority"): [("/priority", None, OVERVIEW)],
    ("GET", "/api/priority"): [("/api/priority", None, OVERVIEW)],
    ("GET", "/recommendation"): [("/recommendation", None, {"province"})],
    ("GET", "/api/recommendation"): [("/api/recommendation", None, {"province"})],
    ("POST", "/recommendation/confirm"): [
        ("/recommendation/confirm", {"year": "2026", "clusters": "999"}, {"province"})
    ],
    ("POST", "/api/recommendation/confirm"): [
        ("/api/recommendation/confirm", {"json": {"year": 2026, "clusters": [999]}}, {"province"})
    ],
    # the national view: the ministry sees every province, a provincial department only its own
    ("GET", "/national"): [("/national", None, {"province", "ministry"})],
    ("GET", "/api/national"): [("/api/national", None, {"province", "ministry"})],
    ("GET", "/national/provinces/{province}"): [
        ("/national/provinces/32", None, {"province", "ministry"}),
        ("/national/provinces/33", None, {"ministry"}),
    ],
    ("GET", "/api/national/provinces/{province}"): [
        ("/api/national/provinces/32", None, {"province", "ministry"}),
        ("/api/national/provinces/33", None, {"ministry"}),
    ],
    ("GET", "/geo/provinces.geojson"): [("/geo/provinces.geojson", None, EVERYONE)],
    ("GET", "/api/clusters"): [("/api/clusters", None, EVERYONE)],
    ("GET", "/api/clusters/{cluster_id}"): [
        ("/api/clusters/{registry_cluster}", None, EVERYONE),
        ("/api/clusters/{cluster_a}", None, SEES_A),
        ("/api/clusters/{cluster_b}", None, SEES_B),
    ],
    ("GET", "/api/clusters/{cluster_id}/map"): [
        ("/api/clusters/{registry_cluster}/map", None, EVERYONE),
        ("/api/clusters/{cluster_a}/map", None, SEES_A),
        ("/api/clusters/{cluster_b}/map", None, SEES_B),
    ],
}


class Who:
    """Just enough of an account for the workflow services."""

    def __init__(self, account: Account) -> None:
        self.id, self.username, self.role = account.id, account.username, account.role
        self.region_code, self.uscc = account.region_code, account.uscc


def _setup(engine, tmp_path) -> dict[str, int]:
    from datetime import date

    from sqlalchemy import select

    ids = seed(engine)
    make_users(engine)
    with session_scope(engine) as s:
        add_user(s, "victim", PASSWORD, "expert", region_code="320000")
        add_user(s, "loginuser", PASSWORD, "expert", region_code="320000")
        acc = {a.username: Who(a) for a in s.scalars(select(Account))}
        today = date(2025, 3, 3)
        a = create_application(
            s, acc["county_a"], name="A集群", leading_industries=["2614"], members=[USCC[0]], year=2025
        )
        # evidence goes with the application while it is still the applicant's (draft)
        ea = store_evidence(s, acc["county_a"], a.id, "a.pdf", PDF, directory=tmp_path, max_bytes=10**6)
        act(s, acc["county_a"], a.id, "submit", 1, today=today)
        act(s, acc["city_a"], a.id, "recommend", 2, today=today)
        act(s, acc["province"], a.id, "start_review", 3, today=today)
        assign_expert(s, acc["province"], a.id, "expert")
        b = create_application(
            s, acc["county_b"], name="B集群", leading_industries=["2614"], members=[USCC[2]], year=2025
        )
        eb = store_evidence(s, acc["county_b"], b.id, "b.pdf", PDF, directory=tmp_path, max_bytes=10**6)
        act(s, acc["county_b"], b.id, "submit", 1, today=today)
        return {
            "registry_cluster": ids["changshu"],
            "cluster_a": a.cluster_id,
            "cluster_b": b.cluster_id,
            "app_a": a.id,
            "app_b": b.id,
            "evidence_a": ea.id,
            "evidence_b": eb.id,
            "victim": acc["victim"].id,
        }


def _let_through(response) -> bool:
    if response.status_code in (401, 403, 404):
        return False
    return not (
        response.status_code in (302, 303) and response.headers.get("location", "").startswith("/login")
    )


def test_every_route_is_in_the_matrix(tmp_path):
    """No route of the app is missing from the matrix (and the matrix names no route that is gone)."""
    app = create_app(f"sqlite:///{tmp_path / 'r.db'}", evaluate=fake_evaluate)
    assert set(route_table(app)) == set(MATRIX)


def test_access_matrix(database_url, tmp_path):
    """Each account reaches exactly the routes and objects its role and region allow; no server errors."""
    engine = open_database(database_url)
    ids = _setup(engine, tmp_path / "evidence")
    settings = WebSettings(evidence_dir=tmp_path / "evidence")
    app = create_app(database_url, evaluate=fake_evaluate, settings=settings)
    wrong = []
    sessions = {}
    for who in USERS:
        c = TestClient(app, base_url="https://testserver", follow_redirects=False)
        assert login(c, who).status_code == 303
        sessions[who] = c.cookies.get("sid")
    for who in sorted(EVERYONE):
        for (method, path), cases in MATRIX.items():
            for url, body, allowed in cases:
                client = TestClient(app, base_url="https://testserver", follow_redirects=False)
                if who != ANON and path == "/logout":
                    assert login(client, who).status_code == 303  # its own session: logout ends it
                elif who != ANON:
                    client.cookies.set("sid", sessions[who], domain="testserver.local")
                target = url.format(**ids)
                if method == "GET":
                    r = client.get(target)
                else:
                    body = dict(body or {})
                    token = csrf_of(client)
                    if "json" in body:
                        r = client.post(target, json=body["json"], headers={"X-CSRF-Token": token})
                    elif body.pop("file", False):
                        r = client.post(target, data={"csrf_token": token}, files={"file": ("x.pdf", PDF)})
                    else:
                        r = client.post(target, data={**body, "csrf_token": token})
                if r.status_code >= 500 or _let_through(r) != (who in allowed):
                    wrong.append(f"{who} {method} {target} -> {r.status_code}")
    assert not wrong, "\n".join(wrong)
