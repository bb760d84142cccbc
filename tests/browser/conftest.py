"""Browser tests: Playwright driving Debian's chromium (apt-get install chromium) against live_server.

`playwright install` cannot download browsers here, so the system chromium is used. Without it the
tests are skipped on a developer's machine and fail in CI (CI=true), like the other external services.
"""

import os
from pathlib import Path

import pytest

from tests.conftest import missing_in_ci

# Playwright's sync API runs an asyncio event loop in the test thread; Django's async-safety check would
# then refuse the ORM calls the tests make to set up data.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", "/tmp"))


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        missing_in_ci(f"browser tests need {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser profile on the live server, as a browser set to Ukrainian."""
    context = browser.new_context(
        base_url=live_server.url, locale="uk-UA", viewport={"width": 1280, "height": 860}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    def take(name: str) -> Path:
        path = SCREENSHOTS / f"ehealth-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
