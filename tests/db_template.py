"""Empty test databases made from a migrated template instead of by running every migration again.

A run migrated an empty database about 800 times (0.3-0.5 s each: a fifth of the suite's time; decision
2302). Each test worker now migrates one template per database kind through the real path
(`smecluster.db.upgrade`, i.e. alembic), and an empty database asked to migrate gets a copy of it instead:
SQLite by the SQLite backup API, PostgreSQL by replaying the template schema's `pg_dump` in the test's own
schema. Every copy gets its own `registry_id`, as a migration would make. Databases that are not empty
(an older revision, rows already in) and tests marked `real_migrations` still run alembic.
"""

from __future__ import annotations

import sqlite3
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import inspect, make_url, text
from sqlalchemy.engine import Engine


class TemplateUpgrade:
    """A stand-in for `smecluster.db.upgrade` that copies a migrated template into an empty database."""

    def __init__(self, real: Callable[[Engine], None], folder: Path, pg_server: str | None):
        self.real = real
        self.folder = folder
        self.pg_server = pg_server
        self.enabled = True
        self._sqlite: Path | None = None
        self._pg_schema: str | None = None
        self._pg_script: str | None = None

    def __call__(self, engine: Engine) -> None:
        kind = engine.dialect.name
        if not self.enabled or kind not in ("sqlite", "postgresql") or not self._empty(engine):
            self.real(engine)
            return
        if kind == "sqlite":
            self._copy_sqlite(engine)
        else:
            schema = self._current_schema(engine)
            if not schema.startswith("t_"):  # only the tests' own schemas (conftest.pg_schema_url)
                self.real(engine)
                return
            self._copy_postgres(engine, schema)
        with engine.begin() as c:  # a new database gets a new identity, as migration 0008 gives it
            c.execute(text("UPDATE registry_version SET registry_id = :r WHERE id = 1"), {"r": uuid.uuid4().hex})

    @staticmethod
    def _empty(engine: Engine) -> bool:
        with engine.connect() as c:
            return not inspect(c).get_table_names()

    @staticmethod
    def _current_schema(engine: Engine) -> str:
        with engine.connect() as c:
            return c.execute(text("SELECT current_schema()")).scalar_one()

    def _copy_sqlite(self, engine: Engine) -> None:
        if self._sqlite is None:
            path = self.folder / "template.db"
            from smecluster.db import get_engine

            template = get_engine(f"sqlite:///{path}")
            self.real(template)
            template.dispose()
            self._sqlite = path
        source = sqlite3.connect(self._sqlite)
        raw = engine.raw_connection()
        try:
            source.backup(raw.driver_connection)
        finally:
            raw.close()
            source.close()

    def _copy_postgres(self, engine: Engine, schema: str) -> None:
        if self._pg_script is None:
            self._pg_script = self._postgres_template()
        script = self._pg_script.replace(f"{self._pg_schema}.", f"{schema}.")
        from smecluster.dbapi import connect

        # a connection of its own (the dump resets search_path); one multi-statement query is one transaction
        with connect(self.pg_server) as conn:
            conn.execute(script)
        engine.dispose()  # pooled connections may hold the empty schema's catalogue

    def _postgres_template(self) -> str:
        """Migrate a template schema through alembic and keep its dump (schema and rows) as one script."""
        from conftest import pg_schema_url

        from smecluster.db import get_engine

        schema, url = pg_schema_url()
        template = get_engine(url)
        self.real(template)
        template.dispose()
        pg = make_url(self.pg_server)
        dump = subprocess.run(
            ["pg_dump", "-h", pg.host or "127.0.0.1", "-p", str(pg.port or 5432), "-U", pg.username or "postgres",
             "-d", pg.database or "test", "-n", schema, "--inserts", "--no-owner", "--no-privileges",
             "--no-comments"],
            capture_output=True, text=True, check=True).stdout
        self._pg_schema = schema
        # the test's schema exists already (conftest.pg_schema_url made it); psql's meta-commands (\restrict,
        # written by pg_dump since 15.14) are not SQL
        return "\n".join(line for line in dump.splitlines()
                         if not line.startswith((f"CREATE SCHEMA {schema};", "\\")))

    def close(self) -> None:
        """Drop the PostgreSQL template schema."""
        if self._pg_schema is not None:
            from conftest import drop_pg_schema

            drop_pg_schema(self._pg_schema)
