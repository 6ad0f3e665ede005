"""Browser tests in real Chromium (Debian's, through Playwright for Python) against the live stack.

Never ``playwright install``: the system chromium is the browser. Screenshots go to docs/screenshots/
when STAGECAST_UPDATE_SCREENSHOTS=1, else to a temporary directory (they are still made, so the code
that makes them is exercised)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.chromium import ARGS, CHROMIUM
from tests.helpers.stack import Stack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def browser() -> Iterator[Any]:
    """A Chromium per test, gone when the test ends: Playwright's sync API keeps an asyncio loop running
    in the test thread while it lives, and pytest-django reorders tests by database use, so async tests
    of other packages run between these and could not share that loop."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # With that loop running, Django would refuse the tests' own ORM calls (fixtures, assertions) as
    # "async unsafe"; they are plain sync calls in the test thread.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("STAGECAST_UPDATE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path_factory.mktemp("screenshots")


def sign_in(page: Any, stack: Stack, name: str = "alice") -> None:
    page.goto(f"{base_url(stack)}/accounts/login/")
    page.fill("#id_username", name)
    page.fill("#id_password", f"{name}-password-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url(stack)}/")


def base_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.web_port}"


@pytest.fixture
def page(browser: Any, live: Stack) -> Iterator[Any]:
    """A fresh browser context, signed in as alice, 1280×900."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url(live))
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
