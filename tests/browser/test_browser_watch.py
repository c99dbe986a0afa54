# ruff: noqa: F811  (fixtures imported by name and used as test arguments)
"""The re-review watch page and a cluster's trend chart in real headless Chromium, with screenshots in
test-artifacts/browser/<database>/watch-*.png (as test_browser_flow.py)."""

from __future__ import annotations

import pytest
from browsing import (
    ARTIFACTS,
    NEEDS_CHROMIUM,
    add_accounts,
    browser,  # noqa: F401  (a fixture)
    database,  # noqa: F401  (a fixture: SQLite only)
    log_in,
    served,
    shot,
)

pytestmark = NEEDS_CHROMIUM
TONGSHAN = "徐州市铜山区安全应急产业集群"  # the demo's recognised cluster whose cloud adoption falls


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):  # noqa: F811  (the imported fixture)
    """A small demo with the national clusters recognised through the workflow, and a provincial account."""
    from smecluster.db import open_database
    from smecluster.services.demo import build_demo, stage_demo
    from smecluster.web.app import WebSettings, create_app

    kind, url = database
    engine = open_database(url)
    build_demo(engine, scale=0.05)
    stage_demo(engine)
    add_accounts(engine, {"province_w": ("province_admin", "320000", "江苏省工信厅")})
    app = create_app(url, settings=WebSettings(secure_cookies=False, evidence_dir=tmp_path_factory.mktemp("ev")))
    with served(app) as base:
        yield {"base": base, "dir": ARTIFACTS / kind}


def test_watch_page_and_cluster_trend(server, browser):
    """The watch page shows Tongshan at risk with its chart drawn; its cluster page draws the trend and
    offers the dossier, which downloads as a Word file."""
    page = log_in(browser, server["base"], "province_w")
    page.goto(f"{server['base']}/watch", timeout=120_000)
    section = page.locator("section.at-risk", has_text=TONGSHAN)
    assert section.count() == 1
    assert section.locator("tr[data-criterion=J7]").count() == 1
    section.locator(".trend-chart canvas").first.wait_for(timeout=30_000)
    shot(page, server["dir"], "watch-page")
    section.locator("h3 a").click()
    page.wait_for_load_state()
    page.locator("#cluster-trend[data-ready='1'] canvas").first.wait_for(timeout=120_000)
    shot(page, server["dir"], "watch-cluster-trend")
    href = page.locator("#dossier-downloads a", has_text="Word").get_attribute("href")
    response = page.request.get(f"{server['base']}{href}", timeout=120_000)
    assert response.status == 200 and response.body()[:2] == b"PK"
