"""`smecluster export parquet DIR`: the registry as a Parquet registry (layout: registry.parquet_layout).

The tables are read through the columnar snapshot (stored_snapshot: built in a child process, in bulk),
each row given its province by DuckDB (own region column, or its enterprise's or cluster's county),
and written in batches, so the parent's memory stays bounded by one batch.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import Engine, inspect

from smecluster.registry.parquet_layout import TABLES, ParquetLayoutError, finish, table_schema, write_rows

BATCH_ROWS = 4_000_000

# The firm key (layout 2): the rank of the firm's credit code, so firm order is credit-code order.
_FIRMS = "(SELECT uscc, county_code, ROW_NUMBER() OVER (ORDER BY uscc) AS firm FROM enterprise)"
# The SQL adding the province (and the firm key) to each table's rows ({cols}: the table's columns as t.col).
_PROVINCE_SQL = {
    "region": "SELECT {cols}, LEFT(t.code, 2) AS province FROM region t",
    "enterprise": "SELECT ROW_NUMBER() OVER (ORDER BY t.uscc) AS firm, {cols}, LEFT(t.county_code, 2) AS province "
                  "FROM enterprise t",
    "platform": "SELECT {cols}, LEFT(t.county_code, 2) AS province FROM platform t",
    "cluster": "SELECT {cols}, LEFT(t.county_code, 2) AS province FROM cluster t",
    "enterprise_year": "SELECT e.firm, {cols}, LEFT(e.county_code, 2) AS province FROM enterprise_year t "
                       f"LEFT JOIN {_FIRMS} e ON e.uscc = t.uscc",
    "enterprise_profile": "SELECT e.firm, {cols}, LEFT(e.county_code, 2) AS province FROM enterprise_profile t "
                          f"LEFT JOIN {_FIRMS} e ON e.uscc = t.uscc",
    "designation": "SELECT e.firm, {cols}, LEFT(e.county_code, 2) AS province FROM designation t "
                   f"LEFT JOIN {_FIRMS} e ON e.uscc = t.uscc",
    "cluster_year": "SELECT {cols}, LEFT(c.county_code, 2) AS province FROM cluster_year t "
                    "LEFT JOIN cluster c ON c.id = t.cluster_id",
    "cluster_member": "SELECT {cols}, LEFT(c.county_code, 2) AS province FROM cluster_member t "
                      "LEFT JOIN cluster c ON c.id = t.cluster_id",
    "industry": "SELECT {cols} FROM industry t",
}


def export_parquet(engine: Engine, root: Path, force: bool = False) -> dict[str, int]:
    """Write the registry under `root` (a new or empty folder; `force`: replace what is there) and
    return the rows written per table."""
    import pyarrow as pa

    from smecluster.analytics.engines import DuckDBEngine
    from smecluster.analytics.stored_snapshot import current_snapshot
    from smecluster.registry.version import current_version

    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        if not force:
            raise ParquetLayoutError(f"{root}: exists and is not an empty folder (give --force to replace it)")
        if root.is_dir():
            shutil.rmtree(root)
        else:
            root.unlink()
    version = current_version(engine)
    if version is None:
        raise ParquetLayoutError("the database has no registry_version table: run `smecluster db upgrade`")
    stored = current_snapshot(engine, force=True)  # the registry's tables as Parquet, read in bulk
    root.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    reader = DuckDBEngine(stored.connect())
    try:
        for table, query in _PROVINCE_SQL.items():
            names = table_schema(table).names
            sql = query.format(cols=", ".join(f't."{c}"' for c in names))
            batches = reader.con.sql(sql).to_arrow_reader(BATCH_ROWS)
            rows[table] = 0
            for part, batch in enumerate(batches):
                chunk = pa.Table.from_batches([batch])
                write_rows(root, table, chunk, part=part)
                rows[table] += chunk.num_rows
    finally:
        reader.close()
    rows["chain_document"] = _chain_documents(engine, root)
    assert set(rows) == set(TABLES), sorted(set(TABLES) ^ set(rows))
    finish(root, {"registry_id": version[0], "version": version[1]})
    return rows


def _chain_documents(engine: Engine, root: Path) -> int:
    """The imported chain documents (the chain-system indicator reads them beside the shipped ones)."""
    import pyarrow as pa

    if "chain_document" not in inspect(engine).get_table_names():
        return 0
    from smecluster.analytics.reader import read_frame
    from smecluster.registry.parquet_layout import file_schema

    schema = file_schema("chain_document")
    frame = read_frame(engine, f"SELECT {', '.join(schema.names)} FROM chain_document")
    if frame.height == 0:
        return 0
    table = frame.to_arrow()
    table = pa.table({n: table.column(n).cast(f.type) if n in table.column_names else pa.nulls(len(table), f.type)
                      for n, f in zip(schema.names, schema, strict=True)})
    write_rows(root, "chain_document", table)
    return table.num_rows

