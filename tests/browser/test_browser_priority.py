"""The priority and recommendation pages in real headless Chromium: radars and rank intervals drawn,
the province confirms the recommendation, a county sees its own cluster only.

Screenshots go to test-artifacts/browser/<database>/priority-*.png (as test_browser_flow.py).
"""

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


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):  # noqa: F811  (the imported fixture)
    """A small demo with the national clusters recognised, a provincial and a county account, served."""
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
        add_user(s, "province", PASSWORD, "province_admin", region_code="320000", display_name="江苏省工信厅")
        add_user(s, "county_cs", PASSWORD, "county_applicant", region_code="320581", display_name="常熟市工信局")
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


def _page(browser, base: str, username: str):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(120_000)  # the first ranking computes 10,000 weight draws on a shared machine
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"login failed for {username}"
    return page


def _shot(page, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _painted(page, selector: str) -> int:
    """Coloured (not white, not transparent) pixels in the canvas under `selector`."""
    return page.evaluate("""(sel) => {
        const c = document.querySelector(sel + ' canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 0 && !(d[i] > 240 && d[i + 1] > 240 && d[i + 2] > 240)) n++;
        }
        return n;
    }""", selector)


def test_province_sees_ranking_radars_and_rank_intervals(browser, server):
    """Five ranked rows, five radars and the interval chart drawn, the weights and the swap shown."""
    page = _page(browser, server["base"], "province")
    page.goto(f"{server['base']}/priority")
    assert page.locator("#priority-table tbody tr").count() == 5
    page.wait_for_selector("#radars .radar canvas")
    assert page.locator("#radars .radar").count() == 5
    page.wait_for_selector("#intervals canvas")
    assert _painted(page, "#radars .radar") > 500
    assert _painted(page, "#intervals") > 500
    assert page.locator("#indicator-weights tbody tr").count() == 22
    assert page.locator("#swap").count() == 1
    _shot(page, server["dir"], "priority-1-province")


def test_province_confirms_the_recommendation(browser, server):
    """The list shows the national gap of the Yuhuatai cluster; confirming records who confirmed it."""
    page = _page(browser, server["base"], "province")
    page.goto(f"{server['base']}/recommendation")
    row = page.locator("#recommendation-table tr", has_text="南京市雨花台区")
    assert "N10" in row.inner_text()
    assert page.locator("#confirmed").inner_text() == "尚未确认。"
    _shot(page, server["dir"], "priority-2-recommendation")
    page.click("#confirm-form button")
    page.wait_for_load_state()
    assert "已由 province 于" in page.locator("#confirmed").inner_text()
    _shot(page, server["dir"], "priority-3-confirmed")


def test_county_sees_its_own_cluster_only(browser, server):
    """Changshu's bureau sees one row (its cluster, at its province-wide rank) and no recommendation link."""
    page = _page(browser, server["base"], "county_cs")
    page.goto(f"{server['base']}/priority")
    assert page.locator("#priority-table tbody tr").count() == 1
    assert "常熟市电子氟材料产业集群" in page.locator("#priority-table tbody").inner_text()
    assert page.locator("a[href='/recommendation']").count() == 0
    page.wait_for_selector("#radars .radar canvas")
    _shot(page, server["dir"], "priority-4-county")
