# ruff: noqa: F811  (fixtures imported from test_browser_phone and used by name)
"""Issue 15 in the browser (phone 390 x 844 and desk 1400 wide): the overview's long tables paged (the
phone page no longer ~21,000 px of cards), sort and filter by the form without JavaScript, the cluster
page's footprint map drawn, no serious or critical axe-core violation. Screenshots go to
test-artifacts/browser/sqlite/polish/."""

from __future__ import annotations

import pytest
from browsing import (
    NEEDS_CHROMIUM,
    browser,  # noqa: F401  (a fixture)
    log_in_page,
)
from test_browser_phone import SIZES, _axe_serious, _check_layout, database, pages, server  # noqa: F401

pytestmark = NEEDS_CHROMIUM
FIRMS = "#counties-table tbody tr td:nth-child(4)"  # the enterprises column


def _shot(page, server, name: str) -> None:
    folder = server["dir"].parent / "polish"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_overview_on_a_phone_is_paged(pages, server):
    """The province overview on a phone: 20 county cards and a pager, the whole page under 9,000 px
    (it was ~21,000 px with the 95 counties), the page fits the width, axe finds nothing serious."""
    page = pages("phone", "province")
    assert page.goto(server["base"] + "/overview").status == 200
    page.wait_for_selector("#map[data-ready='1']", timeout=15000)
    assert page.locator("#counties-table tbody tr").count() == 20
    assert page.locator("nav.pager[data-table='counties'] a[rel=next]").is_visible()
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height < 9000, height
    _check_layout(page, "phone")
    _shot(page, server, "phone-overview")
    assert _axe_serious(page) == []


@pytest.mark.parametrize("scripts", [True, False])
def test_sort_and_filter_by_the_form(browser, server, scripts):
    """With or without JavaScript, the phone's form sorts the counties by enterprises (descending) and
    filters them by name; the next page link moves on and keeps the order."""
    context = browser.new_context(locale="zh-CN", java_script_enabled=scripts, **SIZES["phone"])
    page = context.new_page()
    log_in_page(page, server["base"], "province")
    page.goto(server["base"] + "/overview")
    form = page.locator("form.table-controls[data-table='counties']")
    form.locator("select[name=counties_sort]").select_option("enterprises")
    form.locator("select[name=counties_order]").select_option("desc")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "counties_sort=enterprises" in page.url and "counties_order=desc" in page.url
    firms = [int(t.replace(",", "")) for t in page.locator(FIRMS).all_inner_texts()]
    assert len(firms) == 20 and firms == sorted(firms, reverse=True)
    page.locator("nav.pager[data-table='counties'] a[rel=next]").click()
    page.wait_for_load_state()
    more = [int(t.replace(",", "")) for t in page.locator(FIRMS).all_inner_texts()]
    assert more and max(more) <= min(firms)
    form = page.locator("form.table-controls[data-table='counties']")
    form.locator("input[name=counties_q]").fill("昆山")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#counties-table tbody tr").count() == 1
    _shot(page, server, f"phone-overview-filtered-{'js' if scripts else 'nojs'}")
    context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_cluster_page_draws_its_footprint(pages, server, size):
    """The cluster page's map draws the county with the footprint over it (and the members for the
    province); the page fits and passes axe."""
    page = pages(size, "province")
    assert page.goto(server["base"] + f"/clusters/{server['ids']['cluster']}").status == 200
    page.wait_for_selector("#cluster-map[data-ready='1']", timeout=15000)
    drawn = page.evaluate("() => { const c = echarts.getInstanceByDom(document.getElementById('cluster-map'));"
                          " const o = c.getOption(); return [o.series[0].data.length, o.series[1].data.length]; }")
    assert drawn[0] >= 1 and drawn[1] >= 1, drawn
    _check_layout(page, size)
    _shot(page, server, f"{size}-cluster-map")
    assert _axe_serious(page) == []
