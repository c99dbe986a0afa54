"""Priority indicators from a stored registry (SQLite and PostgreSQL), the ranking, the national
recommendation and its confirmation (audited, province administrator only)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import date

import pytest
from builders import COUNTY, INDUSTRIES, OTHER_COUNTY, REGIONS, codes
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from smecluster.analytics.cluster_indicators import compute_cluster_indicators
from smecluster.analytics.snapshot import load_snapshot
from smecluster.db import open_database
from smecluster.policy.priority import load_priority_pack
from smecluster.registry.models import (
    Cluster,
    ClusterMember,
    ClusterYear,
    Designation,
    Enterprise,
    EnterpriseYear,
)
from smecluster.services.priority import (
    confirm_recommendation,
    confirmed_recommendation,
    needed_columns,
    rank_clusters,
    recommend,
)
from smecluster.workflow.models import AuditEntry
from smecluster.workflow.recommendations import RecommendationError

YEAR = 2025
# c1 (溧阳市, 384) and c3 (武进区, 384): 12 medium firms each, large enough for the national pack;
# c2 (武进区, 348): 4 small firms, fails the national output condition. c4 is submitted, never ranked.
OUT = {"c1": [25000, 34000, 35000, 36000], "c3": [24000, 33400, 33700, 34000], "c2": [2000] * 4,
       "c4": [1000] * 4}


def _build(engine) -> dict[str, int]:
    firms = {"c1": codes(12, COUNTY, 1), "c3": codes(12, OTHER_COUNTY, 100), "c2": codes(4, OTHER_COUNTY, 200),
             "c4": codes(3, OTHER_COUNTY, 300)}
    county = {"c1": COUNTY, "c3": OTHER_COUNTY, "c2": OTHER_COUNTY, "c4": OTHER_COUNTY}
    industry = {"c1": "3841", "c3": "3841", "c2": "3484", "c4": "3841"}
    ent, years, desig = [], [], []
    for c, us in firms.items():
        for i, u in enumerate(us):
            ent.append({"uscc": u, "name": f"{c}企业{i}", "county_code": county[c], "industry_code": industry[c],
                        "fictional": True})
            for k in range(4):
                y = YEAR - 3 + k
                out = OUT[c][k]
                row = {"uscc": u, "year": y, "revenue": float(out), "output": float(out), "employees": 300,
                       "rd_staff": 30, "rd_spending": 1000.0 * 1.12 ** k, "total_assets": 2.0 * out,
                       "total_liabilities": float(out), "cloud": True, "industrial_internet": i % 2 == 0,
                       "invention_patents": None, "energy_use": None, "exports": None, "smart_mfg_level": None}
                if c == "c1":
                    row.update(energy_use={0: 2000.0, 3: 1800.0}.get(k, 1900.0), exports=43200.0 if i == 0 and k == 3
                               else 0.0, invention_patents=i, smart_mfg_level=[3, 2, 1, None][i // 3] if k == 3 else 1)
                elif c == "c3":
                    row.update(energy_use=0.09 * out, exports=0.0, invention_patents=1, smart_mfg_level=1)
                elif c == "c2":
                    row.update(energy_use=200.0, exports=0.0, invention_patents=1, smart_mfg_level=1)
                years.append(row)
    held = {"valid_from": date(YEAR - 1, 1, 1), "valid_until": date(YEAR + 1, 12, 31), "year": YEAR - 1}
    c1, c3 = firms["c1"], firms["c3"]
    desig += [{"uscc": u, "kind": "srdi_sme", **held} for u in c1[:3]]
    desig += [{"uscc": c1[0], "kind": "little_giant", **held}, {"uscc": c3[0], "kind": "little_giant", **held}]
    desig += [{"uscc": u, "kind": "green_factory", **held} for u in c1[:2]]
    desig += [{"uscc": u, "kind": "iso14001", **held} for u in c1[:6]]
    desig += [{"uscc": u, "kind": "two_integration", **held} for u in c1[:3]]
    with engine.begin() as conn:
        conn.execute(insert(Designation.__table__.metadata.tables["region"]), REGIONS)
        conn.execute(insert(Designation.__table__.metadata.tables["industry"]), INDUSTRIES)
        conn.execute(insert(Enterprise), ent)
        conn.execute(insert(EnterpriseYear), years)
        conn.execute(insert(Designation), desig)
        specs = [("c1", "溧阳测试集群", COUNTY, ["384"], "recognised"), ("c2", "武进零部件集群", OTHER_COUNTY, ["348"],
                 "recognised"), ("c3", "武进电池集群", OTHER_COUNTY, ["384"], "recognised"),
                 ("c4", "申报中集群", OTHER_COUNTY, ["384"], "submitted")]
        for n, (code, name, cty, leading, status) in enumerate(specs, start=1):
            conn.execute(insert(Cluster), [{"id": n, "code": code, "name": name, "county_code": cty,
                                            "leading_industries": leading, "declared": {"footprint_km2": 20},
                                            "status": status, "year": YEAR, "fictional": True}])
            conn.execute(insert(ClusterMember), [{"cluster_id": n, "uscc": u} for u in firms[code]])
        conn.execute(insert(ClusterYear), [
            {"cluster_id": 1, "year": YEAR, "promotion_org": True, "alliances": 2, "cooperation_agreements": 3},
            {"cluster_id": 2, "year": YEAR, "promotion_org": False, "alliances": 1, "cooperation_agreements": None},
            {"cluster_id": 3, "year": YEAR, "promotion_org": True, "alliances": 1, "cooperation_agreements": 1},
        ])
    return {"c1": 1, "c2": 2, "c3": 3, "c4": 4}


@pytest.fixture
def registry(database_url):
    engine = open_database(database_url)
    ids = _build(engine)
    return engine, ids, database_url


def test_priority_indicators_are_computed_from_the_registry(registry):
    """Each new indicator, computed in SQL, equals the figure worked out by hand from the rows stored."""
    engine, ids, _ = registry
    table = compute_cluster_indicators(load_snapshot(engine), YEAR, needed_columns(load_priority_pack()))
    row = {r["cluster_id"]: r for r in table.to_dicts()}
    c1, c2, c3 = row[ids["c1"]], row[ids["c2"]], row[ids["c3"]]
    assert c1["leading_output"] == 432000
    assert math.isclose(c1["energy_intensity"], 1800 / 36000)
    assert math.isclose(c1["energy_intensity_trend"], (0.05 / 0.08) ** (1 / 3) - 1)
    assert math.isclose(c1["export_share"], 43200 / 432000)
    assert math.isclose(c1["invention_patents_per_firm"], 5.5)
    assert math.isclose(c1["smart_mfg_l2_share"], 6 / 12)
    assert math.isclose(c1["srdi_density"], 25.0) and math.isclose(c1["little_giant_density"], 100 / 12)
    assert c1["green_factories"] == 2 and c2["green_factories"] == 0
    assert math.isclose(c1["iso14001_share"], 0.5) and math.isclose(c1["two_integration_share"], 0.25)
    assert c1["promotion_org"] == 1.0 and c2["promotion_org"] == 0.0
    assert c1["alliances"] == 2 and c2["cooperation_agreements"] is None
    assert math.isclose(c1["cluster_rd_intensity"], 1000 * 1.12 ** 3 / 36000)
    assert math.isclose(c1["rd_cagr"], 0.12)
    # location quotient: (county's leading share) / (province's share of the same industries)
    # province 2025: 432,000 + 408,000 + 8,000 + 3,000 (c4) = 851,000, of which 843,000 in 384
    assert math.isclose(c1["location_quotient"], 1.0 / (843000 / 851000))
    assert math.isclose(c2["location_quotient"], (8000 / 419000) / (8000 / 851000))
    assert math.isclose(c3["location_quotient"], (411000 / 419000) / (843000 / 851000))


def test_ranking_covers_recognised_clusters_with_stability_and_notes(registry):
    """Only recognised clusters are ranked, best first, with intervals that contain the rank, and the
    missing cooperation agreements of c2 are imputed and said."""
    engine, ids, _ = registry
    r = rank_clusters(engine, year=YEAR)
    got = [c.id for c in r.clusters]
    assert sorted(got) == sorted([ids["c1"], ids["c2"], ids["c3"]])
    assert r.clusters[0].id == ids["c1"]
    scores = [c.score for c in r.clusters]
    assert scores == sorted(scores, reverse=True)
    for c in r.clusters:
        assert c.rank_p05 <= c.rank <= c.rank_p95 or c.rank_p05 <= c.rank_p95
        assert 0.0 <= c.p_top_n <= 1.0 and all(0 <= v <= 1 for v in c.dimension_scores.values())
    imputed = [n for n in r.notes if n["code"] == "imputed"]
    assert any(n["column"] == "cooperation_agreements" and "武进零部件集群" in n["zh"] for n in imputed)
    c2 = next(c for c in r.clusters if c.id == ids["c2"])
    assert "cooperation_agreements" in c2.imputed and c2.values["cooperation_agreements"] is None
    assert abs(sum(i["combined"] for i in r.indicators) - 1) < 1e-9


def test_rank_json_has_the_fields_the_issue_lists(registry):
    """`smecluster rank --format json`: per cluster id, name, dimension scores, score, rank, rank_p05,
    rank_p95, p_top_n; plus the weights and the decision matrix used."""
    _, ids, url = registry
    out = subprocess.run([sys.executable, "-m", "smecluster.cli.main", "--db", url, "rank", "--year", str(YEAR),
                          "--top", "2", "--format", "json"], capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    assert data["top_n"] == 2
    for c in data["clusters"]:
        assert {"id", "name", "dimension_scores", "score", "rank", "rank_p05", "rank_p95", "p_top_n"} <= set(c)
        assert set(c["dimension_scores"]) == {"leading", "innovation", "digital", "green", "open"}
    assert {"indicators", "dimensions", "rule", "ahp"} <= set(data["weights"])
    matrix = data["decision_matrix"]
    assert len(matrix["values"]) == 3 and len(matrix["columns"]) == len(data["weights"]["indicators"])
    assert data["swap"]["last_in"]["id"] == data["clusters"][1]["id"]
    assert data["swap"]["first_out"]["id"] == data["clusters"][2]["id"]


def test_recommendation_keeps_national_failures_out_with_their_gaps(registry, tmp_path):
    """c2 fails the national output condition (N3) and shows the gap; the others are recommended in score
    order, cut at the quota of the pack."""
    engine, ids, _ = registry
    rec = recommend(engine, year=YEAR + 1)
    by_id = {c.cluster.id: c for c in rec.candidates}
    assert rec.quota == 8 and rec.data_year == YEAR
    assert by_id[ids["c2"]].outcome == "not_recognised" and not by_id[ids["c2"]].recommended
    assert any(g["id"] == "N3" and g["gap_zh"] for g in by_id[ids["c2"]].gaps)
    assert [c.cluster.id for c in rec.recommended] == [ids["c1"], ids["c3"]]
    # a quota of 1 keeps only the best
    raw = load_priority_pack().model_dump(mode="json")
    raw["recommendation"]["quota"] = {2026: 1}
    path = tmp_path / "quota1.yaml"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    cut = recommend(engine, str(path), YEAR + 1)
    assert [c.cluster.id for c in cut.recommended] == [ids["c1"]]
    assert next(c for c in cut.candidates if c.cluster.id == ids["c3"]).outcome == "recognised"


class Who:
    """An account as the services see it."""

    def __init__(self, id_: int | None, username: str, role: str) -> None:
        self.id, self.username, self.role = id_, username, role


def test_confirmation_is_for_the_province_and_audited(registry):
    """A city reviewer is refused; a stale list is refused; the province's confirmation is stored and audited."""
    engine, ids, _ = registry
    with pytest.raises(RecommendationError) as refused:
        confirm_recommendation(engine, Who(None, "city", "city_reviewer"), YEAR + 1, [ids["c1"], ids["c3"]])
    assert refused.value.status == 403
    with pytest.raises(RecommendationError) as stale:
        confirm_recommendation(engine, Who(None, "prov", "province_admin"), YEAR + 1, [ids["c3"], ids["c1"]])
    assert stale.value.status == 409
    assert confirmed_recommendation(engine, YEAR + 1) is None
    done = confirm_recommendation(engine, Who(None, "prov", "province_admin"), YEAR + 1, [ids["c1"], ids["c3"]])
    assert [c["id"] for c in done["clusters"]] == [ids["c1"], ids["c3"]] and done["version"] == 1
    with Session(engine) as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "recommendation.confirm")).all()
        assert len(entries) == 1 and entries[0].actor == "prov" and entries[0].detail["clusters"] == ["c1", "c3"]
        assert s.scalar(select(func.count()).select_from(AuditEntry)) >= 1
    again = confirm_recommendation(engine, Who(None, "prov", "province_admin"), YEAR + 1, [ids["c1"], ids["c3"]])
    assert again["version"] == 2


