"""Account rules the mutation run found unguarded: who the audit trail names for command-line account work,
and the refusal of a one-time token whose account was disabled."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner
from web_fakes import PASSWORD, make_users, seed

from smecluster.accounts.users import AccountError, create_account, disable_user, redeem_token
from smecluster.cli.main import app as cli
from smecluster.db import open_database, session_scope
from smecluster.workflow.models import AuditEntry

NEW = "Another-Passw0rd-7"
TOKEN_REFUSED = "this token is unknown, used or expired; ask the system administrator for a new one"


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: the rules are Python; the same paths run on PostgreSQL in test_web_accounts."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def engine(database_url):
    """A database with regions and one account per role."""
    eng = open_database(database_url)
    seed(eng)
    make_users(eng)
    return eng


def _entries(engine, target: str) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        rows = s.execute(select(AuditEntry.actor, AuditEntry.action).where(AuditEntry.target == target)
                         .order_by(AuditEntry.id)).all()
    return [tuple(r) for r in rows]


def test_command_line_account_work_is_audited_as_cli(engine, database_url):
    """`user add|grant|reset|disable` run by an operator at the console: each entry names the actor "cli"."""
    runner = CliRunner()
    db = ["--db", database_url, "user"]
    assert runner.invoke(cli, [*db, "add", "opsuser", "--role", "city_reviewer", "--region", "320300",
                               "--password", PASSWORD]).exit_code == 0
    assert runner.invoke(cli, [*db, "grant", "opsuser", "--role", "county_applicant",
                               "--region", "320312"]).exit_code == 0
    assert runner.invoke(cli, [*db, "reset", "opsuser"]).exit_code == 0
    assert runner.invoke(cli, [*db, "reset", "opsuser", "--password", NEW]).exit_code == 0
    assert runner.invoke(cli, [*db, "disable", "opsuser"]).exit_code == 0
    assert _entries(engine, "account:opsuser") == [
        ("cli", "user.add"), ("cli", "user.grant"), ("cli", "user.reset"), ("cli", "user.reset"),
        ("cli", "user.disable"),
    ]


def test_create_account_without_actor_is_audited_as_cli(engine):
    """The service's default actor is the command line."""
    with session_scope(engine) as s:
        create_account(s, "fresh")
    assert _entries(engine, "account:fresh") == [("cli", "user.create")]


def test_token_of_a_disabled_account_is_refused_like_an_unknown_one(engine):
    """A token issued before the account was disabled does not set a password: the same words as an unknown one."""
    with session_scope(engine) as s:
        token = create_account(s, "leaver")
    with session_scope(engine) as s:
        disable_user(s, "leaver")
    with session_scope(engine) as s, pytest.raises(AccountError) as refused:
        redeem_token(s, token, NEW)
    assert str(refused.value) == TOKEN_REFUSED
    with session_scope(engine) as s, pytest.raises(AccountError) as unknown:
        redeem_token(s, "no-such-token", NEW)
    assert str(unknown.value) == TOKEN_REFUSED
