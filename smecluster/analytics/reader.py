"""Read query results from the registry database into Polars, filters pushed into the SQL.

PostgreSQL: CSV through COPY, column-wise (a row-by-row fetch takes minutes for a 4-million-firm
registry). SQLite: the standard sqlite3 driver, for reads that the SQL has already cut to one firm or a
few thousand rows; whole tables are read by the snapshot builder in a process of its own through
ADBC (smecluster.analytics.registry_snapshot). Not ADBC's SQLite in this process: a second copy of
the SQLite library in one process breaks SQLite's POSIX locks for the other copy's open connections
(a web server's pooled connections got "disk I/O error").

Every read reports its row count to the observers of `count_rows`, so tests (and benchmarks) can
check that a question about one firm reads that firm's rows only.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import Engine, text


@dataclass
class ReadLog:
    """The statements read while a `count_rows` block ran, with the rows each returned."""

    reads: list[tuple[str, int]] = field(default_factory=list)

    def rows(self, table: str | None = None) -> int:
        """Rows read in all, or by the statements reading `table` (the table of their first FROM)."""
        return sum(n for q, n in self.reads if table is None or _first_from(q) == table)


def _first_from(query: str) -> str | None:
    _, found, rest = query.partition(" FROM ")
    return rest.split()[0].strip("()") if found and rest.split() else None


_LOGS: ContextVar[tuple[ReadLog, ...]] = ContextVar("smecluster_read_logs", default=())


@contextmanager
def count_rows() -> Iterator[ReadLog]:
    """Record every registry read made inside the block (statement and rows returned)."""
    log = ReadLog()
    token = _LOGS.set((*_LOGS.get(), log))
    try:
        yield log
    finally:
        _LOGS.reset(token)


def bind(engine: Engine, query: str, params: dict[str, Any] | None) -> str:
    """`query` with its :name parameters rendered as literals, quoted by the dialect (for COPY)."""
    if not params:
        return query
    clause = text(query).bindparams(**params)
    return str(clause.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def read_frame(engine: Engine, query: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
    """The result of `query` as a DataFrame (types are settled by the caller's schema)."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        sql = bind(engine, query, params)
        raw = engine.raw_connection()
        try:
            buffer = io.BytesIO()
            with raw.driver_connection.cursor() as cur, cur.copy(
                f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER)"
            ) as copy:
                for chunk in copy:
                    buffer.write(chunk)
            raw.driver_connection.rollback()
        finally:
            raw.close()
        buffer.seek(0)
        # Every column as text; the snapshot's schema casts them (PostgreSQL writes booleans as t/f).
        frame = pl.read_csv(buffer, infer_schema=False) if buffer.getbuffer().nbytes else pl.DataFrame()
    else:
        with engine.connect() as conn:
            frame = pl.read_database(text(query), conn, execute_options={"parameters": params or {}},
                                     infer_schema_length=None)
    for log in _LOGS.get():
        log.reads.append((" ".join(query.split()), frame.height))
    return frame
