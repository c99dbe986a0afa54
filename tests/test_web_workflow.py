"""The application workflow through the web: create, submit, recommend, review, notice, recognise."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from web_fakes import PDF, USCC, csrf_of, fake_evaluate, login, make_users, seed

from smecluster.db import open_database
from smecluster.web.app import WebSettings, create_app


class Clock:
    """A settable today() for the notice period."""

    def __init__(self) -> None:
        self.day = date(2025, 3, 3)

    def __call__(self) -> date:
        return self.day


@pytest.fixture
def web(database_url, tmp_path):
    """An app over a seeded database with one account per role, and its clock."""
    engine = open_database(database_url)
    seed(engine)
    make_users(engine)
    clock = Clock()
    settings = WebSettings(secure_cookies=True, evidence_dir=tmp_path / "evidence", today=clock)
    app = create_app(database_url, evaluate=fake_evaluate, settings=settings)
    return app, clock


def client_as(app, username: str) -> TestClient:
    """A client logged in as `username`."""
    c = TestClient(app, base_url="https://testserver")
    assert login(c, username).status_code == 303
    return c


def new_application(c: TestClient) -> int:
    """Create a draft as county_a; return its id."""
    r = c.post(
        "/applications",
        data={
            "name": "常熟市测试集群",
            "leading_industries": "2614",
            "members": f"{USCC[0]}\n{USCC[1]}",
            "csrf_token": csrf_of(c),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def do(c: TestClient, app_id: int, action: str, comment: str = "", files=None):
    """Post a workflow action with the version shown on the page."""
    version = c.get(f"/api/applications/{app_id}").json()["version"]
    return c.post(
        f"/applications/{app_id}/actions/{action}",
        data={"version": str(version), "comment": comment, "csrf_token": csrf_of(c)},
        files=files,
        follow_redirects=False,
    )


def stage(c: TestClient, app_id: int) -> str:
    """The application's stage as the API reports it."""
    return c.get(f"/api/applications/{app_id}").json()["stage"]


