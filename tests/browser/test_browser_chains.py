# ruff: noqa: F811  (fixtures imported by name and used as test arguments)
"""The chain page in real headless Chromium: the graph coloured by coverage, the gap table with partners
and their map; the county page's growth options. Screenshots: test-artifacts/browser/<database>/chains-*.png.
"""

from __future__ import annotations

from browsing import (
    NEEDS_CHROMIUM,
    browser,  # noqa: F401  (a fixture)
    database,  # noqa: F401  (a fixture: SQLite only)
    log_in,
    shot,
)
from test_browser_whatif import server  # noqa: F401  (the fixture: the same small demo)

pytestmark = NEEDS_CHROMIUM


def _colour_pixels(page, selector: str, rgb: tuple[int, int, int]) -> int:
    """Pixels of the chart canvas within 30 of a colour in each channel (ECharts draws on a canvas)."""
    return page.evaluate("""([sel, rgb]) => {
        const c = document.querySelector(sel + ' canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            const near = (k) => Math.abs(d[i + k] - rgb[k]) < 30;
            if (near(0) && near(1) && near(2)) n++;
        }
        return n;
    }""", [selector, list(rgb)])


def test_liyang_chain_graph_gaps_and_partner_map(browser, server):  # noqa: F811
    """Province opens Liyang's battery chain: links drawn in the present, weak and missing colours as the
    table says; gaps listed with partners; the partner map drawn."""
    page = log_in(browser, server["base"], "province")
    page.goto(f"{server['base']}/chains?chain=power-battery&level=cluster&code=liyang-battery")
    page.wait_for_selector("#chain-graph[data-ready='1'] canvas")
    statuses = page.locator("#chain-links tbody tr").evaluate_all("rows => rows.map(r => r.dataset.status)")
    assert len(statuses) == 24 and {"present", "weak", "missing"} <= set(statuses)
    page.wait_for_timeout(800)  # the graph's entry animation
    for colour in ((0x2e, 0x7d, 0x32), (0xf9, 0xa8, 0x25), (0xc6, 0x28, 0x28)):
        assert _colour_pixels(page, "#chain-graph", colour) > 200, colour
    assert page.locator("#chain-gaps tbody tr").count() >= sum(s != "present" for s in statuses)
    page.wait_for_selector("#partner-map[data-ready='1'] canvas")
    shot(page, server["dir"], "chains-1-liyang")
    page.goto(f"{server['base']}/chains?chain=power-battery&level=province&code=32")
    page.wait_for_selector("#chain-graph[data-ready='1'] canvas")
    assert page.locator("#chain-gaps").count() == 0  # partners only for a cluster
    shot(page, server["dir"], "chains-2-province")


def test_county_page_growth_options(browser, server):  # noqa: F811
    """The county page lists industries the county could grow into."""
    page = log_in(browser, server["base"], "province")
    page.goto(f"{server['base']}/overview?region=320481")
    assert page.locator("#related-options tbody tr").count() > 0
    page.locator("#related").scroll_into_view_if_needed()
    shot(page, server["dir"], "chains-3-county")
