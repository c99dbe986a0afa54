"""The watch page, its JSON twin, a cluster's trends and dossier downloads, by role and region."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from test_watch import TODAY, _falling_registry
from web_fakes import PASSWORD, login

from smecluster.accounts.users import add_user
from smecluster.db import session_scope
from smecluster.web.app import WebSettings, create_app

ACCOUNTS = {"prov": ("province_admin", "320000"), "changzhou": ("city_reviewer", "320400"),
            "liyang": ("county_applicant", "320481"), "wujin": ("county_applicant", "320412")}


@pytest.fixture
def site(database_url, tmp_path):
    """A registry with one recognised cluster in Liyang whose cloud adoption falls, and a bureau per level."""
    engine, _ = _falling_registry(database_url)
    with session_scope(engine) as s:
        for name, (role, region) in ACCOUNTS.items():
            add_user(s, name, PASSWORD, role, region_code=region, display_name=name)
    settings = WebSettings(secure_cookies=False, evidence_dir=tmp_path / "ev", today=lambda: TODAY)
    return create_app(database_url, settings=settings)


def _client(app, who: str | None) -> TestClient:
    c = TestClient(app)
    if who:
        assert login(c, who).status_code == 303
    return c


def test_api_watch_flags_the_cluster_for_bureaus_over_it(site):
    """Province, city and county over the cluster see it at risk on J7; another county sees no cluster."""
    for who in ("prov", "changzhou", "liyang"):
        data = _client(site, who).get("/api/watch?year=2026").json()
        assert data["at_risk_clusters"] == [1], who
        j7 = next(k for k in data["clusters"][0]["criteria"] if k["id"] == "J7")
        assert j7["projected_status"] == "fail" and j7["at_risk"]
    assert _client(site, "wujin").get("/api/watch?year=2026").json()["clusters"] == []
    assert _client(site, None).get("/api/watch").status_code == 401
    assert _client(site, "wujin").get("/api/watch?region=320481").status_code == 403


def test_watch_page_draws_the_trend_of_the_cluster_at_risk(site):
    """The page lists the cluster at risk with its criterion and carries the chart option of it."""
    page = _client(site, "prov").get("/watch?year=2026")
    assert page.status_code == 200
    assert 'id="trend-1"' in page.text and 'data-criterion="J7"' in page.text
    block = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', page.text, re.S).group(1)
    charts = json.loads(block)["charts"]
    assert [c["id"] for c in charts] == [1]
    assert {s["name"] for s in charts[0]["option"]["series"]} >= {"J7", "100%"}
    assert "复核监测" in page.text  # Chinese first


def test_cluster_page_trends_and_downloads_for_bureaus_in_scope(site):
    """A bureau over the cluster gets the trend chart and the downloads; a visitor and another county do not."""
    page = _client(site, "liyang").get("/clusters/1").text
    assert 'id="cluster-trend"' in page and "/clusters/1/dossier.docx" in page
    for who in (None, "wujin"):
        assert 'id="cluster-trend"' not in _client(site, who).get("/clusters/1").text
    trend = _client(site, "liyang").get("/api/clusters/1/trends").json()
    j7 = next(k for k in trend["cluster"]["criteria"] if k["id"] == "J7")
    assert j7["at_risk"] and trend["chart"]["series"]
    assert _client(site, "wujin").get("/api/clusters/1/trends").status_code == 404


def test_dossier_downloads(site):
    """Word, Excel and PDF come back as files of their type; another county gets 404, an unknown format 404."""
    c = _client(site, "prov")
    docx = c.get("/clusters/1/dossier.docx")
    assert docx.status_code == 200 and docx.headers["content-type"].endswith("wordprocessingml.document")
    with zipfile.ZipFile(io.BytesIO(docx.content)) as z:
        assert "测试集群" in z.read("word/document.xml").decode()
    xlsx = c.get("/clusters/1/dossier.xlsx")
    assert "历年指标与趋势" in load_workbook(io.BytesIO(xlsx.content)).sheetnames
    pdf = c.get("/clusters/1/dossier.pdf")
    assert pdf.content.startswith(b"%PDF")
    assert c.get("/clusters/1/dossier.odt").status_code == 404
    assert _client(site, "wujin").get("/clusters/1/dossier.docx").status_code == 404
