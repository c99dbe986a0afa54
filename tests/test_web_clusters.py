"""The public cluster list and cluster page (criteria table, gaps, UNVERIFIED marks, discrepancies)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from web_fakes import fake_evaluate, seed

from smecluster.db import open_database
from smecluster.web.app import create_app


@pytest.fixture
def site(database_url):
    """A client over a seeded database, with the stand-in verdict service."""
    ids = seed(open_database(database_url))
    client = TestClient(create_app(database_url, evaluate=fake_evaluate), base_url="https://testserver")
    return client, ids


def test_list_shows_every_cluster_with_its_outcome(site):
    """The list page names each cluster and its outcome without a login."""
    client, _ = site
    page = client.get("/")
    assert page.status_code == 200
    assert "常熟市电子氟材料产业集群" in page.text and "徐州市铜山区安全应急产业集群" in page.text
    assert "符合认定条件" in page.text
    assert page.text.count('class="badge outcome-recognised"') == 1


def test_list_names_the_policy_by_title_and_date_with_the_id_on_hover(site):
    """The policy column reads 江苏省认定条件 (2023-03-31); the pack id and version are the hover text."""
    client, _ = site
    page = client.get("/").text
    assert '<span title="jiangsu-cluster-2023 2023.1">江苏省认定条件 (2023-03-31)</span>' in page
    assert ">jiangsu-cluster-2023 2023.1<" not in page


def test_list_filters_by_outcome(site):
    """?outcome=not_recognised leaves out recognised clusters."""
    client, _ = site
    page = client.get("/?outcome=not_recognised")
    assert "徐州市铜山区安全应急产业集群" in page.text
    assert "常熟市电子氟材料产业集群" not in page.text


def test_cluster_page_shows_gap_in_chinese_by_default(site):
    """A failing criterion shows its gap in Chinese when no language is chosen."""
    client, ids = site
    page = client.get(f"/clusters/{ids['tongshan']}")
    assert page.status_code == 200
    assert "还需 9 家企业上云" in page.text
    assert "≥ 30%" in page.text  # shares as every page writes them (smecluster.values)


def test_cluster_page_in_english_after_switch(site):
    """The language switch sets a cookie and the page then shows the English gap and labels."""
    client, ids = site
    switched = client.get(f"/lang/en?next=/clusters/{ids['tongshan']}", follow_redirects=False)
    assert switched.status_code == 303
    page = client.get(f"/clusters/{ids['tongshan']}")
    assert "9 more enterprises" in page.text and "Gap to recognition" in page.text


def test_cluster_page_marks_unverified_and_discrepancy(site):
    """A nested UNVERIFIED criterion and a declared-vs-computed discrepancy are both shown."""
    client, ids = site
    page = client.get(f"/clusters/{ids['changshu']}")
    assert 'data-criterion="J3a"' in page.text
    assert "UNVERIFIED" in page.text
    assert 'class="discrepancy"' in page.text and "20%" in page.text


def test_unknown_cluster_is_404(site):
    """A cluster id that does not exist answers 404."""
    client, _ = site
    assert client.get("/clusters/999999").status_code == 404


def test_language_switch_refuses_offsite_redirect(site):
    """The switch never redirects to another host."""
    client, _ = site
    r = client.get("/lang/en?next=//evil.example/x", follow_redirects=False)
    assert r.headers["location"] == "/"


def test_cluster_page_lists_members(site):
    """The cluster page lists the member enterprises with their credit codes."""
    client, ids = site
    page = client.get(f"/clusters/{ids['changshu']}")
    assert "91320581MA1TEXT01X" in page.text and "成员企业 (1)" in page.text


def test_list_shows_the_gap_of_a_failing_criterion(site):
    """The list itself names the failing criterion and its gap, not only the outcome."""
    client, _ = site
    row = client.get("/").text.split('data-cluster="TS-SAFETY"')[1].split("</tr>")[0]
    assert "J7" in row and "还需 9 家企业上云" in row


def test_nul_character_is_refused_with_400(tmp_path):
    """A NUL character in a form field gets a clear 400, never a database error."""
    from fastapi.testclient import TestClient

    from smecluster.web.app import create_app

    client = TestClient(create_app(f"sqlite:///{tmp_path / 'nul.db'}"), raise_server_exceptions=False)
    response = client.post("/login", data={"username": "a\x00b", "password": "x"})
    assert response.status_code == 400
    assert "NUL" in response.text
