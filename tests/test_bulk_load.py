"""bulk_load: the first load of empty tables (demo and benchmark registries), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from import_support import CODE_A, CODE_B, CODE_C, registry_engine, snapshot
from sqlalchemy import inspect, text

from smecluster.registry import store


def _firms(*codes: str) -> pl.DataFrame:
    return pl.DataFrame({"uscc": list(codes), "name": [f"企业{i}" for i in range(len(codes))],
                         "county_code": ["320481"] * len(codes), "industry_code": ["3841"] * len(codes),
                         "fictional": [True] * len(codes)})


def _years(*codes: str) -> pl.DataFrame:
    return pl.DataFrame({"uscc": [c for c in codes for _ in (2024, 2025)], "year": [2024, 2025] * len(codes),
                         "revenue": [100.0, 120.0] * len(codes), "cloud": [True, False] * len(codes)})


def _load(engine, tables):
    beside = frozenset({"enterprise_year"})  # the SQLite scratch-file path too
    if engine.dialect.name == "sqlite":
        engine.dispose()
        return store.bulk_load(engine, tables, beside=beside)
    with engine.begin() as conn:
        return store.bulk_load(conn, tables, beside=beside)


def _indexes(engine) -> dict[str, list]:
    engine.dispose()
    found = inspect(engine)
    return {t: sorted((i["name"], tuple(i["column_names"])) for i in found.get_indexes(t))
            for t in ("enterprise", "enterprise_year")}


def test_bulk_load_writes_every_row_and_keeps_indexes(database_url, tmp_path):
    """Rows arrive as given (booleans and all), indexes are as declared, no scratch file is left."""
    engine = registry_engine(database_url)
    indexes = _indexes(engine)
    counts = _load(engine, [("enterprise", _firms(CODE_A, CODE_B), ["uscc"]),
                            ("enterprise_year", _years(CODE_A, CODE_B), ["uscc", "year"])])
    assert counts == {"enterprise": 2, "enterprise_year": 4}
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT uscc, year, revenue, cloud FROM enterprise_year ORDER BY uscc, year")).all()
    assert [(u, y, r, bool(c)) for u, y, r, c in rows] == [
        (code, year, revenue, cloud) for code in sorted([CODE_A, CODE_B])
        for year, revenue, cloud in ((2024, 100.0, True), (2025, 120.0, False))]
    assert _indexes(engine) == indexes
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert not list(Path(engine.url.database).parent.glob("*.load-*"))


def test_bulk_load_of_a_row_without_its_firm_writes_nothing(database_url):
    """A yearly row of a firm that is not in the registry fails the load, and nothing stays written."""
    engine = registry_engine(database_url)
    before = snapshot(engine)
    with pytest.raises(Exception, match="(?i)foreign key|missing rows"):
        _load(engine, [("enterprise", _firms(CODE_A), ["uscc"]),
                       ("enterprise_year", _years(CODE_A, CODE_C), ["uscc", "year"])])
    assert snapshot(engine) == before


def test_bulk_load_refuses_a_table_that_has_rows(database_url):
    """A first load never merges into stored rows (that is what `upsert` is for)."""
    engine = registry_engine(database_url)
    _load(engine, [("enterprise", _firms(CODE_A), ["uscc"])])
    before = snapshot(engine)
    with pytest.raises(ValueError, match="empty tables only"):
        _load(engine, [("enterprise", _firms(CODE_B), ["uscc"])])
    assert snapshot(engine) == before
