"""PostgreSQL first load of several empty tables over several connections, still all or nothing.

One connection is one transaction on one server core: COPY, the key and index builds, the foreign-key
validation and ANALYZE of 36M rows ran one after another (the 4M demo registry: ~140 s of server CPU
on one backend while the other core idled). Here each table is built in a scratch schema of this load
(`bulk_load_<random>`) by a connection of its own, with the same per-table loader as every first load
(`_PostgreSQL.append`: COPY in binary, keys and indexes built after it, foreign keys validated once,
ANALYZE), two at a time, and committed there: nothing reads that schema. Foreign keys between the loaded
tables are added (validated) once the parent is loaded. Then the caller's transaction swaps them in:
the empty tables are dropped and the loaded ones moved into their schema (`ALTER TABLE ... SET SCHEMA`,
a catalog change: no row is written twice), sequences and the foreign keys of other tables pointing at
them are carried over, and the registry version is bumped. Until the caller commits nobody sees a row;
if it rolls back, the empty tables are back and the scratch schema is left over, to be dropped by the
next load (an advisory lock held by the caller's transaction tells a live scratch schema from an
abandoned one). Decision 2001.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from smecluster.registry.version import BUMP_SQL, VERSIONED_TABLES

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from sqlalchemy import Connection

PREFIX = "bulk_load_"
CONNECTIONS_ENV = "SMECLUSTER_LOAD_CONNECTIONS"
DEFAULT_CONNECTIONS = 2


def connections() -> int:
    """How many connections load at once (`$SMECLUSTER_LOAD_CONNECTIONS`, default 2; 1: one transaction)."""
    return max(1, int(os.environ.get(CONNECTIONS_ENV, DEFAULT_CONNECTIONS)))


def usable(conn: Connection, tables: list) -> bool:
    """Whether this load goes through scratch tables: several tables, more than one connection, and a
    caller's transaction at READ COMMITTED (a later snapshot must see the rows committed meanwhile) that
    has written nothing yet (its row locks could make a loading connection wait for it while it waits
    for that connection: a deadlock the server cannot see)."""
    if len(tables) < 2 or connections() < 2:
        return False
    with conn.connection.driver_connection.cursor() as cur:
        isolation, written = cur.execute(
            "SELECT current_setting('transaction_isolation'), pg_current_xact_id_if_assigned() IS NOT NULL"
        ).fetchone()
    return isolation == "read committed" and not written


def _side(url: str, search_path: str):
    """A connection of its own (autocommit) whose unqualified names are looked up in `search_path`."""
    from smecluster import dbapi

    side = dbapi.connect(url)
    side.execute(f"SET search_path TO {search_path}")
    return side


def _drop_abandoned(url: str) -> None:
    """Drop scratch schemas whose load's transaction has ended (a rolled-back or killed load's)."""
    with _side(url, "public") as side:
        names = [r[0] for r in side.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (PREFIX.replace("_", r"\_") + "%",))]
        for name in names:
            with side.transaction():
                if side.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", (name,)).fetchone()[0]:
                    side.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _constraints(cur, table: str, kinds: str) -> list[tuple[str, str, str, str]]:
    """(name, owner table, definition, referenced table) of `table`'s constraints of these kinds."""
    return cur.execute(
        "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid), "
        "coalesce(confrelid::regclass::text, '') FROM pg_constraint "
        f"WHERE conrelid = CAST(%s AS regclass) AND contype IN ({kinds}) ORDER BY conname", (table,),
    ).fetchall()


