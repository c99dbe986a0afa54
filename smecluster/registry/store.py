"""Bulk upsert of checked rows on the natural key, in one transaction.

Rows are staged in a temporary table through a bulk path and merged by one
`INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE <values differ>`. On PostgreSQL, big batches
(BULK_ROWS or more) take a write lock, read the keys already stored, COPY the new rows straight into
the table with its foreign keys dropped and added back (validated in one pass instead of one trigger
call per row, as PostgreSQL's "Populating a Database" advises) and update the known rows with one
`UPDATE ... FROM` where a value differs.

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
from sqlalchemy import Connection, Engine

from smecluster.registry.version import BUMP_SQL, REGISTRY_TABLES

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
    changed = _changed(dialect, table, "excluded", update)
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets} WHERE {changed}"


def _sqlite_values(frame: pl.DataFrame) -> pl.DataFrame:
    """Values as SQLite keeps them: dates as ISO text (SQLAlchemy's convention), bools as 0/1."""
    return frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
        + [pl.col(c).cast(pl.Int8) for c, t in frame.schema.items() if t == pl.Boolean]
    )


def _changed(dialect: str, old: str, new: str, columns: list[str]) -> str:
    """SQL that is true when any of `columns` differs between the rows aliased `old` and `new`."""
    if dialect == "postgresql":
        # as text: json has no equality operator, and text equality is exact for the other types
        left = ", ".join(f"{old}.{c}::text" for c in columns)
        right = ", ".join(f"{new}.{c}::text" for c in columns)
        return f"ROW({left}) IS DISTINCT FROM ROW({right})"
    return " OR ".join(f"{old}.{c} IS NOT {new}.{c}" for c in columns)


def _update_sql(dialect: str, table: str, stage: str, key: list[str], update: list[str]) -> str:
    """UPDATE the stored rows from the staged ones, only where a value differs."""
    sets = ", ".join(f"{c} = s.{c}" for c in update)
    join = " AND ".join(f"t.{k} = s.{k}" for k in key)
    return f"UPDATE {table} AS t SET {sets} FROM {stage} AS s WHERE {join} AND ({_changed(dialect, 't', 's', update)})"


class _SQLite:
    """Writes through an ADBC SQLite connection (its own transaction, BEGIN IMMEDIATE)."""

    dialect = "sqlite"
    stage_name = f"temp.{STAGE}"
    # Measured on 1,000,000 rows: splitting on the stored keys (plain INSERT of new rows, UPDATE ... FROM
    # of known ones) was no faster than the one merge statement on SQLite, so SQLite always merges.
    splits = False

    def __init__(self, cur) -> None:
        self.cur = cur

    def scalar(self, sql: str):
        self.cur.execute(sql)
        return self.cur.fetchone()[0]

    def run(self, sql: str) -> int:
        """Execute a statement; the number of rows it changed (ADBC does not report it itself)."""
        self.cur.execute(sql)
        return self.scalar("SELECT changes()")

    def stage(self, frame: pl.DataFrame, table: str) -> None:
        """The rows in a temporary table (`table` gives the shape on PostgreSQL; ADBC takes Arrow's)."""
        self.cur.adbc_ingest(STAGE, _sqlite_values(frame).to_arrow(), mode="create", temporary=True)

    def unstage(self) -> None:
        self.cur.execute(f"DROP TABLE {self.stage_name}")


class _PostgreSQL:
    """Writes through the caller's psycopg connection, in the caller's transaction."""

    dialect = "postgresql"
    stage_name = STAGE
    splits = True  # COPY of new rows with foreign keys re-added: 2-3x faster than the merge

    def __init__(self, cur) -> None:
        self.cur = cur

    def scalar(self, sql: str):
        return self.cur.execute(sql).fetchone()[0]

    def run(self, sql: str) -> int:
        """Execute a statement; the number of rows it changed."""
        return self.cur.execute(sql).rowcount

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

    def stage(self, frame: pl.DataFrame, table: str) -> None:
        self.cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
        shape = f"SELECT {', '.join(frame.columns)} FROM {table} WITH NO DATA"
        self.cur.execute(f"CREATE TEMP TABLE {STAGE} ON COMMIT DROP AS {shape}")
        self._copy(STAGE, frame)

    def unstage(self) -> None:
        self.cur.execute(f"DROP TABLE {STAGE}")

    def append(self, table: str, frame: pl.DataFrame, empty: bool = False) -> None:
        """COPY new rows straight into the table, its foreign keys dropped and added back.

        Into an empty table (a first load) its indexes and primary key are dropped too and built
        once after the COPY, which is several times faster than maintaining them row by row;
        foreign keys of other tables pointing at it (necessarily with no rows) are set aside too.
        """
        fk_sql = (
            "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE {side} = CAST(%s AS regclass) AND contype = {kind} ORDER BY conname"
        )
        own = self.cur.execute(fk_sql.format(side="conrelid", kind="'f'"), (table,)).fetchall()
        rebuilt: list[tuple[str, str, str]] = []
        indexes: list[tuple[str, str]] = []
        if empty:
            rebuilt = self.cur.execute(fk_sql.format(side="confrelid", kind="'f'"), (table,)).fetchall()
            rebuilt = [r for r in rebuilt if r[1] != table]
            primary = self.cur.execute(fk_sql.format(side="conrelid", kind="'p'"), (table,)).fetchall()
            indexes = self.cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = %s AND indexname NOT IN (SELECT conname FROM pg_constraint "
                "WHERE conrelid = CAST(%s AS regclass))", (table, table),
            ).fetchall()
        for name, owner, _ in rebuilt:
            self.cur.execute(f'ALTER TABLE {owner} DROP CONSTRAINT "{name}"')
        for name, _, _ in own:
            self.cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        if empty:
            for name, _ in indexes:
                self.cur.execute(f'DROP INDEX "{name}"')
            for name, _, _ in primary:
                self.cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        self._copy(table, frame)
        if empty:
            for name, _, definition in primary:
                self.cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            for _, definition in indexes:
                self.cur.execute(definition)
        for name, _, definition in own:  # validated in one pass over the table
            self.cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for name, owner, definition in rebuilt:
            self.cur.execute(f'ALTER TABLE {owner} ADD CONSTRAINT "{name}" {definition}')
        # Statistics now, not when autovacuum gets round to it: without them one firm's rows of a
        # freshly loaded 16M-row table were fetched by a parallel bitmap scan with JIT (187 ms, not 0.1 ms).
        self.cur.execute(f"ANALYZE {table}")


