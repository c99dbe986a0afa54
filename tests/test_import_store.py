"""The bulk upsert itself, through both of its paths (small: stage and merge; big: append new rows)."""

from __future__ import annotations

import polars as pl
import pytest
from import_support import CODE_A, CODE_B, registry_engine, snapshot
from sqlalchemy import inspect, select

from smecluster.registry import store
from smecluster.registry.models import Enterprise

UPDATE = ["name", "county_code", "industry_code"]


def _frame(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "uscc": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "county_code": [r[2] for r in rows],
            "industry_code": ["3841"] * len(rows),
            "fictional": [False] * len(rows),
        }
    )


def _upsert(engine, frame):
    with engine.begin() as conn:
        return store.upsert(conn, "enterprise", frame, ["uscc"], UPDATE)


@pytest.fixture(params=["merge", "append"])
def path(request, monkeypatch):
    """Run a test through the small-batch path and through the big-batch path."""
    monkeypatch.setattr(store, "BULK_ROWS", 10**9 if request.param == "merge" else 1)
    return request.param


def test_upsert_inserts_then_updates_only_changes(database_url, path):
    """New rows are inserted; of known rows only the changed one counts as updated."""
    engine = registry_engine(database_url)
    assert _upsert(engine, _frame((CODE_A, "甲", "320481"), (CODE_B, "乙", "320481"))) == store.Stored(2, 0)
    again = _upsert(engine, _frame((CODE_A, "甲", "320481"), (CODE_B, "乙二", "320581")))
    assert again == store.Stored(0, 1)
    with engine.connect() as conn:
        rows = conn.execute(select(Enterprise.uscc, Enterprise.name, Enterprise.county_code)).all()
    assert sorted(rows) == sorted([(CODE_A, "甲", "320481"), (CODE_B, "乙二", "320581")])


def test_database_refuses_a_bad_reference_and_keeps_its_state(database_url, path):
    """Even past the importer's own checks, the database's foreign keys refuse an unknown county."""
    engine = registry_engine(database_url)
    _upsert(engine, _frame((CODE_A, "甲", "320481")))
    before = snapshot(engine)
    with pytest.raises(Exception, match="(?i)foreign key"):
        _upsert(engine, _frame((CODE_B, "乙", "999999")))
    assert snapshot(engine) == before


def test_foreign_keys_are_back_after_a_big_batch(database_url, path):
    """The append path leaves the table with every foreign key it had."""
    engine = registry_engine(database_url)
    before = {fk["referred_table"] for fk in inspect(engine).get_foreign_keys("enterprise")}
    _upsert(engine, _frame((CODE_A, "甲", "320481")))
    engine.dispose()
    assert {fk["referred_table"] for fk in inspect(engine).get_foreign_keys("enterprise")} == before
