"""The versioned columnar snapshot of the registry: one Parquet file per registry table on disk.

Province-wide questions (every firm's tiers, every cluster, targets, discovery) read these columns
through DuckDB instead of reading millions of rows from the database. The snapshot records the
registry's (registry_id, version) it was read at (smecluster.registry.version); `current_snapshot`
uses it only while the database still holds that version, and otherwise rebuilds it first, so a
verdict never comes from stale columns. Questions about one firm read the database directly, with
the firm's key in the SQL.

Building reads each table in bulk and streams it into Parquet in a child process: SQLite through ADBC
(Arrow record batches; in a process of its own because a second SQLite library in a process breaks
the other's POSIX locks), PostgreSQL through COPY to a temporary CSV file read back by Arrow's
streaming CSV reader. The parent's memory stays that of a small process.

Layout: `<root>/<registry_id>-<version>-<random>/<table>.parquet` plus `meta.json`, and
`<root>/CURRENT` naming the live directory (replaced atomically; older directories are removed).
Root: `SMECLUSTER_SNAPSHOT_DIR/<hash of the URL>` if set, else beside a SQLite file
(`registry.db.snapshot/`), else `~/.cache/smecluster/snapshots/<hash of the URL>`.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import BigInteger, Boolean, Date, Engine, Float, Integer, SmallInteger, func, select

from smecluster.analytics.snapshot_files import (  # noqa: F401  (re-exported: the snapshot's public names)
    FORMAT,
    SCHEMA_FILES,
    StoredSnapshot,
    _live,
    _matches,
    live_snapshot,
    root_of,
    schema_key,
)
from smecluster.registry.version import REGISTRY_TABLES, current_version

# Below this many enterprises the database answers every question directly and fast; no snapshot.
MIN_FIRMS_ENV = "SMECLUSTER_SNAPSHOT_MIN_FIRMS"
DEFAULT_MIN_FIRMS = 100_000
BATCH_ROWS = 262_144


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a registry table, from its SQLAlchemy columns (new columns included)."""
    import smecluster.registry.models  # noqa: F401  (the registry tables on Base.metadata; not the
    import smecluster.registry.profile  # noqa: F401   accounts or workflow models: a diagnosis skips them)
    from smecluster.db import Base

    fields = []
    for col in Base.metadata.tables[table].columns:
        t = col.type
        if isinstance(t, Boolean):
            typ = pa.bool_()
        elif isinstance(t, Date):
            typ = pa.date32()
        elif isinstance(t, Float):
            typ = pa.float64()
        elif isinstance(t, SmallInteger):
            typ = pa.int16()
        elif isinstance(t, BigInteger):
            typ = pa.int64()
        elif isinstance(t, Integer):
            typ = pa.int32() if col.name == "year" else pa.int64()
        else:  # strings, text and JSON (kept as its text)
            typ = pa.string()
        fields.append(pa.field(col.name, typ))
    return pa.schema(fields)


def snapshot_root(engine: Engine) -> Path:
    """Where the snapshots of this database live."""
    url = engine.url
    return root_of(url.render_as_string(hide_password=False),
                   url.database if url.get_backend_name() == "sqlite" else None)


def min_firms() -> int:
    """The registry size from which province-wide questions use the snapshot."""
    return int(os.environ.get(MIN_FIRMS_ENV, DEFAULT_MIN_FIRMS))


def current_snapshot(engine: Engine, refresh: bool = True, force: bool = False) -> StoredSnapshot | None:
    """The snapshot at the registry's current version, rebuilt first if it is older (or `refresh=False`: None).

    None too when the registry is small (below `min_firms()`, unless `force`) or not migrated: the
    caller then reads the database directly, filters in the SQL.
    """
    version = current_version(engine)
    if version is None:
        return None
    root = snapshot_root(engine)
    live = _live(root)
    if live and _matches(live[1], version):
        return StoredSnapshot(live[0], *version)
    if not force:
        with engine.connect() as conn:
            # a bounded count: the question is only whether there are at least min_firms() firms
            from smecluster.registry.models import Enterprise

            few = select(Enterprise.uscc).limit(min_firms()).subquery()
            if conn.execute(select(func.count()).select_from(few)).scalar() < min_firms():
                return None
    if not refresh:
        return None
    return build_snapshot(engine)


def build_snapshot(engine: Engine) -> StoredSnapshot:
    """Write a snapshot of the registry now (in a child process) and make it the live one."""
    root = snapshot_root(engine)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time; the others then find it current
        version = current_version(engine)
        live = _live(root)
        if live and _matches(live[1], version):
            return StoredSnapshot(live[0], *version)
        write_in_child(engine.url.render_as_string(hide_password=False), root)
        live = _live(root)
        if live is None:
            raise RuntimeError(f"building the registry snapshot left no snapshot in {root}")
        return StoredSnapshot(live[0], live[1]["registry_id"], live[1]["version"])


