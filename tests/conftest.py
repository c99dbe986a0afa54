"""Shared fixtures: a fresh database on SQLite and on PostgreSQL for storage tests."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

PG_SERVER = os.environ.get("SMECLUSTER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("SMECLUSTER_REQUIRE_POSTGRES") == "1"
SHARED = Path(__file__).resolve().parents[2] / "shared"
# CI (.ci/run) lays shared/ beside the clone: there a missing reference table is a failure, not a skip.
REQUIRE_SHARED = os.environ.get("SMECLUSTER_REQUIRE_SHARED") == "1"


def _pg_available() -> bool:
    try:
        eng = create_engine(PG_SERVER, connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(text("select 1"))
        eng.dispose()
        return True
    except Exception:
        return False


PG_OK = _pg_available()


def require_pg() -> None:
    """Skip the calling test without a PostgreSQL server; fail it instead when SMECLUSTER_REQUIRE_POSTGRES=1."""
    if not PG_OK:
        if REQUIRE_PG:
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required (SMECLUSTER_REQUIRE_POSTGRES=1)")
        pytest.skip("PostgreSQL is not available")


_template = None  # the worker's db_template.TemplateUpgrade while the session runs


def pg_schema_url() -> tuple[str, str]:
    """A fresh schema in the test database and a URL whose search_path points at it. Its sessions commit
    without waiting for the WAL to reach the disk (synchronous_commit=off: a test's database need not
    outlive a crash of the server), which cost 2 ms a commit here (decision 2308)."""
    schema = "t_" + uuid.uuid4().hex[:12]
    eng = create_engine(PG_SERVER)
    with eng.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng.dispose()
    return schema, f"{PG_SERVER}?options=-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"


def drop_pg_schema(schema: str, keep: bool = True) -> None:
    """Drop a test's schema; with `keep`, an unchanged one is emptied and kept for the next test instead
    (db_template.TemplateUpgrade.recycle, decision 2308)."""
    if keep and _template is not None and _template.recycle(schema):
        return
    eng = create_engine(PG_SERVER)
    with eng.begin() as c:
        c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """An empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    require_pg()
    schema, url = pg_schema_url()
    yield url
    from smecluster.db import get_engine

    get_engine(url).dispose()
    drop_pg_schema(schema)


@pytest.fixture(autouse=True, scope="session")
def _migrated_template(tmp_path_factory):
    """Empty databases are copies of a template migrated once per worker (tests/db_template.py, decision 2302)."""
    from db_template import TemplateUpgrade

    import smecluster.db as db

    global _template
    stand_in = TemplateUpgrade(db.upgrade, tmp_path_factory.mktemp("db-template"), PG_SERVER if PG_OK else None)
    db.upgrade = _template = stand_in
    yield stand_in
    db.upgrade = stand_in.real
    _template = None
    stand_in.close()


@pytest.fixture(autouse=True, scope="session")
def _demo_generated_once():
    """build_demo takes small demo registries from the worker's cache (tests/demo_cache.py)."""
    from demo_cache import generate

    import smecluster.services.demo as demo

    real = demo.generate
    demo.generate = generate
    yield
    demo.generate = real


@pytest.fixture(autouse=True)
def _real_migrations_when_marked(request, _migrated_template):
    """Tests marked `real_migrations` migrate every empty database through alembic."""
    if request.node.get_closest_marker("real_migrations") is None:
        yield
        return
    _migrated_template.enabled = False
    yield
    _migrated_template.enabled = True


def _write_snapshot_here(url: str, root: Path) -> None:
    """stored_snapshot.write_in_child's work in the test's own process (its engine closed after)."""
    from smecluster.analytics.stored_snapshot import write_snapshot
    from smecluster.db import get_engine

    write_snapshot(url, root)
    get_engine(url).dispose()


