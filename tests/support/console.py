"""Helpers of the console tests and the screenshot script: Debian's Chromium and how it is
launched, a console client over ``requests``, and a login as a person does it."""

from __future__ import annotations

import re
from pathlib import Path

import requests

from tests.support.collect import HTTP_TIMEOUT
from tests.support.seed import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
# Playwright launches Debian's Chromium by path (it never downloads a browser here), offline.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Console:
    """The console as one browser sees it, over real HTTP, without a browser."""

    def __init__(self, live_server: str):
        self.base = f"{live_server}/console"
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(f"{self.base}{path}", timeout=HTTP_TIMEOUT, **kwargs)

    def post(self, path: str, data: dict | None = None, *, token: bool = True,
             **kwargs) -> requests.Response:
        """POST a form; with the CSRF token of a page of this session unless ``token=False``."""
        data = dict(data or {})
        if token:
            data["csrf_token"] = csrf_token(self.get("/login").text)
        return self.http.post(f"{self.base}{path}", data=data, timeout=HTTP_TIMEOUT,
                              allow_redirects=False, **kwargs)

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        return self.post("/login", {"username": username, "password": password})


def log_in(page, live_server: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the login page, as a person would."""
    page.goto(f"{live_server}/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def follow(page, control) -> None:
    """Click a link or a form's button and wait for the page it loads. Playwright's click does
    not wait for the navigation it starts: a read right after it (``count()``, ``is_visible()``,
    a request to the server) may see the page before, or the next one half parsed."""
    with page.expect_event("load"):
        control.click()
