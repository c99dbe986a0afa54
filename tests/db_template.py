"""Empty test databases made from a migrated template instead of by running every migration again.

A run migrated an empty database about 800 times (0.3-0.5 s each: a fifth of the suite's time; decision
2302). Each test worker now migrates one template per database kind through the real path
(`smecluster.db.upgrade`, i.e. alembic), and an empty database asked to migrate gets a copy of it instead:
SQLite by the SQLite backup API, PostgreSQL by replaying the template schema's `pg_dump` in the test's own
schema. Every copy gets its own `registry_id`, as a migration would make. Databases that are not empty
(an older revision, rows already in) and tests marked `real_migrations` still run alembic.

A PostgreSQL schema a test is done with is emptied and kept for the next test when it still has exactly the
template's tables, columns, keys, indexes, functions and triggers (`recycle`): its rows are truncated, the
template's rows and sequence values put back, and the schema renamed into the worker's pool; the next empty
schema to migrate takes its name. Replaying the dump and dropping the schema cost 0.25 s a test; handing out
and emptying a kept one costs 0.09 s (decision 2308).
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
        self._pg_rows: str | None = None  # the dump's INSERTs and setvals: the rows of a new database
        self._pg_shape: str | None = None
        self._pg_tables: list[str] = []
        self._pg_seeded: list[str] = []  # the tables the template has rows in
        self._pool: list[str] = []  # emptied schemas with the template's shape, ready to be renamed

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
        kept = self._pool[-1] if self._pool else None
        if kept:  # a kept schema takes the test's name (the empty one it replaces is dropped)
            script = f'DROP SCHEMA "{schema}" CASCADE; ALTER SCHEMA "{kept}" RENAME TO "{schema}";'
        else:
            script = self._pg_script.replace(f"{self._pg_schema}.", f"{schema}.")
        from smecluster.dbapi import connect

        # a connection of its own (the dump resets search_path); one multi-statement query is one transaction
        with connect(self.pg_server) as conn:
            conn.execute(script)
        if kept:  # taken out of the pool once renamed: a failed rename leaves it there, to be dropped at close
            self._pool.pop()
        engine.dispose()  # pooled connections may hold the empty schema's catalogue

    def recycle(self, schema: str) -> bool:
        """Empty a test's schema and keep it for the next test, if it still has the template's shape;
        False (the caller drops it) when it does not, or when it cannot be emptied at once."""
        if self._pg_rows is None or not schema.startswith("t_") or not self.enabled:
            return False
        from smecluster.dbapi import connect

        kept = f"p_{uuid.uuid4().hex[:12]}"
        rows = self._pg_rows.replace(f"{self._pg_schema}.", f"{schema}.")
        try:
            with connect(self.pg_server) as conn:
                if self._shape(conn, schema) != self._pg_shape:
                    return False
                # tables with rows are truncated (new files; a few ms each), the template's one-row tables deleted
                full = [t for (t,) in conn.execute(" UNION ALL ".join(
                    f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{schema}\".\"{t}\")"
                    for t in self._pg_tables if t not in self._pg_seeded)).fetchall()]
                # a connection the test left open must not make the next test wait: give up and drop instead
                conn.execute("SET lock_timeout = '2s'")
                conn.execute(
                    "".join(f'DELETE FROM "{schema}"."{t}";' for t in self._pg_seeded)
                    + ("TRUNCATE " + ", ".join(f'"{schema}"."{t}"' for t in full) + " CASCADE;" if full else "")
                    + rows + f'ALTER SCHEMA "{schema}" RENAME TO "{kept}";')
        except Exception:
            return False
        self._pool.append(kept)
        return True

    @staticmethod
    def _shape(conn, schema: str) -> str:
        """A digest of the schema's tables, columns, indexes, sequences, constraints, functions and triggers
        (by name and definition, never by the schema's own name)."""
        return conn.execute("""
            SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
              SELECT c.relname || ':' || c.relkind::text || ':' || string_agg(
                  coalesce(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text, ''),
                  ';' ORDER BY a.attnum) AS x
                FROM pg_class c LEFT JOIN pg_attribute a
                  ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               WHERE c.relnamespace = %(s)s::regnamespace GROUP BY c.relname, c.relkind
              UNION ALL SELECT 'constraint:' || conname || ' ' || replace(pg_get_constraintdef(oid), %(n)s, '')
                FROM pg_constraint WHERE connamespace = %(s)s::regnamespace
              UNION ALL SELECT 'default:' || c.relname || '.' || d.adnum::text || ' '
                               || replace(pg_get_expr(d.adbin, d.adrelid), %(n)s, '')
                FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid WHERE c.relnamespace = %(s)s::regnamespace
              UNION ALL SELECT 'function:' || proname || ' ' || md5(prosrc)
                FROM pg_proc WHERE pronamespace = %(s)s::regnamespace
              UNION ALL SELECT 'trigger:' || c.relname || '.' || t.tgname || ' ' || t.tgtype::text || t.tgenabled::text
                FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
               WHERE c.relnamespace = %(s)s::regnamespace AND NOT t.tgisinternal
              UNION ALL SELECT 'type:' || typname FROM pg_type WHERE typnamespace = %(s)s::regnamespace
            ) shape""", {"s": f'"{schema}"', "n": f"{schema}."}).fetchone()[0]

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
        self._pg_rows = "\n".join(line for line in dump.splitlines()
                                  if line.startswith((f"INSERT INTO {schema}.", "SELECT pg_catalog.setval(")))
        self._pg_seeded = sorted({line.split(".", 1)[1].split(" ", 1)[0]
                                  for line in self._pg_rows.splitlines() if line.startswith("INSERT")})
        from smecluster.dbapi import connect

        with connect(self.pg_server) as conn:
            self._pg_shape = self._shape(conn, schema)
            self._pg_tables = [t for (t,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", (schema,)).fetchall()]
        # the test's schema exists already (conftest.pg_schema_url made it); psql's meta-commands (\restrict,
        # written by pg_dump since 15.14) are not SQL
        return "\n".join(line for line in dump.splitlines()
                         if not line.startswith((f"CREATE SCHEMA {schema};", "\\")))

    def close(self) -> None:
        """Drop the PostgreSQL template schema and the kept ones."""
        from conftest import drop_pg_schema

        for schema in ([self._pg_schema] if self._pg_schema else []) + self._pool:
            drop_pg_schema(schema, keep=False)
        self._pool.clear()
