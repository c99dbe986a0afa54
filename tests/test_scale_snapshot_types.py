"""The snapshot reads a SQLite text column that is NULL throughout the first batch (ADBC types result
columns by the first batch's values): the later text arrives, the row count is exact."""

from __future__ import annotations

from import_support import registry_engine
from sqlalchemy import text

from smecluster.analytics import stored_snapshot


def test_a_text_column_null_in_the_first_batch_is_read_as_text(tmp_path, monkeypatch):
    engine = registry_engine(f"sqlite:///{tmp_path / 'r.db'}")
    codes = [f"91320481MA{i:07d}X" for i in range(5)]
    with engine.begin() as conn:
        for i, code in enumerate(codes):
            conn.execute(text("INSERT INTO enterprise (uscc, name, county_code, industry_code, fictional, "
                              "business_scope) VALUES (:u, :n, '320481', '3841', 1, :s)"),
                         {"u": code, "n": f"企业{i}", "s": "研发、制造" if i == 4 else None})
    engine.dispose()
    monkeypatch.setattr(stored_snapshot, "BATCH_ROWS", 2)  # the text only in the third batch
    schema = stored_snapshot.arrow_schema("enterprise")
    batches = list(stored_snapshot._sqlite_batches(str(tmp_path / "r.db"), "enterprise", schema))
    rows = [r for b in batches for r in b.to_pylist()]
    assert [r["uscc"] for r in rows] == codes
    assert [r["business_scope"] for r in rows] == [None] * 4 + ["研发、制造"]
    assert all(b.schema == schema for b in batches)

