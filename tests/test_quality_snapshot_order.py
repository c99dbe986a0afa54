"""PostgreSQL's heap is in no particular order (updates move rows to its end): the snapshot still writes firms
in uscc order and yearly rows in (uscc, year) order, so the data-quality sweep reads them by position."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import text

from smecluster.quality import run
from smecluster.quality.catalogue import load_checks

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url():
    from conftest import PG_OK, drop_pg_schema, pg_schema_url

    if not PG_OK:
        pytest.skip("PostgreSQL is not available")
    schema, url = pg_schema_url()
    yield url
    from smecluster.db import get_engine

    get_engine(url).dispose()
    drop_pg_schema(schema)


def test_postgres_snapshot_in_key_order(pg_url, tmp_path):
    from smecluster.analytics.stored_snapshot import write_snapshot
    from smecluster.db import open_database
    from smecluster.services.demo import build_demo

    engine = open_database(pg_url)
    build_demo(engine, scale=0.01)
    with engine.begin() as c:  # the first half of each table's rows moved to the heap's end
        for table in ("enterprise", "enterprise_year", "enterprise_profile"):
            middle = c.execute(text(f"SELECT uscc FROM {table} ORDER BY uscc LIMIT 1 OFFSET "
                                    f"(SELECT COUNT(*) / 2 FROM {table})")).scalar()
            c.execute(text(f"UPDATE {table} SET uscc = uscc WHERE uscc < :m"), {"m": middle})
        stored = [r[0] for r in c.execute(text("SELECT uscc FROM enterprise_year"))]
    assert stored != sorted(stored)  # the heap is out of order
    target = write_snapshot(pg_url, tmp_path / "snap")
    firms = pl.read_parquet(target / "enterprise.parquet", columns=["uscc"])
    years = pl.read_parquet(target / "enterprise_year.parquet", columns=["uscc", "year"])
    profile = pl.read_parquet(target / "enterprise_profile.parquet", columns=["uscc", "year"])
    assert firms["uscc"].is_sorted()
    assert years.equals(years.sort("uscc", "year"))
    assert profile.equals(profile.sort("year", "uscc"))
    files = {t: str(target / f"{t}.parquet") for t in run.COLUMNS}
    con = run.connect()
    run.attach_parquet(con, files)
    assert run.prepare(con, load_checks(), files, int(years["year"].max())) is not None  # the sweep ran
    con.close()


def test_a_url_whose_options_hold_spaces_is_read_whole(pg_url, tmp_path):
    """`?options=-c%20search_path%3D...` (libpq's own form, with a space): the snapshot reads the schema the
    URL names. SQLAlchemy renders that space as "+", which libpq would take as part of the schema's name."""
    from urllib.parse import quote

    from smecluster.analytics.stored_snapshot import write_snapshot
    from smecluster.db import open_database
    from smecluster.services.demo import build_demo

    engine = open_database(pg_url)
    build_demo(engine, scale=0.005)
    with engine.connect() as c:
        schema = c.execute(text("SELECT current_schema()")).scalar_one()
        firms = c.execute(text("SELECT COUNT(*) FROM enterprise")).scalar_one()
    spaced = pg_url.split("?", 1)[0] + "?options=" + quote(f"-c search_path={schema} -c work_mem=64MB")
    target = write_snapshot(spaced, tmp_path / "snap")
    assert pl.read_parquet(target / "enterprise.parquet", columns=["uscc"]).height == firms > 0
