"""三员分立 made real, forced password change, password change rules, uniform login refusals, 404 scope, long fields."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from web_fakes import PASSWORD, USCC, csrf_of, fake_evaluate, login, make_users, seed

import smecluster.accounts.passwords as passwords_module
from smecluster.accounts.models import Account, LoginSession
from smecluster.accounts.users import AccountError, disable_user, grant_role, issue_token, reset_password
from smecluster.db import open_database, session_scope
from smecluster.web.app import WebSettings, create_app

NEW = "Fresh-Passw0rd-9"


@pytest.fixture
def app(database_url, tmp_path):
    """The app over a seeded database with one account per role."""
    engine = open_database(database_url)
    seed(engine)
    make_users(engine)
    return create_app(
        database_url, evaluate=fake_evaluate, settings=WebSettings(secure_cookies=False, evidence_dir=tmp_path)
    )


def _client(app, username: str | None = None) -> TestClient:
    client = TestClient(app)
    if username:
        assert login(client, username).status_code == 303
    return client


def _post(client, url: str, data: dict) -> object:
    return client.post(url, data={**data, "csrf_token": csrf_of(client)}, follow_redirects=False)


def _account(app, username: str) -> Account:
    with session_scope(app.state.engine) as s:
        return s.scalars(select(Account).where(Account.username == username)).one()


def _token_in(page: str) -> str:
    return re.search(r'id="one-time-token">([^<]+)<', page).group(1)


def test_system_admin_creates_accounts_without_roles_and_no_password_shown(app):
    """The system administrator's new account has no role and no usable password; the owner sets one by token."""
    sysadmin = _client(app, "sysadmin")
    r = _post(sysadmin, "/admin/users", {"username": "newbie", "display_name": "N", "role": "audit_admin"})
    assert r.status_code == 200
    account = _account(app, "newbie")
    assert account.role == "" and not account.password_hash.startswith("$argon2")
    token = _token_in(r.text)
    owner = TestClient(app)
    r = _post(owner, "/account/token", {"token": token, "new": NEW})
    assert r.status_code == 200 and 'id="token-done"' in r.text
    assert login(TestClient(app), "newbie", NEW).status_code == 303
    # the token works once
    r = _post(owner, "/account/token", {"token": token, "new": "Other-Passw0rd-7"})
    assert r.status_code == 400 and login(TestClient(app), "newbie", "Other-Passw0rd-7").status_code == 401


def test_security_admin_grants_business_roles_only(app):
    """Roles come from the security administrator, never an administrator role, never from the system admin."""
    _post(_client(app, "sysadmin"), "/admin/users", {"username": "newbie"})
    secadmin = _client(app, "secadmin")
    r = _post(secadmin, "/admin/roles", {"username": "newbie", "role": "audit_admin"})
    assert r.status_code == 400 and _account(app, "newbie").role == ""
    r = _post(secadmin, "/admin/roles", {"username": "auditor", "role": "province_admin", "region_code": "320000"})
    assert r.status_code == 400 and _account(app, "auditor").role == "audit_admin"
    r = _post(secadmin, "/admin/roles", {"username": "newbie", "role": "city_reviewer", "region_code": "320500"})
    assert r.status_code == 200
    account = _account(app, "newbie")
    assert (account.role, account.region_code) == ("city_reviewer", "320500")
    sysadmin = _client(app, "sysadmin")
    assert _post(sysadmin, "/admin/roles", {"username": "newbie", "role": "province_admin"}).status_code == 403


def test_reset_gives_a_token_never_a_password_and_spares_administrators(app):
    """A web reset shows a one-time token (no password), stops the old password, and refuses admin accounts."""
    sysadmin = _client(app, "sysadmin")
    victim = _account(app, "county_a")
    r = _post(sysadmin, f"/admin/users/{victim.id}/reset", {})
    assert r.status_code == 200 and 'id="one-time-token"' in r.text and 'id="new-password"' not in r.text
    assert login(TestClient(app), "county_a").status_code == 401
    auditor = _account(app, "auditor")
    before = auditor.password_hash
    r = _post(sysadmin, f"/admin/users/{auditor.id}/reset", {})
    assert r.status_code == 403 and _account(app, "auditor").password_hash == before
    assert login(TestClient(app), "auditor").status_code == 303
    with pytest.raises(AccountError), session_scope(app.state.engine) as s:
        issue_token(s, "secadmin")
    # nor can the system administrator silence the auditor
    assert _post(sysadmin, f"/admin/users/{auditor.id}/disable", {}).status_code == 403
    assert _account(app, "auditor").active


