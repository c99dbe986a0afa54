"""The columnar snapshot answers as the database does, and is never used once the registry changed."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from demo_cache import generate
from sqlalchemy import delete, text, update

from smecluster.analytics.stored_snapshot import MIN_FIRMS_ENV, current_snapshot
from smecluster.db import open_database, session_scope
from smecluster.demo.generator import BASE_FIRMS
from smecluster.demo.writer import write_demo
from smecluster.registry.models import Designation, EnterpriseYear
from smecluster.registry.store import upsert
from smecluster.registry.version import current_version, writes_registry
from smecluster.services.clusters import evaluate_clusters
from smecluster.services.targets import target_progress
from smecluster.services.tiers import evaluate_enterprises

YEAR = 2025
ON = date(2025, 12, 31)


@pytest.fixture
def demo(database_url, tmp_path, monkeypatch):
    """A small demo registry; snapshots kept under tmp_path, used whatever the registry's size."""
    monkeypatch.setenv("SMECLUSTER_SNAPSHOT_DIR", str(tmp_path / "snapshots"))
    engine = open_database(database_url)
    write_demo(engine, generate(scale=800 / BASE_FIRMS))
    return engine


def _rounded(value):
    """Floats to 9 significant digits: sums over the same numbers in another order differ in the last bits."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _without_snapshot(monkeypatch, call):
    monkeypatch.setenv(MIN_FIRMS_ENV, str(10**9))
    try:
        return call()
    finally:
        monkeypatch.setenv(MIN_FIRMS_ENV, "0")


@pytest.mark.snapshot_child
def test_snapshot_answers_as_the_database(demo, monkeypatch):
    """Tiers, cluster verdicts and targets from the snapshot (written by a child process, as the product
    writes it) equal those read from the database."""
    direct = _without_snapshot(monkeypatch, lambda: evaluate_enterprises(demo, YEAR, ON).frame())
    clusters_direct = _without_snapshot(monkeypatch, lambda: _rounded([v.to_dict() for v in evaluate_clusters(demo)]))
    targets_direct = _without_snapshot(monkeypatch, lambda: target_progress(demo, by="county"))
    assert current_snapshot(demo, refresh=False) is None
    snap = current_snapshot(demo)
    assert snap is not None and (snap.registry_id, snap.version) == current_version(demo)
    from_snapshot = evaluate_enterprises(demo, YEAR, ON).frame()
    assert from_snapshot.height == direct.height > 500
    assert from_snapshot.sort("uscc").equals(direct.sort("uscc"))
    again = evaluate_enterprises(demo, YEAR, ON).frame()  # the province's facts, now from the cache
    assert again.sort("uscc").equals(direct.sort("uscc"))
    assert _rounded([v.to_dict() for v in evaluate_clusters(demo)]) == clusters_direct
    assert target_progress(demo, by="county") == targets_direct


def test_edit_after_snapshot_is_seen(demo, monkeypatch):
    """An edit after the snapshot makes it stale; the next evaluation shows the edit."""
    monkeypatch.setenv(MIN_FIRMS_ENV, "0")
    before = evaluate_enterprises(demo, YEAR, ON).frame()
    firm = before.filter(pl.col("designated_innovative_sme"))["uscc"][0]
    snap = current_snapshot(demo, refresh=False)
    assert snap is not None
    with session_scope(demo) as s:
        s.execute(delete(Designation).where(Designation.uscc == firm, Designation.kind == "innovative_sme"))
    assert current_version(demo)[1] > snap.version
    assert current_snapshot(demo, refresh=False) is None
    after = evaluate_enterprises(demo, YEAR, ON).frame()
    assert not after.filter(pl.col("uscc") == firm)["designated_innovative_sme"][0]
    assert current_snapshot(demo, refresh=False).version > snap.version


def test_bulk_import_bumps_the_version(demo, monkeypatch):
    """The bulk loader's write (ADBC on SQLite, COPY on PostgreSQL) changes the version with the data."""
    monkeypatch.setenv(MIN_FIRMS_ENV, "0")
    snap = current_snapshot(demo)
    with demo.connect() as c:
        row = c.execute(text("SELECT uscc, year, revenue FROM enterprise_year WHERE year = :y LIMIT 1"),
                        {"y": YEAR}).one()
    frame = pl.DataFrame({"uscc": [row.uscc], "year": [row.year], "revenue": [row.revenue + 1000.0]})
    if demo.dialect.name == "sqlite":
        demo.dispose()
        upsert(demo, "enterprise_year", frame, ["uscc", "year"], ["revenue"])
    else:
        with demo.begin() as conn:
            upsert(conn, "enterprise_year", frame, ["uscc", "year"], ["revenue"])
    assert current_version(demo)[1] > snap.version
    fresh = current_snapshot(demo)
    revenue = fresh.connect().sql(
        f"SELECT revenue FROM enterprise_year WHERE uscc = '{row.uscc}' AND year = {YEAR}").fetchall()[0][0]
    assert revenue == pytest.approx(row.revenue + 1000.0)


