"""Fixtures of the console tests: the app over plain HTTP (so the session cookie is not
``Secure``-only), a console client over ``requests``, and headless Chromium (Debian's package,
driven by Playwright for Python through ``executable_path``; Playwright never downloads a
browser here).

Browser tests run on SQLite alone: the pages' SQL is the services', tested on both databases.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.console import CHROMIUM, CHROMIUM_ARGS, DESKTOP, Console


@pytest.fixture(params=["sqlite"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def console_config() -> dict:
    """Settings of one test (override with ``@pytest.mark.parametrize("console_config", …)``)."""
    return {}


@pytest.fixture
def app_config(app_config, console_config) -> dict:
    return {**app_config, "SECRET_KEY": "console-tests", "SESSION_COOKIE_SECURE": False,
            **console_config}


@pytest.fixture
def console(live_server) -> Console:
    return Console(live_server)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the module's tests (starting it takes a second or two)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: `make system-deps` installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium; `make system-deps`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh browser profile (no cookies) at 1366×768, Chinese first."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
