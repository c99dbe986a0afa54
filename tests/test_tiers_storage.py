"""Tiers from the database (SQLite and PostgreSQL): profiles, facts windows, lists, diagnosis, targets, CLI."""

from __future__ import annotations

import json
from datetime import date

import pytest
from builders import COUNTY, INDUSTRIES, REGIONS, codes
from sqlalchemy import insert
from tier_helpers import STRONG
from typer.testing import CliRunner

from smecluster.cli.main import app
from smecluster.db import open_database
from smecluster.registry.models import Cluster, Designation, Enterprise, EnterpriseYear, Industry, Region
from smecluster.registry.profile import EnterpriseProfile
from smecluster.reports.diagnosis import render_html
from smecluster.services.diagnosis import UnknownEnterprise, diagnose
from smecluster.services.targets import target_progress
from smecluster.services.tiers import evaluate_enterprises, tier_lists

YEAR = 2025
ON = date(2025, 12, 31)
STRONG_FIRM, SMALL_FIRM = codes(2)
YEARLY = ("revenue", "rd_spending", "employees", "rd_staff", "total_assets", "total_liabilities")
PROFILE = [c.name for c in EnterpriseProfile.__table__.columns if c.name not in ("uscc", "year")]


def _store(url: str) -> None:
    engine = open_database(url)
    now = {k: v for k, v in STRONG.items() if k in PROFILE}
    with engine.begin() as conn:
        conn.execute(insert(Region), REGIONS)
        conn.execute(insert(Industry), INDUSTRIES)
        conn.execute(insert(Enterprise), [
            {"uscc": u, "name": f"测试企业{i}", "county_code": COUNTY, "industry_code": "3841", "fictional": True}
            for i, u in enumerate((STRONG_FIRM, SMALL_FIRM))])
        conn.execute(insert(EnterpriseYear), [
            {"uscc": u, "year": y, **{k: STRONG[k] if y == YEAR else STRONG[k + "_prev"] if k + "_prev" in STRONG
                                      else STRONG[k] for k in YEARLY}}
            for u in (STRONG_FIRM, SMALL_FIRM) for y in (YEAR - 2, YEAR - 1, YEAR)])
        main = {YEAR: STRONG["main_revenue"], YEAR - 1: STRONG["main_revenue_prev"],
                YEAR - 2: STRONG["main_revenue_prev2"]}
        conn.execute(insert(EnterpriseProfile), [
            {**now, "uscc": STRONG_FIRM, "year": y, "main_revenue": main[y], "equity_raised": 1000.0 * (y - 2022),
             "national_award_rank": 2 if y == YEAR - 2 else 0, "provincial_award_rank": 0, "maker_china_rank": 0,
             "global_rank": 2}
            for y in main] + [
            {**now, "uscc": SMALL_FIRM, "year": YEAR, "main_revenue": main[YEAR], "market_share": 0.02,
             "equity_raised": 0.0, "national_award_rank": 0, "provincial_award_rank": 0, "maker_china_rank": 0}])
        conn.execute(insert(Designation), [
            {"uscc": SMALL_FIRM, "kind": "little_giant", "year": 2023, "valid_from": date(2023, 7, 1),
             "valid_until": date(2026, 6, 30)},
            {"uscc": STRONG_FIRM, "kind": "srdi_sme", "year": 2019, "valid_from": date(2019, 7, 1),
             "valid_until": date(2022, 6, 30)},
            {"uscc": STRONG_FIRM, "kind": "srdi_sme", "year": 2022, "valid_from": date(2022, 7, 1),
             "valid_until": date(2025, 6, 30)}])
        conn.execute(insert(Cluster), [{"code": f"c{i}", "name": f"集群{i}", "county_code": COUNTY,
                                        "leading_industries": ["384"], "declared": {}, "status": "recognised",
                                        "year": y, "fictional": True} for i, y in enumerate((2021, 2023, 2023))])


@pytest.fixture
def stored(database_url):
    """A registry of two firms with three years of data, profiles and designations."""
    _store(database_url)
    return open_database(database_url)


def test_facts_windows_from_yearly_rows(stored):
    """Equity over 2 and 3 years and the best award rank over 3 years come from yearly profile rows."""
    ev = evaluate_enterprises(stored, year=YEAR, on=ON)
    row = next(r for r in ev.frame().to_dicts() if r["uscc"] == STRONG_FIRM)
    assert row["little_giant__L4d1"] == 3  # national award ranked 2nd in 2023: pass (code 3)
    assert row["innovative_sme__I-D4"] == 3  # 1000+2000+3000 万元 over 3 years