@contextmanager
def _writer(conn: Connection | Engine) -> Iterator[_SQLite | _PostgreSQL]:
    """The dialect's writer; SQLite gets its own ADBC connection and transaction."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        with conn.connection.driver_connection.cursor() as cur:
            yield _PostgreSQL(cur)
        return
    if dialect != "sqlite":
        raise NotImplementedError(f"import into {dialect} is not supported (SQLite and PostgreSQL are)")
    import adbc_driver_sqlite.dbapi as adbc

    path = (conn.engine if isinstance(conn, Connection) else conn).url.database
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


def upsert(
    conn: Connection | Engine, table: str, frame: pl.DataFrame, key: list[str], update: list[str]
) -> Stored:
    """Insert new rows and update changed ones of `table` (natural key `key`, updatable `update`).

    All or nothing: on PostgreSQL inside the caller's transaction (a Connection), on SQLite in one of its
    own (pass the Engine, with no sqlite3 connection of this process open; see import_file).
    """
    if frame.is_empty():
        return Stored()
    with _writer(conn) as w:
        return _upsert(w, table, frame, key, update)


def _upsert(w: _SQLite | _PostgreSQL, table: str, frame: pl.DataFrame, key: list[str], update: list[str]) -> Stored:
    """The upsert of `upsert` through an open writer, in its transaction."""
    frame = frame.sort(key)  # rows in key order fill the key's B-tree page by page
    cols = ", ".join(frame.columns)
    if table in REGISTRY_TABLES:  # in the same transaction: a snapshot older than this write is stale
        w.run(BUMP_SQL)
    if frame.height < BULK_ROWS or not w.splits:
        before = w.scalar(f"SELECT count(*) FROM {table}")
        if before == 0 and w.dialect == "sqlite":
            # an empty table (a first load): Arrow straight in, no staging copy and no merge
            w.cur.adbc_ingest(table, _sqlite_values(frame).to_arrow(), mode="append")
            return Stored(inserted=frame.height)
        w.stage(frame, table)
        # SQLite needs `WHERE true` to tell the upsert's ON from a join's ON
        select = f"SELECT {cols} FROM {w.stage_name} WHERE true"
        written = w.run(
            f"INSERT INTO {table} ({cols}) {select} {_conflict_sql(w.dialect, table, key, update)}"
        )
        w.unstage()
        inserted = w.scalar(f"SELECT count(*) FROM {table}") - before
        # the statement's row count is inserted rows plus rows the conflict clause changed
        return Stored(inserted=inserted, updated=written - inserted)
    w.lock(table)
    stored = w.keys(table, key).cast({k: frame.schema[k] for k in key})
    new = frame.join(stored, on=key, how="anti")
    known = frame.join(stored, on=key, how="semi")
    if new.height:
        w.append(table, new, empty=stored.is_empty())
    updated = 0
    if known.height and update:
        w.stage(known, table)
        updated = w.run(_update_sql(w.dialect, table, w.stage_name, key, update))
        w.unstage()
    return Stored(inserted=new.height, updated=updated)


def update_only(w: _SQLite | _PostgreSQL, table: str, frame: pl.DataFrame, key: list[str], update: list[str]) -> Stored:
    """Change the stored rows of `frame`'s keys where a value differs; never insert (see ImportKind)."""
    if frame.is_empty() or not update:
        return Stored()
    if table in REGISTRY_TABLES:
        w.run(BUMP_SQL)
    w.stage(frame, table)
    updated = w.run(_update_sql(w.dialect, table, w.stage_name, key, update))
    w.unstage()
    return Stored(updated=updated)


class Rollback(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside `transaction` to undo every write of it (a dry run, or a batch with problems)."""


class Batch:
    """Several writes and the reads that check them, in one transaction (see `transaction`)."""

    def __init__(self, writer: _SQLite | _PostgreSQL) -> None:
        self.writer = writer

    def fetch(self, sql: str) -> list[tuple]:
        """Rows of a query, seeing this transaction's writes."""
        self.writer.cur.execute(sql)
        return self.writer.cur.fetchall()

    def upsert(self, table: str, frame: pl.DataFrame, key: list[str], update: list[str], mode: str) -> Stored:
        """Write rows by the kind's on_conflict mode: update, nothing or update_only."""
        if frame.is_empty():
            return Stored()
        if mode == "update_only":
            return update_only(self.writer, table, frame, key, update)
        return _upsert(self.writer, table, frame, key, update if mode == "update" else [])


@contextmanager
def transaction(engine: Engine) -> Iterator[Batch]:
    """One write transaction over SQLite (ADBC, BEGIN IMMEDIATE) or PostgreSQL (psycopg).

    Everything done through the Batch commits together when the block ends, or not at all when it
    raises (raise `Rollback` to undo on purpose). On SQLite the engine's pool is closed first, for the
    reason given in importer.import_file.
    """
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn, _writer(conn) as w:
            yield Batch(w)
        return
    engine.dispose()
    with _writer(engine) as w:
        yield Batch(w)