def _prepare(cur, target: str, scratch: str, names: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Create each table in the scratch schema as the target declares it (columns, defaults, checks,
    key, unique constraints, indexes, foreign keys to tables not loaded), all empty; returns per table
    the foreign keys to loaded tables, added once both are loaded. The definitions are read first, with
    the target schema alone on the search path (they then name its tables unqualified)."""
    cur.execute(f'SET LOCAL search_path TO "{target}"')
    declared = {}
    for table in names:
        keys = _constraints(cur, table, "'p', 'u'")
        indexes = cur.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = CAST(%s AS regclass))", (target, table, table),
        ).fetchall()
        declared[table] = (keys, [d for (d,) in indexes], _constraints(cur, table, "'f'"))
    cur.execute(f'SET LOCAL search_path TO "{scratch}", "{target}"')
    later: dict[str, list[tuple[str, str]]] = {}
    for table, (keys, indexes, foreign) in declared.items():
        cur.execute(f'CREATE TABLE "{scratch}".{table} (LIKE "{target}".{table} INCLUDING ALL EXCLUDING INDEXES)')
        for name, _, definition, _ in keys:
            cur.execute(f'ALTER TABLE "{scratch}".{table} ADD CONSTRAINT "{name}" {definition}')
        for definition in indexes:
            on = f" ON {target}.{table} "
            if on not in definition:
                raise ValueError(f"unexpected index definition of {table}: {definition}")
            cur.execute(definition.replace(on, f' ON "{scratch}".{table} ', 1))
        later[table] = []
        for name, _, definition, parent in foreign:
            if parent in names:  # resolved to the scratch table when added
                later[table].append((name, definition))
            else:
                cur.execute(f'ALTER TABLE "{scratch}".{table} ADD CONSTRAINT "{name}" {definition}')
    return later


def _load_one(url: str, path: str, table: str, load, fks: list[tuple[str, str]], parents: dict[str, Future]) -> int:
    """Load one scratch table on a connection of its own (`load(cursor)`: the first-load path of every
    empty table, `store._first_load`), commit, then add its foreign keys to the other loaded tables once
    those are loaded."""
    with _side(url, path) as side:
        with side.transaction():
            written = load(side.cursor())
        for name, definition in fks:
            for parent, job in parents.items():
                if f"REFERENCES {parent}(" in definition:
                    job.result()  # its rows committed in the scratch schema
            with side.transaction():  # validated in one pass, as a first load's foreign keys are
                side.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    return written


def _swap(cur, target: str, scratch: str, names: list[str]) -> None:
    """In the caller's transaction: the loaded tables replace the empty ones (see the module's text)."""
    qualified = [f'"{target}".{t}' for t in names]
    oids = "ARRAY[" + ", ".join(f"CAST('{q}' AS regclass)" for q in qualified) + "]"
    if any(t in VERSIONED_TABLES for t in names):
        cur.execute(BUMP_SQL)
    outside = cur.execute(
        "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE contype = 'f' AND confrelid = ANY({oids}) AND NOT conrelid = ANY({oids}) ORDER BY conname"
    ).fetchall()
    for name, owner, _ in outside:
        cur.execute(f'ALTER TABLE {owner} DROP CONSTRAINT "{name}"')
    owned = cur.execute(
        "SELECT d.objid::regclass::text, c.relname, a.attname FROM pg_depend d "
        "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' JOIN pg_class c ON c.oid = d.refobjid "
        "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
        f"WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'a' AND d.refobjid = ANY({oids})"
    ).fetchall()
    for sequence, _, _ in owned:
        cur.execute(f"ALTER SEQUENCE {sequence} OWNED BY NONE")
    cur.execute(f"DROP TABLE {', '.join(qualified)}")
    for table in names:
        cur.execute(f'ALTER TABLE "{scratch}".{table} SET SCHEMA "{target}"')
    for sequence, table, column in owned:
        cur.execute(f'ALTER SEQUENCE {sequence} OWNED BY "{target}".{table}.{column}')
    for name, owner, definition in outside:
        cur.execute(f'ALTER TABLE {owner} ADD CONSTRAINT "{name}" {definition}')
    cur.execute(f'DROP SCHEMA "{scratch}"')


def scratch_load(conn: Connection, tables: Iterable[tuple[str, Callable[[object], int]]]) -> dict[str, int]:
    """First load of empty tables in the caller's PostgreSQL transaction `conn`, built over
    `connections()` connections in a scratch schema and swapped in; rows written per table. `tables`:
    (table, load) in an order where a table comes after the tables it refers to; `load(cursor)` writes
    the table's rows through that cursor (whose search path finds the scratch table first) and returns
    how many (`store.bulk_load` gives its first-load path)."""
    tables = list(tables)
    names = [t for t, _ in tables]
    url = conn.engine.url.render_as_string(hide_password=False)
    cur = conn.connection.driver_connection.cursor()
    target = cur.execute("SELECT current_schema()").fetchone()[0]
    for table in names:
        if cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]:
            raise ValueError(f"bulk_load writes empty tables only; {table} has rows")
    scratch = f"{PREFIX}{uuid.uuid4().hex[:12]}"
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (scratch,))  # ours until the caller ends
    _drop_abandoned(url)
    path = f'"{scratch}", "{target}"'
    done = False
    try:
        with _side(url, path) as side, side.transaction():
            side.execute(f'CREATE SCHEMA "{scratch}"')  # created and filled by connections of this load
            later = _prepare(side.cursor(), target, scratch, names)
        jobs: dict[str, Future] = {}
        with ThreadPoolExecutor(connections()) as pool:
            try:
                for table, load in tables:  # in order: a parent is started before its children
                    parents = {t: jobs[t] for t in jobs}
                    jobs[table] = pool.submit(_load_one, url, path, table, load, later[table], parents)
                counts = {table: jobs[table].result() for table in names}
            except BaseException:
                for job in jobs.values():
                    job.cancel()
                raise
        cur.execute("SAVEPOINT bulk_load_swap")
        try:
            _swap(cur, target, scratch, names)
        except BaseException:
            cur.execute("ROLLBACK TO SAVEPOINT bulk_load_swap")  # releases its locks on the scratch tables
            raise
        cur.execute("RELEASE SAVEPOINT bulk_load_swap")
        done = True
        return counts
    finally:
        if not done:
            with _side(url, "public") as side:
                side.execute(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE')