def test_only_registry_writes_bump(demo):
    """Writes to registry tables bump the version; account and audit writes leave the snapshot usable."""
    start = current_version(demo)[1]
    with session_scope(demo) as s:
        s.execute(update(EnterpriseYear).where(EnterpriseYear.year == YEAR).values(cloud=True))
    bumped = current_version(demo)[1]
    assert bumped > start
    with demo.begin() as c:
        c.execute(text("DELETE FROM login_session"))
    assert current_version(demo)[1] == bumped
    assert writes_registry('INSERT INTO "cluster_member" (cluster_id, uscc) VALUES (1, 2)')
    assert writes_registry("update enterprise_profile set net_profit = 1")
    assert not writes_registry("UPDATE account SET failed_logins = 0")
    assert not writes_registry("SELECT * FROM enterprise")


def test_a_written_snapshot_records_its_registry_version_rows_and_time(demo, tmp_path):
    """meta.json of a snapshot names the registry and version it was read at, each table's rows (as the
    database counts them) and the seconds the copy took; CURRENT points at it."""
    import json

    from smecluster.analytics.stored_snapshot import FORMAT, REGISTRY_TABLES, write_snapshot

    root = tmp_path / "written"
    root.mkdir()
    target = write_snapshot(demo.url.render_as_string(hide_password=False), root)
    meta = json.loads((target / "meta.json").read_text())
    registry_id, number = current_version(demo)
    with demo.connect() as c:
        counts = {t: c.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in REGISTRY_TABLES}
    assert (meta["format"], meta["registry_id"], meta["version"], meta["rows"]) == (FORMAT, registry_id, number,
                                                                                    counts)
    assert counts["enterprise"] > 0 and 0 <= meta["seconds"] < 600
    assert (root / "CURRENT").read_text() == target.name


def test_snapshots_live_beside_a_sqlite_file_else_in_the_users_cache(tmp_path, monkeypatch):
    """SMECLUSTER_SNAPSHOT_DIR/<key> when set; else beside a SQLite file (<file>.snapshot); else, for a server
    database, ~/.cache/smecluster/snapshots/<key> (key: the URL's digest)."""
    import hashlib

    from sqlalchemy import create_engine

    from smecluster.analytics.stored_snapshot import snapshot_root

    pg_url = "postgresql+psycopg://u@db.example/registry"
    key = hashlib.sha256(pg_url.encode()).hexdigest()[:16]
    pg = create_engine(pg_url)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SMECLUSTER_SNAPSHOT_DIR", str(tmp_path / "kept"))
    assert snapshot_root(pg) == tmp_path / "kept" / key
    monkeypatch.delenv("SMECLUSTER_SNAPSHOT_DIR")
    assert snapshot_root(pg) == tmp_path / "home" / ".cache" / "smecluster" / "snapshots" / key
    lite = create_engine(f"sqlite:///{tmp_path / 'reg.db'}")
    assert snapshot_root(lite) == (tmp_path / "reg.db.snapshot").resolve()


def test_building_again_with_nothing_changed_returns_the_live_snapshot(demo, monkeypatch):
    """A second build finds the live snapshot current (another process built it while this one waited on the
    lock): it returns that snapshot, same folder, registry and version, without writing a new one."""
    from smecluster.analytics import stored_snapshot

    first = stored_snapshot.build_snapshot(demo)
    assert first.path.is_dir() and first.file("enterprise").exists()
    assert (first.registry_id, first.version) == current_version(demo)

    def no_second_build(*_args, **_kwargs):
        raise AssertionError("the snapshot was written again")

    monkeypatch.setattr(stored_snapshot, "write_in_child", no_second_build)
    assert stored_snapshot.build_snapshot(demo) == first


@pytest.mark.snapshot_child
def test_a_child_that_fails_is_an_error_carrying_its_reason(tmp_path):
    """The child's own error (here: a database never migrated) comes back in the RuntimeError."""
    from smecluster.analytics.stored_snapshot import write_in_child

    with pytest.raises(RuntimeError, match=r"(?s)snapshot failed.*no registry_version table"):
        write_in_child(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path / "snapshots")
