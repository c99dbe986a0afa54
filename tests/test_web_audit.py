"""The audit trail: every login and state change recorded, append-only, and tampering found by verify."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner
from web_fakes import PASSWORD, make_users, seed

from smecluster.accounts.users import authenticate
from smecluster.cli.main import app as cli
from smecluster.db import open_database, session_scope
from smecluster.workflow.audit import verify
from smecluster.workflow.models import AuditEntry


@pytest.fixture
def engine(database_url):
    """A seeded database with accounts (each creation audited) and two logins."""
    eng = open_database(database_url)
    seed(eng)
    make_users(eng)
    with session_scope(eng) as s:
        authenticate(s, "county_a", PASSWORD)
        authenticate(s, "county_a", "wrong-Password-9")
    return eng


def _drop_guard(engine) -> None:
    """Remove the append-only triggers, as someone with raw database access could."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("DROP TRIGGER audit_entry_append_only ON audit_entry"))
        else:
            c.execute(text("DROP TRIGGER audit_entry_no_update"))
            c.execute(text("DROP TRIGGER audit_entry_no_delete"))


def test_logins_are_recorded(engine):
    """A successful and a failed login each leave an entry."""
    with session_scope(engine) as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.actor == "county_a"))]
    assert actions[-2:] == ["login.ok", "login.fail"]


def test_chain_verifies_when_untouched(engine):
    """An untouched trail verifies, counting every entry."""
    result = verify(engine)
    with session_scope(engine) as s:
        total = s.scalar(select(text("count(*)")).select_from(AuditEntry))
    assert result.ok and result.entries == total


def test_update_is_refused_by_the_database(engine):
    """UPDATE on the audit trail fails: the table is append-only."""
    with pytest.raises(DBAPIError), engine.begin() as c:
        c.execute(text("UPDATE audit_entry SET actor = 'x' WHERE id = 3"))


def test_altered_entry_is_reported_first(engine):
    """Changing one entry's content makes verify name that entry."""
    _drop_guard(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE audit_entry SET actor = 'mallory' WHERE id = 4"))
    result = verify(engine)
    assert not result.ok and result.first_bad_id == 4 and "altered" in result.reason


def test_deleted_entry_is_reported(engine):
    """Deleting an entry breaks the link of the next one, which verify names."""
    _drop_guard(engine)
    with engine.begin() as c:
        c.execute(text("DELETE FROM audit_entry WHERE id = 5"))
    result = verify(engine)
    assert result.first_bad_id == 6 and "link" in result.reason


def test_cli_audit_verify_exit_codes(engine, database_url):
    """`smecluster audit verify` exits 0 on an intact trail and 1 naming the first tampered entry."""
    runner = CliRunner()
    ok = runner.invoke(cli, ["--db", database_url, "audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    _drop_guard(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE audit_entry SET target = 'x' WHERE id = 2"))
    bad = runner.invoke(cli, ["--db", database_url, "audit", "verify"])
    assert bad.exit_code == 1 and "entry 2" in bad.output