def test_whole_flow_ends_recognised(web):
    """County submits with a file, city recommends, province reviews, expert scores, notice, recognition."""
    app, clock = web
    county, city, prov, expert = (client_as(app, u) for u in ("county_a", "city_a", "province", "expert"))
    app_id = new_application(county)
    assert (
        do(county, app_id, "submit", files={"attachment": ("材料.pdf", PDF, "application/pdf")}).status_code
        == 303
    )
    assert do(city, app_id, "recommend", "符合条件").status_code == 303
    assert do(prov, app_id, "start_review").status_code == 303
    r = prov.post(
        f"/applications/{app_id}/experts",
        data={"expert": "expert", "csrf_token": csrf_of(prov)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = expert.post(
        f"/applications/{app_id}/score",
        data={"score": "86", "csrf_token": csrf_of(expert)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert do(prov, app_id, "publish_notice").status_code == 303
    clock.day += timedelta(days=10)
    assert do(prov, app_id, "recognise").status_code == 303
    assert stage(prov, app_id) == "recognised"
    page = county.get(f"/applications/{app_id}").text
    assert "材料.pdf" in page and "符合条件" in page


def test_recognise_refused_during_notice(web):
    """Recognition before the 5 working days of public notice end is refused with the end date."""
    app, clock = web
    county, city, prov, expert = (client_as(app, u) for u in ("county_a", "city_a", "province", "expert"))
    app_id = new_application(county)
    do(county, app_id, "submit")
    do(city, app_id, "recommend")
    do(prov, app_id, "start_review")
    prov.post(f"/applications/{app_id}/experts", data={"expert": "expert", "csrf_token": csrf_of(prov)})
    expert.post(f"/applications/{app_id}/score", data={"score": "70", "csrf_token": csrf_of(expert)})
    do(prov, app_id, "publish_notice")
    r = do(prov, app_id, "recognise")
    assert r.status_code == 400 and "2025-03-10" in r.text
    assert stage(prov, app_id) == "public_notice"


def test_second_county_cannot_see_application(web):
    """Another county's bureau gets 404 for the application and does not see it in lists."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    other = client_as(app, "county_b")
    assert other.get(f"/applications/{app_id}").status_code == 404
    assert other.get(f"/api/applications/{app_id}").status_code == 404
    assert "常熟市测试集群" not in other.get("/").text
    assert "常熟市测试集群" not in other.get("/applications").text


def test_concurrent_action_gets_conflict_and_keeps_comment(web):
    """Two city reviewers acting on one version: the second gets 409 naming the change, comment kept."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    do(county, app_id, "submit")
    first, second = client_as(app, "city_a"), client_as(app, "city_a")
    version = first.get(f"/api/applications/{app_id}").json()["version"]
    ok = first.post(
        f"/applications/{app_id}/actions/recommend",
        data={"version": version, "comment": "", "csrf_token": csrf_of(first)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    late = second.post(
        f"/applications/{app_id}/actions/return",
        data={"version": version, "comment": "请补充材料XYZ", "csrf_token": csrf_of(second)},
    )
    assert late.status_code == 409
    assert "city_a 于" in late.text and "推荐" in late.text and "请补充材料XYZ" in late.text
    assert stage(first, app_id) == "recommended"


def test_api_conflict_is_409_with_current_version(web):
    """The JSON API answers a stale version with 409 and the current version."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    token = csrf_of(county)
    r1 = county.post(
        f"/api/applications/{app_id}/actions/submit", json={"version": 1}, headers={"X-CSRF-Token": token}
    )
    assert r1.status_code == 200 and r1.json()["version"] == 2
    r2 = county.post(
        f"/api/applications/{app_id}/actions/submit", json={"version": 1}, headers={"X-CSRF-Token": token}
    )
    assert r2.status_code == 409 and r2.json()["detail"]["version"] == 2


def test_form_without_csrf_token_is_refused(web):
    """A state-changing form without the CSRF token is refused and changes nothing."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    r = county.post(f"/applications/{app_id}/actions/submit", data={"version": "1"})
    assert r.status_code == 403
    assert stage(county, app_id) == "draft"


def test_evidence_type_checked_by_content(web):
    """A file named .pdf that is not a PDF is refused; nothing is stored."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    r = county.post(
        f"/applications/{app_id}/evidence",
        data={"csrf_token": csrf_of(county)},
        files={"file": ("report.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    assert r.status_code == 400 and "按文件内容检查" in r.text
    assert not (app.state.settings.evidence_dir.exists() and any(app.state.settings.evidence_dir.iterdir()))


def test_evidence_stored_under_generated_name(web):
    """An uploaded file is stored under a random name, never the user's, and downloads intact."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    r = county.post(
        f"/applications/{app_id}/evidence",
        data={"csrf_token": csrf_of(county)},
        files={"file": ("../../etc/passwd.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    stored = list(app.state.settings.evidence_dir.iterdir())
    assert len(stored) == 1 and "passwd" not in stored[0].name and stored[0].suffix == ".pdf"
    download = county.get("/evidence/1")
    assert download.content == PDF


def test_lockout_after_five_failures(web):
    """Five wrong passwords lock the account: the right password is then refused too."""
    app, _ = web
    c = TestClient(app, base_url="https://testserver")
    for _ in range(5):
        assert login(c, "county_a", "wrong-Password-1").status_code == 401
    r = login(c, "county_a")
    assert r.status_code == 401
    assert "locked" in r.text.lower() or "锁定" in r.text


def test_session_cookie_flags(web):
    """The session cookie is HttpOnly, Secure and SameSite=Lax."""
    app, _ = web
    r = login(TestClient(app, base_url="https://testserver"), "county_a")
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("sid=")][0].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie


def test_members_from_excel_upload(web, tmp_path):
    """Member credit codes are read from any column of an uploaded .xlsx file."""
    from openpyxl import Workbook

    app, _ = web
    county = client_as(app, "county_a")
    book = Workbook()
    book.active.append(["序号", "企业名称", "统一社会信用代码"])
    book.active.append([1, "测试企业0", USCC[0]])
    book.active.append([2, "测试企业1", USCC[1].lower()])
    book.save(tmp_path / "members.xlsx")
    r = county.post(
        "/applications",
        data={"name": "Excel集群", "leading_industries": "2614", "csrf_token": csrf_of(county)},
        files={"members_file": ("成员.xlsx", (tmp_path / "members.xlsx").read_bytes())},
        follow_redirects=False,
    )
    assert r.status_code == 303
    app_id = int(r.headers["location"].rsplit("/", 1)[1])
    cluster_id = county.get(f"/api/applications/{app_id}").json()["cluster_id"]
    page = county.get(f"/clusters/{cluster_id}").text
    assert USCC[0] in page and USCC[1] in page


def test_yearly_report_and_re_review_cycle(web):
    """After recognition: a yearly report stays recognised; re-review opens only near expiry; keep renews."""
    app, clock = web
    county, city, prov, expert = (client_as(app, u) for u in ("county_a", "city_a", "province", "expert"))
    app_id = new_application(county)
    do(county, app_id, "submit")
    do(city, app_id, "recommend")
    do(prov, app_id, "start_review")
    prov.post(f"/applications/{app_id}/experts", data={"expert": "expert", "csrf_token": csrf_of(prov)})
    expert.post(f"/applications/{app_id}/score", data={"score": "90", "csrf_token": csrf_of(expert)})
    do(prov, app_id, "publish_notice")
    clock.day += timedelta(days=10)
    do(prov, app_id, "recognise")
    first_expiry = county.get(f"/api/applications/{app_id}").json()["valid_until"]
    assert do(county, app_id, "yearly_report", "2025年度报告").status_code == 303
    assert stage(county, app_id) == "recognised"
    early = do(prov, app_id, "start_re_review")
    assert early.status_code == 400 and "复核自有效期届满" in early.text
    clock.day = date.fromisoformat(first_expiry) - timedelta(days=30)
    assert do(prov, app_id, "start_re_review").status_code == 303
    assert do(prov, app_id, "keep", "三年目标完成").status_code == 303
    renewed = county.get(f"/api/applications/{app_id}").json()
    assert renewed["stage"] == "recognised" and renewed["valid_until"] > first_expiry
