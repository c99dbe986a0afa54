"""bulk_load: the first load of empty tables (demo and benchmark registries), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from import_support import CODE_A, CODE_B, CODE_C, firm_frame, registry_engine, snapshot, year_frame
from sqlalchemy import inspect, text

from smecluster.registry import store


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
    counts = _load(engine, [("enterprise", firm_frame(CODE_A, CODE_B), ["uscc"]),
                            ("enterprise_year", year_frame(CODE_A, CODE_B), ["uscc", "year"])])
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
        _load(engine, [("enterprise", firm_frame(CODE_A), ["uscc"]),
                       ("enterprise_year", year_frame(CODE_A, CODE_C), ["uscc", "year"])])
    assert snapshot(engine) == before


def test_bulk_load_refuses_a_table_that_has_rows(database_url):
    """A first load never merges into stored rows (that is what `upsert` is for)."""
    engine = registry_engine(database_url)
    _load(engine, [("enterprise", firm_frame(CODE_A), ["uscc"])])
    before = snapshot(engine)
    with pytest.raises(ValueError, match="empty tables only"):
        _load(engine, [("enterprise", firm_frame(CODE_B), ["uscc"])])
    assert snapshot(engine) == before


def _in_parts(*frames: pl.DataFrame):
    """Rows given in parts (a function giving the frames, as the demo writer gives its profiles)."""
    return lambda: iter(frames)


@pytest.mark.parametrize("beside", [True, False], ids=["scratch", "main"])
def test_bulk_load_of_rows_in_parts_writes_them_all(database_url, beside):
    """Rows given in parts (each in key order, the parts not) are all written, in one load."""
    engine = registry_engine(database_url)
    tables = [("enterprise", firm_frame(CODE_A, CODE_B), ["uscc"]),
              ("enterprise_year", _in_parts(year_frame(CODE_B).filter(pl.col("year") == 2025),
                                            year_frame(CODE_A, CODE_B).filter(pl.col("year") == 2024),
                                            year_frame(CODE_A).filter(pl.col("year") == 2025)), ["uscc", "year"])]
    if engine.dialect.name == "sqlite":
        engine.dispose()
        counts = store.bulk_load(engine, tables, beside=frozenset({"enterprise_year"} if beside else ()))
    else:
        with engine.begin() as conn:
            counts = store.bulk_load(conn, tables)
    assert counts == {"enterprise": 2, "enterprise_year": 4}
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT uscc, year FROM enterprise_year ORDER BY uscc, year")).all()
    assert [tuple(r) for r in rows] == [(c, y) for c in sorted([CODE_A, CODE_B]) for y in (2024, 2025)]


def test_bulk_load_checks_the_references_of_rows_in_parts(database_url):
    """A part referring to a firm neither stored nor loaded fails the whole load."""
    engine = registry_engine(database_url)
    before = snapshot(engine)
    with pytest.raises(Exception, match="(?i)foreign key|missing rows"):
        _load(engine, [("enterprise", firm_frame(CODE_A), ["uscc"]),
                       ("enterprise_year", _in_parts(year_frame(CODE_A), year_frame(CODE_C)), ["uscc", "year"])])
    assert snapshot(engine) == before


def test_bulk_load_checks_references_to_stored_rows(database_url):
    """Firms refer to regions and industries already stored (not loaded): an unknown county fails."""
    engine = registry_engine(database_url)
    before = snapshot(engine)
    with pytest.raises(Exception, match="(?i)foreign key|missing rows of region"):
        _load(engine, [("enterprise", firm_frame(CODE_A).with_columns(pl.lit("329999").alias("county_code")),
                        ["uscc"])])
    assert snapshot(engine) == before


def test_frames_already_in_key_order_are_not_copied():
    """in_key_order gives the frame itself when its rows are in key order, else a sorted copy."""
    frame = year_frame(CODE_A, CODE_B).sort("uscc", "year")
    assert store.in_key_order(frame, ["uscc", "year"]) is frame
    shuffled = frame.reverse()
    assert store.in_key_order(shuffled, ["uscc", "year"]).equals(frame)
    ties = pl.DataFrame({"a": ["x", "x", "y"], "b": [2, 1, 1]})
    assert store.in_key_order(ties, ["a", "b"]).equals(ties.sort("a", "b"))


@pytest.mark.postgres
def test_copy_into_postgresql_is_binary_for_the_registry_columns(database_url, monkeypatch):
    """The registry's frames go by COPY's binary format (no text parsed by the server); a column whose
    values are of another kind (text into an integer column) goes as CSV and arrives alike."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's COPY")
    engine = registry_engine(database_url)
    monkeypatch.setattr(store, "BULK_ROWS", 1)  # the first load's COPY straight into the table, as at scale
    formats = []
    real = store._PostgreSQL._copy_binary
    monkeypatch.setattr(store._PostgreSQL, "_copy_binary",
                        lambda self, table, frame, schema: (formats.append(table), real(self, table, frame, schema)))
    years = year_frame(CODE_A).with_columns(pl.col("year").cast(pl.Utf8))  # text for an integer column
    _load(engine, [("enterprise", firm_frame(CODE_A), ["uscc"]), ("enterprise_year", years, ["uscc", "year"])])
    assert formats == ["enterprise"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT year FROM enterprise_year ORDER BY year")).scalars().all() == [2024, 2025]
