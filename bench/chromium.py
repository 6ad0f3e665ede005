"""Headless Chromium for the browser benchmarks: Debian's /usr/bin/chromium through Playwright for
Python (never ``playwright install``), signed in through the portal's own login form."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.helpers.chromium import ARGS, CHROMIUM

from .stack import PASSWORD, USER, Stack


def unavailable() -> str | None:
    """Why the browser cannot be used here, or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None


@asynccontextmanager
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


async def signed_in_page(chromium: Any, stack: Stack, *, init_script: str | None = None) -> Any:
    """A new context (1280×900) and page, signed in as the benchmark user through /accounts/login/."""
    context = await chromium.new_context(viewport={"width": 1280, "height": 900}, base_url=stack.base)
    context.set_default_timeout(60_000)
    if init_script:
        await context.add_init_script(script=init_script)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.bench_errors = errors  # read by the benchmarks, which report JavaScript errors with their figures
    await page.goto("/accounts/login/")
    await page.fill("#id_username", USER)
    await page.fill("#id_password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(lambda url: "/accounts/login" not in url)
    return page


async def clock_offset(page: Any, rounds: int = 25) -> float:
    """The page's epoch clock (``performance.timeOrigin + performance.now()``, ms) minus this process's
    (``time.time()``), from the round trip with the smallest delay: subtract it from page times."""
    best: tuple[float, float] | None = None
    for _ in range(rounds):
        t0 = time.time() * 1000
        at = await page.evaluate("performance.timeOrigin + performance.now()")
        t1 = time.time() * 1000
        if best is None or t1 - t0 < best[0]:
            best = (t1 - t0, at - (t0 + t1) / 2)
    assert best is not None
    return best[1]


def stage_output(stage_id: str) -> str:
    """The ARCHITECTURE.md test hook of a stage's raw output."""
    return f'[data-testid="stage-card"][data-stage-id="{stage_id}"] [data-testid="stage-output"]'
