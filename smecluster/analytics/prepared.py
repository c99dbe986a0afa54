"""Small queries asked again and again (one firm's facts, its tiers, its indicator values): the SQL
prepared once per thread over temporary tables that each call refills.

The tier SQL is tens of kilobytes over hundreds of columns; parsing, binding and planning it, and
opening a DuckDB database for it, cost far more than running it over one row, so a diagnosis paid
that compilation on every request. Here each thread keeps a few DuckDB connections (one per query
text and input schema, least recently used dropped), each holding the inputs as temporary tables of
the callers' exact column types and the query as a prepared statement. A call empties and refills
the tables (inserting the same Arrow columns the query would otherwise scan) and executes the
statement: the same SQL over the same rows, so the same answer.

Large inputs (a county, the province) do not come here: copying them into a table costs more than
compiling once, and their plans need the real row counts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import duckdb
import pyarrow as pa

# Inputs above this many rows run the ordinary way (see the module docstring).
SMALL_ROWS = 2_000
# Prepared queries kept per thread (each a small in-memory DuckDB database).
KEEP = 8

_local = threading.local()


def _signature(sql: str, inputs: dict[str, pa.Table]) -> tuple:
    return sql, tuple((name, tuple((f.name, str(f.type)) for f in t.schema)) for name, t in inputs.items())


def _preparable(inputs: dict[str, pa.Table]) -> bool:
    # A column of Arrow's null type would become a typed table column: not the query's own types.
    return all(t.num_rows <= SMALL_ROWS and not any(pa.types.is_null(f.type) for f in t.schema)
               for t in inputs.values())


def _prepare(sql: str, inputs: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": 1})  # one row needs no parallelism; requests share the cores
    con.execute("SET enable_progress_bar = false")
    for name, table in inputs.items():
        con.register("_input", table)
        con.execute(f'CREATE TEMP TABLE "{name}" AS SELECT * FROM _input LIMIT 0')
        con.unregister("_input")
    con.execute("PREPARE q AS " + sql.strip().rstrip(";"))
    return con


def run_small(sql: str, inputs: dict[str, pa.Table]) -> pa.Table:
    """The result of `sql` over the named Arrow tables: through this thread's prepared statement when
    every input is small, else by compiling the query over the tables as they stand."""
    if not _preparable(inputs):
        con = duckdb.connect()
        for name, table in inputs.items():
            con.register(name, table)
        try:
            return con.sql(sql).to_arrow_table()
        finally:
            con.close()
    cache: OrderedDict[tuple, duckdb.DuckDBPyConnection] = _local.__dict__.setdefault("cache", OrderedDict())
    key = _signature(sql, inputs)
    con = cache.get(key)
    if con is None:
        con = cache[key] = _prepare(sql, inputs)
        while len(cache) > KEEP:
            cache.popitem(last=False)[1].close()
    cache.move_to_end(key)
    for name, table in inputs.items():
        con.execute(f'DELETE FROM "{name}"')
        if table.num_rows:
            con.register("_input", table)
            con.execute(f'INSERT INTO "{name}" SELECT * FROM _input')
            con.unregister("_input")
    return con.sql("EXECUTE q").to_arrow_table()
