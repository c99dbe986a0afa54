"""Folder import (`smecluster import folder DIR`) and the CSV export it reads back."""

from __future__ import annotations

import csv
import json
import math

import polars as pl
import pytest
from import_support import CODE_A, CODE_B, registry_engine, write_csv
from sqlalchemy import text
from typer.testing import CliRunner

from smecluster.cli.main import app
from smecluster.db import open_database
from smecluster.demo.generator import generate
from smecluster.demo.writer import write_demo
from smecluster.registry.export import export_csv
from smecluster.registry.folder import import_folder, kind_by_header, kind_by_name, kind_order
from smecluster.registry.readers import read_grid
from smecluster.registry.regions import load_regions

runner = CliRunner()

# Every registry table, rows compared by natural key. Surrogate ids (cluster.id, platform.id,
# designation.id) are the database's own numbers: references to clusters are compared by code.
TABLES = {
    "industry": "SELECT code, name, level, parent, section FROM industry",
    "enterprise": "SELECT uscc, name, county_code, industry_code, lon, lat, CAST(established AS TEXT), "
    "fictional FROM enterprise",
    "enterprise_year": "SELECT * FROM enterprise_year",
    "designation": "SELECT uscc, kind, year, CAST(valid_from AS TEXT), CAST(valid_until AS TEXT), certificate "
    "FROM designation",
    "enterprise_profile": "SELECT * FROM enterprise_profile",
    "cluster": "SELECT code, name, county_code, CAST(leading_industries AS TEXT), boundary_geojson, "
    "CAST(declared AS TEXT), status, year, fictional FROM cluster",
    "cluster_member": "SELECT c.code, m.uscc FROM cluster_member m JOIN cluster c ON c.id = m.cluster_id",
    "platform": "SELECT p.name, p.level, p.type, p.county_code, p.host_uscc, c.code, p.year "
    "FROM platform p LEFT JOIN cluster c ON c.id = p.cluster_id",
}


def _value(v):
    """A cell as compared: JSON text parsed (formatting differs between writers), bools as bools."""
    if isinstance(v, str) and v[:1] in "[{":
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def _rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(text(sql)).fetchall()
    normal = [tuple(_value(bool(v) if isinstance(v, bool) else v) for v in r) for r in rows]
    return sorted(normal, key=lambda r: tuple("" if v is None else str(v) for v in r))


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    """A small demo registry (SQLite) and its CSV export."""
    tmp = tmp_path_factory.mktemp("demo")
    engine = open_database(f"sqlite:///{tmp / 'demo.db'}")
    write_demo(engine, generate(seed=11, scale=0.02, year=2025))
    out = tmp / "export"
    counts = export_csv(engine, out)
    return engine, out, counts


def test_folder_import_of_the_demo_export_reproduces_the_demo(demo_folder, database_url):
    """Export the demo, import the folder into a fresh database: every table's rows are the same."""
    demo, folder, counts = demo_folder
    assert counts["enterprises"] > 0 and counts["cluster_boundaries"] > 0 and counts["enterprise_profiles"] > 0
    fresh = open_database(database_url)
    load_regions(fresh, "32")
    result = import_folder(fresh, folder)
    assert result.ok, result.errors.head(10)
    assert result.written
    for table, sql in TABLES.items():
        want, got = _rows(demo, sql), _rows(fresh, sql)
        assert len(want) == len(got) > 0, table
        for w, g in zip(want, got, strict=True):
            assert all(_same(a, b) for a, b in zip(w, g, strict=True)), (table, w, g)


def test_folder_with_one_bad_row_stores_nothing_and_lists_every_problem(tmp_path, database_url):
    """All or nothing: one bad row in one file and no file is stored; each problem names file, row, column."""
    engine = registry_engine(database_url)
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "enterprises.csv", ["统一社会信用代码", "企业名称", "所在县区代码", "行业代码"],
              [[CODE_A, "甲", "320481", "3841"], [CODE_B, "乙", "999999", "3841"]])
    write_csv(folder / "年度.csv", ["统一社会信用代码", "年份", "营业收入(万元)"],
              [[CODE_A, "2024", "100"], [CODE_A, "2023", "-5"]])
    result = import_folder(engine, folder)
    assert not result.written
    errors = result.errors
    assert set(zip(errors["file"].map_elements(lambda f: f.rsplit("/", 1)[-1], return_dtype=pl.String),
                   errors["row"], errors["column"], strict=True)) == {
        ("enterprises.csv", 3, "所在县区代码"), ("年度.csv", 3, "营业收入(万元)"),
    }
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM enterprise")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM enterprise_year")).scalar() == 0


