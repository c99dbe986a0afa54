# ruff: noqa: F811  (fixtures imported by name and used as test arguments)
"""The pages read on a phone (390 x 844, mobile emulation) and at a desk (1400 wide), and pass axe-core.

One server and one Chromium per module; each page is opened once per size, screenshotted to
test-artifacts/browser/sqlite/sizes/phone-*.png and desk-*.png, and checked: the document is no wider
than the viewport, no header item breaks inside a word, no text under 14 px, touch targets of at
least 44 x 44 CSS px on the phone, and no serious or critical axe-core violation (axe-core's JS comes
from the axe-playwright-python wheel: nothing is fetched at test time).
"""

from __future__ import annotations

import pytest
from browsing import (
    ARTIFACTS,
    NEEDS_CHROMIUM,
    add_accounts,
    browser,  # noqa: F401  (a fixture)
    database,  # noqa: F401  (a fixture: SQLite only)
    log_in_page,
    served,
)

pytestmark = NEEDS_CHROMIUM

SIZES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 1},
    "desk": {"viewport": {"width": 1400, "height": 900}},
}
# The pages of issue 18 (who opens them) ...
PAGES = {
    "public-list": (None, "/"),
    "cluster": (None, "/clusters/{cluster}"),
    "diagnosis": ("county_cs", "/enterprises/{firm}/diagnosis"),
    "application": ("province", "/applications/{application}"),
    "overview": ("province", "/overview"),
}
# ... and every other page, for the width, text-size and axe checks.
MORE_PAGES = {
    "login": (None, "/login"),
    "token": (None, "/account/token"),
    "applications": ("county_cs", "/applications"),
    "new-application": ("county_cs", "/applications/new"),
    "password": ("county_cs", "/account/password"),
    "targets": ("province", "/targets"),
    "discover": ("province", "/discover"),
    "whatif": ("province", "/whatif"),
    "enterprise": ("firm", "/enterprise"),
    "admin-users": ("sysadmin", "/admin/users"),
    "admin-roles": ("secadmin", "/admin/roles"),
    "admin-security": ("secadmin", "/admin/security"),
    "admin-audit": ("auditor", "/admin/audit"),
}
READY = {"overview": "#map[data-ready='1']", "targets": "#map[data-ready='1']",
         "discover": "#discover-map[data-ready='1']"}

# Characters around each line break of every visible header item whose break is not at a space.
HEADER_BREAKS_IN_WORDS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('header.top a, header.top button')) {
    if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const chars = [];
    while (walker.nextNode()) {
      const node = walker.currentNode;
      for (let i = 0; i < node.length; i++) {
        const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
        const box = r.getClientRects()[0];
        if (box) chars.push([node.data[i], Math.round(box.top)]);
      }
    }
    for (let i = 1; i < chars.length; i++) {
      const [a, top0] = chars[i - 1], [b, top1] = chars[i];
      if (Math.abs(top1 - top0) > 2 && a.trim() && b.trim()) out.push(el.textContent.trim() + ': ' + a + '|' + b);
    }
  }
  return out;
}"""
# Pairs of visible header items whose boxes overlap (a squeezed header draws one over the other).
HEADER_OVERLAPS = """() => {
  const items = [...document.querySelectorAll('header.top a, header.top button')]
    .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
    .map(el => {  // the box, widened to its text where the text overflows the box
      const r = document.createRange(); r.selectNodeContents(el);
      const a = el.getBoundingClientRect(), t = r.getBoundingClientRect();
      return [el.textContent.trim(), {left: Math.min(a.left, t.left), right: Math.max(a.right, t.right),
                                      top: Math.min(a.top, t.top), bottom: Math.max(a.bottom, t.bottom)}];
    });
  const out = [];
  for (let i = 0; i < items.length; i++)
    for (let j = i + 1; j < items.length; j++) {
      const [a, p] = items[i], [b, q] = items[j];
      if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1)
        out.push(a + ' / ' + b);
    }
  return out;
}"""
# Visible text set in a font under 14 CSS px.
SMALL_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.data.trim() || !el || el.closest('script, style')) continue;
    const cs = getComputedStyle(el);
    if (!el.getClientRects().length || cs.visibility === 'hidden') continue;
    const size = parseFloat(cs.fontSize);
    if (size < 14)
      out.push(el.tagName.toLowerCase() + '.' + el.className + ' ' + size + 'px: ' + node.data.trim().slice(0, 30));
  }
  return out;
}"""
# Visible controls smaller than 44 x 44 CSS px.
SMALL_TARGETS = """() => {
  const out = [];
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;
    if (r.width < 44 || r.height < 44)
      out.push(el.outerHTML.slice(0, 80) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height));
  }
  return out;
}"""


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):
    """The demo at a small scale with its workflow staged (public clusters, applications), one account
    per role used here, served by uvicorn on a free loopback port."""
    from sqlalchemy import select

    from smecluster.db import open_database, session_scope
    from smecluster.registry.models import Cluster, Enterprise, EnterpriseYear
    from smecluster.services.demo import build_demo, stage_demo
    from smecluster.web.app import WebSettings, create_app
    from smecluster.workflow.models import Application

    kind, url = database
    engine = open_database(url)
    build_demo(engine, scale=0.05)
    stage_demo(engine)
    users = {
        "county_cs": ("county_applicant", "320581", None),
        "province": ("province_admin", "320000", None),
        "sysadmin": ("system_admin", None, None),
        "secadmin": ("security_admin", None, None),
        "auditor": ("audit_admin", None, None),
    }
    with session_scope(engine) as s:
        firm = s.scalar(select(Enterprise.uscc).join(EnterpriseYear, EnterpriseYear.uscc == Enterprise.uscc)
                        .where(Enterprise.county_code == "320581").order_by(Enterprise.uscc).limit(1))
        users["firm"] = ("enterprise_user", None, firm)
        application = s.scalar(select(Application.id).where(Application.stage == "recognised")
                               .order_by(Application.id).limit(1))
        cluster = s.scalar(select(Application.cluster_id).where(Application.id == application))
        assert s.get(Cluster, cluster) is not None
    add_accounts(engine, {name: (role, region, name, uscc) for name, (role, region, uscc) in users.items()})
    app = create_app(url, settings=WebSettings(secure_cookies=False, evidence_dir=tmp_path_factory.mktemp("ev")))
    with served(app, timeout_graceful_shutdown=1) as base:
        yield {"base": base, "dir": ARTIFACTS / kind / "sizes",
               "ids": {"cluster": cluster, "firm": firm, "application": application}}


