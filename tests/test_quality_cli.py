"""`smecluster quality`: table, JSON and a formula-safe workbook, filtered by county, cluster and year."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from smecluster.cli.main import app
from smecluster.db import open_database
from smecluster.quality.scenarios import load_case_rows, seed_reference

runner = CliRunner()
TRAP = "=HYPERLINK(\"http://x\",\"点我\")"


@pytest.fixture
def registry(tmp_path):
    """A registry where firm A (320481) reports under a formula-like name and B (320412) R&D above revenue."""
    url = f"sqlite:///{tmp_path / 'q.db'}"
    engine = open_database(url)
    seed_reference(engine)
    codes, _ = load_case_rows(engine, {"firms": {
        "A": {"county": "320481", "years": {2025: {"reported_name": TRAP, "revenue": 10}}},
        "B": {"county": "320412", "years": {2024: {"revenue": 100, "rd_spending": 120}, 2025: {"revenue": 90}}},
    }, "clusters": [{"code": "c1", "county": "320481", "members": ["A"]}]})
    return url, codes


def _json(url: str, *args: str) -> dict:
    result = runner.invoke(app, ["--db", url, "quality", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output[result.output.index("{"):])


def test_filters(registry):
    """--county keeps that county's findings, --cluster those touching its members, --year that year's."""
    url, codes = registry
    every = {(f["check"], f["uscc"]) for f in _json(url)["findings"]}
    assert {("name_differs", codes["A"]), ("rd_above_revenue", codes["B"])} <= every
    assert {f["uscc"] for f in _json(url, "--county", "320412")["findings"]} == {codes["B"]}
    assert {f["uscc"] for f in _json(url, "--cluster", "1")["findings"]} == {codes["A"]}
    assert all(f["year"] in (2024, None) for f in _json(url, "--year", "2024")["findings"])
    summary = {s["county_code"]: s for s in _json(url)["summary"]}
    assert summary["320412"]["high"] == 1 and summary["320481"]["medium"] == 1


def test_table_names_checks_and_counties(registry):
    """The table lists the findings and the summary per county."""
    url, codes = registry
    result = runner.invoke(app, ["--db", url, "quality", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "rd_above_revenue" in result.output and "R&D spending is above revenue" in result.output
    assert "320412" in result.output


def test_workbook_is_formula_safe(registry, tmp_path):
    """The xlsx quotes a cell that would start a formula; LibreOffice reads it back as text, findings and all."""
    url, codes = registry
    out = tmp_path / "q.xlsx"
    result = runner.invoke(app, ["--db", url, "quality", "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["findings", "summary", "digits"]
    cells = [c for row in wb["findings"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert any(TRAP in c for c in cells)  # kept, as text
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice is not installed")
    # the first sheet (findings) as CSV: a formula would show its result, not the text
    subprocess.run(["soffice", "--headless", "--convert-to", "csv", "--outdir", str(tmp_path), str(out)],
                   check=True, capture_output=True, timeout=600)
    text = (tmp_path / "q.csv").read_text(encoding="utf-8", errors="replace")
    assert "rd_above_revenue" in text and codes["B"] in text
    assert "HYPERLINK" in text


def test_unknown_format_is_refused(registry):
    """--format csv is refused with the formats named."""
    url, _ = registry
    result = runner.invoke(app, ["--db", url, "quality", "--format", "csv"])
    assert result.exit_code == 1 and "table, json, xlsx" in result.output
