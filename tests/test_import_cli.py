"""The import and template commands: exit codes and messages."""

from __future__ import annotations

from import_support import CODE_A, good_enterprises, registry_engine, write_csv
from typer.testing import CliRunner

from smecluster.cli.main import app
from smecluster.cli.registry import SHOWN_ERRORS

runner = CliRunner()


def test_import_command_stores_and_reports(tmp_path):
    """`smecluster import enterprises FILE` stores a valid file and says how many rows."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    registry_engine(url)
    result = runner.invoke(
        app, ["--db", url, "import", "enterprises", str(good_enterprises(tmp_path / "e.csv"))]
    )
    assert result.exit_code == 0, result.output
    assert "3 inserted" in result.output


def test_import_command_fails_on_bad_file(tmp_path):
    """A file with a problem exits non-zero and names the problem."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    registry_engine(url)
    path = write_csv(tmp_path / "b.csv", ["统一社会信用代码", "企业名称"], [["123", "甲"]])
    result = runner.invoke(app, ["--db", url, "import", "enterprises", str(path)])
    assert result.exit_code == 1
    assert "missing required column" in result.output


def test_template_command_writes_a_workbook(tmp_path):
    """`smecluster template platforms -o FILE.xlsx` writes the file."""
    out = tmp_path / "p.xlsx"
    result = runner.invoke(app, ["template", "platforms", "-o", str(out)])
    assert result.exit_code == 0 and out.exists()


def test_unknown_kind_is_refused(tmp_path):
    """An unknown kind exits non-zero listing the known kinds."""
    result = runner.invoke(app, ["template", "firms", "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1 and "enterprises" in result.output


def test_skip_invalid_writes_rejected_rows_where_asked(tmp_path):
    """`--skip-invalid --rejected OUT` stores the good rows and writes the bad ones to OUT."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    registry_engine(url)
    headers = ["统一社会信用代码", "企业名称", "所在县区代码", "行业代码"]
    path = write_csv(
        tmp_path / "e.csv", headers, [[CODE_A, "甲", "320481", "3841"], ["123", "乙", "320481", "3841"]]
    )
    out = tmp_path / "out" / "bad.csv"
    args = ["--db", url, "import", "enterprises", str(path), "--skip-invalid", "--rejected", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 inserted" in result.output and out.exists()


def test_many_problems_go_to_an_errors_file(tmp_path):
    """When there are more problems than the table shows, all of them are written next to the file."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    registry_engine(url)
    rows = [[f"BAD{i}", "名", "320481", "3841"] for i in range(SHOWN_ERRORS + 5)]
    path = write_csv(tmp_path / "e.csv", ["统一社会信用代码", "企业名称", "所在县区代码", "行业代码"], rows)
    result = runner.invoke(app, ["--db", url, "import", "enterprises", str(path)])
    assert result.exit_code == 1
    errors = tmp_path / "e.csv.errors.csv"
    assert errors.exists() and len(errors.read_text(encoding="utf-8-sig").splitlines()) == SHOWN_ERRORS + 6
