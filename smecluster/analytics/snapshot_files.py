"""The registry snapshot's files on disk: where they live, which one is live, and keyed reads of them.

The light half of smecluster.analytics.stored_snapshot (which builds snapshots and checks them against
the database through SQLAlchemy): this module imports neither SQLAlchemy nor the models, so a short
command that reads one firm's kept rows (`diagnose`) pays only for PyArrow's Parquet reader.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    import duckdb

FORMAT = 1


@dataclass(frozen=True)
class StoredSnapshot:
    """A snapshot directory known to match the registry's version when it was checked."""

    path: Path
    registry_id: str
    version: int

    def file(self, table: str) -> Path:
        """The Parquet file of a registry table."""
        return self.path / f"{table}.parquet"

    def cached(self, name: str, compute: Callable[[], pa.Table], row_group_size: int = 65_536,
               compression: str = "zstd", lookup_key: str | None = None) -> pa.Table:
        """A table derived from this snapshot alone (e.g. a year's facts), computed once and kept beside it.

        `lookup_key`: the table is sorted by this column and read by `lookup`; a copy is kept as an Arrow
        IPC file too (`<name>.arrow`, batches of `row_group_size` rows, each batch's first key in the
        schema's metadata): opening it reads a small footer, where the Parquet footer of a 4M-row table in
        small row groups is 2-5 MB to decode (20-60 ms of a diagnosis)."""
        path = self.path / f"{name}.parquet"
        if path.exists():
            return pq.read_table(path)
        table = compute()
        if lookup_key is not None:
            _write_lookup(table, self.path / f"{name}.arrow", lookup_key, row_group_size)
        part = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
        # row groups of 64Ki rows: a county's rows (credit codes carry the county code, so sorted by
        # code they lie together) are read by skipping the other groups on their statistics
        pq.write_table(table, part, compression=compression, row_group_size=row_group_size)
        os.replace(part, path)  # readers see the whole file or none
        return table

    def has(self, name: str) -> bool:
        """Whether a table `cached` is kept under this name."""
        return (self.path / f"{name}.parquet").exists()

    def lookup(self, name: str, column: str, value: str) -> pa.Table | None:
        """The rows of a kept table sorted by `column` whose `column` equals `value` (None if none is
        kept): only the row groups whose statistics can hold the value are read (usually one), or the
        one batch of its keyed IPC copy that can (see `cached`)."""
        found = _ipc_lookup(self.path / f"{name}.arrow", column, value)
        if found is not None:
            return found
        path = self.path / f"{name}.parquet"
        try:
            meta, lows, highs = _sorted_groups(str(path), column)
        except (OSError, ValueError):  # not kept (or not readable as kept): the caller computes instead
            return None
        # sorted: the groups that may hold the value are contiguous, ending at the last low <= value
        last = bisect.bisect_right(lows, value) - 1
        groups = []
        for g in range(last, -1, -1):
            if highs[g] < value:
                break
            groups.insert(0, g)
        reader = pq.ParquetFile(path, metadata=meta, memory_map=True)
        if not groups:
            return reader.schema_arrow.empty_table()
        table = reader.read_row_groups(groups)
        # the rows are sorted by `column`: bisect its values in Python (Arrow's compare of a Python str
        # builds a scalar, which imports pandas: 0.3-0.6 s of a diagnosis)
        keys = table.column(column).to_pylist()
        first = bisect.bisect_left(keys, value)
        return table.slice(first, bisect.bisect_right(keys, value, lo=first) - first)

    def kept(self, name: str, filters: list[tuple] | None = None) -> pa.Table | None:
        """A table `cached` kept (only the rows passing `filters`, in their order), or None if none is.

        Equality filters `(column, "=", value)` read only the row groups whose statistics may hold the
        value and filter those rows with Polars; Parquet's dataset reader (what `pq.read_table` uses
        for filters) imports pandas, ~0.2-0.3 s of a county's command. Other filters go to it."""
        path = self.path / f"{name}.parquet"
        try:
            reader = pq.ParquetFile(path, memory_map=True)
        except FileNotFoundError:
            return None
        if not filters:
            return reader.read()
        if any(op != "=" for _, op, _ in filters):
            return pq.read_table(path, filters=filters)
        meta, schema = reader.metadata, reader.schema_arrow
        groups = [g for g in range(meta.num_row_groups) if all(
            _may_hold(meta.row_group(g).column(schema.get_field_index(c)).statistics, v) for c, _, v in filters)]
        table = reader.read_row_groups(groups) if groups else schema.empty_table()
        import polars as pl  # filters a few row groups; imported by every caller of a county's rows anyway

        condition = pl.all_horizontal([pl.col(c) == v for c, _, v in filters])
        return pl.from_arrow(table).filter(condition).to_arrow().cast(schema)

    def newest_year(self) -> int | None:
        """The newest data year of `enterprise_year` (from the file's statistics: no rows read)."""
        return _newest_year(str(self.file("enterprise_year")))

    def connect(self, memory_limit: str = "2GB") -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with one view per registry table, named as the table."""
        import duckdb  # not on the keyed-lookup path (a diagnosis)

        from smecluster.registry.version import REGISTRY_TABLES

        con = duckdb.connect(config={"memory_limit": memory_limit})
        con.execute("SET enable_progress_bar = false")
        for table in REGISTRY_TABLES:
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{self.file(table)}')")
        return con


LOOKUP_META = b"smecluster.lookup"


def _may_hold(stats, value: object) -> bool:
    """Whether a row group whose column has these statistics may hold `value` (True without them)."""
    if stats is None or not stats.has_min_max:
        return True
    return stats.min <= value <= stats.max


def _write_lookup(table: pa.Table, path: Path, column: str, batch_rows: int) -> None:
    """The keyed IPC copy of a table sorted by `column` (see StoredSnapshot.cached), written atomically."""
    keys = table.column(column)
    first = [keys[i].as_py() for i in range(0, table.num_rows, batch_rows)]
    meta = {LOOKUP_META: json.dumps({"column": column, "first": first}).encode()}
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    options = pa.ipc.IpcWriteOptions(compression="lz4")
    schema = table.schema.with_metadata(meta)
    with pa.OSFile(str(part), "wb") as sink, pa.ipc.new_file(sink, schema, options=options) as w:
        for batch in table.to_batches(max_chunksize=batch_rows):
            w.write_batch(batch)
    os.replace(part, path)


def _ipc_lookup(path: Path, column: str, value: str) -> pa.Table | None:
    """The rows whose `column` equals `value` from a keyed IPC copy, or None when there is none for
    that column. Batches are in key order: the rows lie in the batch whose first key is the last <=
    `value` (and the ones before it whose first key is `value`), or run on from the batch before them."""
    try:
        reader = pa.ipc.open_file(pa.memory_map(str(path)))
    except (OSError, pa.ArrowInvalid):
        return None
    index = json.loads((reader.schema.metadata or {}).get(LOOKUP_META, b"null"))
    if not index or index["column"] != column or len(index["first"]) != reader.num_record_batches:
        return None
    first = index["first"]
    batches = [reader.get_batch(g) for g in range(max(bisect.bisect_left(first, value) - 1, 0),
                                                   bisect.bisect_right(first, value))]
    table = pa.Table.from_batches(batches, schema=reader.schema)
    keys = table.column(column).to_pylist()  # bisect in Python (see lookup: no Arrow scalar of a str)
    start = bisect.bisect_left(keys, value)
    return table.slice(start, bisect.bisect_right(keys, value, lo=start) - start).replace_schema_metadata(None)


@lru_cache(maxsize=32)
def _sorted_groups(path: str, column: str) -> tuple[pq.FileMetaData, list, list]:
    """A kept file's footer and each row group's lowest and highest `column` value (read once per
    file: a snapshot's files never change, a new version is a new directory)."""
    meta = pq.read_metadata(path, memory_map=True)
    index = meta.schema.to_arrow_schema().get_field_index(column)
    lows, highs = [], []
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(index).statistics
        if stats is None or not stats.has_min_max:
            raise ValueError(f"{path}: row group {g} has no statistics for {column}")
        lows.append(stats.min)
        highs.append(stats.max)
    if lows != sorted(lows):
        raise ValueError(f"{path} is not sorted by {column}")
    return meta, lows, highs


@lru_cache(maxsize=8)
def _newest_year(path: str) -> int | None:
    meta = pq.read_metadata(path)
    index = meta.schema.to_arrow_schema().get_field_index("year")
    years = [meta.row_group(g).column(index).statistics for g in range(meta.num_row_groups)]
    if any(s is None or not s.has_min_max for s in years):
        import pyarrow.compute as pc  # not on the keyed-lookup path

        return int(pc.max(pq.read_table(path, columns=["year"])["year"]).as_py() or 0) or None
    return max((s.max for s in years), default=None)


def root_of(url: str, sqlite_file: str | None) -> Path:
    """Where the snapshots of the database at `url` (as SQLAlchemy renders it, password included) live;
    `sqlite_file`: the database file of a SQLite URL (None for other databases or in memory)."""
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    if os.environ.get("SMECLUSTER_SNAPSHOT_DIR"):
        return Path(os.environ["SMECLUSTER_SNAPSHOT_DIR"]) / key
    if sqlite_file and sqlite_file != ":memory:":
        return Path(sqlite_file).resolve().with_name(Path(sqlite_file).name + ".snapshot")
    return Path.home() / ".cache" / "smecluster" / "snapshots" / key


# The files that declare the registry tables' columns (the models) and how they are written.
SCHEMA_FILES = ("registry/models.py", "registry/profile.py", "analytics/stored_snapshot.py")


@lru_cache(maxsize=1)
def schema_key() -> str:
    """A hash of the code that declares and writes the registry tables' columns: a migration that adds
    or renames a column changes it, and a snapshot written before must not be read (its files lack the
    column, while the registry's version, counting registry writes, did not move).

    The files' bytes, not the columns they declare: importing the models (SQLAlchemy's ORM building
    every class) cost ~50 ms of a diagnosis that needs nothing else of them. Any edit of these files
    makes the snapshots be written anew once.
    """
    package = Path(__file__).parent.parent
    digest = hashlib.sha256()
    for name in SCHEMA_FILES:
        digest.update(name.encode() + b"\0" + (package / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _live(root: Path) -> tuple[Path, dict] | None:
    try:
        name = (root / "CURRENT").read_text().strip()
        meta = json.loads((root / name / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    return root / name, meta


def _matches(meta: dict, version: tuple[str, int] | None) -> bool:
    """Whether a snapshot's meta says it holds this registry version, in this format and schema."""
    return (version is not None and (meta["registry_id"], meta["version"]) == version
            and meta.get("format") == FORMAT and meta.get("schema") == schema_key())




def live_snapshot(root: Path, version: tuple[str, int] | None) -> StoredSnapshot | None:
    """The live snapshot under `root` if it holds registry `version` (in this format and schema), else None."""
    live = _live(root)
    if live and _matches(live[1], version):
        return StoredSnapshot(live[0], *version)
    return None
