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

A first load (an empty table) takes the fastest path of each database: Arrow straight into the table
with its secondary indexes built once afterwards (SQLite), COPY with keys, indexes and foreign keys
set aside and added back (PostgreSQL). `bulk_load` writes several empty tables that way in one
transaction (the demo and benchmark registries; docs/decisions/1530-bulk-first-load.md); on PostgreSQL
each table by a connection of its own into a scratch schema, swapped in by the caller's transaction
(`registry.scratch_load`, decision 2001).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache, partial

import polars as pl
from sqlalchemy import Connection, Engine

from smecluster.registry.version import BUMP_SQL, VERSIONED_TABLES

COPY_CHUNK = 8 * 1024 * 1024
STAGE = "_import_stage"
BULK_ROWS = 50_000
# Rows encoded (CSV for COPY, Arrow for SQLite) at a time: memory stays bounded, and PostgreSQL parses
# one batch while the next is encoded.
LOAD_BATCH = 500_000
# Memory for building a first load's primary key and indexes (sorted in memory, not in temporary files).
INDEX_MEMORY = "512MB"


@lru_cache(maxsize=1)
def _binary_types() -> dict:
    """PostgreSQL column type (without its length) -> the Arrow type COPY's binary format takes for it."""
    import pyarrow as pa

    return {"smallint": pa.int16(), "integer": pa.int32(), "bigint": pa.int64(), "double precision": pa.float64(),
            "real": pa.float32(), "boolean": pa.bool_(), "date": pa.date32(), "character varying": pa.string(),
            "text": pa.string()}