def test_forced_password_change_blocks_every_other_page(app):
    """An account reset from the command line reaches nothing but the password form until it changes it."""
    with session_scope(app.state.engine) as s:
        reset_password(s, "auditor", "Temporary-Pass-1")
    client = TestClient(app)
    r = login(client, "auditor", "Temporary-Pass-1")
    assert r.headers["location"] == "/account/password"
    for url in ("/admin/audit", "/", "/applications", "/api/clusters"):
        r = client.get(url, follow_redirects=False)
        assert r.status_code in (303, 403), url
        assert r.status_code == 403 or r.headers["location"] == "/account/password", url
    assert client.get("/account/password").status_code == 200
    r = _post(client, "/account/password", {"current": "Temporary-Pass-1", "new": NEW})
    assert r.status_code == 200
    assert client.get("/admin/audit").status_code == 200


def test_password_change_ends_other_sessions_and_refuses_the_same(app):
    """Changing one's password logs out the other sessions, keeps this one, and refuses the same password."""
    other = _client(app, "county_a")
    here = _client(app, "county_a")
    r = _post(here, "/account/password", {"current": PASSWORD, "new": PASSWORD})
    assert r.status_code == 400
    assert other.get("/applications", follow_redirects=False).status_code == 200
    r = _post(here, "/account/password", {"current": PASSWORD, "new": NEW})
    assert r.status_code == 200
    assert other.get("/applications", follow_redirects=False).status_code == 303  # to /login
    assert here.get("/applications", follow_redirects=False).status_code == 200
    with session_scope(app.state.engine) as s:
        assert s.query(LoginSession).count() == 1


def test_refusals_look_alike_and_cost_one_argon2_check(app, monkeypatch):
    """Wrong password, unknown name, disabled and locked accounts: the same page, each after one argon2 verify."""
    with session_scope(app.state.engine) as s:
        disable_user(s, "city_b")
    for _ in range(5):
        login(TestClient(app), "county_b", "Wrong-Password-1")
    calls = []
    real = passwords_module._hasher

    class Counting:
        def verify(self, stored, password):
            calls.append(stored)
            return real.verify(stored, password)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(passwords_module, "_hasher", Counting())
    pages = {}
    for name, password in [("province", "Wrong-Password-1"), ("ghost", PASSWORD), ("city_b", PASSWORD),
                           ("county_b", PASSWORD)]:
        before = len(calls)
        r = login(TestClient(app), name, password)
        assert r.status_code == 401 and len(calls) == before + 1, name
        pages[name] = re.search(r'id="login-error">([^<]+)<', r.text).group(1)
    assert len(set(pages.values())) == 1, pages


def test_diagnosis_of_a_firm_out_of_scope_is_404_like_an_unknown_one(app):
    """A county account asking for another county's firm gets 404, as for a code that does not exist."""
    client = _client(app, "county_a")
    assert client.get(f"/enterprises/{USCC[2]}/diagnosis").status_code == 404
    assert client.get("/enterprises/91320581MA1NOBODYX/diagnosis").status_code == 404


def test_over_long_field_renders_the_form_not_json(app):
    """An over-long login name re-renders the login form with an error; nothing is echoed back."""
    client = TestClient(app)
    long_name = "x" * 5000
    r = _post(client, "/login", {"username": long_name, "password": "p"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert 'action="/login"' in r.text and 'id="login-error"' in r.text and long_name not in r.text
    secadmin = _client(app, "secadmin")
    r = _post(secadmin, "/admin/security", {"key": "lockout_threshold", "value": "9" * 5000})
    assert r.status_code == 400 and 'action="/admin/security"' in r.text and "9" * 5000 not in r.text


def test_cli_grant_may_give_admin_roles(app):
    """The command line, and only it, grants an administrator role."""
    with session_scope(app.state.engine) as s:
        grant_role(s, "expert", "audit_admin", allow_admin=True)
    assert _account(app, "expert").role == "audit_admin"


def test_invalid_api_body_does_not_echo_the_input(app):
    """A JSON body FastAPI refuses is answered with field and reason, not the input."""
    client = _client(app, "province")
    token = csrf_of(client)
    junk = "J" * 3000
    r = client.post("/api/applications/1/actions/recommend", json={"version": junk}, headers={"X-CSRF-Token": token})
    assert r.status_code == 422 and junk not in r.text and r.json()["detail"][0]["field"]
