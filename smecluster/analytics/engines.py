"""SQL engines the compiled indicator and criteria SQL runs on: DuckDB (default) and Spark SQL.

The SQL is written once, in DuckDB's dialect (smecluster.policy.compile, analytics.tier_query,
enterprise_facts, cluster_indicators). `SparkEngine` translates each statement with sqlglot
(`read="duckdb", write="spark"`), plus one rule sqlglot leaves alone: a decimal literal (`1.0`,
`0.0495`) is a DOUBLE there, as DuckDB computes with it, not a Spark DECIMAL (whose fixed scale would
round `x * 1.0 / n`). Nothing else differs between the engines: inputs are registered as views by
name (Arrow tables or a Parquet registry), `materialise` keeps an intermediate result, `arrow` runs a
query. PySpark is imported only when a Spark engine is opened (`--engine spark`).

Spark: `local[*]` by default, or a cluster's master URL (`spark://host:7077`, `yarn`, `k8s://...`);
the session is made once per process and master and reused.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import polars as pl
import pyarrow as pa

if TYPE_CHECKING:
    import duckdb

    from smecluster.registry.parquet_layout import ParquetRegistry

ENGINES = ("duckdb", "spark")
DEFAULT_MASTER = "local[*]"


class EngineError(RuntimeError):
    """An engine that cannot be opened (unknown name, PySpark or Java missing)."""


class Engine(Protocol):
    """Where SQL runs: named inputs as views, statements in DuckDB's dialect."""

    name: str
    # A firm-by-firm evaluation of a Parquet registry runs one province at a time (one machine: memory
    # bounded by the largest province, not the nation) or all at once (a cluster partitions the work).
    by_province: bool

    def register(self, name: str, data: pa.Table | pl.DataFrame) -> None:
        """An in-memory table as a view `name`."""

    def register_registry(self, registry: ParquetRegistry, provinces: Sequence[str] | None = None) -> None:
        """Every table of a Parquet registry as a view named as the table (the database's columns);
        `provinces`: the tables partitioned by province hold those provinces' rows only."""

    def view(self, name: str, sql: str) -> None:
        """A view `name` over a query."""

    def materialise(self, name: str, sql: str) -> None:
        """A query's result kept as `name` (computed once, read by the statements after)."""

    def arrow(self, sql: str) -> pa.Table:
        """A query's result as Arrow."""

    def write_parquet(self, sql: str, folder: str, partition_by: str, order_by: str,
                      drop: Sequence[str] = (), part: int = 0) -> None:
        """A query's result written under `folder` as Hive-partitioned Parquet (`partition_by=<value>/`),
        rows in `order_by` order within each file, the columns `drop` left out; `part` names the files
        (calls with other parts add files, never overwrite). The result is never collected whole."""

    def close(self) -> None:
        """Release what this engine holds (a Spark session stays for the process)."""


def _as_arrow(data: pa.Table | pl.DataFrame) -> pa.Table:
    return data.to_arrow() if isinstance(data, pl.DataFrame) else data


class DuckDBEngine:
    """DuckDB in this process (a connection given, e.g. a snapshot's, or a new one)."""

    name = "duckdb"
    by_province = True

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None, memory_limit: str | None = None,
                 threads: int | None = None):
        import duckdb

        if con is None:
            import tempfile

            # spilled intermediates go to the temporary folder (not a `.tmp` beside wherever it ran)
            spill = os.path.join(tempfile.gettempdir(), "smecluster-duckdb")
            config = {"memory_limit": memory_limit, "temp_directory": spill} if memory_limit else {}
            con = duckdb.connect(config=config)
            con.execute("SET enable_progress_bar = false")
            if threads:  # default: every core
                con.execute(f"SET threads = {int(threads)}")
        self.con = con

    def register(self, name: str, data: pa.Table | pl.DataFrame) -> None:  # noqa: D102
        self.con.register(name, _as_arrow(data))

    def register_registry(self, registry: ParquetRegistry, provinces: Sequence[str] | None = None) -> None:  # noqa: D102
        from smecluster.registry.parquet_layout import TABLES

        for table in TABLES:
            sql = registry.duckdb_sql(table, provinces)
            if sql is None:  # no rows: an empty table of the registry's columns
                self.register(table, registry.schema(table).empty_table())
            else:
                self.con.execute(f'CREATE OR REPLACE VIEW "{table}" AS {sql}')

    def view(self, name: str, sql: str) -> None:  # noqa: D102
        self.con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {sql}')

    def materialise(self, name: str, sql: str) -> None:  # noqa: D102
        self.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}')

    def arrow(self, sql: str) -> pa.Table:  # noqa: D102
        # streamed in batches: DuckDB does not hold a second, whole copy of a large result
        return self.con.sql(sql).to_arrow_reader(1 << 17).read_all()

    def write_parquet(self, sql: str, folder: str, partition_by: str, order_by: str,  # noqa: D102
                      drop: Sequence[str] = (), part: int = 0) -> None:
        # through Arrow: DuckDB's partitioned COPY does not keep the rows' order within a file
        import pyarrow.compute as pc
        import pyarrow.dataset as ds

        table = self.arrow(sql)
        key = table.column(order_by)
        if len(key) > 1 and not pc.all(pc.less_equal(key[:-1], key[1:])).as_py():
            table = table.sort_by(order_by)
        table = table.drop_columns(list(drop))
        ds.write_dataset(
            table, folder, format="parquet", basename_template=f"part-{part}-{{i}}.parquet",
            partitioning=ds.partitioning(pa.schema([table.schema.field(partition_by)]), flavor="hive"),
            existing_data_behavior="overwrite_or_ignore",
            file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
            preserve_order=True,  # the writer's threads may otherwise reorder a file's rows
        )

    def close(self) -> None:  # noqa: D102
        self.con.close()


