"""Security guards through HTTP: CSRF token values, security headers, lockout at exactly the threshold and
its expiry, session idle and absolute expiry, logout, and the security settings' ranges and effect."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from test_web_workflow import client_as, new_application, stage, web  # noqa: F401 (web: a fixture)
from web_fakes import PASSWORD, csrf_of, login

from smecluster.accounts.models import Account, LoginSession
from smecluster.db import session_scope
from smecluster.workflow.audit import utcnow

WRONG = "wrong-Password-1"


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: these guards are HTTP and Python rules that the database engine does not change, and CI
    time is short; the same code paths run on PostgreSQL in test_web_workflow, test_web_accounts and
    test_web_audit."""
    return f"sqlite:///{tmp_path / 'test.db'}"


def _client(app) -> TestClient:
    return TestClient(app, base_url="https://testserver")


def _logged_in(c: TestClient) -> bool:
    """Whether the client's session is live: the account page answers 200, else it sends to /login."""
    r = c.get("/account/password", follow_redirects=False)
    if r.status_code == 200:
        return True
    assert r.status_code == 303 and r.headers["location"].startswith("/login"), r.status_code
    return False


def _sessions(app, username: str, **values) -> None:
    """Move the stored sessions of an account in time (the clock stands still in a test)."""
    with session_scope(app.state.engine) as s:
        uid = s.scalar(select(Account.id).where(Account.username == username))
        s.execute(update(LoginSession).where(LoginSession.account_id == uid).values(**values))


# CSRF


def test_wrong_csrf_token_on_a_form_is_refused(web):  # noqa: F811
    """A form carrying a token of the right shape that is not the session's is refused; nothing changes."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    version = county.get(f"/api/applications/{app_id}").json()["version"]
    good = csrf_of(county)
    forged = good[:-1] + ("A" if good[-1] != "A" else "B")
    r = county.post(f"/applications/{app_id}/actions/submit",
                    data={"version": str(version), "comment": "", "csrf_token": forged}, follow_redirects=False)
    assert r.status_code == 403
    assert stage(county, app_id) == "draft"


def test_another_sessions_csrf_token_is_refused(web):  # noqa: F811
    """The token of another live session of the same account does not pass for this one."""
    app, _ = web
    first, second = client_as(app, "county_a"), client_as(app, "county_a")
    app_id = new_application(first)
    version = first.get(f"/api/applications/{app_id}").json()["version"]
    other_token = csrf_of(second)
    assert other_token != csrf_of(first)
    r = first.post(f"/applications/{app_id}/actions/submit",
                   data={"version": str(version), "comment": "", "csrf_token": other_token}, follow_redirects=False)
    assert r.status_code == 403 and stage(first, app_id) == "draft"


def test_wrong_csrf_header_on_the_api_is_refused(web):  # noqa: F811
    """The JSON API refuses a wrong X-CSRF-Token and accepts the right one."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    url = f"/api/applications/{app_id}/actions/submit"
    refused = county.post(url, json={"version": 1}, headers={"X-CSRF-Token": "x" * 43})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "CSRF token missing or wrong"}  # what an API client is told
    assert stage(county, app_id) == "draft"
    assert county.post(url, json={"version": 1}, headers={"X-CSRF-Token": csrf_of(county)}).status_code == 200


def test_a_post_with_no_body_no_content_type_and_no_token_is_refused(web):  # noqa: F811
    """A state-changing request with neither a token header nor a body (so no content type) gets the same 403,
    not a crash on the missing content type."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    r = county.post(f"/api/applications/{app_id}/actions/submit")
    assert "content-type" not in r.request.headers
    assert r.status_code == 403 and r.json() == {"detail": "CSRF token missing or wrong"}
    assert stage(county, app_id) == "draft"


def test_login_gives_the_session_its_own_csrf_token(web):  # noqa: F811
    """After login the forms carry the session's stored token, not the anonymous csrf cookie's: a token
    known before the login (a planted cookie) does not pass for the session."""
    app, _ = web
    c = _client(app)
    before = csrf_of(c)
    assert login(c, "county_a").status_code == 303
    after = csrf_of(c)
    with session_scope(app.state.engine) as s:
        stored = s.scalars(select(LoginSession.csrf_token).join(Account, Account.id == LoginSession.account_id)
                           .where(Account.username == "county_a")).all()
    assert after != before and after in stored
    assert c.post("/logout", data={"csrf_token": before}, follow_redirects=False).status_code == 403
    assert _logged_in(c)


def test_a_role_outside_a_route_gets_403_forbidden_on_the_api(web):  # noqa: F811
    """An enterprise account asking for the applications' API is refused with 403 and the API's own word."""
    app, _ = web
    r = client_as(app, "firm_a").get("/api/applications")
    assert r.status_code == 403 and r.json() == {"detail": "forbidden"}


def test_login_with_a_wrong_csrf_token_is_refused(web):  # noqa: F811
    """The anonymous login form's token must match the csrf cookie: a different one gets 403, no session."""
    app, _ = web
    c = _client(app)
    token = csrf_of(c)
    r = c.post("/login", data={"username": "county_a", "password": PASSWORD, "csrf_token": token[::-1]},
               follow_redirects=False)
    assert r.status_code == 403
    assert "sid" not in r.cookies and not _logged_in(c)