def write_in_child(url: str, root: Path) -> None:
    """`write_snapshot(url, root)` in a child process: the memory a province's columns took (gigabytes at
    4 million firms) goes back to the system when it ends. RuntimeError with the child's error output."""
    done = subprocess.run([sys.executable, "-m", "smecluster.analytics.stored_snapshot", url, str(root)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"building the registry snapshot failed: {done.stderr.strip()[-2000:]}")


def _typed_value(typ: pa.DataType) -> str:
    """An SQLite literal of the kind a column of Arrow type `typ` holds (text, integer or real)."""
    if pa.types.is_string(typ) or pa.types.is_date(typ):
        return "''"
    return "0.0" if pa.types.is_floating(typ) else "0"


def _sqlite_batches(path: str, table: str, schema: pa.Schema):
    """A table's rows in Arrow batches of the snapshot's schema.

    ADBC types each result column by the values of the first batch, and a column NULL throughout it (a
    text column filled in a few rows only, such as the reported names of planted doubtful figures)
    became an integer column that failed on the first text further on. So the query starts with one
    marked row holding a value of each column's kind, dropped from what is yielded.
    """
    import adbc_driver_sqlite.dbapi as adbc

    typed = ", ".join(f"{_typed_value(f.type)} AS {f.name}" for f in schema)
    columns = ", ".join(schema.names)
    with adbc.connect(path) as raw, raw.cursor() as cur:
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(BATCH_ROWS)})
        cur.execute(f"SELECT 0 AS _stored, {typed} UNION ALL SELECT 1, {columns} FROM {table}")
        first = True
        for batch in cur.fetch_record_batch():
            rows = pa.Table.from_batches([batch])
            if first:  # UNION ALL gives the marked row first
                if rows.num_rows == 0 or rows.column(0)[0].as_py() != 0:
                    raise RuntimeError(f"{table}: the typed first row is not first")
                rows, first = rows.slice(1), False
            yield rows.drop_columns(["_stored"]).cast(schema, safe=False)



# The order the firm tables are written in when the database does not keep it (PostgreSQL's heap after a
# bulk load in parts): the data-quality sweep reads firms in uscc order and yearly rows in (uscc, year)
# order by position (smecluster.quality.sweep; byte order, as Polars compares). SQLite's tables are read
# in their stored order, which the bulk loader writes sorted.
SNAPSHOT_ORDER = {"enterprise": 'uscc COLLATE "C"', "enterprise_year": 'uscc COLLATE "C", year',
                  "enterprise_profile": 'year, uscc COLLATE "C"'}


def _postgres_batches(url: str, table: str, schema: pa.Schema, tmp: Path):
    import pyarrow.csv as pacsv

    from smecluster.dbapi import connect

    csv_path = tmp / f"{table}.csv"
    order = f" ORDER BY {SNAPSHOT_ORDER[table]}" if table in SNAPSHOT_ORDER else ""
    # dbapi.connect hands the URL's query to libpq decoded: a rendered URL writes a space in `options`
    # ("-c search_path=x -c ...") as "+", which libpq would read as part of the value
    with connect(url) as conn, conn.cursor() as cur, open(csv_path, "wb") as out:
        if order:
            cur.execute("SET work_mem = '256MB'")  # the sort in memory, not in temporary files
        with cur.copy(f"COPY (SELECT {', '.join(schema.names)} FROM {table}{order}) TO STDOUT (FORMAT csv)") as copy:
            for chunk in copy:
                out.write(chunk)
    if csv_path.stat().st_size == 0:  # an empty table: Arrow's CSV reader refuses an empty file
        csv_path.unlink()
        return
    reader = pacsv.open_csv(
        csv_path,
        read_options=pacsv.ReadOptions(column_names=schema.names, block_size=32 << 20),
        convert_options=pacsv.ConvertOptions(
            column_types=schema, true_values=["t"], false_values=["f"], strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    for batch in reader:
        yield pa.Table.from_batches([batch]).cast(schema)
    csv_path.unlink()


def write_snapshot(url: str, root: Path) -> Path:
    """Read every registry table of `url` into a new snapshot directory under `root` and make it live.

    The version is read before the tables: rows written meanwhile can only make the snapshot newer
    than its label, and the next check then finds it stale and rebuilds it.
    """
    from smecluster.db import get_engine

    engine = get_engine(url)
    version = current_version(engine)
    if version is None:
        raise RuntimeError("the database has no registry_version table: run `smecluster db upgrade`")
    registry_id, number = version
    target = root / f"{registry_id}-{number}-{uuid.uuid4().hex[:8]}"
    target.mkdir(parents=True)
    started = time.perf_counter()
    rows = {}
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        for table in sorted(REGISTRY_TABLES):
            schema = arrow_schema(table)
            if engine.dialect.name == "sqlite":
                batches = _sqlite_batches(engine.url.database, table, schema)
            else:
                batches = _postgres_batches(url, table, schema, Path(tmp))
            rows[table] = 0
            with pq.ParquetWriter(target / f"{table}.parquet", schema, compression="zstd") as writer:
                for part in batches:
                    writer.write_table(part, row_group_size=BATCH_ROWS)
                    rows[table] += part.num_rows
    meta = {"format": FORMAT, "schema": schema_key(), "registry_id": registry_id, "version": number, "rows": rows,
            "seconds": round(time.perf_counter() - started, 2)}
    (target / "meta.json").write_text(json.dumps(meta))
    pointer = root / f".CURRENT.{uuid.uuid4().hex[:8]}"
    pointer.write_text(target.name)
    os.replace(pointer, root / "CURRENT")
    for old in root.iterdir():  # keep the live one, and any a reader may have opened in the last minute
        stale = old.is_dir() and old != target and old.name.count("-") == 2
        if stale and old.stat().st_mtime < target.stat().st_mtime - 60:
            shutil.rmtree(old, ignore_errors=True)
    return target


if __name__ == "__main__":
    write_snapshot(sys.argv[1], Path(sys.argv[2]))
