"""Engine, sessions and schema migrations (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from smecluster.config import database_url
from smecluster.dbapi import head_revisions as _head_revisions  # noqa: F401  (also imported from here)

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_SECONDS = 30


class Base(DeclarativeBase):
    """Declarative base shared by every package's models."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """One engine per database URL (cached)."""
    resolved = database_url(url)
    # SQLite has one write lock: under load a writer may wait behind many (audit appends queue on
    # it, decision 0801); 30 s instead of the driver's 5 s before "database is locked".
    extra = {"connect_args": {"timeout": SQLITE_BUSY_SECONDS}} if resolved.startswith("sqlite") else {}
    engine = create_engine(resolved, future=True, **extra)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    from smecluster.registry.version import track_writes

    track_writes(engine)
    return engine


def alembic_config(engine: Engine):
    """An Alembic configuration pointing at the packaged migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def at_head(engine: Engine) -> bool:
    """Whether the database's revision is already the newest, read without running Alembic (whose
    environment imports every model: most of a short command's start-up)."""
    heads = _head_revisions()
    if heads is None:
        return False
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        current = {r[0] for r in connection.execute(text("SELECT version_num FROM alembic_version"))}
    return current == heads


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    if at_head(engine):
        return
    from alembic import command  # only when there is migrating to do: importing it costs ~0.4 s

    with engine.begin() as connection:
        # no version bumps while migrating: the registry_version table appears half-way through
        connection = connection.execution_options(no_registry_bump=True)
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def open_database(url: str | None = None, *, migrate: bool = True) -> Engine:
    """The engine for `url`, with the schema migrated to head."""
    engine = get_engine(url)
    if migrate:
        upgrade(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    factory = sessionmaker(engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