# security headers


@pytest.mark.parametrize("path", ["/login", "/", "/no-such-page"])
def test_security_headers_on_every_response(web, path):  # noqa: F811
    """Pages, and error pages too, carry nosniff, DENY framing, same-origin referrer and the CSP."""
    app, _ = web
    r = _client(app).get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src" not in csp.replace("default-src", "")


def test_security_headers_on_a_redirect_after_login(web):  # noqa: F811
    """The login redirect carries the headers as well."""
    app, _ = web
    r = login(_client(app), "county_a")
    assert r.status_code == 303 and r.headers["x-frame-options"] == "DENY"


# lockout


def test_four_failures_do_not_lock(web):  # noqa: F811
    """Four wrong passwords in a row leave the account open: the right one then logs in."""
    app, _ = web
    c = _client(app)
    for _ in range(4):
        assert login(c, "county_a", WRONG).status_code == 401
    assert login(c, "county_a").status_code == 303


def test_fifth_failure_locks(web):  # noqa: F811
    """The fifth wrong password locks: then even the right password is refused, with the same message
    as any refusal (an attacker learns nothing), and the account is stored as locked."""
    app, _ = web
    c = _client(app)
    for _ in range(5):
        assert login(c, "county_a", WRONG).status_code == 401
    refused = login(c, "county_a")
    assert refused.status_code == 401
    assert refused.text.count("锁定") == login(c, "nobody-here", WRONG).text.count("锁定")
    with app.state.engine.connect() as conn:
        locked = conn.execute(text("SELECT locked_until FROM account WHERE username = 'county_a'")).scalar()
    assert locked is not None


def test_success_resets_the_failure_count(web):  # noqa: F811
    """4 failures, a success, 4 failures: still open (the count restarted), the right password logs in."""
    app, _ = web
    c = _client(app)
    for _ in range(4):
        login(c, "county_a", WRONG)
    assert login(c, "county_a").status_code == 303
    for _ in range(4):
        assert login(c, "county_a", WRONG).status_code == 401
    assert login(c, "county_a").status_code == 303


def test_lock_lasts_30_minutes_then_ends(web):  # noqa: F811
    """The lock ends 30 minutes (the default) after the fifth failure; once past, the password works again."""
    app, _ = web
    c = _client(app)
    before = utcnow()
    for _ in range(5):
        login(c, "county_a", WRONG)
    with session_scope(app.state.engine) as s:
        until = s.scalar(select(Account.locked_until).where(Account.username == "county_a"))
    assert before + timedelta(minutes=29) < until <= utcnow() + timedelta(minutes=30)
    assert login(c, "county_a").status_code == 401
    with session_scope(app.state.engine) as s:
        past = utcnow() - timedelta(seconds=1)
        s.execute(update(Account).where(Account.username == "county_a").values(locked_until=past))
    assert login(c, "county_a").status_code == 303


def test_lock_of_one_account_leaves_others_open(web):  # noqa: F811
    """Locking county_a does not lock city_a."""
    app, _ = web
    c = _client(app)
    for _ in range(5):
        login(c, "county_a", WRONG)
    assert login(_client(app), "city_a").status_code == 303


# sessions


def test_idle_session_expires_after_30_minutes(web):  # noqa: F811
    """A session last used 29 minutes ago is live; one last used 31 minutes ago is over (default 30)."""
    app, _ = web
    c = client_as(app, "county_a")
    _sessions(app, "county_a", last_seen=utcnow() - timedelta(minutes=29))
    assert _logged_in(c)
    _sessions(app, "county_a", last_seen=utcnow() - timedelta(minutes=31))
    assert not _logged_in(c)


