"""Bulk upsert of checked rows on the natural key, in one transaction.

Both databases stage the rows in a temporary table through a bulk path, then run one
`INSERT ... SELECT ... ON CONFLICT DO UPDATE` in the same transaction. PostgreSQL: COPY (CSV written by
Polars) on the caller's connection and transaction. SQLite: Arrow ingest through the ADBC SQLite driver
on a connection of its own (Python's sqlite3 binds values one by one, several times slower), with
foreign keys on. An update only touches rows whose values differ, so re-importing a file changes
nothing. See docs/decisions/0100-import-staging-and-upsert.md.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, text

COPY_CHUNK = 8 * 1024 * 1024
STAGE = "_import_stage"


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


def _count(conn: Connection, table: str) -> int:
    return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def _sqlite_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Values as sqlite3 takes them: dates as ISO text (SQLAlchemy's convention), bools as 0/1."""
    return frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
        + [pl.col(c).cast(pl.Int8) for c, t in frame.schema.items() if t == pl.Boolean]
    )


def _upsert_sqlite(conn: Connection, table: str, frame: pl.DataFrame, conflict: str) -> Stored:
    """Stage through ADBC, then INSERT ... SELECT; one transaction on a connection of its own."""
    import adbc_driver_sqlite.dbapi as adbc

    path = conn.engine.url.database
    if not path or path == ":memory:":
        raise ValueError("bulk import needs a SQLite database file, not an in-memory database")
    cols = ", ".join(frame.columns)
    with adbc.connect(path, autocommit=True) as raw, raw.cursor() as cur:
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute(f"SELECT count(*) FROM {table}")
            before = cur.fetchone()[0]
            cur.adbc_ingest(STAGE, _sqlite_rows(frame).to_arrow(), mode="create", temporary=True)
            # SQLite needs `WHERE true` to tell the upsert's ON from a join's ON
            cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM temp.{STAGE} WHERE true {conflict}")
            cur.execute("SELECT changes()")  # ADBC does not report an INSERT's row count
            written = cur.fetchone()[0]
            cur.execute(f"SELECT count(*) FROM {table}")
            inserted = cur.fetchone()[0] - before
            cur.execute(f"DROP TABLE temp.{STAGE}")
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
    return Stored(inserted=inserted, updated=written - inserted)


def _upsert_postgresql(conn: Connection, table: str, frame: pl.DataFrame, conflict: str) -> Stored:
    """COPY into a temporary table, then INSERT ... SELECT, on the caller's connection and transaction."""
    cols = ", ".join(frame.columns)
    before = _count(conn, table)
    conn.execute(text(f"DROP TABLE IF EXISTS {STAGE}"))
    conn.execute(text(f"CREATE TEMP TABLE {STAGE} ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA"))
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, null_value="", date_format="%Y-%m-%d")
    data = buffer.getbuffer()
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {STAGE} ({cols}) FROM STDIN (FORMAT csv)") as copy:
            for start in range(0, len(data), COPY_CHUNK):
                copy.write(data[start : start + COPY_CHUNK])
        cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {STAGE} {conflict}")
        written = cur.rowcount
    data.release()
    conn.execute(text(f"DROP TABLE {STAGE}"))
    inserted = _count(conn, table) - before
    return Stored(inserted=inserted, updated=written - inserted)


def upsert(conn: Connection, table: str, frame: pl.DataFrame, key: list[str], update: list[str]) -> Stored:
    """Insert new rows and update changed ones of `table` (key columns `key`, updating `update`).

    Runs in the caller's transaction: on any error the caller's rollback undoes everything.
    """
    if frame.is_empty():
        return Stored()
    dialect = conn.dialect.name
    frame = frame.sort(key)  # rows in key order fill the key's B-tree page by page
    conflict = _conflict_sql(dialect, table, key, update)
    # the statement's row count is inserted rows plus rows the conflict clause actually changed
    if dialect == "postgresql":
        return _upsert_postgresql(conn, table, frame, conflict)
    if dialect == "sqlite":
        return _upsert_sqlite(conn, table, frame, conflict)
    raise NotImplementedError(f"import into {dialect} is not supported (SQLite and PostgreSQL are)")
