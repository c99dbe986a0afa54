"""The registry's version: a counter bumped in the same transaction as every write to registry data.

The columnar snapshot (smecluster.analytics.stored_snapshot) records the version it was read at and
is used only while the database still holds that version, so a verdict never comes from stale
columns. Writes through SQLAlchemy (web edits, workflow, demo) are noted by an engine event and the
counter bumped just before their transaction commits; the bulk loader (ADBC, COPY) bumps it itself
in its own transaction. `registry_id` is drawn once per database, so a snapshot of a
deleted and re-created database (version counting from 1 again) is never taken for a current one.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import BigInteger, Engine, Integer, String, event, text
from sqlalchemy.orm import Mapped, mapped_column

from smecluster.db import Base

# The tables whose rows the snapshot holds (and a verdict reads).
REGISTRY_TABLES = frozenset({
    "region", "industry", "enterprise", "enterprise_year", "enterprise_profile", "designation",
    "platform", "cluster", "cluster_member", "cluster_year",
})
# The tables whose writes bump the version: the registry's, and the chain maps and link overrides (an
# imported chain system decides J9 and a map the chain pages; results kept per version must not outlive them).
VERSIONED_TABLES = REGISTRY_TABLES | {"chain_document", "chain_link_override"}
BUMP_SQL = "UPDATE registry_version SET version = version + 1 WHERE id = 1"
DIRTY = "registry_written"  # Connection.info flag: this transaction wrote registry rows
_WRITE = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


class RegistryVersion(Base):
    """One row: the registry's identity and its write counter."""

    __tablename__ = "registry_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registry_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(BigInteger)


def new_registry_id() -> str:
    """A fresh random identity for a database's registry."""
    return uuid.uuid4().hex


def writes_registry(statement: str) -> bool:
    """Whether an SQL statement inserts, updates or deletes rows of a versioned table (VERSIONED_TABLES)."""
    m = _WRITE.match(statement)
    return bool(m) and m.group(1).lower() in VERSIONED_TABLES


def bump(dbapi_connection) -> None:
    """Bump the version on a DB-API connection, inside its current transaction."""
    cur = dbapi_connection.cursor()
    try:
        cur.execute(BUMP_SQL)
    finally:
        cur.close()


def current_version(engine: Engine) -> tuple[str, int] | None:
    """(registry_id, version) as committed now; None when the table is missing (schema not migrated)."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "registry_version"):
            return None
        row = conn.execute(text("SELECT registry_id, version FROM registry_version WHERE id = 1")).first()
    return (row[0], int(row[1])) if row else None


def track_writes(engine: Engine) -> None:
    """Bump the version at the commit of every SQLAlchemy transaction that wrote registry rows on `engine`.

    The statement is noted before it runs and the counter bumped just before COMMIT, in the same
    transaction: the version row is locked only for the commit itself (no waits, no lock-order
    deadlocks with the rows a workflow locks first). Skipped on a connection with the execution
    option `no_registry_bump` (the migrations run there; the table appears only half-way through).
    """
    if engine.dialect.name not in ("sqlite", "postgresql"):
        return

    @event.listens_for(engine, "before_cursor_execute")
    def _note(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if not conn.get_execution_options().get("no_registry_bump") and writes_registry(statement):
            conn.info[DIRTY] = True

    @event.listens_for(engine, "commit")
    def _bump(conn) -> None:  # noqa: ANN001
        if conn.info.pop(DIRTY, False):  # the DB-API connection: the Connection is mid-commit
            bump(conn.connection.dbapi_connection)

    @event.listens_for(engine, "rollback")
    def _clean(conn) -> None:  # noqa: ANN001
        conn.info.pop(DIRTY, None)
