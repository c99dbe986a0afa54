"""The administrators' pages through HTTP: the system administrator's account actions, and the audit page
(its content, and tampering found: an entry's detail changed, the last entry deleted)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text
from test_web_audit import _drop_guard
from test_web_workflow import client_as, new_application, web  # noqa: F401 (web: a fixture)
from typer.testing import CliRunner
from web_fakes import csrf_of, login

from smecluster.accounts.models import Account
from smecluster.cli.main import app as cli
from smecluster.db import session_scope
from smecluster.workflow.models import AuditEntry


def _account_id(app, username: str) -> int:
    with session_scope(app.state.engine) as s:
        return s.scalar(select(Account.id).where(Account.username == username))


def _disable(c, app, username: str):
    return c.post(f"/admin/users/{_account_id(app, username)}/disable", data={"csrf_token": csrf_of(c)},
                  follow_redirects=False)


def _last_id(app) -> int:
    with session_scope(app.state.engine) as s:
        return s.scalar(select(func.max(AuditEntry.id)))


# system administrator


def test_users_page_lists_every_account(web):  # noqa: F811
    """The system administrator's page lists every account by user name."""
    app, _ = web
    html = client_as(app, "sysadmin").get("/admin/users").text
    with session_scope(app.state.engine) as s:
        names = s.scalars(select(Account.username)).all()
    assert names and all(f"<td>{n}</td>" in html for n in names)


def test_disable_ends_login_and_live_sessions(web):  # noqa: F811
    """A disabled account's open session stops working and it cannot log in again."""
    app, _ = web
    county = client_as(app, "county_a")
    assert county.get("/account/password", follow_redirects=False).status_code == 200
    assert _disable(client_as(app, "sysadmin"), app, "county_a").status_code == 303
    assert county.get("/account/password", follow_redirects=False).status_code == 303  # to /login
    from fastapi.testclient import TestClient

    assert login(TestClient(app, base_url="https://testserver"), "county_a").status_code == 401


def test_disable_is_audited(web):  # noqa: F811
    """Disabling leaves an audit entry by the administrator naming the account."""
    app, _ = web
    _disable(client_as(app, "sysadmin"), app, "city_b")
    with session_scope(app.state.engine) as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.actor == "sysadmin")).all()
    assert any("city_b" in e.target and "disable" in e.action for e in entries)


def test_administrator_cannot_disable_own_account(web):  # noqa: F811
    """Disabling oneself is refused and the account stays active."""
    app, _ = web
    sys = client_as(app, "sysadmin")
    refused = _disable(sys, app, "sysadmin")
    assert refused.status_code == 400 and "不能停用自己的账户" in refused.text  # Chinese by default
    with session_scope(app.state.engine) as s:
        assert s.scalar(select(Account.active).where(Account.username == "sysadmin")) is True


@pytest.mark.parametrize("user", ["province", "secadmin", "auditor", "county_a"])
def test_only_the_system_administrator_disables(web, user):  # noqa: F811
    """Other roles get 403 and the target stays active."""
    app, _ = web
    assert _disable(client_as(app, user), app, "city_b").status_code == 403
    with session_scope(app.state.engine) as s:
        assert s.scalar(select(Account.active).where(Account.username == "city_b")) is True


def test_disable_of_unknown_account_is_404(web):  # noqa: F811
    """An account id that does not exist is 404."""
    app, _ = web
    sys = client_as(app, "sysadmin")
    r = sys.post("/admin/users/999999/disable", data={"csrf_token": csrf_of(sys)}, follow_redirects=False)
    assert r.status_code == 404


# audit page


def test_audit_page_shows_entries_and_intact_chain(web):  # noqa: F811
    """The auditor's page says the chain is intact with the number of entries, and lists recent actions."""
    app, _ = web
    county = client_as(app, "county_a")
    new_application(county)
    with session_scope(app.state.engine) as s:
        total = s.scalar(select(func.count()).select_from(AuditEntry))
    html = client_as(app, "auditor").get("/admin/audit").text
    m = re.search(r'id="audit-ok">[^<:]*: (\d+)', html)
    assert m, "chain reported broken"
    assert total < int(m.group(1)) <= total + 2  # the auditor's own login is recorded too
    rows = re.findall(r"<tr><td>(\d+)</td><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>", html)
    assert ("county_a", "login.ok") in {(who, what) for _, who, what in rows}
    assert any(who == "county_a" and what.startswith("application.") for _, who, what in rows)
    ids = [int(i) for i, _, _ in rows]
    assert ids == sorted(ids, reverse=True)  # newest first


def test_reading_the_audit_page_is_audited(web):  # noqa: F811
    """Each reading of the audit page adds an entry by the auditor."""
    app, _ = web
    auditor = client_as(app, "auditor")
    before = _last_id(app)
    auditor.get("/admin/audit")
    with session_scope(app.state.engine) as s:
        new = s.scalars(select(AuditEntry).where(AuditEntry.id > before)).all()
    assert [e.actor for e in new] == ["auditor"]


@pytest.mark.parametrize("user", ["sysadmin", "secadmin", "province"])
def test_only_the_auditor_reads_the_audit_page(web, user):  # noqa: F811
    """The other administrators and the province get 403."""
    app, _ = web
    assert client_as(app, user).get("/admin/audit").status_code == 403


def test_altered_detail_is_found(web, database_url):  # noqa: F811
    """Changing only an entry's detail (its JSON) breaks the chain at that entry: page and CLI say so."""
    app, _ = web
    client_as(app, "county_a")
    target = _last_id(app)
    _drop_guard(app.state.engine)
    with app.state.engine.begin() as c:
        c.execute(text("UPDATE audit_entry SET detail = :d WHERE id = :i"), {"d": '{"forged": true}', "i": target})
    html = client_as(app, "auditor").get("/admin/audit").text
    m = re.search(r'id="audit-broken">[^<]*?(\d+)\s*:', html)
    assert m and int(m.group(1)) == target
    result = CliRunner().invoke(cli, ["--db", database_url, "audit", "verify"])
    assert result.exit_code == 1 and f"entry {target}" in result.output


def test_deleting_the_last_entry_is_found(web, database_url, tmp_path):  # noqa: F811
    """Deleting the newest entry is reported by `audit verify --checkpoint` (exit 1): a chain alone
    cannot see its tail cut, the checkpoint an auditor kept can."""
    app, _ = web
    client_as(app, "county_a")
    point = tmp_path / "audit.checkpoint"
    assert CliRunner().invoke(cli, ["--db", database_url, "audit", "checkpoint", "-o", str(point)]).exit_code == 0
    check = ["--db", database_url, "audit", "verify", "--checkpoint", str(point)]
    assert CliRunner().invoke(cli, check).exit_code == 0
    _drop_guard(app.state.engine)
    with app.state.engine.begin() as c:
        c.execute(text("DELETE FROM audit_entry WHERE id = :i"), {"i": _last_id(app)})
    assert CliRunner().invoke(cli, check).exit_code == 1