@pytest.fixture(scope="module")
def pages(browser, server):
    """One page per (size, account), logged in once and reused by the tests of the module."""
    opened: dict[tuple[str, str | None], object] = {}

    def get(size: str, who: str | None):
        if (size, who) not in opened:
            context = browser.new_context(locale="zh-CN", **SIZES[size])
            # a heavy page (the targets' tables) can take over Playwright's 30 s on a loaded 2-core machine
            context.set_default_navigation_timeout(90_000)
            page = context.new_page()
            if who:
                log_in_page(page, server["base"], who)
            opened[(size, who)] = page
        return opened[(size, who)]

    yield get
    for page in opened.values():
        page.context.close()


def _open(pages, server, size: str, name: str, table: dict):
    who, path = table[name]
    page = pages(size, who)
    response = page.goto(server["base"] + path.format(**server["ids"]))
    assert response.status == 200, (name, response.status)
    if name in READY:
        page.wait_for_selector(READY[name], timeout=15000)
    return page


def _shot(page, server, name: str) -> None:
    server["dir"].mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(server["dir"] / f"{name}.png"), full_page=True)


def _axe_serious(page, context: str | None = None) -> list[str]:
    """The serious and critical axe-core violations of the page (or of the part `context` selects), one
    line each with where they are."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context, options={"resultTypes": ["violations"]})
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def _check_layout(page, size: str) -> None:
    width = SIZES[size]["viewport"]["width"]
    # against the configured width: a mobile layout viewport grows to fit content that overflows it
    scroll = page.evaluate("() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert scroll <= width, f"the document is {scroll} px wide in a {width} px viewport"
    assert page.evaluate("() => window.innerWidth") == width
    assert page.evaluate(SMALL_TEXT) == []


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_and_passes_axe(pages, server, name, size):
    """Each page of issue 18 fits the width, keeps header words whole, text at 14 px or more, touch
    targets at 44 px on the phone (menu open too), and has no serious or critical axe-core violation."""
    page = _open(pages, server, size, name, PAGES)
    _shot(page, server, f"{size}-{name}")
    _check_layout(page, size)
    assert page.evaluate(HEADER_BREAKS_IN_WORDS) == [] and page.evaluate(HEADER_OVERLAPS) == []
    if size == "phone":
        assert page.evaluate(SMALL_TARGETS) == []
    assert _axe_serious(page) == []
    if size == "phone":
        page.click("#menu-button")
        page.wait_for_selector("#site-nav", state="visible")
        page.screenshot(path=str(server["dir"] / f"{size}-{name}-menu.png"))  # the first screen is enough
        assert page.evaluate(HEADER_BREAKS_IN_WORDS) == [] and page.evaluate(HEADER_OVERLAPS) == []
        assert page.evaluate(SMALL_TARGETS) == []
        _check_layout(page, size)
        assert _axe_serious(page, "header") == []


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name", list(MORE_PAGES))
def test_other_pages_fit_and_pass_axe(pages, server, name, size):
    """Every other page fits the width with text at 14 px or more and no serious or critical axe-core
    violation."""
    page = _open(pages, server, size, name, MORE_PAGES)
    _shot(page, server, f"{size}-{name}")
    _check_layout(page, size)
    assert page.evaluate(HEADER_BREAKS_IN_WORDS) == [] and page.evaluate(HEADER_OVERLAPS) == []
    if size == "phone":
        assert page.evaluate(SMALL_TARGETS) == []
    assert _axe_serious(page) == []


def test_phone_header_folds_into_a_menu_with_language_and_login(browser, server):
    """On the phone the header shows the brand and a menu button; the menu holds the language switch
    and the login link, each a 44 px target that works; at a desk the links show without a menu."""
    context = browser.new_context(locale="zh-CN", **SIZES["phone"])
    page = context.new_page()
    page.goto(server["base"] + "/")
    button = page.locator("#menu-button")
    assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert not page.locator("#login-link").is_visible() and not page.locator("a.lang").is_visible()
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    for selector in ("#login-link", "a.lang"):
        box = page.locator(selector).bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44 and box["x"] + box["width"] <= 390
    page.keyboard.press("Escape")
    assert not page.locator("#login-link").is_visible()
    button.click()
    page.click("a.lang")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.evaluate(HEADER_BREAKS_IN_WORDS) == []  # the English brand breaks only at spaces
    page.click("#menu-button")
    page.click("#login-link")
    page.wait_for_load_state()
    assert page.url.endswith("/login") and page.locator("#login-submit").is_visible()
    context.close()

    desk = browser.new_context(locale="zh-CN", **SIZES["desk"])
    page = desk.new_page()
    page.goto(server["base"] + "/")
    assert not page.locator("#menu-button").is_visible()
    assert page.locator("#login-link").is_visible() and page.locator("a.lang").is_visible()
    desk.close()


def test_criteria_table_is_stacked_cards_on_the_phone(pages, server):
    """On the phone each criterion is a card no wider than the screen whose cells carry their column's
    header as a label; at a desk the same table keeps its header row and columns."""
    path = "/clusters/{cluster}".format(**server["ids"])
    page = pages("phone", None)
    page.goto(server["base"] + path)
    table = page.locator("table.criteria")
    assert table.locator("thead").bounding_box()["height"] <= 1  # kept for screen readers only
    headers = table.locator("thead th").all_inner_texts()
    rows = page.evaluate("""() => [...document.querySelectorAll('table.criteria tbody tr')].map(tr => ({
        right: tr.getBoundingClientRect().right,
        cells: [...tr.cells].filter(td => !td.classList.contains('card-key') && td.textContent.trim())
               .map(td => [td.cellIndex, getComputedStyle(td, '::before').content])}))""")
    assert rows and all(r["right"] <= 390 for r in rows)
    assert all(content == f'"{headers[i]}"' for r in rows for i, content in r["cells"])
    page = pages("desk", None)
    page.goto(server["base"] + path)
    assert page.locator("table.criteria thead").is_visible()
    assert page.evaluate("() => getComputedStyle(document.querySelector('table.criteria tbody tr')).display") \
        == "table-row"


def test_diagnosis_summary_comes_first_on_the_phone(pages, server):
    """The diagnosis opens with its summary on the first screen: current tier, next tier and one sentence
    naming the next tier and the first criteria it lacks (those of the gap table below)."""
    page = pages("phone", "county_cs")
    page.goto(server["base"] + "/enterprises/{firm}/diagnosis".format(**server["ids"]))
    first = page.evaluate("() => document.querySelector('main h1').nextElementSibling.id")
    assert first == "diagnosis-summary"
    box = page.locator("#diagnosis-missing").bounding_box()
    assert box["y"] + box["height"] <= SIZES["phone"]["viewport"]["height"]
    sentence = page.locator("#diagnosis-missing").inner_text()
    next_tier = page.locator("#next-tier").inner_text().split()[0]
    gaps = page.locator("#diagnosis-gaps tr.gap").evaluate_all("rows => rows.map(r => r.dataset.criterion)")
    assert next_tier in sentence and gaps, (sentence, gaps)
    assert all(g in sentence for g in gaps[:3]) and all(g not in sentence for g in gaps[3:])


def test_overview_map_resizes_with_the_screen(browser, server):
    """The overview map fills the width at a desk and shrinks with the window to a phone's width."""
    context = browser.new_context(locale="zh-CN", **SIZES["desk"])
    page = context.new_page()
    log_in_page(page, server["base"], "province")
    page.goto(server["base"] + "/overview")
    page.wait_for_selector("#map[data-ready='1']", timeout=15000)
    width = "() => [document.querySelector('#map').clientWidth, document.querySelector('#map canvas').clientWidth]"
    box, canvas = page.evaluate(width)
    assert box > 1000 and canvas == box
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("() => document.querySelector('#map canvas').clientWidth <= 390")
    box, canvas = page.evaluate(width)
    assert canvas == box <= 390
    context.close()
