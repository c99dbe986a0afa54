# ruff: noqa: F811  (fixtures imported by name and used as test arguments)
"""The what-if page in real headless Chromium: pick a pack, change a threshold, run, see the chart; save.

Screenshots go to test-artifacts/browser/<database>/whatif-*.png (as test_browser_flow.py).
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
    served,
    shot,
)

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):  # noqa: F811  (the imported fixture)
    """A small demo database with a provincial and a county account, served on a free loopback port."""
    from smecluster.db import open_database
    from smecluster.services.demo import build_demo
    from smecluster.web.app import WebSettings, create_app

    kind, url = database
    engine = open_database(url)
    build_demo(engine, scale=0.05)
    add_accounts(engine, {"province": ("province_admin", "320000", "江苏省工信厅"),
                          "county_cs": ("county_applicant", "320581", "常熟市工信局")})
    app = create_app(url, settings=WebSettings(secure_cookies=False, evidence_dir=tmp_path_factory.mktemp("ev")))
    with served(app) as base:
        yield {"base": base, "dir": ARTIFACTS / kind}


def _assert_map_painted(page) -> None:
    """The map canvas holds the loss colour (#c62828 end of the scale) right of the scale bar (whose own
    gradient sits at the left edge): a county with a lost cluster is drawn."""
    reds = page.evaluate("""() => {
        const c = document.querySelector('#whatif-map canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const skip = 100 * window.devicePixelRatio;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if ((i / 4) % c.width < skip) continue;
            if (d[i] > 150 && d[i + 1] < 90 && d[i + 2] < 90) n++;
        }
        return n;
    }""")
    assert reds > 50, reds


def test_province_runs_a_reform_sees_the_chart_and_saves(browser, server):
    """Province: choose the provincial pack, set J5 to 10, run: four clusters lost, the bar chart drawn;
    save it under a name and open it again from the list."""
    page = log_in(browser, server["base"], "province")
    page.goto(f"{server['base']}/whatif")
    page.select_option("#pick-pack select[name=pack]", "jiangsu-cluster-2023")
    page.click("#pick-pack button")
    page.wait_for_load_state()
    shot(page, server["dir"], "whatif-1-form")
    page.fill("input[name=th_J5]", "10")
    page.click("#run")
    page.wait_for_load_state()
    assert page.locator("#whatif-clusters tr.lost").count() == 4
    page.wait_for_selector("#whatif-chart canvas")  # ECharts drew the bars by city
    page.wait_for_selector("#whatif-map[data-ready='1'] canvas")  # and the county map of gained - lost
    box = page.locator("#whatif-map canvas").first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    _assert_map_painted(page)
    shot(page, server["dir"], "whatif-2-result")
    page.fill("#save-form input[name=name]", "十个省级平台")
    page.click("#save-form button")
    page.wait_for_load_state()
    assert "scenario=" in page.url and page.locator("#saved a", has_text="十个省级平台").count() == 1
    assert page.locator("#whatif-clusters tr.lost").count() == 4
    shot(page, server["dir"], "whatif-3-saved")


def test_county_sees_its_own_cluster_only(browser, server):
    """Changshu's account runs the same reform and sees its one cluster, with no save form."""
    page = log_in(browser, server["base"], "county_cs")
    page.goto(f"{server['base']}/whatif?pack=jiangsu-cluster-2023&th_J5=10")
    assert page.locator("#whatif-clusters tbody tr").count() == 1
    assert page.locator("#save-form").count() == 0
    page.wait_for_selector("#whatif-map[data-ready='1'] canvas")
    _assert_map_painted(page)
    shot(page, server["dir"], "whatif-4-county")
