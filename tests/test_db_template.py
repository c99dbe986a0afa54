"""The tests' empty databases, copied from a template migrated once per worker, equal migrated ones (decision 2302)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from smecluster.db import get_engine, open_database


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
