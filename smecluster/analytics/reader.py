"""Read query results from the registry database straight into Polars, column-wise.

SQLAlchemy's row-by-row fetch takes minutes for a 4-million-firm registry; the bulk paths here
read Arrow from SQLite through the ADBC driver and CSV from PostgreSQL through COPY.
"""

from __future__ import annotations

import io

import polars as pl
from sqlalchemy import Engine


def read_frame(engine: Engine, query: str) -> pl.DataFrame:
    """The result of `query` as a DataFrame (types are settled by the caller's schema)."""
    dialect = engine.dialect.name
    if dialect == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        import adbc_driver_sqlite.dbapi as adbc

        with adbc.connect(engine.url.database) as conn, conn.cursor() as cur:
            cur.execute(query)
            return pl.from_arrow(cur.fetch_arrow_table())
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
