"""Province results kept beside the snapshot (tier rows, indicator values, cluster indicators) answer
exactly as computing them does, are read by key for one firm, and are never read once the registry
changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date

import polars as pl
import pytest
from demo_cache import generate
from sqlalchemy import text, update

from smecluster.analytics.reader import count_rows
from smecluster.analytics.snapshot import load_snapshot
from smecluster.analytics.stored_snapshot import MIN_FIRMS_ENV, current_snapshot
from smecluster.db import open_database, session_scope
from smecluster.demo.generator import BASE_FIRMS
from smecluster.demo.writer import write_demo
from smecluster.policy.pack import load_pack
from smecluster.registry.models import EnterpriseYear
from smecluster.services import diagnosis
from smecluster.services.clusters import evaluate_clusters, evaluate_snapshot
from smecluster.services.tiers import (
    evaluate_enterprises,
    evaluate_facts,
    facts_date,
    keep_for_diagnosis,
    plan_for,
    province_facts,
    tiers_name,
)
from smecluster.settings import province

YEAR = 2025
ON = date(2025, 12, 31)


@pytest.fixture
def demo(database_url, tmp_path, monkeypatch):
    """A small demo registry that uses the snapshot whatever its size (snapshots under tmp_path)."""
    monkeypatch.setenv("SMECLUSTER_SNAPSHOT_DIR", str(tmp_path / "snapshots"))
    monkeypatch.setenv(MIN_FIRMS_ENV, "0")
    engine = open_database(database_url)
    write_demo(engine, generate(scale=700 / BASE_FIRMS))
    return engine


def _codes(engine, n: int) -> list[str]:
    with engine.connect() as c:
        return list(c.execute(text("SELECT uscc FROM enterprise ORDER BY uscc")).scalars())[::7][:n]


def _per_firm(monkeypatch, engine, uscc: str) -> dict:
    """The diagnosis computed from the firm's own database rows (the kept tables not consulted)."""
    with monkeypatch.context() as m:
        m.setattr(diagnosis, "kept_diagnosis", lambda *_a, **_k: None)
        return diagnosis.diagnose(engine, uscc, year=YEAR, on=ON)


def test_kept_diagnosis_equals_the_per_firm_one_and_reads_no_registry_rows(demo, monkeypatch):
    """With the province's tier rows and values kept, a diagnosis is a keyed read: the same dict as
    evaluating the firm's own rows, and not one registry row read from the database."""
    snapshot = current_snapshot(demo)
    keep_for_diagnosis(snapshot, YEAR, ON)
    for uscc in _codes(demo, 12):
        with count_rows() as log:
            kept = diagnosis.kept_diagnosis(demo, uscc, YEAR, ON)
        assert kept is not None and log.rows() == 0
        assert kept == _per_firm(monkeypatch, demo, uscc)
    with pytest.raises(diagnosis.UnknownEnterprise):
        diagnosis.diagnose(demo, "91320000000000000X", year=YEAR, on=ON)


def test_kept_diagnosis_never_stale(demo, monkeypatch):
    """After an edit the kept tables belong to an older version: the diagnosis shows the edit."""
    keep_for_diagnosis(current_snapshot(demo), YEAR, ON)
    uscc = _codes(demo, 1)[0]
    before = diagnosis.diagnose(demo, uscc, year=YEAR, on=ON)
    with session_scope(demo) as s:
        s.execute(update(EnterpriseYear).where(EnterpriseYear.uscc == uscc, EnterpriseYear.year == YEAR)
                  .values(rd_spending=EnterpriseYear.rd_spending + 12345.0))
    assert diagnosis.kept_diagnosis(demo, uscc, YEAR, ON) is None  # the snapshot is no longer current
    after = diagnosis.diagnose(demo, uscc, year=YEAR, on=ON)
    assert after == _per_firm(monkeypatch, demo, uscc) and after != before


def test_kept_province_and_county_tiers_equal_the_computed(demo):
    """The province's kept tier rows (sorted by credit code) and a county's rows of them equal the tiers
    computed from the facts."""
    snapshot = current_snapshot(demo)
    first = evaluate_enterprises(demo, year=YEAR, on=ON).frame()  # computes and keeps
    assert snapshot.has(tiers_name(plan_for(ON, None), YEAR, facts_date(snapshot, ON)))
    facts = pl.from_arrow(province_facts(snapshot, YEAR, ON))  # the kept facts the tiers came from
    assert facts["uscc"].is_sorted()
    computed = evaluate_facts(facts, YEAR, ON).frame()
    again = evaluate_enterprises(demo, year=YEAR, on=ON).frame()  # reads what was kept
    assert first.equals(computed) and again.equals(computed)
    county = computed["county_code"].mode().sort()[0]
    kept_county = evaluate_enterprises(demo, year=YEAR, on=ON, county=county).frame()
    alone = evaluate_facts(facts.filter(pl.col("county_code") == county), YEAR, ON).frame()
    assert kept_county.height == computed.filter(pl.col("county_code") == county).height > 0
    assert kept_county.equals(alone)