def _same_kind(dtype: pl.DataType, target) -> bool:
    """Whether frame values of `dtype` go into a column of Arrow type `target` as CSV would take them
    (integers into integers, numbers into floats, text into text, dates and booleans as such)."""
    import pyarrow as pa

    if pa.types.is_integer(target):
        return dtype.is_integer()
    if pa.types.is_floating(target):
        return dtype.is_numeric()
    if pa.types.is_string(target):
        return dtype in (pl.Utf8, pl.Categorical) or isinstance(dtype, pl.Enum)
    if pa.types.is_date32(target):
        return dtype == pl.Date
    return dtype == pl.Boolean


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

    def fetch_arrow(self, sql: str):
        """A query's rows as an Arrow table."""
        self.cur.execute(sql)
        return self.cur.fetch_arrow_table()

    def first_load(self, table: str, frames: Iterable[pl.DataFrame]) -> int:
        """Rows (one frame or several) into an empty table: Arrow in batches, its secondary indexes
        dropped and built once after; the number of rows written.

        Building an index from the loaded rows sorts once; keeping it during the load inserts each row
        at a random place of it. The primary key's index stays (rows arrive in key order).
        """
        self.cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = ?",
            (table,),
        )
        indexes = self.cur.fetchall()
        for name, _ in indexes:
            self.cur.execute(f'DROP INDEX "{name}"')
        written = 0
        for frame in frames:
            for start in range(0, frame.height, LOAD_BATCH):
                batch = _sqlite_values(frame.slice(start, LOAD_BATCH)).to_arrow()
                self.cur.adbc_ingest(table, batch, mode="append")
            written += frame.height
        for _, sql in indexes:
            self.cur.execute(sql)
        return written


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

    def _binary_schema(self, table: str, frame: pl.DataFrame):
        """The Arrow schema that COPY's binary format needs for `frame` into `table` (each column as the
        table declares it), or None when a column is of a type or kind not sent that way (then CSV)."""
        import pyarrow as pa

        declared = dict(self.cur.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = CAST(%s AS regclass) AND attnum > 0 AND NOT attisdropped", (table,),
        ).fetchall())
        fields = []
        for name, dtype in frame.schema.items():
            target = _binary_types().get(declared.get(name, "").split("(")[0])
            if target is None or not (dtype == pl.Null or _same_kind(dtype, target)):
                return None
            fields.append(pa.field(name, target))
        return pa.schema(fields)

    def _copy(self, table: str, frame: pl.DataFrame) -> None:
        """COPY the frame into the table: PostgreSQL's binary format, encoded from Arrow (the server
        converts no text: half the server's CPU of CSV), or CSV for columns of other types."""
        schema = self._binary_schema(table, frame)
        if schema is not None:
            self._copy_binary(table, frame, schema)
            return
        with self.cur.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv)") as copy:
            for first in range(0, frame.height, LOAD_BATCH):  # the server parses a batch while the next is encoded
                buffer = io.BytesIO()
                frame.slice(first, LOAD_BATCH).write_csv(
                    buffer, include_header=False, null_value="", date_format="%Y-%m-%d")
                data = buffer.getbuffer()
                for start in range(0, len(data), COPY_CHUNK):
                    copy.write(data[start : start + COPY_CHUNK])
                data.release()

    def _copy_binary(self, table: str, frame: pl.DataFrame, schema) -> None:
        import pgpq

        encoder = pgpq.ArrowToPostgresBinaryEncoder(schema)
        with self.cur.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN (FORMAT binary)") as copy:
            copy.write(encoder.write_header())
            for first in range(0, frame.height, LOAD_BATCH):  # the server reads a batch while the next is encoded
                for batch in frame.slice(first, LOAD_BATCH).to_arrow().cast(schema).to_batches():
                    data = memoryview(encoder.write_batch(batch))
                    for start in range(0, len(data), COPY_CHUNK):
                        copy.write(data[start : start + COPY_CHUNK])
            copy.write(encoder.finish())

    def stage(self, frame: pl.DataFrame, table: str) -> None:
        self.cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
        shape = f"SELECT {', '.join(frame.columns)} FROM {table} WITH NO DATA"
        self.cur.execute(f"CREATE TEMP TABLE {STAGE} ON COMMIT DROP AS {shape}")
        self._copy(STAGE, frame)

    def unstage(self) -> None:
        self.cur.execute(f"DROP TABLE {STAGE}")

    def append(self, table: str, frames: Iterable[pl.DataFrame], empty: bool = False) -> int:
        """COPY new rows (one frame or several) straight into the table, its foreign keys dropped and
        added back; the number of rows written.

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
        written = 0
        for frame in frames:
            self._copy(table, frame)
            written += frame.height
        if empty:
            self.cur.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'")
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
        return written


@contextmanager
def _writer(
    conn: Connection | Engine, checks_later: bool = False, attach: dict[str, str] | None = None
) -> Iterator[_SQLite | _PostgreSQL]:
    """The dialect's writer; SQLite gets its own ADBC connection and transaction.

    `checks_later` (SQLite): foreign keys are not checked row by row as rows go in; the caller runs
    `PRAGMA foreign_key_check` on what it wrote before the commit (see `bulk_load`). `attach`
    (SQLite): schema name -> database file attached before the transaction begins.
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        with conn.connection.driver_connection.cursor() as cur:
            yield _PostgreSQL(cur)
        return
    if dialect != "sqlite":
        raise NotImplementedError(f"import into {dialect} is not supported (SQLite and PostgreSQL are)")
    import adbc_driver_sqlite.dbapi as adbc

    path = _sqlite_path(conn)
    with adbc.connect(path, autocommit=True) as raw, raw.cursor() as cur:
        cur.execute(f"PRAGMA foreign_keys = {'OFF' if checks_later else 'ON'}")
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA cache_size = -262144")  # up to 256 MB: a big import's indexes stay cached
        if checks_later:
            # a first load: a rollback journal instead of the write-ahead log, which would hold every new
            # page once more until the checkpoint copies it over (new pages are never journalled); WAL
            # again after the commit. Left as it is when another connection has the database open.
            cur.execute("PRAGMA journal_mode = TRUNCATE")
            # and no fsync at the commit (several seconds per GB written): a first load of empty tables
            # (the demo and benchmark registries, rebuilt from their seed) is durable once the operating
            # system has written it, not at the commit
            cur.execute("PRAGMA synchronous = OFF")
        for schema, file in (attach or {}).items():
            cur.execute(f"ATTACH DATABASE ? AS {schema}", (file,))
        if attach:
            # BEGIN IMMEDIATE would lock the attached files too, which other threads are still writing:
            # take the write lock of the database itself only, by writing to it
            cur.execute("BEGIN")
            cur.execute(BUMP_SQL)
        else:
            cur.execute("BEGIN IMMEDIATE")
        try:
            yield _SQLite(cur)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        finally:
            if checks_later:
                cur.execute("PRAGMA journal_mode = WAL")


def _sqlite_path(conn: Connection | Engine) -> str:
    path = (conn.engine if isinstance(conn, Connection) else conn).url.database
    if not path or path == ":memory:":
        raise ValueError("bulk import needs a SQLite database file, not an in-memory database")
    return path


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


