"""Imports report data-quality findings about their rows, after a load and in a dry run, refusing none."""

from __future__ import annotations

from import_support import CODE_A, CODE_B, count, good_enterprises, registry_engine, write_csv
from typer.testing import CliRunner

from smecluster.cli.main import app
from smecluster.registry.models import EnterpriseYear

runner = CliRunner()
HEADERS = ["统一社会信用代码", "年份", "营业收入(万元)", "研发经费(万元)", "从业人员(人)"]


def _years(tmp_path, rd_a: float):
    # A: R&D spending rd_a against revenue 100; B: plausible
    return write_csv(tmp_path / "y.csv", HEADERS, [[CODE_A, "2025", "100", str(rd_a), "20"],
                                                   [CODE_B, "2025", "500", "20", "30"]])


def _setup(tmp_path, database_url):
    registry_engine(database_url)
    assert runner.invoke(app, ["--db", database_url, "import", "enterprises",
                               str(good_enterprises(tmp_path / "e.csv"))]).exit_code == 0


def test_a_load_stores_every_row_and_names_the_doubtful_one(tmp_path, database_url):
    """R&D above revenue is stored (well-formed) and reported with its check and reason."""
    _setup(tmp_path, database_url)
    result = runner.invoke(app, ["--db", database_url, "import", "enterprise_years", str(_years(tmp_path, 120))])
    assert result.exit_code == 0, result.output
    assert count(registry_engine_of(database_url), EnterpriseYear) == 2
    lines = [line for line in result.output.splitlines() if "rd_above_revenue" in line]
    assert len(lines) == 1 and CODE_A in lines[0] and "研发经费超过营业收入" in lines[0]
    assert CODE_B not in result.output.split("data quality", 1)[1]


def test_a_dry_run_reports_findings_and_stores_nothing(tmp_path, database_url):
    """--dry-run checks the file's rows as the registry would hold them, and stores nothing."""
    _setup(tmp_path, database_url)
    result = runner.invoke(app, ["--db", database_url, "import", "enterprise_years", str(_years(tmp_path, 120)),
                                 "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "rd_above_revenue" in result.output and CODE_A in result.output
    assert count(registry_engine_of(database_url), EnterpriseYear) == 0


def test_just_inside_the_bound_reports_nothing(tmp_path, database_url):
    """R&D equal to revenue is no finding: the import says so."""
    _setup(tmp_path, database_url)
    result = runner.invoke(app, ["--db", database_url, "import", "enterprise_years", str(_years(tmp_path, 100)),
                                 "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "rd_above_revenue" not in result.output
    assert "no doubtful figures" in result.output


def registry_engine_of(url: str):
    """The engine of `url` (already migrated)."""
    from smecluster.db import get_engine

    return get_engine(url)
