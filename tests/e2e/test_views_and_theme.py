"""The rendered views, the dark theme and a phone-sized screen, as a person sees them."""

from __future__ import annotations

from tests.e2e.pages import open_run, output_text, wait_status
from tests.helpers.fake_script import Script

MARKDOWN = [
    "# Release notes\n\n",
    "- faster **streaming**\n",
    "- a `cancel` button\n\n",
    "<script>window.__pwned=1</script>\n",
]
ANSI = ["\x1b[1;34mPlan\x1b[0m: ready\n", "\x1b[32m✔ tests passed\x1b[0m (12)\n", "\x1b[31m✘ lint failed\x1b[0m\n"]


def test_markdown_view_renders_on_the_server_and_raw_stays_exact(page, live, screenshot_dir):
    live.fake.name_script("markdown", Script(deltas=MARKDOWN, interval_ms=300))
    open_run(page, live, "[fake:markdown]")
    page.wait_for_selector("[data-stage-id=first][data-status=running]")
    page.click("[data-stage-id=first] [data-view=markdown]")
    wait_status(page, "success")
    view = page.locator("[data-stage-id=first] .view-markdown")
    view.locator("h1").wait_for()
    page.wait_for_function("document.querySelector('#view-first-markdown-tail').dataset.final === '1'")
    assert view.locator("h1").text_content() == "Release notes"
    assert view.locator("li strong").text_content() == "streaming"
    assert view.locator("li code").text_content() == "cancel"
    assert view.locator("script").count() == 0 and page.evaluate("window.__pwned") is None
    assert output_text(page) == "".join(MARKDOWN)  # the raw text is still there, exact
    assert page.get_attribute("[data-stage-id=first] [data-view=markdown]", "aria-pressed") == "true"


def test_terminal_view_shows_ansi_colours(page, live, screenshot_dir):
    live.fake.name_script("ansi", Script(deltas=ANSI, interval_ms=100))
    open_run(page, live, "[fake:ansi]")
    wait_status(page, "success")
    page.click("[data-stage-id=first] [data-view=terminal]")
    page.wait_for_function("document.querySelector('#view-first-terminal-tail').dataset.final === '1'")
    term = page.locator("#view-first-terminal-stable")
    assert term.text_content() == "Plan: ready\n✔ tests passed (12)\n✘ lint failed\n"
    assert term.locator(".ansi-fg-2").text_content() == "✔ tests passed"
    colour = term.locator(".ansi-fg-1").evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(180, 35, 24)"
    page.click("#theme-toggle")
    assert page.get_attribute("html", "data-theme") == "dark"
    assert term.locator(".ansi-fg-1").evaluate("e => getComputedStyle(e).color") == "rgb(255, 123, 114)"
    page.screenshot(path=str(screenshot_dir / "execution-terminal-dark.png"))
    page.reload()
    assert page.get_attribute("html", "data-theme") == "dark"  # the choice is kept


def test_dark_theme_and_a_phone_sized_screen(page, live, screenshot_dir):
    open_run(page, live, "[fake:deltas=40,interval_ms=5] a run to look at")
    wait_status(page, "success")
    page.click("#theme-toggle")
    page.screenshot(path=str(screenshot_dir / "execution-dark.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide at 360"
    page.screenshot(path=str(screenshot_dir / "execution-narrow.png"), full_page=True)
    for path in ("/", "/pipelines/live-test/", "/executions/"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path


def test_keyboard_reaches_the_run_form_and_the_panels(page, live):
    page.goto("/pipelines/live-test/")
    page.keyboard.press("Tab")  # the skip link
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.focus("[data-testid=run-input]")
    page.keyboard.type("[fake:deltas=5,interval_ms=5]")
    page.keyboard.press("Control+Enter")
    page.wait_for_url("**/executions/*/")
    wait_status(page, "success")
    toggle = page.locator("[data-stage-id=first] [data-testid=stage-output-toggle]")
    toggle.focus()
    page.keyboard.press("Enter")
    assert page.get_attribute("[data-stage-id=first]", "open") is None
    page.keyboard.press("Enter")
    assert page.get_attribute("[data-stage-id=first]", "open") == ""
