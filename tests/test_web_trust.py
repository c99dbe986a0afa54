"""Issue 8 items 3-6, 9-11: evidence names, hostile workbooks, body limits, control characters,
what overviews and anonymous visitors see, and the 409 form that keeps the comment."""

from __future__ import annotations

import io
import re
import threading
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from web_fakes import PDF, USCC, csrf_of, fake_evaluate, login, make_users, seed

from smecluster.db import open_database, session_scope
from smecluster.registry.models import Cluster
from smecluster.web.app import WebSettings, create_app
from smecluster.workflow.models import Application, Evidence


@pytest.fixture
def web(database_url, tmp_path):
    """An app over a seeded database with one account per role; small body limits for the 413 tests."""
    engine = open_database(database_url)
    ids = seed(engine)
    make_users(engine)
    settings = WebSettings(
        secure_cookies=True,
        evidence_dir=tmp_path / "evidence",
        today=lambda: date(2025, 3, 3),
        max_body_bytes=64 * 1024,
        max_upload_bytes=256 * 1024,
        upload_overhead_bytes=16 * 1024,
    )
    app = create_app(database_url, evaluate=fake_evaluate, settings=settings)
    return app, engine, ids


def client_as(app, username: str) -> TestClient:
    """A client logged in as `username`."""
    c = TestClient(app, base_url="https://testserver")
    assert login(c, username).status_code == 303
    return c


