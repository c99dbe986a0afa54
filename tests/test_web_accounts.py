"""Accounts: roles and scopes, password policy, CLI user commands, session expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner
from web_fakes import PASSWORD, make_users, seed

from smecluster.accounts.models import Account, LoginSession
from smecluster.accounts.passwords import PasswordPolicyError, check_policy
from smecluster.accounts.roles import check_role_scope, covers, roles
from smecluster.accounts.sessions import resolve_session, start_session
from smecluster.accounts.users import AccountError, add_user, authenticate, redeem_token
from smecluster.cli.main import app as cli
from smecluster.db import open_database, session_scope
from smecluster.workflow.audit import utcnow


@pytest.fixture
def engine(database_url):
    """A database with regions and one account per role."""
    eng = open_database(database_url)
    seed(eng)
    make_users(eng)
    return eng


def test_three_administrators_have_no_business_power_or_region():
    """System, security and audit administrators are separate admin roles that take no region."""
    admins = {r.id for r in roles().values() if r.kind == "admin"}
    assert admins == {"system_admin", "security_admin", "audit_admin"}
    with pytest.raises(ValueError, match="takes no region"):
        check_role_scope("audit_admin", "320000", None)


def test_role_needs_region_at_its_level():
    """A city reviewer given a county code is refused."""
    with pytest.raises(ValueError, match="needs a city code"):
        check_role_scope("city_reviewer", "320581", None)


def test_scope_by_code_prefix():
    """A city covers its counties and not another city's."""
    assert covers("320500", "320581") and not covers("320500", "320312") and covers("320000", "320312")


@pytest.mark.parametrize("password", ["Short-1a", "alllowercase-and-long", "county_a-Password-1"])
def test_password_policy_refuses_weak(password):
    """Too short, too uniform, or containing the user name: refused."""
    with pytest.raises(PasswordPolicyError):
        check_policy(password, "county_a")


def test_duplicate_username_refused(engine):
    """A second account with the same user name is refused."""
    with pytest.raises(AccountError, match="exists"), session_scope(engine) as s:
        add_user(s, "county_a", PASSWORD, "county_applicant", region_code="320581")


def test_password_stored_as_argon2(engine):
    """The stored password is an argon2id hash, not the password."""
    with session_scope(engine) as s:
        user = s.query(Account).filter_by(username="county_a").one()
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_session_expires_when_idle(engine):
    """A session unused for longer than the idle limit is no longer accepted."""
    with session_scope(engine) as s:
        user = authenticate(s, "county_a", PASSWORD).account
        token, _ = start_session(s, user)
    with session_scope(engine) as s:
        assert resolve_session(s, token) is not None
        assert resolve_session(s, token, clock_now=utcnow() + timedelta(minutes=31)) is None
    with session_scope(engine) as s:
        assert s.query(LoginSession).count() == 0


def test_cli_user_add_disable_reset(engine, database_url):
    """`user add` creates a login, `user reset` prints a one-time token for the owner, `user disable` stops logins."""
    runner = CliRunner()
    r = runner.invoke(cli, ["--db", database_url, "user", "add", "newcity", "--role", "city_reviewer",
                            "--region", "320300", "--password", PASSWORD])
    assert r.exit_code == 0, r.output
    with session_scope(engine) as s:
        assert authenticate(s, "newcity", PASSWORD).account is not None
    r = runner.invoke(cli, ["--db", database_url, "user", "reset", "newcity"])
    assert r.exit_code == 0 and "token:" in r.output
    token = r.output.rsplit("token:", 1)[1].strip()
    with session_scope(engine) as s:
        assert authenticate(s, "newcity", PASSWORD).account is None  # the old password stopped working
    new = "Another-Passw0rd"
    with session_scope(engine) as s:
        redeem_token(s, token, new)
    with session_scope(engine) as s:
        assert authenticate(s, "newcity", new).account is not None
    assert runner.invoke(cli, ["--db", database_url, "user", "disable", "newcity"]).exit_code == 0
    with session_scope(engine) as s:
        assert authenticate(s, "newcity", new).account is None


def test_cli_user_add_bad_role_is_clear_error(engine, database_url):
    """An unknown role fails with exit code 1 and names the known roles."""
    r = CliRunner().invoke(cli, ["--db", database_url, "user", "add", "x", "--role", "mayor", "--password", PASSWORD])
    assert r.exit_code == 1 and "unknown role" in r.output


def test_demo_accounts_log_in(engine):
    """Each generated demo account logs in with the password printed for it."""
    from smecluster.accounts.demo import DEMO_ACCOUNTS, create_demo_accounts

    with session_scope(engine) as s:
        created = create_demo_accounts(s)
    assert {u for u, *_ in DEMO_ACCOUNTS} <= {u for u, *_ in created}
    with session_scope(engine) as s:
        assert all(authenticate(s, user, password).account is not None for user, _, password in created)


def test_cli_user_demo_runs(engine, database_url):
    """`smecluster user demo` exits 0 and names the accounts it created."""
    r = CliRunner().invoke(cli, ["--db", database_url, "user", "demo"])
    assert r.exit_code == 0 and "demo_county" in r.output


def test_reset_ends_existing_sessions(engine):
    """A password reset logs the account out of every open session."""
    from smecluster.accounts.users import issue_token

    with session_scope(engine) as s:
        token, _ = start_session(s, authenticate(s, "county_a", PASSWORD).account)
    with session_scope(engine) as s:
        issue_token(s, "county_a")
    with session_scope(engine) as s:
        assert resolve_session(s, token) is None
