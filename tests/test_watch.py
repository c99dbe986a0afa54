"""Re-review watch: the YAML scenarios, the watch over a stored registry (SQLite and PostgreSQL), the
yearly reports (imported and through the workflow) and `smecluster watch`."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from builders import YEAR, RegistryBuilder
from sqlalchemy import insert, update
from typer.testing import CliRunner

from smecluster.cli import common
from smecluster.cli.main import app
from smecluster.db import open_database
from smecluster.policy.scenarios import run_scenarios
from smecluster.registry.importer import import_file
from smecluster.registry.models import Cluster, EnterpriseYear
from smecluster.services.watch import compute_watch
from smecluster.workflow.models import Application, Transition

SCENARIOS = Path(__file__).parent / "scenarios" / "watch"
TODAY = date(2026, 11, 30)


def test_watch_scenarios_pass():
    """Every case of the watch scenario files gives the trend, projection, status and risk written in it."""
    files = sorted(SCENARIOS.glob("*.yaml"))
    assert files
    for path in files:
        count, failures = run_scenarios(path)
        assert count > 0
        assert failures == [], failures


def test_watch_scenarios_fail_without_the_margin(tmp_path):
    """With a margin of zero the cases that sit near a threshold are no longer at risk (the rule is exercised)."""
    spec = yaml.safe_load((SCENARIOS / "jiangsu-2023-watch.yaml").read_text(encoding="utf-8"))
    spec["watch"]["margin"] = 0.0
    path = tmp_path / "no-margin.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    _, failures = run_scenarios(path)
    failed = {(f.case, f.check) for f in failures}
    assert ("exactly the platforms asked for is within the margin (5 < 5.5)", "at_risk.J5") in failed
    # a projected failure does not depend on the margin
    assert not any(f.case.startswith("falling cloud") for f in failures)



def test_a_failed_yearly_status_is_reported_by_its_year_and_criterion(tmp_path):
    """A case expecting the wrong 2025 status of J7 fails on the check "status_2025.J7", with both statuses."""
    spec = yaml.safe_load((SCENARIOS / "jiangsu-2023-watch.yaml").read_text(encoding="utf-8"))
    spec["cases"] = [spec["cases"][0]]
    spec["cases"][0]["expect"] = {"status_2025": {"J7": "fail"}}
    path = tmp_path / "wrong.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    _, failures = run_scenarios(path)
    assert [(f.check, f.expected, f.got) for f in failures] == [("status_2025.J7", "fail", "pass")]


def test_watch_scenarios_read_a_criterion_with_its_own_parameters(tmp_path):
    """A pack whose criterion asks for a non-default parameter (R&D growth over 2 years, not the catalogue's 3)
    is watched on that parameter's own column (sme_rd_cagr__years_2)."""
    shipped = Path(__file__).parents[1] / "smecluster" / "policy" / "packs" / "jiangsu-cluster-2023.yaml"
    text = shipped.read_text(encoding="utf-8")
    assert text.count("params: {years: 3}") == 1  # J6, the SME R&D growth condition
    (tmp_path / "two-years.yaml").write_text(text.replace("params: {years: 3}", "params: {years: 2}"),
                                             encoding="utf-8")
    spec = {"pack": str(tmp_path / "two-years.yaml"), "watch": {"year": 2025, "re_review_year": 2029, "margin": 0.1},
            "cases": [{"name": "R&D growth falling below 10%",
                       "history": {"sme_rd_cagr__years_2": {2023: 0.16, 2024: 0.14, 2025: 0.12}},
                       "expect": {"status_2025": {"J6": "pass"}, "projected": {"sme_rd_cagr__years_2": 0.04},
                                  "projected_status": {"J6": "fail"}}}]}
    path = tmp_path / "watch.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert run_scenarios(path) == (1, [])

def _falling_registry(database_url: str, recognised: bool = True):
    """One cluster of 20 members whose cloud adoption falls 60% -> 45% -> 35% (2023-2025): passing now."""
    engine = open_database(database_url)
    b = RegistryBuilder(engine)
    b.designate("high_tech", 15)
    b.build()
    on_cloud = {YEAR - 2: 12, YEAR - 1: 9, YEAR: 7}
    with engine.begin() as conn:
        for y, k in on_cloud.items():
            for i, u in enumerate(b.members):
                conn.execute(update(EnterpriseYear).where(EnterpriseYear.uscc == u, EnterpriseYear.year == y)
                             .values(cloud=i < k))
        if recognised:
            conn.execute(update(Cluster).values(status="recognised"))
    return engine, b


def test_watch_flags_the_falling_cluster(database_url):
    """A recognised cluster whose cloud share falls is flagged at risk on J7 while it still passes it."""
    engine, _ = _falling_registry(database_url)
    w = compute_watch(engine, year=2026, today=TODAY)
    assert [c["id"] for c in w.clusters] == [1]
    c = w.clusters[0]
    j7 = next(k for k in c["criteria"] if k["id"] == "J7")
    assert j7["values"][YEAR - 2] == pytest.approx(0.60) and j7["values"][YEAR] == pytest.approx(0.35)
    assert j7["statuses"][YEAR] == "pass"
    assert j7["slope"] == pytest.approx(-0.125)  # least squares through 0.60, 0.45, 0.35
    # no recognition date recorded: the application year stands in, re-review three years on
    assert c["estimated"] and c["re_review_year"] == YEAR + 3
    assert j7["projected"] == pytest.approx(0.0)  # 0.35 - 3 x 0.125 < 0, a share stops at 0
    assert j7["projected_status"] == "fail"
    assert c["at_risk"] and "J7" in c["risks"]


def test_watch_leaves_unrecognised_clusters_out(database_url):
    """Only recognised (or re-review) clusters are watched."""
    engine, _ = _falling_registry(database_url, recognised=False)
    assert compute_watch(engine, year=2026, today=TODAY).clusters == []


def test_due_list_uses_the_recorded_validity(database_url):
    """A cluster recognised through the workflow is due for re-review in the year its validity ends."""
    engine, _ = _falling_registry(database_url, recognised=False)
    now = datetime(2026, 5, 1, 9, 0)
    with engine.begin() as conn:
        conn.execute(insert(Application), [{
            "id": 1, "cluster_id": 1, "county_code": "320481", "year": 2023, "workflow": "jiangsu-workflow-2023",
            "stage": "recognised", "version": 5, "created_at": now, "updated_at": now,
            "valid_until": date(2026, 6, 15)}])
        conn.execute(insert(Transition), [{"application_id": 1, "action": "recognise", "from_stage": "public_notice",
                                           "to_stage": "recognised", "at": datetime(2023, 6, 15, 10, 0)}])
    w = compute_watch(engine, year=2026, today=TODAY)
    c = w.clusters[0]
    assert c["re_review_year"] == 2026 and c["recognised_on"] == date(2023, 6, 15)
    assert [x["id"] for x in w.due] == [1]
    assert compute_watch(engine, year=2027, today=TODAY).due == []


def test_yearly_reports_imported_and_through_the_workflow(database_url, tmp_path):
    """Reports come from the import kind and from the workflow's yearly_report action; each is on time,
    late, missing or not yet due against 30 April of the next year."""
    engine, _ = _falling_registry(database_url, recognised=False)
    now = datetime(2022, 5, 1)
    with engine.begin() as conn:
        conn.execute(insert(Application), [{
            "id": 1, "cluster_id": 1, "county_code": "320481", "year": 2022, "workflow": "jiangsu-workflow-2023",
            "stage": "recognised", "version": 5, "created_at": now, "updated_at": now,
            "valid_until": date(2025, 3, 1)}])
        # the 2023 report through the web (recorded in 2024, before 30 April)
        conn.execute(insert(Transition), [{"application_id": 1, "action": "yearly_report", "from_stage": "recognised",
                                           "to_stage": "recognised", "at": datetime(2024, 4, 2, 10, 0)}])
    csv = tmp_path / "reports.csv"
    csv.write_text("集群编号,报告年度,提交日期,报告文号\ntest,2022,2023-04-28,苏集报〔2023〕1号\n"
                   "test,2024,2025-05-20,\n", encoding="utf-8")
    result = import_file(engine, "cluster_reports", csv)
    assert result.errors is None or result.errors.height == 0
    w = compute_watch(engine, year=2026, today=TODAY)
    states = {r["year"]: r["state"] for r in w.clusters[0]["reports"]}
    assert states == {2022: "on_time", 2023: "on_time", 2024: "late", 2025: "missing", 2026: "not_due"}


def test_report_import_names_the_bad_row(database_url, tmp_path):
    """A report for an unknown cluster is refused with the row and the reason; nothing is stored."""
    engine, _ = _falling_registry(database_url)
    csv = tmp_path / "reports.csv"
    csv.write_text("集群编号,报告年度,提交日期\ntest,2024,2025-04-01\nnope,2024,2025-04-01\n", encoding="utf-8")
    result = import_file(engine, "cluster_reports", csv)
    errors = result.errors.to_dicts()
    assert any(e["row"] == 3 and "no cluster with this code" in e["reason"] for e in errors)
    w = compute_watch(engine, year=2026, today=TODAY)
    assert all(r["filed_on"] is None for r in w.clusters[0]["reports"])


def test_watch_region_scope(database_url):
    """A region outside the cluster's county sees no cluster."""
    engine, _ = _falling_registry(database_url)
    assert compute_watch(engine, year=2026, region="320400", today=TODAY).clusters
    assert compute_watch(engine, year=2026, region="320412", today=TODAY).clusters == []


def test_watch_cli_json(database_url, monkeypatch):
    """`smecluster watch --format json` gives the at-risk list and each criterion's projection."""
    _falling_registry(database_url)
    monkeypatch.setattr(common.console, "width", 400)
    result = CliRunner().invoke(app, ["--db", database_url, "watch", "--year", "2026", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["at_risk_clusters"] == [1]
    j7 = next(k for k in data["clusters"][0]["criteria"] if k["id"] == "J7")
    assert j7["projected_status"] == "fail" and j7["values"][str(YEAR)] == pytest.approx(0.35)


def test_watch_cli_table_and_bad_format(database_url, monkeypatch):
    """The table names the cluster at risk and its criterion; an unknown format is refused clearly."""
    _falling_registry(database_url)
    monkeypatch.setattr(common.console, "width", 400)
    result = CliRunner().invoke(app, ["--db", database_url, "watch", "--year", "2026"])
    assert result.exit_code == 0, result.output
    assert "1 at risk" in result.output and "J7" in result.output
    bad = CliRunner().invoke(app, ["--db", database_url, "watch", "--format", "csv"])
    assert bad.exit_code != 0 and "choose table, json or xlsx" in bad.output
