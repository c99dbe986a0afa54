"""What every browser test shares: Debian's Chromium, a served app on a free port, a logged-in page,
screenshots and canvas pixel counts. A module imports the `browser` fixture from here (a conftest.py
beside the tests would shadow tests/conftest.py, which web_fakes imports by name).

Chromium is the Debian package (/usr/bin/chromium) driven by Playwright with `executable_path`; no
browser is downloaded. Screenshots go to test-artifacts/browser/<database>/.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from web_fakes import PASSWORD  # every account these tests make

CHROMIUM = os.environ.get("SMECLUSTER_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

HAVE_CHROMIUM = bool(shutil.which(CHROMIUM)) or Path(CHROMIUM).exists()
if not HAVE_CHROMIUM and os.environ.get("SMECLUSTER_REQUIRE_CHROMIUM") == "1":
    raise RuntimeError(f"Chromium is required for the browser tests and was not found at {CHROMIUM}")
NEEDS_CHROMIUM = [pytest.mark.browser, pytest.mark.skipif(not HAVE_CHROMIUM, reason="no chromium")]


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright, one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """("sqlite", URL): a module's database, SQLite only (decisions 2306, 2310). What a browser test adds to
    the tests of the same pages through the web client (tests/test_web_*.py, run on SQLite and PostgreSQL;
    the whole review flow in test_web_workflow.py) is the browser's side: layout, scripts, charts,
    axe-core, none of which depends on the database. The national view (test_browser_national.py, whose
    web tests run on SQLite only) runs in the browser on both databases, with web_fakes' `database`."""
    return "sqlite", f"sqlite:///{tmp_path_factory.mktemp('db') / 'browser.db'}"


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(app, **config) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free loopback port; yields the base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def add_accounts(engine, accounts: dict[str, tuple]) -> None:
    """Make each account `username: (role, region_code, display_name[, uscc])` with PASSWORD."""
    from smecluster.accounts.users import add_user
    from smecluster.db import session_scope

    with session_scope(engine) as s:
        for username, (role, region, display, *uscc) in accounts.items():
            add_user(s, username, PASSWORD, role, region_code=region, display_name=display,
                     uscc=uscc[0] if uscc else None)


def log_in_page(page, base: str, username: str) -> None:
    """Log `page` in as `username` through the login form; fails the test if the login is refused."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"login failed for {username}"


def log_in(browser, base: str, username: str, timeout_ms: int | None = None, **context):
    """A new desk-sized (1280 x 900, zh-CN) browser context logged in as `username`; its page."""
    options = {"locale": "zh-CN", "viewport": {"width": 1280, "height": 900}} | context
    page = browser.new_context(**options).new_page()
    if timeout_ms:
        page.set_default_timeout(timeout_ms)
    log_in_page(page, base, username)
    return page


def shot(page, folder: Path, name: str) -> None:
    """Save a full-page screenshot `folder/name.png` as a test artifact."""
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def painted(page, selector: str) -> int:
    """Coloured (not white, not transparent) pixels in the canvas under `selector` (ECharts draws on one)."""
    return page.evaluate("""(sel) => {
        const c = document.querySelector(sel + ' canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 0 && !(d[i] > 240 && d[i + 1] > 240 && d[i + 2] > 240)) n++;
        }
        return n;
    }""", selector)
