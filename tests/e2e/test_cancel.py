"""Cancel (the button, or Escape) stops the run; the page shows it stopped and why."""

from __future__ import annotations

from tests.e2e.pages import open_run, output_text, wait_status, wait_text


def test_the_cancel_button_stops_the_run(page, live):
    open_run(page, live, "[fake:deltas=400,interval_ms=40]")
    wait_text(page, 40)
    page.click("[data-testid=cancel-button]")
    wait_status(page, "cancelled", timeout_ms=20_000)
    assert page.get_attribute("[data-stage-id=first]", "data-status") == "cancelled"
    assert page.get_attribute("[data-stage-id=second]", "data-status") == "cancelled"
    assert "cancelled by alice" in page.text_content("#exec-head")
    assert len(output_text(page)) < len("".join(f"tok{i} " for i in range(400)))
    assert page.is_hidden("#sc-connection")
    # The end of the run is the server's fragments: the hint and the button are gone with it.
    assert not page.is_visible("#esc-hint")
    assert page.is_disabled("[data-testid=cancel-button]")


def test_escape_cancels(page, live):
    open_run(page, live, "[fake:deltas=400,interval_ms=40]")
    wait_text(page, 40)
    page.keyboard.press("Escape")
    wait_status(page, "cancelled", timeout_ms=20_000)
    assert "Cancelled" in page.text_content("[data-testid=execution-status]")