def _spark_rules(node):
    """What sqlglot's DuckDB-to-Spark translation leaves to us (each rule keeps DuckDB's meaning):
    a decimal literal is a DOUBLE; `ANY_VALUE(x) IGNORE NULLS` is `ANY_VALUE(x, TRUE)` (Spark's parser
    takes no IGNORE NULLS before FILTER); `TO_YEARS(n)` is `MAKE_YM_INTERVAL(n, 0)`."""
    from sqlglot import exp

    if isinstance(node, exp.Literal) and node.is_number and any(ch in node.this.lower() for ch in ".e"):
        return exp.Cast(this=node.copy(), to=exp.DataType.build("DOUBLE"))
    if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, exp.AnyValue):
        return exp.Anonymous(this="ANY_VALUE", expressions=[node.this.this.copy(), exp.true()])
    if isinstance(node, exp.Anonymous) and str(node.this).upper() == "TO_YEARS":
        return exp.Anonymous(this="MAKE_YM_INTERVAL",
                             expressions=[node.expressions[0].copy(), exp.Literal.number(0)])
    return node


@lru_cache(maxsize=512)
def to_spark(sql: str) -> str:
    """A statement of DuckDB's dialect in Spark SQL's: sqlglot's translation, plus `_spark_rules`."""
    import sqlglot

    return sqlglot.parse_one(sql, read="duckdb").transform(_spark_rules).sql(dialect="spark")


_sessions: dict[str, object] = {}
_session_lock = threading.Lock()


def spark_session(master: str = DEFAULT_MASTER, shuffle_partitions: int | None = None,
                  conf: dict[str, str] | None = None):
    """The process's Spark session for `master` (made on first use; PySpark imported here only);
    `conf`: more Spark settings (e.g. for small data in tests)."""
    with _session_lock:
        if master in _sessions:
            return _sessions[master]
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EngineError("--engine spark needs PySpark: pip install 'smecluster[spark]' (and Java 17)") from exc
        cores = os.cpu_count() or 2
        parts = shuffle_partitions or int(os.environ.get("SMECLUSTER_SPARK_SHUFFLE_PARTITIONS", 4 * cores))
        builder = (
            SparkSession.builder.master(master).appName("smecluster")
            .config("spark.sql.shuffle.partitions", str(parts))
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.session.timeZone", "UTC")
            # DuckDB's implicit casts (a flag compared with 1.0) and x / 0 = NULL: Spark's non-ANSI rules
            .config("spark.sql.ansi.enabled", "false")
            .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.memory", os.environ.get("SMECLUSTER_SPARK_DRIVER_MEMORY", "4g"))
            # a national tier result comes back to the driver whole (16M firms: about 2.8 GB of Arrow);
            # Spark's default cap of 1 GB on collected results would abort it: the driver's heap is the
            # bound (SMECLUSTER_SPARK_MAX_RESULT_SIZE, e.g. 8g, to cap it again; 0 = no cap)
            .config("spark.driver.maxResultSize", os.environ.get("SMECLUSTER_SPARK_MAX_RESULT_SIZE", "0"))
        )
        for key, value in (conf or {}).items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # no Java, or the master cannot be reached
            raise EngineError(f"could not start Spark at {master}: {str(exc).strip()[:500]}") from exc
        session.sparkContext.setLogLevel("ERROR")
        import logging

        logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)  # the error is raised anyway
        _sessions[master] = session
        return session


