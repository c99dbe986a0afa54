"""The Spark engine on a small table (Java and PySpark needed, else skipped: conftest.spark_engine): what an
engine registers and materialises answers while it is open and leaves the process's session when closed.
Kept apart from test_engines (which builds the demo registry) so the analytics mutation subset can run it."""

from __future__ import annotations

import pyarrow as pa


def test_a_spark_engine_drops_the_views_it_made_when_closed(spark_engine):
    """The Spark session lives as long as the process: an engine's registered and materialised tables answer
    while it is open and are gone from the session once it is closed (another engine's views stay)."""
    from smecluster.analytics.engines import SparkEngine

    engine = SparkEngine("local[2]", spark_engine.spark)
    engine.register("mut_reg", pa.table({"a": [1, 2]}))
    engine.materialise("mut_mat", "SELECT a * 2 AS b FROM mut_reg")
    assert engine.arrow("SELECT b FROM mut_mat ORDER BY b").column("b").to_pylist() == [2, 4]
    catalog = spark_engine.spark.catalog  # tableExists, not listTables: listing fails to decode some views
    assert all(catalog.tableExists(name) for name in ("mut_reg", "mut_mat"))
    engine.close()
    assert not any(catalog.tableExists(name) for name in ("mut_reg", "mut_mat"))


def test_the_tests_spark_resolves_names_by_their_exact_case(spark_engine):
    """conftest.SPARK_TEST_CONF makes Spark case-sensitive, so a column named in another case than it was made
    with fails in the engine tests (DuckDB resolves it anyway): the SQL that reaches a national run is exact."""
    import pytest

    from smecluster.analytics.engines import SparkEngine

    engine = SparkEngine("local[2]", spark_engine.spark)
    try:
        engine.register("case_reg", pa.table({"designated_x": [True]}))
        assert engine.arrow("SELECT designated_x FROM case_reg").num_rows == 1
        with pytest.raises(Exception, match="(?i)DESIGNATED_X"):
            engine.arrow('SELECT "DESIGNATED_X" FROM case_reg')
    finally:
        engine.close()
