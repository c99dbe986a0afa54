"""Read query results from the registry database into Polars.

PostgreSQL: CSV through COPY, column-wise (a row-by-row fetch takes minutes for a 4-million-firm
registry). SQLite: the standard sqlite3 driver. Not ADBC's SQLite: a second copy of the SQLite
library in one process breaks SQLite's POSIX locks for the other copy's open connections (a web
server's pooled connections got "disk I/O error"); callers keep reads small with `scope`.
"""

from __future__ import annotations

import io

import polars as pl
from sqlalchemy import Engine


def read_frame(engine: Engine, query: str) -> pl.DataFrame:
    """The result of `query` as a DataFrame (types are settled by the caller's schema)."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        raw = engine.raw_connection()
        try:
            buffer = io.BytesIO()
            with raw.driver_connection.cursor() as cur, cur.copy(
                f"COPY ({query}) TO STDOUT (FORMAT csv, HEADER)"
            ) as copy:
                for chunk in copy:
                    buffer.write(chunk)
            raw.driver_connection.rollback()
        finally:
            raw.close()
        buffer.seek(0)
        # Every column as text; the snapshot's schema casts them (PostgreSQL writes booleans as t/f).
        return pl.read_csv(buffer, infer_schema=False)
    with engine.connect() as conn:
        return pl.read_database(query, conn, infer_schema_length=None)
