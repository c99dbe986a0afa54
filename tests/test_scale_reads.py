"""Reads of the stored registry cost what the question costs: one firm's rows for one firm, one
county's for one county, and a diagnosis on a 200,000-firm registry fits a small memory limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date

import polars as pl
import pytest
from conftest import drop_pg_schema, pg_schema_url, require_pg
from demo_cache import generate
from sqlalchemy import text

from smecluster.analytics.enterprise_facts import build_facts, read_registry
from smecluster.analytics.reader import count_rows
from smecluster.db import get_engine, open_database
from smecluster.demo.generator import BASE_FIRMS
from smecluster.demo.writer import write_demo
from smecluster.services.diagnosis import diagnose, diagnosis_from_facts
from smecluster.services.tiers import evaluate_enterprises

YEAR = 2025
ON = date(2025, 12, 31)
# Virtual memory allowed to the diagnosing process: the whole-registry read of the 200,000-firm
# registry needs about 4 GB (1.6 GB resident); one firm's read fits in 1 GB.
LIMIT_BYTES = 3 * 2**29  # 1.5 GB


@pytest.fixture
def demo(database_url):
    """A small demo registry (about 1,000 firms) written by the bulk loader."""
    engine = open_database(database_url)
    write_demo(engine, generate(scale=1000 / BASE_FIRMS))
    return engine


def _count(engine, sql: str, **params) -> int:
    with engine.connect() as c:
        return c.execute(text(sql), params).scalar()


def test_one_firm_reads_only_its_rows(demo):
    """Diagnosing one firm reads its own enterprise, yearly, profile and designation rows, no others."""
    uscc = _count(demo, "SELECT MIN(uscc) FROM designation")
    with count_rows() as log:
        d = diagnose(demo, uscc, year=YEAR, on=ON)
    assert d["uscc"] == uscc
    assert log.rows("enterprise") == 1
    for table, window in (("enterprise_year", YEAR - 2), ("enterprise_profile", YEAR - 2), ("designation", 0)):
        own = _count(demo, f"SELECT count(*) FROM {table} WHERE uscc = :u AND year BETWEEN :lo AND :hi",
                     u=uscc, lo=window, hi=YEAR)
        assert own > 0 or table == "enterprise_profile"
        assert log.rows(table) == own, table
    assert _count(demo, "SELECT count(*) FROM enterprise_year") > 100 * max(1, log.rows("enterprise_year"))


def test_one_firm_diagnosis_matches_the_whole_registry(demo):
    """Reading only the firm's rows gives the same diagnosis as reading every row and picking the firm."""
    uscc = _count(demo, "SELECT MIN(uscc) FROM designation WHERE kind = 'innovative_sme'")
    frames = read_registry(demo, YEAR)
    facts = pl.from_arrow(build_facts(frames["enterprise"], frames["enterprise_year"], frames["enterprise_profile"],
                                      frames["designation"], YEAR, ON, frames["industry"]))
    whole = diagnosis_from_facts(facts.filter(pl.col("uscc") == uscc), YEAR, ON)
    assert diagnose(demo, uscc, year=YEAR, on=ON) == whole


def test_county_reads_only_its_firms(demo):
    """One county's evaluation reads that county's firms only, and evaluates every one of them."""
    county = _count(demo, "SELECT county_code FROM enterprise GROUP BY county_code ORDER BY count(*) DESC LIMIT 1")
    firms = _count(demo, "SELECT count(*) FROM enterprise WHERE county_code = :c", c=county)
    years = _count(demo, "SELECT count(*) FROM enterprise_year y JOIN enterprise e ON e.uscc = y.uscc "
                         "WHERE e.county_code = :c AND y.year BETWEEN :lo AND :hi", c=county, lo=YEAR - 2, hi=YEAR)
    with count_rows() as log:
        evaluation = evaluate_enterprises(demo, year=YEAR, on=ON, county=county)
    assert evaluation.table.num_rows == firms
    assert set(evaluation.frame()["county_code"].unique()) == {county}
    assert log.rows("enterprise") == firms
    assert log.rows("enterprise_year") == years
    assert _count(demo, "SELECT count(*) FROM enterprise") > 3 * firms


# -- memory: a 200,000-firm registry, built once per database by the bulk loader -----------------

@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def big_registry(request, tmp_path_factory):
    """(URL, a firm's code) of a 200,000-firm demo registry."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('big') / 'registry.db'}"
    else:
        require_pg()
        schema, url = pg_schema_url()
    engine = open_database(url)
    write_demo(engine, generate(scale=200_000 / BASE_FIRMS))
    uscc = _count(engine, "SELECT MIN(uscc) FROM designation WHERE kind = 'srdi_sme'")
    yield url, uscc
    get_engine(url).dispose()
    if schema:
        drop_pg_schema(schema)


DIAGNOSE = textwrap.dedent("""
    import json, resource, sys
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from smecluster.db import open_database
    from smecluster.services.diagnosis import diagnose
    d = diagnose(open_database(sys.argv[2]), sys.argv[3], year=2025)
    print(json.dumps({"uscc": d["uscc"], "tiers": len(d["tiers"])}))
""")


def test_diagnose_on_200k_registry_within_memory_limit(big_registry):
    """`diagnose` of one firm of 200,000 runs in a process whose address space is capped at 1.5 GB."""
    url, uscc = big_registry
    # one allocator arena and two Polars threads: the address space then measures the data, not threads
    env = dict(os.environ, MALLOC_ARENA_MAX="1", POLARS_MAX_THREADS="2")
    done = subprocess.run([sys.executable, "-c", DIAGNOSE, str(LIMIT_BYTES), url, uscc],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["uscc"] == uscc and out["tiers"] >= 4
