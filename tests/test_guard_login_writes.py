"""Whether a session has written, as the login reads it to decide if its slot may be committed at once
(accounts.users._holds_writes), on SQLite and on PostgreSQL: the PostgreSQL branch is the one a SQLite-only
mutation run cannot reach."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session
from web_fakes import make_users, seed

from smecluster.accounts.models import Account
from smecluster.accounts.users import _holds_writes
from smecluster.db import open_database


def test_a_session_holds_writes_only_after_it_has_written(database_url):
    """Reading does not count as writing; an UPDATE does, until the transaction ends."""
    engine = open_database(database_url)
    seed(engine)
    make_users(engine)
    with Session(engine) as s:
        s.get(Account, 1)
        assert _holds_writes(s) is False
        s.execute(update(Account).where(Account.username == "county_a").values(display_name="改名"))
        assert _holds_writes(s) is True
        s.rollback()
        assert _holds_writes(s) is False
