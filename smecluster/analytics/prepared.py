"""Small queries asked again and again (one firm's facts, its tiers, its indicator values): the SQL
prepared once over temporary tables that each call refills.

The tier SQL is tens of kilobytes over hundreds of columns. A diagnosis used to open a DuckDB
database per query and have it parse, bind and plan the text (twice: the relation layer binds it
to describe the result, then runs it); over one row that was nearly all the cost. Here a small pool
keeps DuckDB connections (a few per query text and input schema, least recently used dropped; one
thread uses a connection at a time), each holding the inputs as temporary tables of the callers'
exact column types and the query as a prepared statement. A call empties and refills the tables
(inserting the same Arrow columns the query would otherwise scan) and executes the statement: the
same SQL over the same rows, so the same answer. (DuckDB still rebinds the statement on EXECUTE,
about 20 ms for the tier SQL; the rest of the old cost is gone: 66 -> 28 ms CPU per tier query.)

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
# Query texts kept (least recently used dropped), and idle connections kept per query: a connection
# serves one thread at a time, so a few cover the web server's concurrent diagnoses.
KEEP_QUERIES, KEEP_IDLE = 8, 4

_lock = threading.Lock()
_idle: OrderedDict[tuple, list[duckdb.DuckDBPyConnection]] = OrderedDict()


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


def _check_out(key: tuple, sql: str, inputs: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    with _lock:
        idle = _idle.get(key)
        if idle:
            _idle.move_to_end(key)
            return idle.pop()
    return _prepare(sql, inputs)


def _check_in(key: tuple, con: duckdb.DuckDBPyConnection) -> None:
    dropped: list[duckdb.DuckDBPyConnection] = []
    with _lock:
        idle = _idle.setdefault(key, [])
        _idle.move_to_end(key)
        (idle if len(idle) < KEEP_IDLE else dropped).append(con)
        while len(_idle) > KEEP_QUERIES:
            dropped += _idle.popitem(last=False)[1]
    for old in dropped:
        old.close()


def run_small(sql: str, inputs: dict[str, pa.Table]) -> pa.Table:
    """The result of `sql` over the named Arrow tables: through a prepared statement when every input
    is small, else by compiling the query over the tables as they stand."""
    if not _preparable(inputs):
        con = duckdb.connect()
        for name, table in inputs.items():
            con.register(name, table)
        try:
            return con.sql(sql).to_arrow_table()
        finally:
            con.close()
    key = _signature(sql, inputs)
    con = _check_out(key, sql, inputs)
    try:
        for name, table in inputs.items():
            con.execute(f'DELETE FROM "{name}"')
            if table.num_rows:
                con.register("_input", table)
                con.execute(f'INSERT INTO "{name}" SELECT * FROM _input')
                con.unregister("_input")
        result = con.sql("EXECUTE q").to_arrow_table()
    except BaseException:
        con.close()  # its tables may hold a half-refilled input: never reused
        raise
    _check_in(key, con)
    return result