@pytest.fixture(autouse=True)
def _snapshots_written_in_process(request, monkeypatch):
    """Registry snapshots are written in the test's process: a child process started Python and imported
    the stack again (0.6 s of each of 48 builds; decision 2309). Tests marked `snapshot_child` start the
    child, as the product does."""
    if request.node.get_closest_marker("snapshot_child") is None:
        import smecluster.analytics.stored_snapshot as stored_snapshot

        monkeypatch.setattr(stored_snapshot, "write_in_child", _write_snapshot_here)


@pytest.fixture(autouse=True, scope="session")
def _one_event_loop_for_web_clients():
    """Web-client requests share one event loop per worker. Starlette's TestClient, used outside a `with`
    block (as most tests do), starts a thread and an event loop for each request and stops them after it:
    3 of the 9 ms a simple page took. A client given a portal runs the app on it; a `with TestClient(...)`
    block still makes its own (and runs the app's lifespan)."""
    import anyio.from_thread
    from starlette.testclient import TestClient

    with anyio.from_thread.start_blocking_portal() as portal:
        TestClient.portal = portal
        yield
        TestClient.portal = None


@pytest.fixture
def shared_dir() -> Path:
    """The shared/ folder beside the repository (reference data for tests)."""
    return SHARED


@pytest.fixture(autouse=True, scope="session")
def _private_data_home(tmp_path_factory):
    """Audit keys of the tests' PostgreSQL schemas go to a temporary data home, not ~/.local/share."""
    old = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("data-home"))
    yield
    if old is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = old


def shared_file(relative: str) -> Path:
    """A reference file under ../shared; skips when absent, fails when SMECLUSTER_REQUIRE_SHARED=1 (CI)."""
    path = SHARED / relative
    if not path.exists():
        if REQUIRE_SHARED:
            pytest.fail(f"{path} is required (SMECLUSTER_REQUIRE_SHARED=1): shared/ must lie beside the repository")
        pytest.skip(f"{path} not present (shared/ reference data)")
    return path


# The files that start a Spark session: xdist hands them to one worker together, so that one JVM starts
# (each costs a worker 10-20 s and a gigabyte). tests/test_engines.py checks that the list is complete.
SPARK_FILES = ("tests/test_engines.py", "tests/test_engines_spark.py", "tests/test_national_demo.py")
# Seconds each of the slowest files took in a full `make test` (2 cores, 2026-12-02). xdist hands out the
# files heaviest first, so that no long file starts last while the other worker idles (it ran 40 s alone
# at the end of a run otherwise); a file not listed counts SECONDS_PER_TEST for each of its tests. Only the
# order depends on these figures: a stale one costs some idle time, never a result.
FILE_SECONDS = {
    "tests/test_engines.py": 122, "tests/browser/test_browser_flow.py": 85, "tests/browser/test_browser_phone.py": 71,
    "tests/test_web_access.py": 56, "tests/test_scale_kept.py": 42, "tests/test_national_demo.py": 37,
    "tests/test_scale_reads.py": 30, "tests/browser/test_browser_national.py": 25, "tests/test_web_openapi.py": 23,
    "tests/test_scale_snapshot.py": 22, "tests/test_web_pages.py": 19, "tests/test_web_priority.py": 18,
    "tests/browser/test_browser_polish.py": 18, "tests/test_priority_registry.py": 18, "tests/test_web_trust.py": 16,
    "tests/test_web_watch.py": 16, "tests/test_cli_widths.py": 16, "tests/test_dossiers.py": 15,
    "tests/test_cluster_criteria.py": 15, "tests/test_guard_workflow.py": 14, "tests/test_web_workflow.py": 14,
    "tests/test_watch.py": 13, "tests/test_demo.py": 13, "tests/browser/test_browser_watch.py": 12,
    "tests/test_chains_cli.py": 12, "tests/test_guard_admin_audit.py": 11,
    "tests/browser/test_browser_priority.py": 11, "tests/test_import_layers.py": 11, "tests/test_trust_audit.py": 9,
}
SECONDS_PER_TEST = 0.15


