# ruff: noqa: F811  (fixtures imported by name and used as test arguments)
"""The national view in real headless Chromium: the ministry's map of China coloured by province, the
province table and a province's recommendation under the national pack; a province account sees its own
province only. Screenshots: test-artifacts/browser/<database>/national-*.png.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from browsing import (
    ARTIFACTS,
    NEEDS_CHROMIUM,
    add_accounts,
    browser,  # noqa: F401  (a fixture)
    log_in,
    served,
    shot,
)
from web_fakes import database  # noqa: F401  (a fixture)

pytestmark = NEEDS_CHROMIUM


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):  # noqa: F811  (the imported fixture)
    """The small Jiangsu demo in the database (with a confirmed recommendation of its national clusters),
    the national demo's Parquet registry for the province counts, a ministry and a provincial account."""
    from sqlalchemy import select

    from smecluster.db import open_database, session_scope
    from smecluster.demo.national import write_national
    from smecluster.registry.models import Cluster
    from smecluster.services.demo import build_demo
    from smecluster.web.app import WebSettings, create_app
    from smecluster.workflow.recommendations import NationalRecommendation

    kind, url = database
    engine = open_database(url)
    build_demo(engine, scale=0.05)
    parquet = tmp_path_factory.mktemp("national") / "registry"
    write_national(parquet, 6000)
    add_accounts(engine, {"ministry": ("ministry", None, "工业和信息化部"),
                          "province": ("province_admin", "320000", "江苏省工信厅")})
    with session_scope(engine) as s:
        listed = s.execute(select(Cluster.id, Cluster.code, Cluster.name).where(Cluster.code.in_(
            ["changshu-fluorine", "liyang-battery", "tongshan-safety"])).order_by(Cluster.code)).all()
        s.add(NationalRecommendation(
            province_code="32", year=2026, priority_pack="jiangsu-priority-2023", national_pack="miit-cluster-2022",
            quota=3, stage="confirmed", version=1, confirmed_at=datetime(2026, 3, 2, 10, 0),
            clusters=[{"id": i, "code": c, "name": n, "score": 0.9 - 0.1 * k, "rank": k + 1}
                      for k, (i, c, n) in enumerate(listed)]))
    app = create_app(url, settings=WebSettings(secure_cookies=False, evidence_dir=tmp_path_factory.mktemp("ev"),
                                               national_parquet=parquet))
    with served(app) as base:
        yield {"base": base, "dir": ARTIFACTS / kind}


def _blue_pixels(page) -> int:
    """Pixels of the map canvas in the dark end of the scale (#1f4e79), right of the scale bar."""
    return page.evaluate("""() => {
        const c = document.querySelector('#national-map canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const skip = 100 * window.devicePixelRatio;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if ((i / 4) % c.width < skip) continue;
            if (d[i] < 90 && d[i + 1] < 120 && d[i + 2] > 90 && d[i + 2] < 160) n++;
        }
        return n;
    }""")


def test_ministry_map_table_and_a_province(browser, server):
    """The ministry: 31 provinces in the table, the map of China painted; changing the measure redraws;
    Jiangsu's recommendation lists its three clusters with their national verdicts."""
    page = log_in(browser, server["base"], "ministry")
    page.goto(f"{server['base']}/national")
    page.wait_for_selector("#national-map[data-ready='1'] canvas")
    assert page.locator("#national-table tbody tr").count() == 31
    # Jiangsu's confirmed list: three clusters, two meeting the national pack (Liyang fails N4)
    assert "2 个符合 miit-cluster-2022" in page.locator("#national-table tr[data-province='32']").inner_text()
    page.wait_for_timeout(600)  # the map's entry animation
    assert _blue_pixels(page) > 50
    shot(page, server["dir"], "national-1-ministry")
    page.select_option("#national-measure", "firms")
    page.wait_for_timeout(400)
    assert _blue_pixels(page) > 50
    page.click("#national-table tr[data-province='32'] a")
    page.wait_for_load_state()
    assert page.url.endswith("/national/provinces/32")
    rows = page.locator("#national-recommendation tbody tr")
    assert rows.count() == 3
    assert page.locator("#national-recommendation .badge").count() == 3
    shot(page, server["dir"], "national-2-jiangsu")


def test_province_sees_its_own_only(browser, server):
    """Jiangsu's department: one row, no other province in the table; another province's page refused."""
    page = log_in(browser, server["base"], "province")
    page.goto(f"{server['base']}/national")
    page.wait_for_selector("#national-map[data-ready='1'] canvas")
    assert page.locator("#national-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.province)") == ["32"]
    shot(page, server["dir"], "national-3-province")
    response = page.goto(f"{server['base']}/national/provinces/44")
    assert response.status == 403