def test_session_ends_at_its_absolute_limit(web):  # noqa: F811
    """A session is created to end 8 hours after login, and past that moment it is refused though active."""
    app, _ = web
    start = utcnow()
    c = client_as(app, "county_a")
    with session_scope(app.state.engine) as s:
        (expires,) = s.execute(select(LoginSession.expires_at)).one()
    assert start + timedelta(hours=8) <= expires <= utcnow() + timedelta(hours=8)
    _sessions(app, "county_a", expires_at=utcnow() - timedelta(seconds=1), last_seen=utcnow())
    assert not _logged_in(c)


def test_logout_ends_the_session_on_the_server(web):  # noqa: F811
    """After logout the old session cookie, replayed, no longer logs anyone in."""
    app, _ = web
    c = client_as(app, "county_a")
    sid = c.cookies.get("sid")
    r = c.post("/logout", data={"csrf_token": csrf_of(c)}, follow_redirects=False)
    assert r.status_code == 303
    replay = _client(app)
    replay.cookies.set("sid", sid)
    assert not _logged_in(replay)


def test_logout_without_csrf_is_refused_and_keeps_the_session(web):  # noqa: F811
    """A cross-site logout (no token) is refused; the session stays live."""
    app, _ = web
    c = client_as(app, "county_a")
    assert c.post("/logout", data={}, follow_redirects=False).status_code == 403
    assert _logged_in(c)


# security settings


def _set(c: TestClient, key: str, value: str):
    return c.post("/admin/security", data={"key": key, "value": value, "csrf_token": csrf_of(c)})


@pytest.mark.parametrize(("key", "low", "high"), [
    ("lockout_threshold", 3, 10), ("lockout_minutes", 5, 1440), ("session_idle_minutes", 5, 240),
    ("session_max_hours", 1, 24), ("password_min_length", 10, 64),
])
def test_setting_ranges(web, key, low, high):  # noqa: F811
    """Each setting accepts its range's ends and refuses one beyond either end (400, value unchanged)."""
    app, _ = web
    sec = client_as(app, "secadmin")
    for bad in (low - 1, high + 1):
        r = _set(sec, key, str(bad))
        assert r.status_code == 400, (key, bad)
    for good in (low, high):
        assert _set(sec, key, str(good)).status_code == 200, (key, good)
    page = sec.get("/admin/security").text
    assert str(high) in page


@pytest.mark.parametrize(("key", "value"), [("lockout_threshold", "abc"), ("lockout_threshold", "4.5"),
                                            ("no_such_setting", "5")])
def test_setting_must_be_a_known_whole_number(web, key, value):  # noqa: F811
    """A setting that is not a whole number, or not a setting, is refused."""
    app, _ = web
    assert _set(client_as(app, "secadmin"), key, value).status_code == 400


def test_only_the_security_admin_changes_settings(web):  # noqa: F811
    """The system administrator and the province may not change security settings."""
    app, _ = web
    for user in ("sysadmin", "province"):
        c = client_as(app, user)
        assert c.post("/admin/security", data={"key": "lockout_threshold", "value": "3",
                                               "csrf_token": csrf_of(c)}).status_code == 403


def test_lower_lockout_threshold_takes_effect(web):  # noqa: F811
    """With the threshold set to 3, the third failure locks."""
    app, _ = web
    assert _set(client_as(app, "secadmin"), "lockout_threshold", "3").status_code == 200
    c = _client(app)
    for _ in range(3):
        assert login(c, "county_a", WRONG).status_code == 401
    r = login(c, "county_a")
    assert r.status_code == 401 and "锁定" in r.text


def test_shorter_idle_limit_takes_effect(web):  # noqa: F811
    """With the idle limit set to 5 minutes, a session idle for 6 minutes is over."""
    app, _ = web
    assert _set(client_as(app, "secadmin"), "session_idle_minutes", "5").status_code == 200
    c = client_as(app, "county_a")
    _sessions(app, "county_a", last_seen=utcnow() - timedelta(minutes=6))
    assert not _logged_in(c)


def test_setting_change_is_audited(web):  # noqa: F811
    """A setting change leaves an audit entry naming the setting and its new value."""
    from smecluster.workflow.models import AuditEntry

    app, _ = web
    assert _set(client_as(app, "secadmin"), "lockout_minutes", "45").status_code == 200
    with session_scope(app.state.engine) as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.actor == "secadmin")).all()
        changes = [e for e in entries if "lockout_minutes" in f"{e.target} {e.detail}" and "45" in str(e.detail)]
        assert len(changes) == 1


# cookies, the anonymous CSRF token and the header/form choice


