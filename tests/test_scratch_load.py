"""PostgreSQL first load over several connections (registry.scratch_load): the tables swapped in are
declared exactly as the migrations made them, nothing is seen or left over when the load fails, and an
abandoned scratch schema is dropped by the next load."""

from __future__ import annotations

import uuid

import polars as pl
import pytest
from import_support import CODE_A, CODE_B, CODE_C, firm_frame, registry_engine, snapshot, year_frame
from sqlalchemy import insert, text

from smecluster.registry import scratch_load, store
from smecluster.registry.models import Cluster, ClusterMember

# PostgreSQL only: the scratch load is PostgreSQL's (SQLite's first load is one transaction)
pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]


@pytest.fixture
def pg_url(database_url, monkeypatch):
    """A PostgreSQL database whose loads name their scratch schemas apart from any other run's."""
    monkeypatch.setattr(scratch_load, "PREFIX", f"bulk_load_t{uuid.uuid4().hex[:8]}_")
    return database_url


def _designations(*codes: str) -> pl.DataFrame:
    return pl.DataFrame({"uscc": list(codes), "kind": ["srdi_sme"] * len(codes), "year": [2024] * len(codes)})


def _catalogue(engine) -> dict[str, list]:
    """What the schema declares about the loaded tables: constraints, indexes, sequence ownership."""
    with engine.connect() as c:
        return {
            "constraints": sorted(tuple(r) for r in c.execute(text(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE connamespace = current_schema()::regnamespace"))),
            "indexes": sorted(tuple(r) for r in c.execute(text(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"))),
            "sequences": sorted(tuple(r) for r in c.execute(text(
                "SELECT s.relname, t.relname, a.attname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid "
                "JOIN pg_class t ON t.oid = d.refobjid JOIN pg_attribute a ON a.attrelid = t.oid "
                "AND a.attnum = d.refobjsubid WHERE s.relkind = 'S' AND d.deptype = 'a' "
                "AND s.relnamespace = current_schema()::regnamespace"))),
            "defaults": sorted(tuple(r) for r in c.execute(text(
                "SELECT table_name, column_name, column_default FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND column_default IS NOT NULL"))),
        }


def _scratch_schemas(engine) -> list[str]:
    with engine.connect() as c:
        return [n for n in c.execute(text("SELECT nspname FROM pg_namespace")).scalars()
                if n.startswith(scratch_load.PREFIX)]


TABLES = [("enterprise", ["uscc"]), ("enterprise_year", ["uscc", "year"]), ("designation", ["uscc", "kind", "year"])]


def _load(engine, frames):
    with engine.begin() as conn:
        return store.bulk_load(conn, [(t, f, k) for (t, k), f in zip(TABLES, frames, strict=True)])


def test_scratch_load_swaps_in_tables_declared_as_migrated(pg_url, monkeypatch):
    """Several connections load, and the tables swapped in have the migrations' keys, indexes, foreign
    keys (other tables' too), defaults and sequences: a designation added afterwards takes the next id."""
    engine = registry_engine(pg_url)
    before = _catalogue(engine)
    used = []
    real = scratch_load.scratch_load
    monkeypatch.setattr(scratch_load, "scratch_load", lambda *a: used.append(1) or real(*a))
    counts = _load(engine, [firm_frame(CODE_A, CODE_B), year_frame(CODE_A, CODE_B), _designations(CODE_A, CODE_B)])
    assert used and counts == {"enterprise": 2, "enterprise_year": 4, "designation": 2}
    assert _catalogue(engine) == before
    assert _scratch_schemas(engine) == []
    with engine.begin() as c:
        c.execute(text("INSERT INTO designation (uscc, kind, year) VALUES (:u, 'little_giant', 2025)"), {"u": CODE_A})
        ids = list(c.execute(text("SELECT id FROM designation ORDER BY id")).scalars())
        assert len(set(ids)) == 3  # the sequence went on from the loaded rows' ids
        # cluster_member's foreign key to enterprise is back
        with pytest.raises(Exception, match="(?i)foreign key"), c.begin_nested():
                cid = c.execute(insert(Cluster).values(code="X1", name="x", county_code="320481")
                                .returning(Cluster.id)).scalar()
                c.execute(insert(ClusterMember).values(cluster_id=cid, uscc=CODE_C))


def test_failed_scratch_load_writes_and_leaves_nothing(pg_url):
    """A designation of a firm not loaded fails the load: no row written, no scratch schema left."""
    engine = registry_engine(pg_url)
    before, declared = snapshot(engine), _catalogue(engine)
    with pytest.raises(Exception, match="(?i)foreign key"):
        _load(engine, [firm_frame(CODE_A), year_frame(CODE_A), _designations(CODE_A, CODE_C)])
    assert snapshot(engine) == before and _catalogue(engine) == declared
    assert _scratch_schemas(engine) == []


def test_a_rolled_back_load_is_dropped_by_the_next(pg_url):
    """The caller rolls back after the swap: its tables are empty again, and the scratch schema left
    over is dropped by the next load (its transaction's advisory lock has ended)."""
    engine = registry_engine(pg_url)
    before = snapshot(engine)
    with engine.connect() as conn:
        tx = conn.begin()
        store.bulk_load(conn, [(t, f, k) for (t, k), f in zip(
            TABLES, [firm_frame(CODE_A), year_frame(CODE_A), _designations(CODE_A)], strict=True)])
        tx.rollback()
    assert snapshot(engine) == before
    assert len(_scratch_schemas(engine)) == 1
    _load(engine, [firm_frame(CODE_B), year_frame(CODE_B), _designations(CODE_B)])
    assert _scratch_schemas(engine) == []
    with engine.connect() as c:
        assert list(c.execute(text("SELECT uscc FROM enterprise")).scalars()) == [CODE_B]


def test_a_transaction_that_wrote_loads_on_its_own_connection(pg_url, monkeypatch):
    """A caller's transaction that already wrote keeps the one-transaction path (a loading connection
    could wait for its row locks while it waits for that connection), and still loads everything."""
    engine = registry_engine(pg_url)
    monkeypatch.setattr(scratch_load, "scratch_load", lambda *a: pytest.fail("scratch load with writes pending"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE region SET name = name WHERE code = '320481'"))
        counts = store.bulk_load(conn, [(t, f, k) for (t, k), f in zip(
            TABLES, [firm_frame(CODE_A), year_frame(CODE_A), _designations(CODE_A)], strict=True)])
    assert counts == {"enterprise": 1, "enterprise_year": 2, "designation": 1}
