"""A 1 MB output: the page stays responsive, holds only the latest part, and links to the full text."""

from __future__ import annotations

import time

from tests.e2e.pages import INSTRUMENT, metrics, open_run, output_text, wait_status
from tests.helpers.fake_script import Script

LINE = "line {:06d} " + "abcdefghij" * 5 + "\n"  # 62 characters
LINES = 17_000  # about 1 MB


def test_a_megabyte_streams_with_the_page_responsive_and_shows_the_tail(page, live, screenshot_dir):
    full = "".join(LINE.format(i) for i in range(LINES))
    assert len(full) > 1_000_000
    live.fake.name_script("megabyte", Script(deltas=[LINE.format(i) for i in range(LINES)], interval_ms=0.1))
    page.context.add_init_script(INSTRUMENT)
    open_run(page, live, "[fake:megabyte]")
    # The main thread answers quickly all along (a round trip through it, while the text pours in).
    slowest = 0.0
    while page.get_attribute("[data-stage-id=first]", "data-status") in ("pending", "running"):
        started = time.monotonic()
        page.evaluate("1")
        slowest = max(slowest, time.monotonic() - started)
        time.sleep(0.05)
    wait_status(page, "success", timeout_ms=120_000)
    shown = output_text(page)
    assert full.endswith(shown)
    assert 32 * 1024 < len(shown) <= 80 * 1024  # the latest part only, never the megabyte
    assert page.is_visible("[data-stage-id=first] .notice-before")
    before = page.text_content("[data-stage-id=first] .before-count")
    assert before == f"{len(full) - len(shown):,} characters"
    link = page.get_attribute("[data-stage-id=first] .notice-before a", "href")
    assert link.endswith("/stages/first/")
    figures = metrics(page)
    print(
        f"1 MB: longest main-thread task while streaming {figures['longest']:.0f} ms, "
        f"slowest round trip {slowest * 1000:.0f} ms, "
        f"layout shift {figures['cls']:.4f} (outside the panel {figures['outside']:.4f})"
    )
    # The 50 ms budget is the benchmark's (on a quiet machine: 0 tasks over 50 ms measured here); this
    # bound only catches work that grows with the output, not a busy CI machine's hiccup.
    assert figures["longest"] < 500, figures["frames"]
    assert slowest < 1.0
    assert figures["cls"] <= 0.1, figures["shifts"][:6]
    page.screenshot(path=str(screenshot_dir / "execution-large-output.png"))
    # The height of the text dropped while following is kept as an empty gap, until the reader
    # reaches for the panel: then it closes, and what was in view stays in view.
    scroller = page.locator("[data-stage-id=first] .scroller")
    last_line = LINE.format(LINES - 1).strip()
    assert page.locator("[data-stage-id=first] .out-gap").evaluate("e => e.offsetHeight") > 10_000
    box = scroller.bounding_box()
    page.mouse.click(box["x"] + 40, box["y"] + 40)
    assert page.locator("[data-stage-id=first] .out-gap").evaluate("e => e.offsetHeight") == 0
    assert scroller.evaluate("e => e.scrollHeight - e.scrollTop - e.clientHeight < 8")
    assert last_line in scroller.evaluate("e => e.innerText.slice(-200)")
    # A reload renders the same tail on the server; the full text is a link away, paged.
    page.reload()
    assert full.endswith(output_text(page))
    page.click("[data-stage-id=first] .notice-before a")
    page.wait_for_selector(f"#L{LINES}")
    assert page.text_content(f"#L{LINES} pre") == LINE.format(LINES - 1).rstrip("\n")
