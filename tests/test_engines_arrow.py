"""The Arrow types handed to Spark (engines._spark_ready): Spark has no null type, no unsigned integers and no
large or view strings; the values stay the same. Pure Arrow, so it runs without starting Spark."""

from __future__ import annotations

import pyarrow as pa

from smecluster.analytics.engines import _spark_ready


def test_spark_gets_types_it_reads_and_the_same_values():
    """null -> string, large_string -> string, uint8 -> int64, dictionary -> its values, large_list -> list;
    int32 and string unchanged; a table already fit for Spark is returned as it is."""
    table = pa.table({
        "empty": pa.array([None, None], pa.null()),
        "name": pa.array(["甲", "乙"], pa.large_string()),
        "small": pa.array([1, 255], pa.uint8()),
        "code": pa.array(["a", "b"]).dictionary_encode(),
        "codes": pa.array([["x"], []], pa.large_list(pa.string())),
        "year": pa.array([2024, 2025], pa.int32()),
        "plain": pa.array(["p", "q"], pa.string()),
    })
    ready = _spark_ready(table)
    assert ready.schema == pa.schema([("empty", pa.string()), ("name", pa.string()), ("small", pa.int64()),
                                      ("code", pa.string()), ("codes", pa.list_(pa.string())),
                                      ("year", pa.int32()), ("plain", pa.string())])
    assert ready.to_pylist() == [
        {"empty": None, "name": "甲", "small": 1, "code": "a", "codes": ["x"], "year": 2024, "plain": "p"},
        {"empty": None, "name": "乙", "small": 255, "code": "b", "codes": [], "year": 2025, "plain": "q"}]
    fit = pa.table({"year": pa.array([2024], pa.int32()), "plain": pa.array(["p"])})
    assert _spark_ready(fit) is fit