def test_missing_years_make_windowed_facts_unknown(stored):
    """A firm with one profile year has unknown 2-year growth, not a guessed one."""
    ev = evaluate_enterprises(stored, year=YEAR, on=ON)
    row = next(r for r in ev.frame().to_dicts() if r["uscc"] == SMALL_FIRM)
    assert row["little_giant__L1c"] == 1  # unknown


def test_lists_from_the_registry(stored):
    """The strong firm is a candidate; the designated little giant with 2% share is due for re-review."""
    lists = tier_lists(evaluate_enterprises(stored, year=YEAR, on=ON))
    assert STRONG_FIRM in lists["eligible_not_designated"]["uscc"].to_list()
    due = lists["designated_not_eligible"]
    assert due.select("uscc", "tier").rows() == [(SMALL_FIRM, "little_giant")]


def test_county_filter(stored):
    """Evaluating another county finds none of these firms."""
    assert evaluate_enterprises(stored, year=YEAR, on=ON, county="320412").table.num_rows == 0


def test_diagnosis_names_the_gap(stored):
    """The small firm's diagnosis lists the little giant's market-share gap with what would meet it."""
    d = diagnose(stored, SMALL_FIRM, year=YEAR, on=ON)
    lg = next(t for t in d["tiers"] if t["tier"] == "little_giant")
    gap = next(g for g in lg["gaps"] if g["id"] == "L3a")
    assert gap["status"] == "fail" and gap["shortfall"] == pytest.approx(0.08)
    assert "10%" in gap["advice"] and "2%" in gap["advice"]
    assert d["designated_tier"] == "little_giant"


def test_diagnosis_html_shows_firm_and_unverified_mark(stored):
    """The HTML report names the firm and the tiers evaluated."""
    html = render_html(diagnose(stored, STRONG_FIRM, year=YEAR, on=date(2026, 6, 30)))
    assert "测试企业0" in html and "未核实" in html


def test_diagnosis_of_unknown_code(stored):
    """An unknown credit code is a clear error."""
    with pytest.raises(UnknownEnterprise, match="no enterprise"):
        diagnose(stored, "91320481MA0000000X", year=YEAR)


def test_target_progress_by_year(stored):
    """SRDI designations count as year-end stock; clusters count cumulatively from 2021."""
    p = target_progress(stored, until=YEAR)
    srdi = next(t for t in p["targets"] if t["id"] == "T-SRDI")
    assert {r["year"]: r["count"] for r in srdi["by_year"]}[2023] == 1
    assert {r["year"]: r["count"] for r in srdi["by_year"]}[2025] == 0
    clusters = next(t for t in p["targets"] if t["id"] == "T-CLUSTERS")
    assert [r["count"] for r in clusters["by_year"]] == [1, 1, 3, 3, 3]
    assert clusters["on_track"] is False


def test_cli_evaluate_and_diagnose(stored, database_url, tmp_path):
    """`evaluate enterprises --format json` and `diagnose --format json` run against the database."""
    runner = CliRunner()
    result = runner.invoke(app, ["--db", database_url, "evaluate", "enterprises", "--year", str(YEAR),
                                 "--on", ON.isoformat(), "--format", "json", "-o", str(tmp_path / "e.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))
    assert {f["uscc"] for f in data["firms"]} == {STRONG_FIRM, SMALL_FIRM}
    result = runner.invoke(app, ["--db", database_url, "diagnose", SMALL_FIRM, "--format", "json",
                                 "-o", str(tmp_path / "d.json"), "--year", str(YEAR)])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))["uscc"] == SMALL_FIRM


def test_diagnosis_pdf_text(stored, database_url, tmp_path):
    """`diagnose --format pdf` writes a PDF whose text (pdftotext) names the firm, its code, the tier and the gap."""
    import os
    import shutil
    import subprocess

    if not shutil.which("pdftotext"):
        if os.environ.get("CI") or os.environ.get("SMECLUSTER_REQUIRE_SHARED") == "1":
            pytest.fail("pdftotext (poppler-utils) is required: scripts/system-deps.sh installs it")
        pytest.skip("pdftotext (poppler-utils) not installed")
    out = tmp_path / "d.pdf"
    result = CliRunner().invoke(app, ["--db", database_url, "diagnose", SMALL_FIRM, "--format", "pdf",
                                      "--year", str(YEAR), "--on", ON.isoformat(), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = "".join(text.split())
    assert "测试企业1" in flat and SMALL_FIRM in flat
    assert "专精特新" in flat  # the little giant tier's Chinese name
    assert "2%→≥10%" in flat  # the market-share gap: the firm's 2% against L3a's 不低于10% (spaces dropped)