def test_anonymous_csrf_cookie_flags_and_reuse(web):  # noqa: F811
    """A new visitor gets an HttpOnly, Secure, SameSite=Lax csrf cookie for path /; the login form carries
    that cookie's value, the same on the next page, and another visitor gets another one."""
    app, _ = web
    c = _client(app)
    first = c.get("/login")
    header = [h for h in first.headers.get_list("set-cookie") if h.startswith("csrf=")][0].lower()
    assert "httponly" in header and "secure" in header and "samesite=lax" in header and "path=/" in header
    token = csrf_of(c)
    assert token == c.cookies.get("csrf")
    assert csrf_of(c) == token
    assert not [h for h in c.get("/login").headers.get_list("set-cookie") if h.startswith("csrf=")]
    assert csrf_of(_client(app)) != token


def test_session_cookie_path_is_root(web):  # noqa: F811
    """The session cookie is sent for every path."""
    app, _ = web
    r = login(_client(app), "county_a")
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("sid=")][0].lower()
    assert "path=/" in cookie and "path=/login" not in cookie


def test_wrong_header_wins_over_a_right_form_field(web):  # noqa: F811
    """When the X-CSRF-Token header is sent it is the token checked: a wrong header fails a right form field."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    version = county.get(f"/api/applications/{app_id}").json()["version"]
    r = county.post(f"/applications/{app_id}/actions/submit",
                    data={"version": str(version), "comment": "", "csrf_token": csrf_of(county)},
                    headers={"X-CSRF-Token": "not-the-token"}, follow_redirects=False)
    assert r.status_code == 403 and stage(county, app_id) == "draft"


def test_right_header_on_a_form_post_is_accepted(web):  # noqa: F811
    """A form post whose token comes in the header alone passes."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    version = county.get(f"/api/applications/{app_id}").json()["version"]
    r = county.post(f"/applications/{app_id}/actions/submit", data={"version": str(version), "comment": ""},
                    headers={"X-CSRF-Token": csrf_of(county)}, follow_redirects=False)
    assert r.status_code == 303 and stage(county, app_id) == "submitted"