def heaviest_first(nodeids: list[str], unit) -> list[str]:
    """`nodeids` sorted by the expected seconds of their unit of work (`unit(nodeid)`), heaviest first; a
    stable sort, so each unit's tests keep their order."""
    from collections import Counter

    seconds: Counter = Counter()
    for path, tests in Counter(nodeid.split("::", 1)[0] for nodeid in nodeids).items():
        seconds[unit(path)] += FILE_SECONDS.get(path, tests * SECONDS_PER_TEST)
    return sorted(nodeids, key=lambda nodeid: -seconds[unit(nodeid)])


def work_unit(nodeid: str) -> str:
    """The unit of work xdist hands to one worker: the test's file, or "spark-session" for SPARK_FILES."""
    path = nodeid.split("::", 1)[0]
    return "spark-session" if path in SPARK_FILES else path


def pytest_collection_modifyitems(config, items):
    """In an xdist worker (`make test`), the tests heaviest unit of work first: every worker collects in
    this order and xdist queues the units in it (its own reordering is turned off below)."""
    if hasattr(config, "workerinput"):  # xdist sets it in its workers (whose `dist` option reads "no")
        order = {nodeid: k for k, nodeid in enumerate(heaviest_first([i.nodeid for i in items], work_unit))}
        items.sort(key=lambda item: order[item.nodeid])


@pytest.hookimpl(optionalhook=True)  # xdist's hook: a run without xdist (`-p no:xdist`) must not fail on it
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile` in the collection's order (heaviest first), the Spark files one unit of work."""
    if config.getoption("dist", None) != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class HeaviestFirst(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # by default xdist queues the files with most tests first
    return HeaviestFirst(config, log)


# Spark (tests/test_engines.py): skipped without Java or PySpark, failed instead when
# SMECLUSTER_REQUIRE_SPARK=1 (set by .ci/run). One session for the whole test run, sized for small data.
REQUIRE_SPARK = os.environ.get("SMECLUSTER_REQUIRE_SPARK") == "1"
# Small data: no generated code (compiling the tier query's code costs more than interpreting a few
# thousand rows; the results are the same), few partitions, no adaptive re-planning; small memory pages
# (a task of the ranking's indicator query holds many hash aggregates at once, each with a page: at the
# default 16 MB for a 1 GB driver they did not fit a task's share of memory, UNABLE_TO_ACQUIRE_MEMORY).
# The JVM compiles with C1 only and collects with one thread: the tests' queries run for seconds, and C2's
# compiler threads and parallel GC cost more CPU than they win back (test_engines' Spark tests: the JVM used
# 94 CPU-seconds instead of 141, in the same wall time; the CPU goes to the other test worker).
# Names are case-sensitive (spark.sql.caseSensitive, which a cluster may set): a column or table named in
# another case than it was made with ("DESIGNATED_x" for designated_x) fails here, where DuckDB would
# resolve it anyway, so the SQL that reaches a national Spark run is exact (decision 2307).
SPARK_TEST_CONF = {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2",
                   "spark.driver.memory": "1g", "spark.sql.adaptive.enabled": "false",
                   "spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN",
                   "spark.buffer.pageSize": "2m", "spark.sql.caseSensitive": "true",
                   "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}


@pytest.fixture(scope="session")
def spark_engine():
    """A Spark SQL engine in local mode (analytics.engines.SparkEngine), one session per test run."""
    import importlib.util
    import shutil

    missing = [what for what, ok in (("Java (java on PATH)", shutil.which("java")),
                                     ("PySpark", importlib.util.find_spec("pyspark"))) if not ok]
    if missing:
        if REQUIRE_SPARK:
            pytest.fail(f"Spark is required (SMECLUSTER_REQUIRE_SPARK=1) but {' and '.join(missing)} is missing")
        pytest.skip(f"Spark tests need {' and '.join(missing)}")
    from smecluster.analytics.engines import SparkEngine, spark_session

    session = spark_session("local[2]", shuffle_partitions=2, conf=SPARK_TEST_CONF)
    engine = SparkEngine("local[2]", session)
    yield engine
    engine.close()
