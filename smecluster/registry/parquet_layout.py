"""The Parquet registry layout (format "smecluster-parquet", layout 2): a contract between writers
(`smecluster export parquet`, the national synthetic generator) and readers (`--from DIR`).

    DIR/manifest.json
    DIR/<table>/province=<PP>/year=<YYYY>/part-<n>.parquet   tables with a region and a year column
    DIR/<table>/province=<PP>/part-<n>.parquet               tables with a region, no year
    DIR/<table>/part-<n>.parquet                             tables with no region (industry, chain_document)

- One folder per registry table, named as the database table; the files hold the table's columns with
  the database's names and types (`arrow_schema`), less the partition columns, which live in the paths
  (Hive style; a NULL year is `year=__HIVE_DEFAULT_PARTITION__`).
- `province` is the 2-digit GB/T 2260 province code, as a string, of the row's region code: its own
  `code` (region), `county_code` (enterprise, platform, cluster), its enterprise's county (enterprise_year,
  enterprise_profile, designation, by `uscc`) or its cluster's county (cluster_year, cluster_member, by
  `cluster_id`: a member registered elsewhere lies with its cluster).
- `firm` (64-bit integer; layout 2): the firm's key in the files of enterprise, enterprise_year,
  enterprise_profile and designation, beside `uscc`: one number per credit code, the same in every table,
  ordered as the credit codes (firm a < firm b exactly when uscc a < uscc b), each file's rows in firm
  order. Engines join a firm's rows on it (an integer, not 18 characters of text) and sort by it.
- A table's folder exists even when it has no rows (no files in it then).
- `manifest.json`: {"format": "smecluster-parquet", "layout": 2, "registry_version": {"registry_id": str,
  "version": int} or null, "tables": {name: {"partition_by": [...]}}, "written_at": ISO 8601 UTC}.

Writers: `write_rows` for each chunk of a table (rows carrying a `province` column besides the table's
columns; `part` names the chunk so chunks never overwrite each other), then `finish`. Readers:
`open_registry` (checks the manifest and the folders, ParquetLayoutError naming what is wrong). A
layout-1 folder (written before the firm key) is still read: its firms are joined by credit code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

FORMAT = "smecluster-parquet"
LAYOUT = 2
LAYOUTS = (1, 2)  # the layouts this version reads (1: no firm key, joined by credit code)
FIRM = "firm"
# Tables whose files carry the firm key (layout 2): the firm's own rows, joined firm by firm.
KEYED = ("enterprise", "enterprise_year", "enterprise_profile", "designation")
MANIFEST = "manifest.json"
PROVINCE = "province"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"

# Every table the evaluation reads, and its partition columns.
TABLES: dict[str, tuple[str, ...]] = {
    "region": (PROVINCE,),
    "industry": (),
    "enterprise": (PROVINCE,),
    "enterprise_year": (PROVINCE, "year"),
    "enterprise_profile": (PROVINCE, "year"),
    "designation": (PROVINCE, "year"),
    "platform": (PROVINCE, "year"),
    "cluster": (PROVINCE, "year"),
    "cluster_year": (PROVINCE, "year"),
    "cluster_member": (PROVINCE,),
    "chain_document": (),
}
# Where a row's province comes from: its own region column, or its enterprise's / cluster's county.
REGION_OF: dict[str, str] = {
    "region": "code",
    "enterprise": "county_code",
    "platform": "county_code",
    "cluster": "county_code",
    "enterprise_year": "enterprise.county_code by uscc",
    "enterprise_profile": "enterprise.county_code by uscc",
    "designation": "enterprise.county_code by uscc",
    "cluster_year": "cluster.county_code by cluster_id",
    "cluster_member": "cluster.county_code by cluster_id",
}


class ParquetLayoutError(ValueError):
    """A folder that is not a Parquet registry of this layout (the message names the path and why)."""


def table_schema(table: str) -> pa.Schema:
    """The table's columns as in the database (names and types), partition columns included."""
    import smecluster.chains.models  # noqa: F401  (chain_document on Base.metadata)
    from smecluster.analytics.stored_snapshot import arrow_schema

    return arrow_schema(table)