def new_application(c: TestClient, name: str = "常熟市测试集群") -> int:
    """A draft created by the client's county account; its id."""
    r = c.post(
        "/applications",
        data={"name": name, "leading_industries": "2614", "members": USCC[0], "csrf_token": csrf_of(c)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def act(c: TestClient, app_id: int, action: str, comment: str = "", version: int | None = None):
    """Post a workflow form (with the version on the page unless given)."""
    version = version or c.get(f"/api/applications/{app_id}").json()["version"]
    return c.post(
        f"/applications/{app_id}/actions/{action}",
        data={"version": str(version), "comment": comment, "csrf_token": csrf_of(c)},
        follow_redirects=False,
    )


def upload(c: TestClient, app_id: int, name: str, data: bytes):
    """Post an evidence file."""
    return c.post(
        f"/applications/{app_id}/evidence",
        data={"csrf_token": csrf_of(c)},
        files={"file": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )


# --- 3. evidence ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["申报证明.bat", "x.hta", "page.html", "logo.svg"])
def test_evidence_downloads_under_the_detected_type(web, name):
    """A PDF uploaded under a dangerous name is listed and downloaded as .pdf, with nosniff."""
    app, engine, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    assert upload(county, app_id, name, PDF).status_code == 303
    with session_scope(engine) as s:
        evidence = s.scalars(select(Evidence).where(Evidence.application_id == app_id)).one()
        evidence_id, shown = evidence.id, evidence.original_name
    stem = name.rsplit(".", 1)[0]
    assert shown == f"{stem}.pdf"
    r = county.get(f"/evidence/{evidence_id}")
    assert r.status_code == 200 and r.content == PDF
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment") and ".pdf" in disposition
    assert name.rsplit(".", 1)[1] not in disposition.replace(".pdf", "")
    assert r.headers["x-content-type-options"] == "nosniff"


def test_old_evidence_row_downloads_under_its_stored_type(web):
    """A file stored before the fix with its uploader's name still downloads under the detected type."""
    app, engine, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    assert upload(county, app_id, "a.pdf", PDF).status_code == 303
    with session_scope(engine) as s:
        s.execute(update(Evidence).values(original_name="申报证明.bat"))
    evidence_id = 1
    r = county.get(f"/evidence/{evidence_id}")
    assert "filename*=utf-8''%E7%94%B3%E6%8A%A5%E8%AF%81%E6%98%8E.pdf" in r.headers["content-disposition"]


def test_no_new_evidence_after_the_applicant_stage(web):
    """Once submitted, the application takes no more evidence files (nothing is stored), and a
    returned one takes them again."""
    app, engine, _ = web
    county, city = client_as(app, "county_a"), client_as(app, "city_a")
    app_id = new_application(county)
    assert upload(county, app_id, "before.pdf", PDF).status_code == 303
    assert act(county, app_id, "submit").status_code == 303
    for who in (county, city):
        r = upload(who, app_id, "late.pdf", PDF)
        assert r.status_code == 400 and 'id="evidence-file"' not in r.text
    evidence_dir = app.state.settings.evidence_dir
    assert len(list(evidence_dir.iterdir())) == 1
    assert act(city, app_id, "return", "请补充").status_code == 303
    assert upload(county, app_id, "again.pdf", PDF).status_code == 303
    with session_scope(engine) as s:
        assert len(s.scalars(select(Evidence)).all()) == 2


def test_nosniff_on_every_kind_of_response(web):
    """Pages, JSON, static files, errors and refusals all carry X-Content-Type-Options: nosniff."""
    app, _, _ = web
    c = TestClient(app, base_url="https://testserver")
    for r in (
        c.get("/"),
        c.get("/api/clusters"),
        c.get("/static/app.css"),
        c.get("/clusters/999"),
        c.post("/api/applications/1/actions/submit", content=b"x" * (70 * 1024)),
    ):
        assert r.headers.get("x-content-type-options") == "nosniff", (r.request.url, r.status_code)


# --- 4. hostile workbooks -------------------------------------------------------------------------


def hostile_xlsx() -> bytes:
    """A few KB workbook whose sheet declares (and reaches) A1:XFD2000: 32 million cells once padded."""
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = USCC[0]
    book.active["XFD2000"] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    assert b'ref="A1:XFD2000"' in _sheet_xml(data) and len(data) < 10_000
    return data


def _sheet_xml(data: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("xl/worksheets/sheet1.xml")


def test_hostile_member_workbook_is_refused_with_a_clear_error(web):
    """The declared dimension is ignored and the over-wide sheet is refused, naming the row."""
    app, engine, _ = web
    county = client_as(app, "county_a")
    r = county.post(
        "/applications",
        data={"name": "恶意集群", "leading_industries": "2614", "csrf_token": csrf_of(county)},
        files={"members_file": ("members.xlsx", hostile_xlsx())},
        follow_redirects=False,
    )
    assert r.status_code == 400
    assert "row 2000" in r.text and "64" in r.text
    with session_scope(engine) as s:
        assert s.scalar(select(Cluster).where(Cluster.name == "恶意集群")) is None


def test_other_requests_are_answered_while_a_workbook_is_parsed(web, monkeypatch):
    """The member file is parsed off the event loop: GET /login is answered while it is being parsed."""
    import smecluster.web.routes.applications as routes

    app, _, _ = web
    real = routes.member_codes
    parsing, login_done = threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def watched(data: bytes, *args):
        parsing.set()
        seen["login answered meanwhile"] = login_done.wait(timeout=20)  # never deadlocks: times out
        return real(data, *args)

    monkeypatch.setattr(routes, "member_codes", watched)
    with TestClient(app, base_url="https://testserver") as county:  # one event loop for both threads
        assert login(county, "county_a").status_code == 303
        token = csrf_of(county)
        result: dict[str, int] = {}

        def post() -> None:
            r = county.post(
                "/applications",
                data={"name": "恶意集群", "leading_industries": "2614", "csrf_token": token},
                files={"members_file": ("members.xlsx", hostile_xlsx())},
                follow_redirects=False,
            )
            result["status"] = r.status_code

        thread = threading.Thread(target=post)
        thread.start()
        assert parsing.wait(timeout=20)
        anonymous = county.get("/login", headers={"cookie": ""})
        login_done.set()
        thread.join(timeout=60)
    assert anonymous.status_code == 200
    assert seen["login answered meanwhile"] is True
    assert result["status"] == 400


# --- 5. request size --------------------------------------------------------------------------------


def test_oversized_json_is_refused_with_413_before_reading(web):
    """A JSON body over the limit is 413 for anybody (Content-Length known)."""
    app, _, _ = web
    c = TestClient(app, base_url="https://testserver")
    r = c.post(
        "/api/applications/1/actions/submit",
        content=b'{"version": 1, "comment": "' + b"a" * (100 * 1024) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413


def test_oversized_chunked_bodies_are_refused_with_413(web):
    """Without Content-Length the body is counted as it comes: JSON and multipart alike."""
    app, _, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)

    def chunks(total: int, first: bytes = b""):
        yield first
        for _ in range(total // 8192):
            yield b"a" * 8192

    r = county.post(
        "/api/applications/1/actions/submit",
        content=chunks(200 * 1024, b'{"version": 1, "comment": "'),
        headers={"content-type": "application/json", "x-csrf-token": csrf_of(county)},
    )
    assert r.status_code == 413
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf_of(county)}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    ).encode()
    r = county.post(
        f"/applications/{app_id}/evidence",
        content=chunks(1024 * 1024, head),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413
    assert not app.state.settings.evidence_dir.exists() or not any(app.state.settings.evidence_dir.iterdir())


def test_uploads_have_their_own_larger_limit(web):
    """An evidence file above the plain body limit but within the upload limit is taken; above it, 413."""
    app, _, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    assert upload(county, app_id, "big.pdf", PDF + b"0" * (128 * 1024)).status_code == 303
    assert upload(county, app_id, "huge.pdf", PDF + b"0" * (400 * 1024)).status_code == 413


def test_nul_split_across_chunks_is_found(web):
    """The NUL check looks across chunk edges (it no longer joins the chunks into one string)."""
    app, _, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)

    def chunks():
        yield b'{"version": 1, "comment": "ab\\u00'
        yield b'00cd"}'

    r = county.post(
        f"/api/applications/{app_id}/actions/submit",
        content=chunks(),
        headers={"content-type": "application/json", "x-csrf-token": csrf_of(county)},
    )
    assert r.status_code == 400
    assert county.get(f"/api/applications/{app_id}").json()["stage"] == "draft"


# --- 6. control characters -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["bad\x00name", "esc\x1bname", "bell\x07"])
def test_control_characters_in_multipart_forms_are_refused(web, bad):
    """The app's own (multipart) forms: a NUL, ESC or BEL in a name is 400 and nothing is stored."""
    app, engine, _ = web
    county = client_as(app, "county_a")
    r = county.post(
        "/applications",
        data={"name": bad, "leading_industries": "2614", "members": USCC[0], "csrf_token": csrf_of(county)},
        files={"members_file": ("", b"")},
        follow_redirects=False,
    )
    assert r.status_code == 400
    with session_scope(engine) as s:
        assert s.scalars(select(Cluster.name)).all() == ["常熟市电子氟材料产业集群", "徐州市铜山区安全应急产业集群"]


def test_control_characters_in_comments_are_refused_everywhere(web):
    """A workflow comment with ESC is refused through the form and through the JSON API."""
    app, _, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    assert act(county, app_id, "submit", "看\x1b[31m这里").status_code == 400
    r = county.post(
        f"/api/applications/{app_id}/actions/submit",
        json={"version": 1, "comment": "x\u001by"},
        headers={"X-CSRF-Token": csrf_of(county)},
    )
    assert r.status_code == 422
    assert county.get(f"/api/applications/{app_id}").json()["stage"] == "draft"
    assert county.get("/applications?x=%1b").status_code == 400


def test_newlines_and_tabs_stay_allowed(web):
    """Multi-line comments are normal text."""
    app, _, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    assert act(county, app_id, "submit", "第一行\r\n第二行\t完").status_code == 303


# --- 9 and 10. who sees which cluster ---------------------------------------------------------------


def test_overviews_do_not_list_a_county_draft_to_city_or_province(web):
    """The county's draft is in its own overview, not in the city's or the province's (page and API)."""
    app, _, _ = web
    county = client_as(app, "county_a")
    new_application(county, "草稿中的集群")
    assert "草稿中的集群" in county.get("/api/overview").text
    assert "草稿中的集群" in county.get("/overview").text
    for name in ("city_a", "province"):
        c = client_as(app, name)
        assert "草稿中的集群" not in c.get("/api/overview").text
        assert "草稿中的集群" not in c.get("/overview").text
        assert "草稿中的集群" not in c.get("/overview?region=320581").text
    county_data = county.get("/api/overview").json()
    city_data = client_as(app, "city_a").get("/api/overview?region=320581").json()
    assert county_data["kpis"]["clusters"] == city_data["kpis"]["clusters"] + 1


def test_unreviewed_registry_cluster_is_not_public(web):
    """A registry cluster in stage `submitted` is hidden from anonymous visitors (page, API, list),
    shown to accounts in scope; public stages are shown to everybody."""
    app, engine, ids = web
    with session_scope(engine) as s:
        s.execute(update(Cluster).where(Cluster.id == ids["tongshan"]).values(status="submitted"))
    anon = TestClient(app, base_url="https://testserver")
    tongshan = ids["tongshan"]
    assert anon.get(f"/clusters/{tongshan}").status_code == 404
    assert anon.get(f"/api/clusters/{tongshan}").status_code == 404
    assert all(v["cluster"]["id"] != tongshan for v in anon.get("/api/clusters").json())
    assert USCC[2] not in anon.get("/").text + anon.get("/api/clusters").text
    assert anon.get(f"/clusters/{ids['changshu']}").status_code == 200  # recognised: public
    assert client_as(app, "city_b").get(f"/api/clusters/{tongshan}").status_code == 200
    assert client_as(app, "city_a").get(f"/api/clusters/{tongshan}").status_code == 404
    for stage in ("public_notice", "revoked"):
        with session_scope(engine) as s:
            s.execute(update(Cluster).where(Cluster.id == tongshan).values(status=stage))
        assert anon.get(f"/api/clusters/{tongshan}").status_code == 200


def test_application_stage_decides_not_the_cluster_status(web):
    """An application's stage rules even if its cluster row says otherwise."""
    app, engine, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county, "申报中的集群")
    with session_scope(engine) as s:
        cluster_id = s.get(Application, app_id).cluster_id
        s.execute(update(Cluster).where(Cluster.id == cluster_id).values(status="recognised"))
    anon = TestClient(app, base_url="https://testserver")
    assert anon.get(f"/api/clusters/{cluster_id}").status_code == 404


# --- 11. the 409 form -------------------------------------------------------------------------------


def test_conflict_shows_the_form_again_with_the_comment(web):
    """Two city reviewers return the same version: the loser gets 409 and a form holding its comment,
    though `return` is no longer possible in the new stage."""
    app, _, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    assert act(county, app_id, "submit").status_code == 303
    first, second = client_as(app, "city_a"), client_as(app, "city_a")
    version = first.get(f"/api/applications/{app_id}").json()["version"]
    assert act(first, app_id, "return", "材料不全", version).status_code == 303
    late = act(second, app_id, "return", "请补充第三季度报表QXZ", version)
    assert late.status_code == 409
    form = re.search(r'<form[^>]*actions/return".*?</form>', late.text, re.S)
    assert form is not None
    assert "请补充第三季度报表QXZ" in form.group(0)
    assert f'name="version" value="{version + 1}"' in form.group(0)


def test_nosniff_on_an_unhandled_error(web):
    """Even a 500 from an unexpected exception carries the security headers."""
    app, _, _ = web

    def boom():
        raise RuntimeError("unexpected")

    app.add_api_route("/boom-for-test", boom)
    r = TestClient(app, base_url="https://testserver", raise_server_exceptions=False).get("/boom-for-test")
    assert r.status_code == 500
    assert r.headers.get("x-content-type-options") == "nosniff" and r.headers.get("x-frame-options") == "DENY"