def test_rank_xlsx_opens_in_libreoffice_with_formula_safe_text(registry, tmp_path):
    """`rank --format xlsx`: three sheets (ranking, weights, matrix) that LibreOffice converts without repair;
    a cluster name that looks like a formula is written as text."""
    import shutil

    from openpyxl import load_workbook
    from sqlalchemy import update

    engine, ids, url = registry
    with engine.begin() as conn:
        conn.execute(update(Cluster).where(Cluster.id == ids["c2"]).values(name="=HYPERLINK(\"x\")集群"))
    out = tmp_path / "rank.xlsx"
    subprocess.run([sys.executable, "-m", "smecluster.cli.main", "--db", url, "rank", "--year", str(YEAR),
                    "--format", "xlsx", "-o", str(out)], check=True, capture_output=True)
    wb = load_workbook(out)
    assert wb.sheetnames == ["排名", "权重", "决策矩阵"]
    names = [r[2] for r in wb["排名"].iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"x\")集群" in names and "溧阳测试集群" in names
    assert wb["权重"].max_row == 1 + len(load_priority_pack().indicators())
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(out)],
                   check=True, capture_output=True, timeout=300)
    text = subprocess.run(["pdftotext", str(tmp_path / "rank.pdf"), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "溧阳测试集群" in text and "组合权重" in text  # the ranking and the weights sheets both printed