def test_later_files_see_earlier_files_in_the_same_transaction(tmp_path, database_url):
    """Years refer to enterprises of the same folder (loaded first whatever the file names' order)."""
    engine = registry_engine(database_url)
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "a-years.csv", ["统一社会信用代码", "年份", "营业收入(万元)"], [[CODE_A, "2024", "100"]])
    write_csv(folder / "z.csv", ["统一社会信用代码", "企业名称", "所在县区代码", "行业代码"],
              [[CODE_A, "甲", "320481", "3841"]])
    dry = import_folder(engine, folder, dry_run=True)
    assert dry.ok and not dry.written
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM enterprise")).scalar() == 0
    result = import_folder(engine, folder)
    assert result.written
    assert [r.kind for r in result.files] == ["enterprises", "enterprise_years"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT revenue FROM enterprise_year")).scalar() == 100


def test_kinds_by_file_name_and_by_header(tmp_path):
    """File names (kind, table or Chinese title, numbered or not) and header rows tell the kind."""
    from pathlib import Path

    assert kind_by_name(Path("01-enterprises.csv")).name == "enterprises"
    assert kind_by_name(Path("enterprise_profile.xlsx")).name == "enterprise_profiles"
    assert kind_by_name(Path("企业称号与资质.csv")).name == "designations"
    assert kind_by_name(Path("list.csv")) is None
    members = write_csv(tmp_path / "m.csv", ["集群编号", "统一社会信用代码"], [["c1", CODE_A]])
    assert kind_by_header(read_grid(members))[0].name == "cluster_members"
    both = write_csv(tmp_path / "b.csv", ["统一社会信用代码", "年份"], [[CODE_A, "2024"]])
    kind, why = kind_by_header(read_grid(both))
    assert kind is None and "enterprise_years" in why and "enterprise_profiles" in why


def test_kind_order_puts_referenced_kinds_first():
    """Each kind comes after the kinds creating the rows it refers to."""
    order = kind_order()
    before = [("industries", "enterprises"), ("enterprises", "enterprise_years"), ("clusters", "cluster_members"),
              ("clusters", "cluster_boundaries"), ("clusters", "platforms"), ("enterprises", "enterprise_profiles")]
    for first, then in before:
        assert order.index(first) < order.index(then), (first, then)


def test_cli_import_folder_and_export(demo_folder, tmp_path):
    """`smecluster import folder DIR --dry-run` checks the folder; `export csv` writes one file per kind."""
    demo, folder, _ = demo_folder
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    load_regions(open_database(url), "32")
    dry = runner.invoke(app, ["--db", url, "import", "folder", str(folder), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing stored" in dry.output
    out = tmp_path / "again"
    exported = runner.invoke(app, ["--db", str(demo.url), "export", "csv", str(out)])
    assert exported.exit_code == 0, exported.output
    assert {p.name for p in out.glob("*.csv")} == {p.name for p in folder.glob("*.csv")}


def test_a_reference_to_a_rejected_row_says_where_the_problem_is(tmp_path, database_url):
    """A member whose enterprise row in the same folder was rejected is told so, not 'import first'."""
    engine = registry_engine(database_url)
    folder = tmp_path / "in"
    folder.mkdir()
    write_csv(folder / "enterprises.csv", ["统一社会信用代码", "企业名称", "所在县区代码", "行业代码"],
              [[CODE_A, "甲", "320481", "3841"], [CODE_B, "乙", "999999", "3841"]])
    write_csv(folder / "enterprise_years.csv", ["统一社会信用代码", "年份"], [[CODE_A, "2024"], [CODE_B, "2024"]])
    result = import_folder(engine, folder)
    years = result.files[1]
    assert years.kind == "enterprise_years"
    assert years.errors["row"].to_list() == [3]
    assert "its row in enterprises.csv has a problem" in years.errors["reason"][0]


def test_export_quotes_formula_names_and_the_import_reads_them_back(tmp_path, database_url):
    """A name Excel would run as a formula is written with a leading apostrophe; importing the export
    gives back the name as stored (the quote is the export's, not the firm's)."""
    engine = registry_engine(database_url)
    hostile = "=HYPERLINK(\"http://x\",\"甲\")"
    src = tmp_path / "src"
    src.mkdir()
    write_csv(src / "enterprises.csv", ["统一社会信用代码", "企业名称", "所在县区代码", "行业代码"],
              [[CODE_A, hostile, "320481", "3841"], [CODE_B, "-乙", "320481", "3841"]])
    assert import_folder(engine, src).written
    out = tmp_path / "out"
    export_csv(engine, out)
    with (out / "enterprises.csv").open(encoding="utf-8-sig", newline="") as fh:
        names = {row["企业名称"] for row in csv.DictReader(fh)}
    assert names == {"'" + hostile, "'-乙"}
    fresh = registry_engine(database_url.replace("test.db", "fresh.db")) if "sqlite" in database_url else None
    if fresh is None:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM enterprise"))
        fresh = engine
    assert import_folder(fresh, out).written
    with fresh.connect() as conn:
        stored = {r[0] for r in conn.execute(text("SELECT name FROM enterprise"))}
    assert stored == {hostile, "-乙"}
