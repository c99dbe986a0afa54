"""Repeated small queries (prepared statements), county facts from the kept province facts, and county
geometries kept on disk: each answers exactly as the uncached way does."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pyarrow as pa
import shapely
from demo_cache import generate

from smecluster.analytics import prepared
from smecluster.analytics.stored_snapshot import MIN_FIRMS_ENV, current_snapshot
from smecluster.db import open_database
from smecluster.demo.generator import BASE_FIRMS
from smecluster.demo.writer import write_demo
from smecluster.geo import counties
from smecluster.services.tiers import enterprise_facts, facts_date

SQL = "SELECT k, SUM(v) AS total, COUNT(*) AS n FROM t GROUP BY k ORDER BY k"


def _direct(sql: str, inputs: dict[str, pa.Table]) -> pa.Table:
    con = duckdb.connect()
    for name, table in inputs.items():
        con.register(name, table)
    return con.sql(sql).to_arrow_table()


def test_prepared_query_sees_each_calls_rows():
    """The same statement over new rows answers for those rows only (the tables are emptied first)."""
    first = {"t": pa.table({"k": ["a", "b", "a"], "v": [1.0, 2.0, 3.0]})}
    second = {"t": pa.table({"k": ["c"], "v": [5.0]})}
    empty = {"t": pa.table({"k": pa.array([], pa.string()), "v": pa.array([], pa.float64())})}
    for inputs in (first, second, first, empty):
        assert prepared.run_small(SQL, inputs).equals(_direct(SQL, inputs))
    assert prepared.run_small(SQL, second).column("k").to_pylist() == ["c"]


def test_prepared_query_per_input_types():
    """Inputs of other column types get a statement of their own: results keep the types of the input."""
    ints = {"t": pa.table({"k": ["a"], "v": pa.array([2], pa.int64())})}
    floats = {"t": pa.table({"k": ["a"], "v": pa.array([2.5], pa.float64())})}
    assert prepared.run_small(SQL, ints).schema.field("total").type == _direct(SQL, ints).schema.field("total").type
    assert prepared.run_small(SQL, floats).column("total").to_pylist() == [2.5]


def test_large_or_untyped_inputs_run_directly(monkeypatch):
    """Above SMALL_ROWS, or with a column of the null type, the query runs over the tables as they are."""
    monkeypatch.setattr(prepared, "SMALL_ROWS", 2)
    big = {"t": pa.table({"k": ["a", "b", "a"], "v": [1.0, 2.0, 3.0]})}
    untyped = {"t": pa.table({"k": ["a"], "v": pa.nulls(1)})}
    assert not prepared._preparable(big) and not prepared._preparable(untyped)
    assert prepared.run_small(SQL, big).equals(_direct(SQL, big))
    assert prepared.run_small(SQL, untyped).equals(_direct(SQL, untyped))


def test_county_facts_equal_the_county_aggregation(database_url, tmp_path, monkeypatch):
    """A county's facts taken from the kept province facts equal those aggregated for the county alone."""
    monkeypatch.setenv("SMECLUSTER_SNAPSHOT_DIR", str(tmp_path / "snapshots"))
    monkeypatch.setenv(MIN_FIRMS_ENV, "0")
    engine = open_database(database_url)
    write_demo(engine, generate(scale=600 / BASE_FIRMS))
    year, on = 2025, date(2025, 12, 31)
    province = pl.from_arrow(enterprise_facts(engine, year, on))  # keeps the province's facts
    county = province["county_code"].mode().sort()[0]
    snapshot = current_snapshot(engine, refresh=False)
    assert snapshot is not None
    assert snapshot.kept(f"facts-{year}-{facts_date(snapshot, on).isoformat()}") is not None
    from smecluster.analytics.enterprise_facts import facts_from_snapshot

    aggregated = pl.from_arrow(facts_from_snapshot(snapshot, year, on, county))

    def no_aggregation(*_args, **_kwargs):
        raise AssertionError("the county's facts were aggregated again")

    monkeypatch.setattr("smecluster.services.tiers.facts_from_snapshot", no_aggregation)
    kept = pl.from_arrow(enterprise_facts(engine, year, on, county))
    assert kept.height == province.filter(pl.col("county_code") == county).height > 0
    assert kept.equals(aggregated) and kept.schema == aggregated.schema


def test_county_geometries_kept_on_disk_are_the_same(tmp_path, monkeypatch):
    """Geometries read back from the disk cache are those parsed from the GeoJSON, bit for bit."""
    monkeypatch.setenv("SMECLUSTER_CACHE_DIR", str(tmp_path))
    counties.county_geometries.cache_clear()
    parsed = counties.county_geometries("32")
    assert list(tmp_path.glob("county-geometries-*-32-*.npz"))
    counties.county_geometries.cache_clear()

    def no_parsing():
        raise AssertionError("the GeoJSON was parsed again")

    monkeypatch.setattr(counties, "_features", no_parsing)
    kept = counties.county_geometries("32")
    counties.county_geometries.cache_clear()
    assert list(kept) == list(parsed) and len(kept) > 50
    assert all(shapely.to_wkb(kept[c]) == shapely.to_wkb(parsed[c]) for c in parsed)


def test_snapshot_of_another_schema_is_not_read(database_url, tmp_path, monkeypatch):
    """A snapshot written under other registry columns (before a migration) is rebuilt, not read."""
    from smecluster.analytics import snapshot_files

    monkeypatch.setenv("SMECLUSTER_SNAPSHOT_DIR", str(tmp_path / "snapshots"))
    monkeypatch.setenv(MIN_FIRMS_ENV, "0")
    engine = open_database(database_url)
    write_demo(engine, generate(scale=300 / BASE_FIRMS))
    built = current_snapshot(engine)
    assert built is not None and current_snapshot(engine, refresh=False) == built
    # the key the reader expects (snapshot_files, where `current_snapshot` checks a snapshot's meta)
    monkeypatch.setattr(snapshot_files, "schema_key", lambda: "columns-of-another-migration")
    assert current_snapshot(engine, refresh=False) is None
    rebuilt = current_snapshot(engine)
    assert rebuilt is not None and rebuilt.path != built.path
