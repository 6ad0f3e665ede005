"""A run started from the form streams into its stage panel in several steps and ends exact."""

from __future__ import annotations

import time

from tests.e2e.pages import INSTRUMENT, metrics, output_text, start_from_form, status, tokens, wait_status


def test_the_panel_grows_while_the_stage_runs_and_ends_exactly_as_the_model_said(page, live, screenshot_dir):
    page.context.add_init_script(INSTRUMENT)
    start_from_form(page, "[fake:deltas=60,interval_ms=60]")
    seen: list[int] = []
    shot = False
    deadline = time.monotonic() + 60
    while status(page) != "success" and time.monotonic() < deadline:
        text = output_text(page)
        if text and (not seen or len(text) != seen[-1]):
            seen.append(len(text))
        if len(text) > 150 and not shot:
            page.screenshot(path=str(screenshot_dir / "execution-streaming.png"))
            shot = True
        time.sleep(0.05)
    wait_status(page, "success")
    assert output_text(page) == tokens(60)
    assert output_text(page, "second") == tokens(3)
    # Seen in many steps, each longer than the last, while the stage ran (not one swap at the end).
    growing = [n for n in seen if n < len(tokens(60))]
    assert len(growing) >= 8, seen
    assert growing == sorted(growing)
    # The stage panels report the end.
    assert page.get_attribute("[data-stage-id=first]", "data-status") == "completed"
    assert page.get_attribute("[data-stage-id=second]", "data-status") == "completed"
    assert page.text_content("#nav-running-count").strip() == "0"


def test_streaming_moves_nothing_outside_the_panel(page, live, screenshot_dir):
    page.context.add_init_script(INSTRUMENT)
    start_from_form(page, "[fake:deltas=150,interval_ms=25]")
    wait_status(page, "success")
    time.sleep(0.3)
    figures = metrics(page)
    print(f"CLS while streaming: {figures['cls']:.4f} (outside the panels {figures['outside']:.4f})")
    assert figures["cls"] <= 0.1, figures["shifts"]
    assert output_text(page) == tokens(150)
    page.screenshot(path=str(screenshot_dir / "execution-completed.png"), full_page=True)


def test_the_running_stage_opens_itself_and_a_users_choice_is_kept(page, live):
    start_from_form(page, "[fake:deltas=80,interval_ms=40]")
    page.wait_for_selector("[data-stage-id=first][data-status=running][open]")
    second = page.locator("[data-stage-id=second]")
    assert second.get_attribute("open") is None  # pending: closed
    page.click("[data-stage-id=first] [data-testid=stage-output-toggle]")  # the user closes the running one
    wait_status(page, "success")
    assert page.get_attribute("[data-stage-id=first]", "open") is None  # kept closed
    assert second.get_attribute("open") == ""  # it opened itself when it started


def test_it_follows_the_tail_until_the_user_scrolls_up_then_offers_to_jump(page, live):
    from tests.e2e.pages import open_run, wait_text
    from tests.helpers.fake_script import Script

    live.fake.name_script("lines", Script(deltas=[f"line {i}\n" for i in range(200)], interval_ms=40))
    open_run(page, live, "[fake:lines]")
    wait_text(page, 400)
    scroller = page.locator("[data-stage-id=first] .scroller")
    at_end = "e => e.scrollHeight - e.scrollTop - e.clientHeight < 8"
    # Following: the view is kept at the end (one frame after each chunk).
    page.wait_for_function(f"({at_end})(document.querySelector('[data-stage-id=first] .scroller'))")
    box = scroller.bounding_box()
    page.mouse.move(box["x"] + 50, box["y"] + 50)
    page.mouse.wheel(0, -300)
    jump = page.locator("[data-stage-id=first] [data-testid=jump-to-latest]")
    jump.wait_for(state="visible")
    page.wait_for_function(
        "document.querySelector('[data-stage-id=first] .jump-count').textContent.includes('new line')"
    )
    assert not scroller.evaluate(at_end)  # stays where the user put it
    jump.click()
    page.wait_for_function(
        "(() => { const e = document.querySelector('[data-stage-id=first] .scroller');"
        " return e.scrollHeight - e.scrollTop - e.clientHeight < 8; })()"
    )
    assert jump.is_hidden()
    wait_status(page, "success")
    assert output_text(page) == "".join(f"line {i}\n" for i in range(200))


def test_copy_puts_the_whole_text_on_the_clipboard(page, live):
    from tests.e2e.pages import open_run

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_run(page, live, "[fake:deltas=25,interval_ms=5]")
    wait_status(page, "success")
    page.click("[data-stage-id=first] [data-action=copy]")
    page.wait_for_function(
        "document.querySelector('[data-stage-id=first] .notice-msg').textContent.startsWith('Copied')"
    )
    assert page.evaluate("navigator.clipboard.readText()") == tokens(25)
    href = page.get_attribute("[data-stage-id=first] a[download]", "href")
    assert href.endswith("/stages/first/output?download=1")
