"""The SQLite snapshot reader keeps a column's type when its first batch holds only NULLs (the driver
would take it for integers and fail at the first text further on: a rare reported name)."""

from __future__ import annotations

import pyarrow as pa
from builders import codes
from sqlalchemy import insert

from smecluster.analytics import stored_snapshot
from smecluster.db import open_database
from smecluster.registry.models import Enterprise, EnterpriseYear, Industry, Region


def test_a_text_column_null_in_the_first_batch(tmp_path, monkeypatch):
    path = tmp_path / "r.db"
    engine = open_database(f"sqlite:///{path}")
    firms = [str(u) for u in codes(5, "320481")]
    with engine.begin() as conn:
        conn.execute(insert(Region), [{"code": "320481", "name": "溧阳市", "level": "county", "parent_code": None,
                                       "lon": None, "lat": None}])
        conn.execute(insert(Industry), [{"code": "3841", "name": "锂离子电池制造", "level": 4, "parent": None,
                                         "section": "C"}])
        conn.execute(insert(Enterprise), [{"uscc": u, "name": f"企业{i}", "county_code": "320481",
                                           "industry_code": "3841", "lon": None if i < 3 else 119.5,
                                           "lat": None if i < 3 else 31.4, "fictional": True}
                                          for i, u in enumerate(firms)])
        conn.execute(insert(EnterpriseYear), [{"uscc": u, "year": 2025, "revenue": 10.0 + i,
                                               "reported_name": "别名" if i == 4 else None}
                                              for i, u in enumerate(firms)])
    monkeypatch.setattr(stored_snapshot, "BATCH_ROWS", 2)
    for table, column, expected in (("enterprise_year", "reported_name", [None] * 4 + ["别名"]),
                                    ("enterprise", "lon", [None] * 3 + [119.5] * 2)):
        schema = stored_snapshot.arrow_schema(table)
        got = pa.concat_tables(stored_snapshot._sqlite_batches(str(path), table, schema))
        assert got.schema == schema and got.num_rows == 5
        assert sorted(got.column(column).to_pylist(), key=lambda v: (v is not None, v)) == expected
    empty = stored_snapshot.arrow_schema("platform")
    assert pa.concat_tables(stored_snapshot._sqlite_batches(str(path), "platform", empty)).num_rows == 0