def file_schema(table: str, layout: int = LAYOUT) -> pa.Schema:
    """The columns stored in a table's files: the firm key first (layout 2, keyed tables), then the
    table's, less the partition columns (in the paths)."""
    schema = table_schema(table)
    for col in TABLES[table]:
        if col in schema.names:
            schema = schema.remove(schema.get_field_index(col))
    if layout >= 2 and table in KEYED:
        schema = schema.insert(0, pa.field(FIRM, pa.int64()))
    return schema


def partition_schema(table: str) -> pa.Schema:
    """Types of the partition columns: province a string, year a 32-bit integer."""
    return pa.schema([pa.field(c, pa.string() if c == PROVINCE else pa.int32()) for c in TABLES[table]])


def province_of(codes: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The 2-digit province code of GB/T 2260 region codes (NULL stays NULL)."""
    return pc.utf8_slice_codeunits(codes, 0, 2)


def write_rows(root: Path | str, table: str, rows: pa.Table, part: int | str = 0) -> None:
    """Write rows of `table` (its columns, the firm key for a keyed table, plus a `province` column when
    partitioned) under `root`, one file per partition named `part-<part>-<i>.parquet` (`part-<i>.parquet`
    for part 0), rows in firm order; rows of another `part` never overwrite these."""
    import pyarrow.dataset as ds

    if table not in TABLES:
        raise ParquetLayoutError(f"{table}: not a table of the Parquet registry ({', '.join(TABLES)})")
    keys = TABLES[table]
    missing = [c for c in (*file_schema(table).names, *keys) if c not in rows.column_names]
    if missing:
        raise ParquetLayoutError(f"{table}: rows lack column(s) {', '.join(missing)}")
    target = partition_schema(table)
    full = pa.schema([*file_schema(table), *target])
    rows = rows.select(full.names).cast(full)
    if table in KEYED:
        rows = rows.sort_by(FIRM)
    folder = Path(root) / table
    folder.mkdir(parents=True, exist_ok=True)
    name = "part-{i}.parquet" if str(part) == "0" else f"part-{part}-{{i}}.parquet"
    ds.write_dataset(
        rows, folder, format="parquet", basename_template=name,
        partitioning=ds.partitioning(target, flavor="hive") if keys else None,
        existing_data_behavior="overwrite_or_ignore",
        file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
        max_rows_per_group=1 << 20, min_rows_per_group=1 << 16 if rows.num_rows > 1 << 16 else 0,
        preserve_order=True,  # files in key order (layout 2); the writer's threads may otherwise reorder rows
    )


def finish(root: Path | str, registry_version: dict | None = None) -> dict:
    """Create the folder of every table not written (no rows) and write the manifest; returns it."""
    root = Path(root)
    for table in TABLES:
        (root / table).mkdir(parents=True, exist_ok=True)
    manifest = {
        "format": FORMAT, "layout": LAYOUT, "registry_version": registry_version,
        "tables": {t: {"partition_by": list(keys)} for t, keys in TABLES.items()},
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (root / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


@dataclass(frozen=True)
class ParquetRegistry:
    """A checked Parquet registry folder."""

    root: Path
    manifest: dict

    @property
    def layout(self) -> int:
        """The layout the folder was written in (1 or 2)."""
        return int(self.manifest["layout"])

    @property
    def key(self) -> str:
        """The column a firm's rows are joined by: `firm` (layout 2) or `uscc` (layout 1)."""
        return FIRM if self.layout >= 2 else "uscc"

    def schema(self, table: str) -> pa.Schema:
        """The columns a reader gives for `table`: the firm key of a keyed table (layout 2), then the
        database's columns (partition columns included)."""
        schema = table_schema(table)
        return schema.insert(0, pa.field(FIRM, pa.int64())) if self.key == FIRM and table in KEYED else schema

    def columns(self, table: str) -> list[str]:
        """The names of `schema(table)`."""
        return self.schema(table).names

    def folder(self, table: str) -> Path:
        """A table's folder."""
        return self.root / table

    def files(self, table: str, provinces: Sequence[str] | None = None) -> list[Path]:
        """A table's Parquet files (none when the table has no rows); only the given provinces' for a
        table partitioned by province (the whole table's for one that is not)."""
        return sorted(f for folder in self._folders(table, provinces) for f in folder.rglob("*.parquet"))

    def _folders(self, table: str, provinces: Sequence[str] | None) -> list[Path]:
        if provinces is None or PROVINCE not in TABLES[table]:
            return [self.folder(table)]
        return [self.folder(table) / f"{PROVINCE}={p}" for p in provinces]

    def provinces(self) -> dict[str, int]:
        """Firms per province (the enterprise table's partitions, from the files' footers), in code order;
        firms without a county are under NULL_PARTITION, a partition like the others."""
        import pyarrow.parquet as pq

        prefix = f"{PROVINCE}="
        out = {}
        for folder in sorted(self.folder("enterprise").glob(prefix + "*")):
            if folder.is_dir():
                firms = sum(pq.read_metadata(f).num_rows for f in folder.rglob("*.parquet"))
                if firms:
                    out[folder.name[len(prefix):]] = firms
        return out

    def duckdb_sql(self, table: str, provinces: Sequence[str] | None = None) -> str | None:
        """SELECT of the table's columns (database order and types) from its files, None when it has none;
        `provinces`: only their partitions of a table partitioned by province."""
        if not self.files(table, provinces):
            return None
        keys = TABLES[table]
        if provinces is not None and PROVINCE in keys:
            keys = tuple(k for k in keys if k != PROVINCE)
        globs = ", ".join("'" + str(f).replace("'", "''") + "/**/*.parquet'"
                          for f in self._folders(table, provinces) if any(f.rglob("*.parquet")))
        hive = ""
        if keys:
            types = ", ".join(f"'{c}': '{'VARCHAR' if c == PROVINCE else 'INTEGER'}'" for c in keys)
            hive = f", hive_partitioning = true, hive_types = {{{types}}}"
        else:
            hive = ", hive_partitioning = false"
        cols = ", ".join(f'"{c}"' for c in self.columns(table))
        return f"SELECT {cols} FROM read_parquet([{globs}]{hive})"


def open_registry(root: Path | str) -> ParquetRegistry:
    """The Parquet registry in `root`, checked: a manifest of this format and layout, every table's folder."""
    root = Path(root)
    if not root.is_dir():
        raise ParquetLayoutError(f"{root}: no such folder (a Parquet registry is written by "
                                 "`smecluster export parquet DIR`)")
    path = root / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParquetLayoutError(f"{path}: missing; {root} is not a Parquet registry") from None
    except (OSError, ValueError) as exc:
        raise ParquetLayoutError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise ParquetLayoutError(f"{path}: format is {got!r}, expected {FORMAT!r}")
    if manifest.get("layout") not in LAYOUTS:
        raise ParquetLayoutError(f"{path}: layout {manifest.get('layout')!r}, this version reads layouts "
                                 f"{', '.join(map(str, LAYOUTS))}")
    tables = manifest.get("tables")
    if not isinstance(tables, dict):
        raise ParquetLayoutError(f"{path}: no \"tables\" object")
    for table, keys in TABLES.items():
        entry = tables.get(table)
        if not isinstance(entry, dict):
            raise ParquetLayoutError(f"{path}: table {table!r} is not listed")
        if list(entry.get("partition_by") or []) != list(keys):
            raise ParquetLayoutError(f"{path}: table {table!r} is partitioned by {entry.get('partition_by')!r}, "
                                     f"the layout says {list(keys)!r}")
        if not (root / table).is_dir():
            raise ParquetLayoutError(f"{root / table}: missing folder of table {table!r}")
    return ParquetRegistry(root, manifest)