def in_key_order(frame: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """The frame sorted by `key`: itself when its rows already are (checked by comparing each row with
    the one before, a fraction of a sort's time and no copy of the rows)."""
    if frame.height < 2:
        return frame
    ordered = pl.col(key[-1]) >= pl.col(key[-1]).shift(1)
    for k in reversed(key[:-1]):
        ordered = (pl.col(k) > pl.col(k).shift(1)) | ((pl.col(k) == pl.col(k).shift(1)) & ordered)
    if frame.select(ordered.slice(1).all()).item():
        return frame
    return frame.sort(key)


def _upsert(w: _SQLite | _PostgreSQL, table: str, frame: pl.DataFrame, key: list[str], update: list[str]) -> Stored:
    """The upsert of `upsert` through an open writer, in its transaction."""
    frame = in_key_order(frame, key)  # rows in key order fill the key's B-tree page by page
    cols = ", ".join(frame.columns)
    if table in VERSIONED_TABLES:  # in the same transaction: a snapshot older than this write is stale
        w.run(BUMP_SQL)
    if frame.height < BULK_ROWS or not w.splits:
        before = w.scalar(f"SELECT count(*) FROM {table}")
        if before == 0 and w.dialect == "sqlite":
            # an empty table (a first load): Arrow straight in, no staging copy and no merge
            return Stored(inserted=w.first_load(table, [frame]))
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
        w.append(table, [new], empty=stored.is_empty())
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
    if table in VERSIONED_TABLES:
        w.run(BUMP_SQL)
    w.stage(frame, table)
    updated = w.run(_update_sql(w.dialect, table, w.stage_name, key, update))
    w.unstage()
    return Stored(updated=updated)


# A table's rows for `bulk_load`: a frame, a Future of one (computed in another thread), or a function
# giving the rows in parts (several frames, each in key order, made one at a time as they are written).
Rows = pl.DataFrame | Future | Callable[[], Iterable[pl.DataFrame]]


def bulk_load(
    conn: Connection | Engine,
    tables: Iterable[tuple[str, Rows, list[str]]],
    beside: frozenset[str] = frozenset(),
) -> dict[str, int]:
    """First load of empty tables (table, rows, natural key), in this order, all or nothing; rows written.

    The import's loader (`upsert`) table by table, in one transaction: on PostgreSQL the caller's (pass
    its Connection; with several tables each is built by the same first-load path on a connection of its
    own in a scratch schema and swapped in by that transaction: `scratch_load`), on SQLite one of its own
    (pass the Engine, no sqlite3 connection of this process open). Rows may be a Future (computed in
    another thread while the tables before them are written) or a function giving them in parts (`Rows`:
    only one part is held at a time).

    On SQLite foreign keys are checked once per table at the end (anti-joins of the loaded frames:
    `_check_references`; a violation rolls everything back), and
    the tables named in `beside` are written at the same time as the others, by a second thread into a
    scratch file of their own, then copied in by one `INSERT ... SELECT *` (SQLite's transfer
    optimisation moves the stored records without decoding them): SQLite writes on one core only.
    """
    tables = list(tables)
    if conn.dialect.name != "sqlite":
        from smecluster.registry import scratch_load

        if isinstance(conn, Connection) and scratch_load.usable(conn, tables):
            # several connections, swapped in at the end
            loads = [(table, partial(_first_load, table=table, rows=rows, key=key)) for table, rows, key in tables]
            return scratch_load.scratch_load(conn, loads)
        # rows in parts are made one part ahead in another thread, the first from now on: while the
        # server takes the tables before them
        ahead = {table: _Ahead(rows) for table, rows, _ in tables if _in_parts(rows)}
        try:
            with _writer(conn) as w:
                return {table: _load_empty(w, table, ahead.get(table, rows), key)[0] for table, rows, key in tables}
        finally:
            for parts in ahead.values():
                parts.close()
    path = _sqlite_path(conn)
    scratch = {table: f"{path}.load-{table}" for table, _, _ in tables if table in beside}
    counts: dict[str, int] = {}
    jobs: dict[str, Future] = {}
    with ThreadPoolExecutor(max(len(scratch), 1)) as pool:
        try:
            for table, rows, key in tables:
                if table in scratch:
                    _create_scratch(path, scratch[table], table)
                    jobs[table] = pool.submit(_fill_scratch, scratch[table], table, rows, key)
            attach = {f"load_{i}": file for i, file in enumerate(scratch.values())}
            with _writer(conn, checks_later=True, attach=attach) as w:
                loaded: dict[str, pl.DataFrame] = {}  # rows (in parts: their foreign keys)
                for table, rows, key in tables:
                    if table not in scratch:
                        counts[table], loaded[table] = _load_empty(w, table, rows, key)
                for i, table in enumerate(scratch):
                    loaded[table] = jobs[table].result()
                    counts[table] = _copy_in(w, table, f"load_{i}")
                parents: dict[tuple[str, tuple[str, ...]], pl.DataFrame] = {}
                for table, frame in loaded.items():
                    _check_references(w, table, frame, loaded, parents)
        finally:
            for job in jobs.values():
                job.cancel()
            pool.shutdown(wait=True)
            for file in scratch.values():
                for suffix in ("", "-journal", "-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(file + suffix)
    return {table: counts[table] for table, _, _ in tables}


def _first_load(cur, table: str, rows: Rows, key: list[str]) -> int:
    """Rows into the empty PostgreSQL table `table` through `cur`, in its transaction: COPY with keys,
    indexes and foreign keys set aside and added back (`_PostgreSQL.append`); rows in parts are made one
    part ahead in another thread. The per-table work of `scratch_load`."""
    ahead = _Ahead(rows) if _in_parts(rows) else None
    try:
        parts = (in_key_order(p, key) for p in ahead()) if ahead else [in_key_order(_ready(rows), key)]
        return _PostgreSQL(cur).append(table, parts, empty=True)
    finally:
        if ahead:
            ahead.close()


def _check_references(w: _SQLite, table: str, frame: pl.DataFrame, loaded: dict[str, pl.DataFrame],
                      parents: dict[tuple[str, tuple[str, ...]], pl.DataFrame]) -> None:
    """Raise ValueError when a row of `frame` (being loaded into `table`) refers to a row that is
    neither stored nor loaded: each foreign key checked by one anti-join of the frame's key columns
    against the parent's keys (its frame when it is loaded too, else its stored keys, read once).

    Equivalent to `PRAGMA foreign_key_check` on the loaded rows (rows with a NULL in the key are not
    checked), without its B-tree lookup per row (about 1 s per million rows, on one core).
    """
    w.cur.execute(f"PRAGMA foreign_key_list({table})")
    keys: dict[int, list[tuple]] = {}
    for fk_id, _seq, parent, child_col, parent_col, *_ in w.cur.fetchall():
        keys.setdefault(fk_id, []).append((parent, child_col, parent_col))
    for pairs in keys.values():
        parent = pairs[0][0]
        child_cols = [c for _, c, _ in pairs]
        if pairs[0][2] is None:  # REFERENCES parent: its primary key
            w.cur.execute(f"PRAGMA table_info({parent})")
            primary = sorted((r[5], r[1]) for r in w.cur.fetchall() if r[5])
            parent_cols = [name for _, name in primary]
        else:
            parent_cols = [c for _, _, c in pairs]
        if not parent_cols:
            continue
        cache = (parent, tuple(parent_cols))
        if cache not in parents:  # a loaded table was empty before: its rows are the frame's
            mine = loaded.get(parent)
            parents[cache] = mine.select(parent_cols) if mine is not None and set(parent_cols) <= set(
                mine.columns) else pl.from_arrow(
                w.fetch_arrow(f"SELECT DISTINCT {', '.join(parent_cols)} FROM main.{parent}"))
        known = parents[cache].rename(dict(zip(parent_cols, child_cols, strict=True)))
        mine = frame.select(child_cols).drop_nulls()
        known = known.cast({c: mine.schema[c] for c in child_cols}, strict=False)
        missing = mine.join(known, on=child_cols, how="anti")
        if missing.height:
            shown = ", ".join(f"{c}={v!r}" for c, v in missing.row(0, named=True).items())
            raise ValueError(f"{table}: {missing.height} rows refer to missing rows of {parent} (first: {shown})")


def _ready(rows: pl.DataFrame | Future) -> pl.DataFrame:
    return rows.result() if isinstance(rows, Future) else rows


class _Ahead:
    """Rows in parts made one part ahead by another thread (called, gives the parts like the function
    it wraps): the next part is made while the one before is written."""

    _END = object()

    def __init__(self, rows: Callable[[], Iterable[pl.DataFrame]]) -> None:
        self._pool = ThreadPoolExecutor(1)
        self._parts: Iterator[pl.DataFrame] | None = None

        def first():
            self._parts = iter(rows())
            return next(self._parts, self._END)

        self._pending = self._pool.submit(first)

    def __call__(self) -> Iterator[pl.DataFrame]:
        while (part := self._pending.result()) is not self._END:
            self._pending = self._pool.submit(next, self._parts, self._END)
            yield part

    def close(self) -> None:
        """Stop making parts (after the last one, or when the load failed)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _in_parts(rows: Rows) -> bool:
    return not isinstance(rows, pl.DataFrame | Future)


def _referring(columns: list[str], frame: pl.DataFrame) -> pl.DataFrame:
    """The distinct values of a part's foreign-key columns (what `_check_references` reads of it)."""
    return frame.select(columns).unique()


def _load_empty(w: _SQLite | _PostgreSQL, table: str, rows: Rows, key: list[str]) -> tuple[int, pl.DataFrame]:
    """Rows into an empty table: (rows written, the rows or, given in parts, their foreign-key
    columns' distinct values)."""
    if w.scalar(f"SELECT count(*) FROM {table}"):
        raise ValueError(f"bulk_load writes empty tables only; {table} has rows")
    if not _in_parts(rows):
        frame = _ready(rows)
        return _upsert(w, table, frame, key, []).inserted, frame
    if table in VERSIONED_TABLES:
        w.run(BUMP_SQL)
    seen: list[pl.DataFrame] = []
    columns = _foreign_columns(w.cur, table) if w.dialect == "sqlite" else []

    def parts() -> Iterator[pl.DataFrame]:
        for part in rows():
            part = in_key_order(part, key)
            seen.append(_referring(columns, part))
            yield part

    written = w.first_load(table, parts()) if w.dialect == "sqlite" else w.append(table, parts(), empty=True)
    return written, pl.concat(seen).unique() if seen else pl.DataFrame()


def _foreign_columns(cur, table: str) -> list[str]:
    """The columns of `table` that refer to another table's rows (SQLite)."""
    cur.execute(f"PRAGMA foreign_key_list({table})")
    return list(dict.fromkeys(r[3] for r in cur.fetchall()))


def _create_scratch(path: str, file: str, table: str) -> None:
    """A scratch SQLite file with `table` as the database declares it (same columns, key and checks)."""
    import adbc_driver_sqlite.dbapi as adbc

    for suffix in ("", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(file + suffix)
    with adbc.connect(path, autocommit=True) as raw, raw.cursor() as cur:
        cur.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        ddl = cur.fetchone()[0]
    with adbc.connect(file, autocommit=True) as raw, raw.cursor() as cur:
        cur.execute(ddl)


def _fill_scratch(file: str, table: str, rows: Rows, key: list[str]) -> pl.DataFrame:
    """Rows (each part in key order) into the scratch file's table: no journal, no sync (the file is
    thrown away). Returns the rows, or for rows in parts their foreign-key columns' distinct
    values (for `_check_references`)."""
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(file, autocommit=True) as raw, raw.cursor() as cur:
        cur.execute("PRAGMA journal_mode = OFF")
        cur.execute("PRAGMA synchronous = OFF")
        cur.execute("PRAGMA cache_size = -262144")
        columns = _foreign_columns(cur, table)
        seen = []
        cur.execute("BEGIN")
        for part in (rows() if _in_parts(rows) else [_ready(rows)]):
            frame = in_key_order(part, key)
            for start in range(0, frame.height, LOAD_BATCH):
                cur.adbc_ingest(table, _sqlite_values(frame.slice(start, LOAD_BATCH)).to_arrow(), mode="append")
            seen.append(_referring(columns, frame) if _in_parts(rows) else frame)
        cur.execute("COMMIT")
    return pl.concat(seen).unique() if len(seen) > 1 else seen[0] if seen else pl.DataFrame()


def _copy_in(w: _SQLite, table: str, schema: str) -> int:
    """Copy a scratch table into the database's empty table of the same declaration; rows copied."""
    if w.scalar(f"SELECT count(*) FROM main.{table}"):
        raise ValueError(f"bulk_load writes empty tables only; {table} has rows")
    if table in VERSIONED_TABLES:
        w.run(BUMP_SQL)
    w.cur.execute(
        "SELECT name, sql FROM main.sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = ?",
        (table,),
    )
    indexes = w.cur.fetchall()  # the transfer needs the same indexes on both sides: built after it
    for name, _ in indexes:
        w.cur.execute(f'DROP INDEX main."{name}"')
    copied = w.run(f"INSERT INTO main.{table} SELECT * FROM {schema}.{table}")
    for _, sql in indexes:
        w.cur.execute(sql)
    return copied


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