def test_kept_cluster_verdicts_equal_the_computed(demo):
    """Cluster verdicts from the kept indicator table equal those computed over the snapshot's rows."""
    pack = load_pack(province().cluster_policy)
    computed = evaluate_snapshot(load_snapshot(demo, None, scope="clusters"), pack, YEAR)
    first = evaluate_clusters(demo, year=YEAR)  # computes and keeps
    kept = evaluate_clusters(demo, year=YEAR)  # from the kept table
    assert computed and kept == first  # the kept numbers are the computed ones, bit for bit
    # two computations sum in an order of DuckDB's threads: equal to the last bits but one
    assert _rounded([v.to_dict() for v in first]) == _rounded([v.to_dict() for v in computed])


def _rounded(value):
    """Floats to 9 significant digits (sums over the same numbers in another order differ in the last bits)."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


KEPT_DIAGNOSE = textwrap.dedent("""
    import json, sys
    from datetime import date
    from smecluster.db import open_database
    from smecluster.services.diagnosis import diagnose
    d = diagnose(open_database(sys.argv[1]), sys.argv[2], year=2025, on=date(2025, 12, 31))
    heavy = ("polars", "duckdb", "jinja2", "pandas", "pyarrow.compute", "smecluster.registry.models")
    print(json.dumps({"uscc": d["uscc"], "heavy": [m for m in heavy if m in sys.modules]}))
""")


def test_kept_diagnosis_imports_neither_polars_nor_duckdb(demo, database_url, tmp_path):
    """A keyed diagnosis in a fresh process loads no Polars, DuckDB or Jinja, nor pandas (PyArrow imports
    it to compare a column with a Python string), nor the ORM models (its start-up is most of its cost)."""
    keep_for_diagnosis(current_snapshot(demo), YEAR, ON)
    uscc = _codes(demo, 1)[0]
    env = dict(os.environ, SMECLUSTER_SNAPSHOT_DIR=str(tmp_path / "snapshots"), **{MIN_FIRMS_ENV: "0"})
    done = subprocess.run([sys.executable, "-c", KEPT_DIAGNOSE, database_url, uscc],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"uscc": uscc, "heavy": []}


CLI_DIAGNOSE = textwrap.dedent("""
    import json, runpy, sys
    out = sys.argv[3]
    sys.argv = ["smecluster", "--db", sys.argv[1], "diagnose", sys.argv[2], "--on", "2025-12-31", "--year", "2025",
                "--format", "json", "-o", out]
    try:
        runpy.run_module("smecluster.cli.main", run_name="__main__")
    except SystemExit as exc:
        assert not exc.code, exc.code
    heavy = ("sqlalchemy", "polars", "duckdb", "alembic", "smecluster.db")
    print(json.dumps({"uscc": json.load(open(out))["uscc"], "heavy": [m for m in heavy if m in sys.modules]}))
