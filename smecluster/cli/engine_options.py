"""The --engine, --spark-master and --from options shared by the evaluation commands."""

from __future__ import annotations

from pathlib import Path

import typer

from smecluster.cli.common import fail

ENGINE_HELP = "SQL engine: duckdb (in this process) or spark (Spark SQL; needs PySpark and Java 17)."
MASTER_HELP = "Spark master URL with --engine spark (default local[*]; a cluster: spark://host:7077)."
FROM_HELP = "Evaluate from a Parquet registry folder (written by `smecluster export parquet`) instead of the database."

ENGINE = typer.Option("duckdb", "--engine", help=ENGINE_HELP)
MASTER = typer.Option(None, "--spark-master", help=MASTER_HELP)
FROM = typer.Option(None, "--from", help=FROM_HELP)


def open_sql(engine: str, master: str | None, source: Path | None = None):
    """The SQL engine asked for: None for DuckDB on the database (the default paths, kept results and
    all), else an analytics.engines.Engine. The Parquet registry of `source` is checked first."""
    from smecluster.analytics.engines import ENGINES, EngineError, open_engine

    if engine not in ENGINES:
        fail(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
    if master is not None and engine != "spark":
        fail("--spark-master needs --engine spark")
    registry = open_source(source)
    if engine == "duckdb" and registry is None:
        return None, None
    try:
        return open_engine(engine, master), registry
    except EngineError as exc:
        fail(str(exc))
    return None, None


def open_source(source: Path | None):
    """The checked Parquet registry of --from (None without it); a clear error when it is not one."""
    if source is None:
        return None
    from smecluster.registry.parquet_layout import ParquetLayoutError, open_registry

    try:
        return open_registry(source)
    except ParquetLayoutError as exc:
        fail(f"--from: {exc}")
    return None
