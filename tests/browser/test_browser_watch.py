"""The re-review watch page and a cluster's trend chart in real headless Chromium, with screenshots in
test-artifacts/browser/<database>/watch-*.png (as test_browser_flow.py)."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_browser_flow import ARGS, ARTIFACTS, CHROMIUM, HAVE_CHROMIUM, _free_port  # noqa: E402
from web_fakes import PASSWORD, database  # noqa: E402, F401  (database: a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not HAVE_CHROMIUM, reason="no chromium")]
TONGSHAN = "徐州市铜山区安全应急产业集群"  # the demo's recognised cluster whose cloud adoption falls


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):  # noqa: F811  (the imported fixture)
    """A small demo with the national clusters recognised through the workflow, and a provincial account."""
    import uvicorn

    from smecluster.accounts.users import add_user
    from smecluster.db import open_database, session_scope
    from smecluster.services.demo import build_demo, stage_demo
    from smecluster.web.app import WebSettings, create_app

    kind, url = database
    engine = open_database(url)
    build_demo(engine, scale=0.05)
    stage_demo(engine)
    with session_scope(engine) as s:
        add_user(s, "province_w", PASSWORD, "province_admin", region_code="320000", display_name="江苏省工信厅")
    app = create_app(url, settings=WebSettings(secure_cookies=False, evidence_dir=tmp_path_factory.mktemp("ev")))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield {"base": f"http://127.0.0.1:{port}", "dir": ARTIFACTS / kind}
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _page(browser, base: str):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "province_w")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state()
    assert "/login" not in page.url
    return page


def test_watch_page_and_cluster_trend(server, browser):
    """The watch page shows Tongshan at risk with its chart drawn; its cluster page draws the trend and
    offers the dossier, which downloads as a Word file."""
    page = _page(browser, server["base"])
    page.goto(f"{server['base']}/watch", timeout=120_000)
    section = page.locator("section.at-risk", has_text=TONGSHAN)
    assert section.count() == 1
    assert section.locator("tr[data-criterion=J7]").count() == 1
    section.locator(".trend-chart canvas").first.wait_for(timeout=30_000)
    server["dir"].mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(server["dir"] / "watch-page.png"), full_page=True)
    section.locator("h3 a").click()
    page.wait_for_load_state()
    page.locator("#cluster-trend[data-ready='1'] canvas").first.wait_for(timeout=120_000)
    page.screenshot(path=str(server["dir"] / "watch-cluster-trend.png"), full_page=True)
    href = page.locator("#dossier-downloads a", has_text="Word").get_attribute("href")
    response = page.request.get(f"{server['base']}{href}", timeout=120_000)
    assert response.status == 200 and response.body()[:2] == b"PK"
