"""Registry-side guards: SME-only R&D growth (J6), and the `db upgrade|regions|industries` and `map` commands."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from builders import YEAR, RegistryBuilder
from sqlalchemy import func, inspect, select, update
from typer.testing import CliRunner

from smecluster.cli.main import app
from smecluster.db import open_database
from smecluster.registry.models import EnterpriseYear, Industry, Region
from smecluster.services.clusters import evaluate_clusters


def _j6(engine):
    (verdict,) = evaluate_clusters(engine, year=YEAR)
    return next(c for c in verdict.criteria if c.id == "J6")


def test_large_member_is_left_out_of_sme_rd_growth(database_url):
    """J6 counts SMEs only: a large member (2,000 staff, 100,000万元 revenue) with big flat R&D does not pull
    the members' 10% growth down, so J6 passes at exactly 10%."""
    builder = RegistryBuilder(open_database(database_url))
    builder.grow_rd(0.10)
    builder.build()
    big = builder.members[0]
    with builder.engine.begin() as conn:
        conn.execute(update(EnterpriseYear).where(EnterpriseYear.uscc == big)
                     .values(employees=2000, revenue=100000.0, output=100000.0, rd_spending=50000.0))
    j6 = _j6(builder.engine)
    assert j6.status == "pass"
    assert abs(j6.value - 0.10) < 1e-6


def test_large_member_growth_does_not_rescue_smes(database_url):
    """SMEs growing 5% fail J6 even when a large member's R&D doubles every year."""
    builder = RegistryBuilder(open_database(database_url))
    builder.grow_rd(0.05)
    builder.build()
    big = builder.members[0]
    with builder.engine.begin() as conn:
        for k in range(4):
            conn.execute(update(EnterpriseYear)
                         .where(EnterpriseYear.uscc == big, EnterpriseYear.year == YEAR - 3 + k)
                         .values(employees=2000, revenue=100000.0, output=100000.0, rd_spending=10000.0 * 2 ** k))
    j6 = _j6(builder.engine)
    assert j6.status == "fail"
    assert abs(j6.value - 0.05) < 1e-6


# db commands


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.real_migrations
def test_db_upgrade_creates_the_schema_at_head(tmp_path):
    """`db upgrade` on an empty file creates the tables at the newest migration; a second run changes nothing."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    url = f"sqlite:///{tmp_path / 'new.db'}"
    first = _cli("--db", url, "db", "upgrade")
    assert first.exit_code == 0 and "newest migration" in first.output
    engine = open_database(url)
    tables = set(inspect(engine).get_table_names())
    assert {"enterprise", "cluster", "audit_entry", "alembic_version"} <= tables
    with engine.connect() as c:
        version = c.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    import smecluster

    script = ScriptDirectory.from_config(_alembic_config(Config, smecluster))
    assert version == script.get_current_head()
    assert _cli("--db", url, "db", "upgrade").exit_code == 0


def _alembic_config(config_cls, package):
    from pathlib import Path

    cfg = config_cls()
    cfg.set_main_option("script_location", str(Path(package.__file__).parent / "migrations"))
    return cfg


def test_db_regions_loads_jiangsu(tmp_path):
    """`db regions` loads Jiangsu: 1 province, 13 cities, 95 county-level divisions (109), and says so."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    result = _cli("--db", url, "db", "regions", "--province", "32")
    assert result.exit_code == 0 and "109 regions loaded" in result.output
    engine = open_database(url)
    with engine.connect() as c:
        by_level = dict(c.execute(select(Region.level, func.count()).group_by(Region.level)).all())
    assert by_level == {"province": 1, "city": 13, "county": 95}


def test_db_industries_loads_sections_and_divisions(tmp_path):
    """`db industries` loads the 20 sections and 97 divisions of GB/T 4754-2017 (and the demo's groups/classes)."""
    url = f"sqlite:///{tmp_path / 'i.db'}"
    result = _cli("--db", url, "db", "industries")
    assert result.exit_code == 0
    engine = open_database(url)
    with engine.connect() as c:
        by_level = dict(c.execute(select(Industry.level, func.count()).group_by(Industry.level)).all())
        manufacturing = c.execute(select(Industry.name).where(Industry.code == "C")).scalar_one()
    assert (by_level[1], by_level[2]) == (20, 97)
    assert manufacturing == "制造业"
    printed = int(re.search(r"(\d+) industry codes loaded", result.output).group(1))
    assert printed == sum(by_level.values())


# map


def test_map_writes_an_svg_of_the_counties(tmp_path):
    """`map out.svg` with no database draws Jiangsu's county outlines as a well-formed SVG."""
    out = tmp_path / "m.svg"
    result = _cli("map", str(out))
    assert result.exit_code == 0, result.output
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    assert len(out.read_text(encoding="utf-8")) > 10_000


def test_map_with_firms_adds_their_points(tmp_path):
    """`--industry 38 --firms` over a registry draws more than the outline map."""
    url = f"sqlite:///{tmp_path / 'f.db'}"
    builder = RegistryBuilder(open_database(url))
    for i, u in enumerate(builder.members):
        builder.location[u] = (119.48 + 0.01 * i, 31.42)
    builder.build()
    plain, dotted = tmp_path / "plain.svg", tmp_path / "dots.svg"
    assert _cli("map", str(plain)).exit_code == 0
    result = _cli("--db", url, "map", str(dotted), "--industry", "38", "--firms")
    assert result.exit_code == 0, result.output
    assert dotted.stat().st_size > plain.stat().st_size


def test_map_refuses_an_unknown_measure_and_format(tmp_path):
    """A measure that is not one of the four, or a file that is not .png/.svg, is a clear error (exit 1)."""
    bad_measure = _cli("map", str(tmp_path / "m.svg"), "--measure", "lq_magic")
    assert bad_measure.exit_code == 1 and "lq_firms" in bad_measure.output
    assert not (tmp_path / "m.svg").exists()
    bad_format = _cli("map", str(tmp_path / "m.txt"))
    assert bad_format.exit_code != 0 and not (tmp_path / "m.txt").exists()
