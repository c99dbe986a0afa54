"""The tests' empty databases, copied from a template migrated once per worker, equal migrated ones (decision 2302)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from smecluster.accounts.users import add_user
from smecluster.db import get_engine, open_database, session_scope
from smecluster.registry.models import Region
from smecluster.workflow import audit


def _shape(engine) -> dict:
    """Every table's columns (name, type, nullable, default), indexes, unique and foreign keys, and the revision."""
    insp = inspect(engine)
    out = {}
    for table in sorted(insp.get_table_names()):
        out[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in
                        insp.get_columns(table)],
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in insp.get_indexes(table)),
            "unique": sorted((u["name"] or "", tuple(u["column_names"])) for u in insp.get_unique_constraints(table)),
            "foreign": sorted((f["referred_table"], tuple(f["constrained_columns"]), tuple(f["referred_columns"]))
                              for f in insp.get_foreign_keys(table)),
            "primary": tuple(insp.get_pk_constraint(table)["constrained_columns"]),
        }
    with engine.connect() as c:
        out["alembic_version"]["rows"] = c.execute(text("SELECT version_num FROM alembic_version")).all()
    return out


def _registry_id(engine) -> str:
    with engine.connect() as c:
        return c.execute(text("SELECT registry_id FROM registry_version WHERE id = 1")).scalar_one()


@pytest.fixture
def second_url(database_url, tmp_path):
    """Another empty database of the same kind as database_url."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    from conftest import drop_pg_schema, pg_schema_url

    schema, url = pg_schema_url()
    yield url
    get_engine(url).dispose()
    drop_pg_schema(schema)


def test_a_copied_database_equals_a_migrated_one(database_url, second_url, _migrated_template):
    """Tables, columns, keys, indexes and revision are the same; each database has its own registry_id."""
    copied = open_database(database_url)  # an empty database: the worker's template is copied in
    migrated = get_engine(second_url)
    _migrated_template.real(migrated)  # alembic, every migration
    assert _shape(copied) == _shape(migrated)
    assert len(_shape(copied)) > 20
    ids = {_registry_id(copied), _registry_id(migrated), _registry_id(open_database(database_url))}
    assert len(ids) == 2  # a second open of the same database keeps its id
    third = second_url.replace("other.db", "third.db") if second_url.startswith("sqlite") else None
    if third:
        assert _registry_id(open_database(third)) not in ids  # each copy gets its own


def test_the_audit_trail_stays_append_only_in_a_copied_database(database_url):
    """The copy keeps the migration's triggers: an audit entry can be neither changed nor deleted."""
    from smecluster.db import session_scope
    from smecluster.workflow import audit

    engine = open_database(database_url)
    with session_scope(engine) as s:
        audit.record(s, "cli", "test.template")
    for statement in ("UPDATE audit_entry SET action = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(DBAPIError), engine.begin() as c:
            c.execute(text(statement))
    with engine.connect() as c:
        assert c.execute(text("SELECT action FROM audit_entry")).scalars().all() == ["test.template"]


@pytest.fixture
def template(_migrated_template):
    """The worker's template, on PostgreSQL only (schemas are kept for the next test there alone)."""
    from conftest import require_pg

    require_pg()
    return _migrated_template


def _used_schema():
    """A test schema with the template copied in and rows written (an account, an audit entry, a version bump)."""
    from conftest import pg_schema_url

    schema, url = pg_schema_url()
    engine = open_database(url)
    with session_scope(engine) as s:
        s.add(Region(code="320000", name="江苏省", level="province"))
    with session_scope(engine) as s:
        add_user(s, "kept", "a long password 1", "province_admin", region_code="320000")
        audit.record(s, "cli", "test.kept")
    with engine.begin() as c:
        c.execute(text("UPDATE registry_version SET version = 7 WHERE id = 1"))
    return schema, url, engine


def _schema_exists(schema: str) -> bool:
    from conftest import PG_SERVER

    with get_engine(PG_SERVER).connect() as c:
        return bool(c.execute(text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": schema}).scalar())


def test_a_kept_schema_comes_back_as_a_new_database(template, tmp_path):
    """A schema a test is done with is emptied and handed to the next test: no row of the last test, the
    template's rows (revision, version 1) and a new registry_id, sequences from 1, the audit trail append-only,
    and the same shape as a database alembic migrated."""
    from conftest import drop_pg_schema, pg_schema_url

    schema, _, engine = _used_schema()
    old_id = _registry_id(engine)
    engine.dispose()
    pool = len(template._pool)
    drop_pg_schema(schema)
    assert len(template._pool) == pool + 1 and not _schema_exists(schema)

    schema, url = pg_schema_url()
    try:
        engine = open_database(url)
        assert len(template._pool) == pool  # the kept schema was taken, not a new copy made
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM region")).scalar() == 0
            assert c.execute(text("SELECT count(*) FROM account")).scalar() == 0
            assert c.execute(text("SELECT count(*) FROM audit_entry")).scalar() == 0
            assert c.execute(text("SELECT version FROM registry_version")).scalar_one() == 1
        assert _registry_id(engine) != old_id
        with session_scope(engine) as s:
            s.add(Region(code="320000", name="江苏省", level="province"))
        with session_scope(engine) as s:
            assert add_user(s, "first", "a long password 1", "province_admin", region_code="320000").id == 1
            audit.record(s, "cli", "test.again")
        with pytest.raises(DBAPIError), engine.begin() as c:
            c.execute(text("DELETE FROM audit_entry"))
        migrated_schema, migrated_url = pg_schema_url()
        migrated = get_engine(migrated_url)
        template.real(migrated)
        try:
            assert _shape(engine) == _shape(migrated)
        finally:
            migrated.dispose()
            drop_pg_schema(migrated_schema, keep=False)
    finally:
        engine.dispose()
        drop_pg_schema(schema, keep=False)


def test_a_schema_a_test_changed_is_dropped_not_kept(template):
    """A schema with a table, column or index more than the template's is dropped: the next test never
    inherits what one test built."""
    from conftest import drop_pg_schema

    for change in ("CREATE TABLE extra (x int)", "ALTER TABLE account ADD COLUMN extra int",
                   "CREATE INDEX extra_ix ON account (display_name)"):
        schema, _, engine = _used_schema()
        with engine.begin() as c:
            c.execute(text(change))
        engine.dispose()
        pool = len(template._pool)
        drop_pg_schema(schema)
        assert len(template._pool) == pool, change
        assert not _schema_exists(schema)