def test_token_inside_a_json_body_does_not_count(web):  # noqa: F811
    """A JSON body is not a form: a csrf_token field inside it is ignored and the request refused."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    r = county.post(f"/api/applications/{app_id}/actions/submit",
                    json={"version": 1, "csrf_token": csrf_of(county)})
    assert r.status_code == 403 and stage(county, app_id) == "draft"


def test_login_needed_for_any_user_pages(web):  # noqa: F811
    """Pages for any logged-in account send an anonymous visitor to /login?next=..., JSON gets 401."""
    app, _ = web
    c = _client(app)
    r = c.get("/account/password", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/account/password"
    assert c.get("/api/applications/1", headers={"accept": "application/json"}).status_code == 401


@pytest.mark.parametrize("user", ["county_a", "expert", "auditor", "firm_a"])
def test_any_role_reaches_its_own_account_page(web, user):  # noqa: F811
    """Every role may open its own password page (allowed for any logged-in account)."""
    app, _ = web
    assert client_as(app, user).get("/account/password").status_code == 200


# what a viewer sees of drafts in the cluster list


def test_draft_in_the_cluster_list_only_for_its_county(web):  # noqa: F811
    """A new application's cluster shows in its own county's list, not to the city, the other county or
    anonymous visitors; once in public notice everybody sees it."""
    app, clock = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    name = "常熟市测试集群"
    assert name in county.get("/").text
    for viewer in (client_as(app, "city_a"), client_as(app, "county_b"), _client(app)):
        assert name not in viewer.get("/").text
    prov, city, expert = client_as(app, "province"), client_as(app, "city_a"), client_as(app, "expert")
    from test_web_workflow import do

    do(county, app_id, "submit")
    do(city, app_id, "recommend")
    do(prov, app_id, "start_review")
    prov.post(f"/applications/{app_id}/experts", data={"expert": "expert", "csrf_token": csrf_of(prov)})
    expert.post(f"/applications/{app_id}/score", data={"score": "80", "csrf_token": csrf_of(expert)})
    assert do(prov, app_id, "publish_notice").status_code == 303
    assert name in _client(app).get("/").text


def test_multipart_form_token_is_read(web):  # noqa: F811
    """A multipart form (a file attached) carries its token in a form field: the right one passes, a wrong
    one is refused."""
    from web_fakes import PDF

    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    version = county.get(f"/api/applications/{app_id}").json()["version"]
    files = {"attachment": ("材料.pdf", PDF, "application/pdf")}
    url = f"/applications/{app_id}/actions/submit"
    bad = county.post(url, data={"version": str(version), "comment": "", "csrf_token": "x" * 43}, files=files,
                      follow_redirects=False)
    assert bad.status_code == 403 and stage(county, app_id) == "draft"
    good = county.post(url, data={"version": str(version), "comment": "", "csrf_token": csrf_of(county)},
                       files=files, follow_redirects=False)
    assert good.status_code == 303 and stage(county, app_id) == "submitted"


def _to_public_notice(app, app_id: int) -> None:
    """Walk an application from draft to its public notice (city, province, one expert's score)."""
    from test_web_workflow import do

    county, city, prov, expert = (client_as(app, u) for u in ("county_a", "city_a", "province", "expert"))
    do(county, app_id, "submit")
    do(city, app_id, "recommend")
    do(prov, app_id, "start_review")
    prov.post(f"/applications/{app_id}/experts", data={"expert": "expert", "csrf_token": csrf_of(prov)})
    expert.post(f"/applications/{app_id}/score", data={"score": "80", "csrf_token": csrf_of(expert)})
    assert do(prov, app_id, "publish_notice").status_code == 303


def test_overview_cache_keeps_the_county_draft_from_the_province(web):  # noqa: F811
    """Overviews are cached per region and audience: the county's own view (with its draft) is never served to
    the province or the city looking at the same county."""
    app, _ = web
    county = client_as(app, "county_a")
    new_application(county)
    name = "常熟市测试集群"
    assert name in county.get("/overview").text
    for viewer in (client_as(app, "province"), client_as(app, "city_a")):
        page = viewer.get("/overview", params={"region": "320581"})
        assert page.status_code == 200
        assert name not in page.text


def test_application_stage_wins_over_the_registry_status(web):  # noqa: F811
    """A cluster's stage is its application's, whatever the stage: one in public notice is public even where
    the registry row still says draft."""
    from smecluster.registry.models import Cluster
    from smecluster.workflow.models import Application

    app, _ = web
    app_id = new_application(client_as(app, "county_a"))
    _to_public_notice(app, app_id)
    with session_scope(app.state.engine) as s:
        cluster_id = s.scalar(select(Application.cluster_id).where(Application.id == app_id))
        s.execute(update(Cluster).where(Cluster.id == cluster_id).values(status="draft"))
    assert "常熟市测试集群" in _client(app).get("/").text


def test_csrf_token_sent_as_a_file_is_refused_not_a_crash(web):  # noqa: F811
    """A hostile multipart form sends csrf_token as a file part (not text): refused with 403, never a 500 from
    comparing a file with the token."""
    app, _ = web
    county = client_as(app, "county_a")
    app_id = new_application(county)
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    client.cookies = county.cookies
    r = client.post(f"/applications/{app_id}/actions/submit", data={"version": "1", "comment": ""},
                    files={"csrf_token": ("t.txt", csrf_of(county).encode(), "text/plain")}, follow_redirects=False)
    assert r.status_code == 403
    assert stage(county, app_id) == "draft"


def test_header_names_the_logged_in_account(web):  # noqa: F811
    """The header shows the account's display name (read with the session), linking to its password page."""
    app, _ = web
    page = client_as(app, "county_a").get("/").text
    assert '<a href="/account/password">county_a</a>' in page
    assert "/account/password" not in _client(app).get("/").text


def test_session_and_language_cookies_are_httponly_secure_lax(web):  # noqa: F811
    """The session cookie set at login (and the language cookie) carry HttpOnly, Secure, SameSite=Lax and
    path /: a script on the page cannot read the session, and no other site's form sends it."""
    from smecluster.web.security import SESSION_COOKIE

    app, _ = web
    c = _client(app)
    r = login(c, "county_a")
    assert r.status_code == 303
    language = c.get("/lang/en", follow_redirects=False)
    for response, name in ((r, SESSION_COOKIE), (language, "lang")):
        headers = [h.lower() for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
        assert headers, (name, response.headers.get_list("set-cookie"))
        header = headers[0]
        assert "httponly" in header and "secure" in header and "samesite=lax" in header and "path=/" in header


def test_no_viewer_at_all_sees_only_public_stages():
    """`may_see_cluster(None, ...)` (a caller with no viewer, as services call it) sees public stages only."""
    from smecluster.web.visibility import may_see_cluster
    from smecluster.workflow.applications import AppRef

    assert may_see_cluster(None, AppRef(0, 1, "320581", "recognised")) is True
    assert may_see_cluster(None, AppRef(0, 1, "320581", "draft")) is False
    assert may_see_cluster(None, AppRef(0, 1, "320581", "under_review")) is False
