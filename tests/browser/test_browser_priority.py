# ruff: noqa: F811  (fixtures imported by name and used as test arguments)
"""The priority and recommendation pages in real headless Chromium: radars and rank intervals drawn,
the province confirms the recommendation, a county sees its own cluster only.

Screenshots go to test-artifacts/browser/<database>/priority-*.png (as test_browser_flow.py).
"""

from __future__ import annotations

import pytest
from browsing import (
    ARTIFACTS,
    NEEDS_CHROMIUM,
    add_accounts,
    browser,  # noqa: F401  (a fixture)
    database,  # noqa: F401  (a fixture: SQLite only)
    log_in,
    painted,
    served,
    shot,
)

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):  # noqa: F811  (the imported fixture)
    """A small demo with the national clusters recognised, a provincial and a county account, served."""
    from smecluster.db import open_database
    from smecluster.services.demo import build_demo, stage_demo
    from smecluster.web.app import WebSettings, create_app

    kind, url = database
    engine = open_database(url)
    build_demo(engine, scale=0.05)
    stage_demo(engine)
    add_accounts(engine, {"province": ("province_admin", "320000", "江苏省工信厅"),
                          "county_cs": ("county_applicant", "320581", "常熟市工信局")})
    app = create_app(url, settings=WebSettings(secure_cookies=False, evidence_dir=tmp_path_factory.mktemp("ev")))
    with served(app) as base:
        yield {"base": base, "dir": ARTIFACTS / kind}

# Pages log in with a 120 s default timeout: the first ranking computes 10,000 weight draws on a shared machine.


def test_province_sees_ranking_radars_and_rank_intervals(browser, server):
    """Five ranked rows, five radars and the interval chart drawn, the weights and the swap shown."""
    page = log_in(browser, server["base"], "province", timeout_ms=120_000)
    page.goto(f"{server['base']}/priority")
    assert page.locator("#priority-table tbody tr").count() == 5
    page.wait_for_selector("#radars .radar canvas")
    assert page.locator("#radars .radar").count() == 5
    page.wait_for_selector("#intervals canvas")
    assert painted(page, "#radars .radar") > 500
    assert painted(page, "#intervals") > 500
    assert page.locator("#indicator-weights tbody tr").count() == 22
    assert page.locator("#swap").count() == 1
    shot(page, server["dir"], "priority-1-province")


def test_province_confirms_the_recommendation(browser, server):
    """The list shows the national gap of the Yuhuatai cluster; confirming records who confirmed it."""
    page = log_in(browser, server["base"], "province", timeout_ms=120_000)
    page.goto(f"{server['base']}/recommendation")
    row = page.locator("#recommendation-table tr", has_text="南京市雨花台区")
    assert "N10" in row.inner_text()
    assert page.locator("#confirmed").inner_text() == "尚未确认。"
    shot(page, server["dir"], "priority-2-recommendation")
    page.click("#confirm-form button")
    page.wait_for_load_state()
    assert "已由 province 于" in page.locator("#confirmed").inner_text()
    shot(page, server["dir"], "priority-3-confirmed")


def test_county_sees_its_own_cluster_only(browser, server):
    """Changshu's bureau sees one row (its cluster, at its province-wide rank) and no recommendation link."""
    page = log_in(browser, server["base"], "county_cs", timeout_ms=120_000)
    page.goto(f"{server['base']}/priority")
    assert page.locator("#priority-table tbody tr").count() == 1
    assert "常熟市电子氟材料产业集群" in page.locator("#priority-table tbody").inner_text()
    assert page.locator("a[href='/recommendation']").count() == 0
    page.wait_for_selector("#radars .radar canvas")
    shot(page, server["dir"], "priority-4-county")
