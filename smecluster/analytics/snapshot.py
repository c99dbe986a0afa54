"""A registry snapshot: the registry's tables as Polars frames, and a DuckDB connection over them.

Analytics never loop over enterprises in Python: they run SQL over these columns. The same SQL
(portable CASE/JOIN/GROUP BY) can run on Spark over the same tables registered as views.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl
from sqlalchemy import Engine

from smecluster.analytics.reader import read_frame
from smecluster.analytics.size_class import size_class_sql
from smecluster.analytics.stored_snapshot import current_snapshot
from smecluster.policy.pack import load_pack
from smecluster.settings import province

TABLES = {
    "region": "SELECT code, name, level, parent_code, area_km2 FROM region",
    "industry": "SELECT code, name, level, parent, section FROM industry",
    "enterprise": "SELECT uscc, name, county_code, industry_code, lon, lat FROM enterprise",
    "enterprise_year": (
        "SELECT uscc, year, revenue, output, rd_spending, employees, rd_staff, total_assets, "
        "total_liabilities, cloud, industrial_internet, invention_patents, energy_use, exports, smart_mfg_level "
        "FROM enterprise_year"
    ),
    "designation": "SELECT uscc, kind, year, valid_from, valid_until FROM designation",
    "platform": "SELECT id, name, level, type, county_code, host_uscc, cluster_id, year FROM platform",
    "cluster": (
        # JSON columns as text: SQLite stores text, PostgreSQL would hand back Python objects.
        "SELECT id, code, name, county_code, CAST(leading_industries AS TEXT) AS leading_industries, "
        "boundary_geojson, CAST(declared AS TEXT) AS declared, status, year FROM cluster"
    ),
    "cluster_member": "SELECT cluster_id, uscc FROM cluster_member",
    "cluster_year": "SELECT cluster_id, year, promotion_org, alliances, cooperation_agreements FROM cluster_year",
}


@dataclass
class Snapshot:
    """The registry's tables in memory, keyed by table name."""

    frames: dict[str, pl.DataFrame]
    extra: dict[str, pl.DataFrame] = field(default_factory=dict)
    _con: duckdb.DuckDBPyConnection | None = field(default=None, repr=False)
    # results derived from the frames alone, kept for the snapshot's life (see cluster_indicators.geography)
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection over the frames (made once per snapshot; extra frames re-registered)."""
        if self._con is not None:
            for name, frame in self.extra.items():
                self._con.register(name, frame.to_arrow())
            return self._con
        from smecluster.analytics.engines import DuckDBEngine

        con = duckdb.connect()
        self.register(DuckDBEngine(con))
        self._con = con
        return con

    def register(self, engine) -> None:
        """The frames, and the size and section views, on an SQL engine (analytics.engines.Engine)."""
        for name, frame in {**self.frames, **self.extra}.items():
            engine.register(name, frame)
        engine.view("enterprise_size", f"SELECT y.uscc, y.year, {self.size_case()} AS size "
                    "FROM enterprise_year y JOIN enterprise e ON e.uscc = y.uscc "
                    "LEFT JOIN industry i ON i.code = LEFT(e.industry_code, 2) AND i.level = 2")
        engine.view("enterprise_section", "SELECT e.*, i.section FROM enterprise e "
                    "LEFT JOIN industry i ON i.code = LEFT(e.industry_code, 2) AND i.level = 2")

    def size_case(self) -> str:
        """SQL CASE of the province's size-class pack (columns employees, revenue, ..., section)."""
        return size_class_sql(load_pack(province().size_policy))


def load_snapshot(engine: Engine, cluster_ids: list[int] | None = None, scope: str = "all") -> Snapshot:
    """Read the registry into memory.

    `cluster_ids` keeps only those clusters. `scope="clusters"` reads only the firms that cluster
    indicators look at (those in the clusters' counties, and the members), filtered in the database.
    """
    where = _filters(cluster_ids, scope)
    # Province-wide reads come from the columnar snapshot when the registry is province-sized; a few
    # clusters' reads take it only if it is already current (else the database, filtered in the SQL).
    stored = current_snapshot(engine, refresh=not cluster_ids)
    if stored is not None:
        con = stored.connect()
        frames = {name: con.sql(query + where.get(name, "")).pl() for name, query in TABLES.items()}
        con.close()
    else:
        frames = {name: read_frame(engine, query + where.get(name, "")) for name, query in TABLES.items()}
    snapshot = Snapshot(normalise(frames))
    from smecluster.chains.catalogue import load_catalogue

    add_chain_frames(snapshot, load_catalogue(engine))  # the province's imported "1650" list, if any
    return snapshot


def registry_snapshot(registry, cluster_ids: list[int] | None = None, scope: str = "clusters") -> Snapshot:
    """`load_snapshot` from a Parquet registry folder (registry.parquet_layout.ParquetRegistry), the
    same filters in the SQL (DuckDB reads only the row groups and partitions they need)."""
    from smecluster.analytics.engines import DuckDBEngine
    from smecluster.chains.catalogue import catalogue_from_rows

    reader = DuckDBEngine(memory_limit="4GB")
    try:
        reader.register_registry(registry)
        where = _filters(cluster_ids, scope)
        frames = {name: pl.from_arrow(reader.arrow(query + where.get(name, ""))) for name, query in TABLES.items()}
        rows = reader.con.sql("SELECT id, body FROM chain_document ORDER BY id").fetchall()
    finally:
        reader.close()
    snapshot = Snapshot(normalise(frames))
    add_chain_frames(snapshot, catalogue_from_rows(rows))
    return snapshot


