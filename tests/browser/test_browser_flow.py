# ruff: noqa: F811  (fixtures imported by name and used as test arguments)
"""The whole application flow of issue 5 in real headless Chromium, with a screenshot of each step.

Chromium is the Debian package (/usr/bin/chromium) driven by Playwright with `executable_path`;
no browser is downloaded. Screenshots go to test-artifacts/browser/<database>/.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from browsing import (
    ARTIFACTS,
    NEEDS_CHROMIUM,
    add_accounts,
    browser,  # noqa: F401  (a fixture)
    database,  # noqa: F401  (a fixture: SQLite only, decision 2310)
    log_in,
    served,
)
from browsing import shot as _shot
from web_fakes import PDF

pytestmark = NEEDS_CHROMIUM


class Clock:
    """The server's today(), moved forward by the test to end the public notice."""

    def __init__(self) -> None:
        self.day = date.today()

    def __call__(self) -> date:
        return self.day


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):  # noqa: F811  (the imported fixture)
    """A small demo database with one account per role, served by uvicorn on a free loopback port."""
    from sqlalchemy import select

    from smecluster.db import open_database, session_scope
    from smecluster.registry.models import Enterprise
    from smecluster.services.demo import build_demo, stage_demo
    from smecluster.web.app import WebSettings, create_app

    tmp = tmp_path_factory.mktemp("browser")
    kind, url = database
    engine = open_database(url)
    build_demo(engine, scale=0.2)
    stage_demo(engine)  # national clusters recognised (public), near misses submitted applications
    users = {
        "county_cs": ("county_applicant", "320581", "常熟市工信局"),
        "city_sz": ("city_reviewer", "320500", "苏州市工信局"),
        "province": ("province_admin", "320000", "江苏省工信厅"),
        "expert1": ("expert", "320000", "评审专家甲"),
        "county_ts": ("county_applicant", "320312", "铜山区工信局"),
    }
    add_accounts(engine, users)
    with session_scope(engine) as s:
        rows = s.execute(select(Enterprise.uscc, Enterprise.industry_code).where(Enterprise.county_code == "320581")
                         .limit(3)).all()
    members, industry = [r[0] for r in rows], rows[0][1]
    clock = Clock()
    settings = WebSettings(secure_cookies=True, evidence_dir=tmp / "evidence", today=clock)
    app = create_app(url, settings=settings)
    SHOTS["dir"] = ARTIFACTS / kind
    with served(app) as base:
        yield {"base": base, "clock": clock, "members": members, "industry": industry, "tmp": tmp, "db": kind}


SHOTS = {"dir": ARTIFACTS}


def shot(page, name: str) -> None:
    """Save a full-page screenshot as a test artifact (one folder per database)."""
    _shot(page, SHOTS["dir"], name)


def act(page, action: str, comment: str = "") -> None:
    """Press an action button on the application page, with a comment."""
    form = page.locator(f"form[data-action={action}]")
    if comment:
        form.locator("textarea[name=comment]").fill(comment)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_public_list_and_cluster_page(browser, server):
    """The public list shows the recognised demo clusters (only public stages); a cluster page shows its
    criteria, in zh and en."""
    page = browser.new_page()
    page.goto(server["base"] + "/")
    assert page.locator("tr[data-cluster]").count() == 5
    assert page.locator("tr[data-cluster] a", has_text="邳州市").count() == 0  # a submitted near miss
    shot(page, "00-public-list-zh")
    page.locator("tr[data-cluster] a", has_text="常熟市").first.click()
    page.wait_for_load_state()
    assert page.locator("tr[data-criterion=J7]").count() == 1
    shot(page, "01-cluster-page-zh")
    page.click("a.lang")
    page.wait_for_load_state()
    assert "Gap to recognition" in page.content()
    shot(page, "02-cluster-page-en")
    page.close()


def test_whole_flow(browser, server):
    """County creates and submits with an attachment, city recommends, expert scores, province recognises;
    a second county cannot see the application."""
    base = server["base"]
    county = log_in(browser, base, "county_cs")
    shot(county, "10-county-logged-in")
    county.click("#new-application")
    county.fill("input[name=name]", "常熟市高端装备测试集群")
    county.fill("input[name=leading_industries]", server["industry"])
    county.fill("textarea[name=members]", "\n".join(server["members"]))
    shot(county, "11-county-new-application")
    county.click("#create-application")
    county.wait_for_load_state()
    assert "/applications/" in county.url, county.content()[:2000]
    app_url = county.url
    evidence = server["tmp"] / "申报材料.pdf"
    evidence.write_bytes(PDF)
    county.set_input_files("#evidence-file", str(evidence))
    county.click("#upload-evidence")
    county.wait_for_load_state()
    assert "申报材料.pdf" in county.locator("#evidence").inner_text()
    act(county, "submit", "请审核")
    assert "已申报" in county.locator("#stage").inner_text()
    shot(county, "12-county-submitted")

    city = log_in(browser, base, "city_sz")
    city.goto(app_url)
    colleague = city.context.new_page()  # a second tab on the same version of the application
    colleague.goto(app_url)
    act(city, "recommend", "同意推荐")
    assert "市级已推荐" in city.locator("#stage").inner_text()
    shot(city, "20-city-recommended")
    act(colleague, "return", "请补充上云证明")
    assert colleague.locator("#conflict").is_visible()
    assert colleague.locator("form[data-action=return] textarea").input_value() == "请补充上云证明"
    shot(colleague, "21-city-conflict-comment-kept")

    province = log_in(browser, base, "province")
    province.goto(app_url)
    act(province, "start_review")
    province.select_option("#expert-select", "expert1")
    province.click("#assign-expert")
    province.wait_for_load_state()
    shot(province, "30-province-review-expert-assigned")

    expert = log_in(browser, base, "expert1")
    expert.goto(app_url)
    expert.fill("input[name=score]", "88")
    expert.click("#submit-score")
    expert.wait_for_load_state()
    shot(expert, "40-expert-scored")

    province.goto(app_url)
    assert "88" in province.content()
    act(province, "publish_notice")
    assert "公示中" in province.locator("#stage").inner_text()
    shot(province, "50-province-public-notice")
    server["clock"].day += timedelta(days=10)
    province.goto(app_url)
    act(province, "recognise", "认定通过")
    assert "已认定" in province.locator("#stage").inner_text()
    shot(province, "60-province-recognised")

    province.goto(base + "/overview")
    province.wait_for_selector("#map[data-ready='1']", timeout=15000)
    shot(province, "70-province-overview-map")

    other = log_in(browser, base, "county_ts")
    response = other.goto(app_url)
    assert response.status == 404
    other.goto(base + "/applications")
    assert "常熟市高端装备测试集群" not in other.content()
    shot(other, "80-second-county-cannot-see")


def test_targets_discovery_and_diagnosis_pages(browser, server):
    """The province's targets and discovery maps draw, and a county opens a member firm's free diagnosis."""
    base = server["base"]
    province = log_in(browser, base, "province")
    province.goto(base + "/targets")
    province.wait_for_selector("#map[data-ready='1']", timeout=15000)
    assert province.locator("#target-charts canvas").count() >= 1
    shot(province, "90-province-targets")
    province.goto(base + "/discover")
    province.wait_for_selector("#discover-map[data-ready='1']", timeout=15000)
    assert province.locator("tr[data-candidate]").count() >= 1
    shot(province, "91-province-discovery-map")
    county = log_in(browser, base, "county_cs")
    county.goto(f"{base}/enterprises/{server['members'][0]}/diagnosis")
    assert county.locator("#diagnosis-summary").is_visible()
    shot(county, "92-county-free-diagnosis")
