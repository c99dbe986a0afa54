"""Column types at the analytics boundary: the Arrow types handed to Spark (engines._spark_ready: Spark has no
null type, no unsigned integers and no large or view strings; the values stay the same; pure Arrow, so it
runs without starting Spark), and the registry frames' types after reading (snapshot.normalise)."""

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


def test_registry_frames_get_the_types_analytics_expect():
    """Frames read as text (PostgreSQL's CSV, SQLite's dates) or with types inferred from no rows get the
    registry's types: dates, t/f booleans, integers, floats; JSON lists decoded for clusters."""
    from datetime import date

    import polars as pl

    from smecluster.analytics.snapshot import normalise

    frames = normalise({
        "designation": pl.DataFrame({"uscc": ["A"], "kind": ["srdi_sme"], "year": ["2024"],
                                     "valid_from": ["2024-07-01"], "valid_until": [None]},
                                    schema_overrides={"valid_until": pl.Utf8}),
        "enterprise_year": pl.DataFrame({"uscc": ["A", "B"], "year": ["2024", "2024"], "cloud": ["t", "f"],
                                         "employees": ["12", None], "revenue": ["3.5", "1"]}),
        "cluster": pl.DataFrame({"id": ["7"], "leading_industries": ['["2614", "2619"]'], "declared": [None]},
                                schema_overrides={"declared": pl.Utf8}),
    })
    d, y, c = frames["designation"], frames["enterprise_year"], frames["cluster"]
    assert (d.schema["year"], d.schema["valid_from"], d["valid_from"][0], d["valid_until"][0]) == (
        pl.Int32, pl.Date, date(2024, 7, 1), None)
    assert y.schema["cloud"] == pl.Boolean and y["cloud"].to_list() == [True, False]
    assert y["employees"].to_list() == [12, None] and y["revenue"].to_list() == [3.5, 1.0]
    assert c["id"].to_list() == [7] and c["leading_industries"].to_list() == [["2614", "2619"]]
    assert c["declared"].to_list() == ["{}"]