def _filters(cluster_ids: list[int] | None, scope: str) -> dict[str, str]:
    """WHERE clauses per table keeping the clusters named (all when None) and, for scope "clusters",
    only the firms cluster indicators look at (those in the clusters' counties, and the members)."""
    clusters = "SELECT id FROM cluster" + (
        f" WHERE id IN ({', '.join(str(int(i)) for i in cluster_ids)})" if cluster_ids else ""
    )
    if cluster_ids is not None and not cluster_ids:
        clusters = "SELECT id FROM cluster WHERE 1 = 0"
    firms = (
        f"SELECT uscc FROM enterprise WHERE county_code IN (SELECT county_code FROM cluster WHERE id IN ({clusters})) "
        f"UNION SELECT uscc FROM cluster_member WHERE cluster_id IN ({clusters})"
    )
    where = {
        "cluster": f" WHERE id IN ({clusters})",
        "cluster_member": f" WHERE cluster_id IN ({clusters})",
        "cluster_year": f" WHERE cluster_id IN ({clusters})",
    }
    if scope == "clusters":
        for table in ("enterprise", "enterprise_year", "designation"):
            where[table] = f" WHERE uscc IN ({firms})"
    elif cluster_ids is None:
        where = {}
    return where


def add_chain_frames(snapshot: Snapshot, catalogue) -> None:
    """The chain systems' industry codes, for the chain-system indicator (chains.catalogue.Catalogue)."""
    snapshot.extra["chain_system_class"] = catalogue.system_classes()
    snapshot.extra["chain_system"] = catalogue.systems_frame()


# Every column's type. Needed because the bulk readers infer types from values: an empty result
# from SQLite comes back as integers, PostgreSQL's CSV as text.
TEXT, INT, FLOAT, BOOL, DATE = pl.Utf8, pl.Int64, pl.Float64, pl.Boolean, pl.Date
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "region": {"code": TEXT, "name": TEXT, "level": TEXT, "parent_code": TEXT, "area_km2": FLOAT},
    "industry": {"code": TEXT, "name": TEXT, "level": INT, "parent": TEXT, "section": TEXT},
    "enterprise": {"uscc": TEXT, "name": TEXT, "county_code": TEXT, "industry_code": TEXT, "lon": FLOAT,
                   "lat": FLOAT},
    "enterprise_year": {
        "uscc": TEXT, "year": pl.Int32, "revenue": FLOAT, "output": FLOAT, "rd_spending": FLOAT, "employees": INT,
        "rd_staff": INT, "total_assets": FLOAT, "total_liabilities": FLOAT, "cloud": BOOL, "industrial_internet": BOOL,
        "invention_patents": INT, "energy_use": FLOAT, "exports": FLOAT, "smart_mfg_level": INT,
    },
    "designation": {"uscc": TEXT, "kind": TEXT, "year": pl.Int32, "valid_from": DATE, "valid_until": DATE},
    "platform": {"id": INT, "name": TEXT, "level": TEXT, "type": TEXT, "county_code": TEXT, "host_uscc": TEXT,
                 "cluster_id": INT, "year": pl.Int32},
    "cluster": {"id": INT, "code": TEXT, "name": TEXT, "county_code": TEXT, "leading_industries": TEXT,
                "boundary_geojson": TEXT, "declared": TEXT, "status": TEXT, "year": pl.Int32},
    "cluster_member": {"cluster_id": INT, "uscc": TEXT},
    "cluster_year": {"cluster_id": INT, "year": pl.Int32, "promotion_org": BOOL, "alliances": INT,
                     "cooperation_agreements": INT},
}


def normalise(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Give every frame the column types analytics expect (empty tables and JSON columns included)."""
    out = {}
    for name, frame in frames.items():
        casts = {c: t for c, t in SCHEMAS.get(name, {}).items() if c in frame.columns}
        frame = frame.with_columns([_cast(frame, c, t) for c, t in casts.items()])
        if name == "cluster":
            frame = frame.with_columns(
                pl.col("leading_industries").cast(pl.Utf8).str.json_decode(pl.List(pl.Utf8)),
                pl.col("declared").cast(pl.Utf8).fill_null("{}"),
            )
        out[name] = frame
    return out


def _cast(frame: pl.DataFrame, column: str, dtype: pl.DataType) -> pl.Expr:
    # SQLite hands dates back as text; PostgreSQL's CSV gives every column as text, booleans as t/f.
    if frame.schema[column] == pl.Utf8:
        if dtype == pl.Date:
            return pl.col(column).str.to_date(strict=False)
        if dtype == pl.Boolean:
            text = pl.col(column).str.to_lowercase()
            return pl.when(text.is_null()).then(None).otherwise(text.is_in(["t", "true", "1"])).alias(column)
        return pl.col(column).cast(dtype, strict=False)
    return pl.col(column).cast(dtype, strict=False)