class SparkEngine:
    """Spark SQL (local mode or a cluster): the same statements, translated by sqlglot."""

    name = "spark"
    by_province = False

    def __init__(self, master: str = DEFAULT_MASTER, session=None):
        self.master = master
        self.spark = session if session is not None else spark_session(master)
        self._cached: dict[str, object] = {}
        self._views: set[str] = set()

    def register(self, name: str, data: pa.Table | pl.DataFrame) -> None:  # noqa: D102
        table = _as_arrow(data)
        self.spark.createDataFrame(_spark_ready(table)).createOrReplaceTempView(name)
        self._views.add(name)

    def register_registry(self, registry: ParquetRegistry, provinces: Sequence[str] | None = None) -> None:  # noqa: D102
        from smecluster.registry.parquet_layout import PROVINCE, TABLES

        for table in TABLES:
            schema = registry.schema(table)  # the database's columns (and the firm key of layout 2)
            if not registry.files(table, provinces):
                self.register(table, schema.empty_table())
                continue
            base = str(registry.folder(table))
            folders = ([f"{base}/{PROVINCE}={p}" for p in provinces if registry.files(table, [p])]
                       if provinces is not None and PROVINCE in TABLES[table] else [base])
            df = self.spark.read.option("basePath", base).parquet(*folders)
            # partition values come as text (type inference off): cast them to the database's types
            cols = [f"CAST(`{f.name}` AS INT) AS `{f.name}`" if f.name == "year" and "year" in TABLES[table]
                    else f"`{f.name}`" for f in schema]
            df.selectExpr(*cols).createOrReplaceTempView(table)
            self._views.add(table)

    def view(self, name: str, sql: str) -> None:  # noqa: D102
        self.spark.sql(to_spark(sql)).createOrReplaceTempView(name)
        self._views.add(name)

    def materialise(self, name: str, sql: str) -> None:  # noqa: D102
        old = self._cached.pop(name, None)
        df = self.spark.sql(to_spark(sql)).cache()
        df.createOrReplaceTempView(name)
        self._views.add(name)
        self._cached[name] = df
        if old is not None:
            old.unpersist()

    def arrow(self, sql: str) -> pa.Table:  # noqa: D102
        return self.spark.sql(to_spark(sql)).toArrow()

    def write_parquet(self, sql: str, folder: str, partition_by: str, order_by: str,  # noqa: D102
                      drop: Sequence[str] = (), part: int = 0) -> None:
        # written by the executors: one file per partition value, sorted within it; nothing collected
        df = self.spark.sql(to_spark(sql)).repartition(partition_by).sortWithinPartitions(order_by)
        if drop:
            df = df.drop(*drop)
        df.write.mode("append").partitionBy(partition_by).parquet(folder)

    def close(self) -> None:  # noqa: D102
        for df in self._cached.values():
            df.unpersist()
        self._cached.clear()
        for name in self._views:  # the session stays for the process: leave it no views of this engine's
            self.spark.catalog.dropTempView(name)
        self._views.clear()


def _spark_ready(table: pa.Table) -> pa.Table:
    """Arrow columns Spark reads (its types have no null type or unsigned integers; large strings as strings)."""
    fields = []
    for f in table.schema:
        t = f.type
        if pa.types.is_null(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
            t = pa.string()
        elif pa.types.is_large_list(t) or pa.types.is_list_view(t):
            t = pa.list_(t.value_type)
        elif pa.types.is_unsigned_integer(t):
            t = pa.int64()
        elif pa.types.is_dictionary(t):
            t = t.value_type
        fields.append(pa.field(f.name, t))
    target = pa.schema(fields)
    return table if target == table.schema else table.cast(target)


def open_engine(name: str = "duckdb", master: str | None = None) -> Engine:
    """An engine by name: `duckdb` (a new in-process connection, memory limit SMECLUSTER_DUCKDB_MEMORY and
    threads SMECLUSTER_DUCKDB_THREADS if set) or `spark` (at `master`, default local[*])."""
    if name == "duckdb":  # SMECLUSTER_DUCKDB_MEMORY (e.g. 5GB): DuckDB spills to disk beyond it
        threads = os.environ.get("SMECLUSTER_DUCKDB_THREADS")
        return DuckDBEngine(memory_limit=os.environ.get("SMECLUSTER_DUCKDB_MEMORY"),
                            threads=int(threads) if threads else None)
    if name == "spark":
        return SparkEngine(master or DEFAULT_MASTER)
    raise EngineError(f"--engine {name!r}: choose one of {', '.join(ENGINES)}")
