"""Bulk upsert of checked rows on the natural key, in one transaction.

Rows are staged in a temporary table through a bulk path and merged by one
`INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE <values differ>`. On PostgreSQL, big batches
(BULK_ROWS or more) take a write lock, read the keys already stored, COPY the new rows straight into
the table with its foreign keys dropped and added back (validated in one pass instead of one trigger
call per row, as PostgreSQL's "Populating a Database" advises) and merge only the known ones.

Bulk paths: PostgreSQL COPY (CSV written by Polars) on the caller's connection and transaction;
SQLite Arrow ingest through the ADBC driver on a connection of its own with foreign keys on (Python's
sqlite3 binds values one by one, several times slower). Only rows whose values differ are updated, so
re-importing a file changes nothing. See docs/decisions/0100-import-staging-and-upsert.md.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection

COPY_CHUNK = 8 * 1024 * 1024
STAGE = "_import_stage"
BULK_ROWS = 50_000


@dataclass
class Stored:
    """What an upsert did."""

    inserted: int = 0
    updated: int = 0


def _conflict_sql(dialect: str, table: str, key: list[str], update: list[str]) -> str:
    """The ON CONFLICT clause: update changed columns only, or do nothing."""
    if not update:
        return f"ON CONFLICT ({', '.join(key)}) DO NOTHING"
    sets = ", ".join(f"{c} = excluded.{c}" for c in update)
    if dialect == "postgresql":
        # as text: json has no equality operator, and text equality is exact for the other types
        old = ", ".join(f"{table}.{c}::text" for c in update)
        new = ", ".join(f"excluded.{c}::text" for c in update)
        changed = f"ROW({old}) IS DISTINCT FROM ROW({new})"
    else:
        changed = " OR ".join(f"{table}.{c} IS NOT excluded.{c}" for c in update)
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets} WHERE {changed}"


def _sqlite_values(frame: pl.DataFrame) -> pl.DataFrame:
    """Values as SQLite keeps them: dates as ISO text (SQLAlchemy's convention), bools as 0/1."""
    return frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
        + [pl.col(c).cast(pl.Int8) for c, t in frame.schema.items() if t == pl.Boolean]
    )


class _SQLite:
    """Writes through an ADBC SQLite connection (its own transaction, BEGIN IMMEDIATE)."""

    dialect = "sqlite"
    appends = False  # measured: ADBC appends into an indexed table are slower than one INSERT ... SELECT

    def __init__(self, cur) -> None:
        self.cur = cur

    def scalar(self, sql: str):
        self.cur.execute(sql)
        return self.cur.fetchone()[0]

    def merge(self, table: str, frame: pl.DataFrame, conflict: str) -> int:
        cols = ", ".join(frame.columns)
        self.cur.adbc_ingest(STAGE, _sqlite_values(frame).to_arrow(), mode="create", temporary=True)
        # SQLite needs `WHERE true` to tell the upsert's ON from a join's ON
        select = f"SELECT {cols} FROM temp.{STAGE} WHERE true"
        self.cur.execute(f"INSERT INTO {table} ({cols}) {select} {conflict}")
        written = self.scalar("SELECT changes()")  # ADBC does not report an INSERT's row count
        self.cur.execute(f"DROP TABLE temp.{STAGE}")
        return written


class _PostgreSQL:
    """Writes through the caller's psycopg connection, in the caller's transaction."""

    dialect = "postgresql"
    appends = True  # COPY into the table with foreign keys re-added: 2-3x faster than the merge

    def __init__(self, cur) -> None:
        self.cur = cur

    def scalar(self, sql: str):
        return self.cur.execute(sql).fetchone()[0]

    def lock(self, table: str) -> None:
        # other writers wait until commit, readers do not: the keys read next stay true
        self.cur.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")

    def keys(self, table: str, key: list[str]) -> pl.DataFrame:
        rows = self.cur.execute(f"SELECT {', '.join(key)} FROM {table}").fetchall()
        return pl.DataFrame(rows, schema=key, orient="row")

    def _copy(self, table: str, frame: pl.DataFrame) -> None:
        buffer = io.BytesIO()
        frame.write_csv(buffer, include_header=False, null_value="", date_format="%Y-%m-%d")
        data = buffer.getbuffer()
        with self.cur.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv)") as copy:
            for start in range(0, len(data), COPY_CHUNK):
                copy.write(data[start : start + COPY_CHUNK])
        data.release()

    def foreign_keys(self, table: str) -> list[tuple[str, str]]:
        sql = (
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(%s AS regclass) AND contype = 'f' ORDER BY conname"
        )
        return [(r[0], r[1]) for r in self.cur.execute(sql, (table,)).fetchall()]

    def append(self, table: str, frame: pl.DataFrame) -> None:
        foreign_keys = self.foreign_keys(table)
        for name, _ in foreign_keys:
            self.cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        self._copy(table, frame)
        for name, definition in foreign_keys:  # validated in one pass over the table
            self.cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

    def merge(self, table: str, frame: pl.DataFrame, conflict: str) -> int:
        cols = ", ".join(frame.columns)
        self.cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
        shape = f"SELECT {cols} FROM {table} WITH NO DATA"
        self.cur.execute(f"CREATE TEMP TABLE {STAGE} ON COMMIT DROP AS {shape}")
        self._copy(STAGE, frame)
        insert = f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {STAGE} {conflict}"
        written = self.cur.execute(insert).rowcount
        self.cur.execute(f"DROP TABLE {STAGE}")
        return written


@contextmanager
def _writer(conn: Connection) -> Iterator[_SQLite | _PostgreSQL]:
    """The dialect's writer; SQLite gets its own ADBC connection and transaction."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        with conn.connection.driver_connection.cursor() as cur:
            yield _PostgreSQL(cur)
        return
    if dialect != "sqlite":
        raise NotImplementedError(f"import into {dialect} is not supported (SQLite and PostgreSQL are)")
    import adbc_driver_sqlite.dbapi as adbc

    path = conn.engine.url.database
    if not path or path == ":memory:":
        raise ValueError("bulk import needs a SQLite database file, not an in-memory database")
    with adbc.connect(path, autocommit=True) as raw, raw.cursor() as cur:
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA cache_size = -262144")  # up to 256 MB: a big import's indexes stay cached
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield _SQLite(cur)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise


def upsert(conn: Connection, table: str, frame: pl.DataFrame, key: list[str], update: list[str]) -> Stored:
    """Insert new rows and update changed ones of `table` (natural key `key`, updatable `update`).

    All or nothing: on PostgreSQL inside the caller's transaction, on SQLite in one of its own.
    """
    if frame.is_empty():
        return Stored()
    frame = frame.sort(key)  # rows in key order fill the key's B-tree page by page
    with _writer(conn) as w:
        conflict = _conflict_sql(w.dialect, table, key, update)
        if frame.height < BULK_ROWS or not w.appends:
            before = w.scalar(f"SELECT count(*) FROM {table}")
            written = w.merge(table, frame, conflict)
            inserted = w.scalar(f"SELECT count(*) FROM {table}") - before
            # the statement's row count is inserted rows plus rows the conflict clause changed
            return Stored(inserted=inserted, updated=written - inserted)
        w.lock(table)
        stored = w.keys(table, key)
        stored = stored.cast({k: frame.schema[k] for k in key})
        new = frame.join(stored, on=key, how="anti")
        known = frame.join(stored, on=key, how="semi")
        if new.height:
            w.append(table, new)
        updated = w.merge(table, known, conflict) if known.height else 0
        return Stored(inserted=new.height, updated=updated)