""")


def test_quick_diagnosis_equals_the_kept_one_and_is_never_stale(demo):
    """The CLI's diagnosis through a plain driver connection (no SQLAlchemy) is the kept diagnosis while
    the snapshot is current, and None once the registry changed (then the usual path answers)."""
    keep_for_diagnosis(current_snapshot(demo), YEAR, ON)
    url = demo.url.render_as_string(hide_password=False)
    codes = _codes(demo, 6)
    for uscc in codes:
        quick = diagnosis.quick_diagnosis(url, uscc.lower(), YEAR, ON)
        assert quick is not None and quick == diagnosis.kept_diagnosis(demo, uscc, YEAR, ON)
    with pytest.raises(diagnosis.UnknownEnterprise):
        diagnosis.quick_diagnosis(url, "91320000000000000X", YEAR, ON)
    with session_scope(demo) as s:
        s.execute(update(EnterpriseYear).where(EnterpriseYear.uscc == codes[0], EnterpriseYear.year == YEAR)
                  .values(rd_spending=EnterpriseYear.rd_spending + 12345.0))
    assert diagnosis.quick_diagnosis(url, codes[0], YEAR, ON) is None


def test_cli_diagnose_from_kept_tables_imports_no_sqlalchemy(demo, tmp_path):
    """`smecluster diagnose` answered from current kept tables never imports SQLAlchemy, Alembic, Polars
    or DuckDB (their imports were most of the command's second)."""
    keep_for_diagnosis(current_snapshot(demo), YEAR, ON)
    uscc = _codes(demo, 1)[0]
    env = dict(os.environ, SMECLUSTER_SNAPSHOT_DIR=str(tmp_path / "snapshots"), **{MIN_FIRMS_ENV: "0"})
    done = subprocess.run([sys.executable, "-c", CLI_DIAGNOSE, demo.url.render_as_string(hide_password=False), uscc,
                           str(tmp_path / "d.json")], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"uscc": uscc, "heavy": []}


def test_overview_counts_from_the_snapshot_equal_the_database(demo, monkeypatch):
    """The overview's registry counts from a current snapshot's columns equal the database's GROUP BY."""
    from smecluster.web.overview import OverviewCache, snapshot_counts
    from smecluster.web.verdicts import VerdictStore

    stored = current_snapshot(demo)
    cache = OverviewCache(demo, VerdictStore(demo))
    from_snapshot = cache._registry_counts()  # the snapshot is current: its columns answer
    assert from_snapshot == snapshot_counts(stored)
    monkeypatch.setenv(MIN_FIRMS_ENV, str(10**9))
    with session_scope(demo) as s:  # an edit: the snapshot is no longer current, the database answers
        s.execute(update(EnterpriseYear).where(EnterpriseYear.year == YEAR).values(cloud=True))
    assert current_snapshot(demo, refresh=False) is None
    assert cache._registry_counts() == from_snapshot  # the edit changed no count
    assert sum(c.get("enterprises", 0) for c in from_snapshot.values()) > 500


def test_kept_diagnosis_takes_the_snapshots_newest_year(demo):
    """Without a year, the kept diagnosis is of the registry's newest data year (read from the snapshot)."""
    keep_for_diagnosis(current_snapshot(demo), YEAR, diagnosis.default_on(YEAR))
    uscc = _codes(demo, 1)[0]
    with demo.connect() as c:
        newest = c.execute(text("SELECT max(year) FROM enterprise_year")).scalar()
    assert current_snapshot(demo).newest_year() == newest == YEAR
    d = diagnosis.kept_diagnosis(demo, uscc)
    assert d is not None and d["year"] == YEAR and d["on"] == diagnosis.default_on(YEAR).isoformat()


def _boundary_after(demo, on: date) -> date:
    """The first day after `on` on which a designation of the registry starts or stops counting."""
    from smecluster.policy.validity import end_sql, start_sql

    con = current_snapshot(demo).connect()
    day = con.sql(f"""SELECT min(d) FROM (SELECT {start_sql()} AS d FROM designation UNION ALL
                      SELECT CAST({end_sql()} + INTERVAL 1 DAY AS DATE) FROM designation)
                      WHERE d > DATE '{on.isoformat()}'""").fetchall()[0][0]
    con.close()
    return day


def test_kept_tables_serve_a_later_day_until_a_designation_starts_or_ends(demo, monkeypatch):
    """Kept for one day, the tier tables answer the following days with the same verdicts as computing
    them, up to the day before a designation starts or stops counting; from that day on they are not
    read (the diagnosis is computed, never stale)."""
    snapshot = current_snapshot(demo)
    first = date(YEAR, 6, 1)  # the same packs in force up to the end of the year
    boundary = _boundary_after(demo, first)
    assert boundary is not None and (boundary - first).days >= 2
    keep_for_diagnosis(snapshot, YEAR, first)
    last = date.fromordinal(boundary.toordinal() - 1)
    for uscc in _codes(demo, 6):
        kept = diagnosis.kept_diagnosis(demo, uscc, YEAR, last)
        assert kept is not None and kept["on"] == last.isoformat()
        with monkeypatch.context() as m:
            m.setattr(diagnosis, "kept_diagnosis", lambda *_a, **_k: None)
            assert kept == diagnosis.diagnose(demo, uscc, year=YEAR, on=last)
    assert facts_date(snapshot, boundary) == boundary != facts_date(snapshot, last)
    assert diagnosis.kept_diagnosis(demo, _codes(demo, 1)[0], YEAR, boundary) is None


def test_a_day_across_a_designation_boundary_gets_its_own_verdicts(demo, monkeypatch):
    """On the day a designation starts counting the kept results are recomputed for that day: the firm
    holding it is diagnosed as holding it (equal to the per-firm diagnosis)."""
    snapshot = current_snapshot(demo)
    boundary = _boundary_after(demo, ON)
    keep_for_diagnosis(snapshot, YEAR, ON)
    keep_for_diagnosis(snapshot, YEAR, boundary)
    for uscc in _codes(demo, 6):
        kept = diagnosis.kept_diagnosis(demo, uscc, YEAR, boundary)
        assert kept is not None
        with monkeypatch.context() as m:
            m.setattr(diagnosis, "kept_diagnosis", lambda *_a, **_k: None)
            assert kept == diagnosis.diagnose(demo, uscc, year=YEAR, on=boundary)
