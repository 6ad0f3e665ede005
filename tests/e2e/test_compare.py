"""Two runs streaming into the compare page in Chromium: each column's text is exactly its run's, and
the diff against the first run shows the changed words once they end."""

from __future__ import annotations

from executions.models import Execution
from tests.e2e.conftest import base_url

A = ["Grüße ", "日本語 ", "😀 ", "alpha ", "end"]
B = ["Grüße ", "日本語 ", "😀 ", "omega ", "end"]


def _marker(deltas: list[str]) -> str:
    return "[fake:text=" + "|".join(deltas) + ",interval_ms=300]"


def test_two_runs_stream_into_the_compare_page(page, live, screenshot_dir):
    alice = live.tokens["alice"]
    a = live.run(alice, _marker(A))
    b = live.run(alice, _marker(B))
    page.goto(f"{base_url(live)}/executions/compare/?ids={a},{b}")
    assert page.locator("[data-testid=compare-column]").count() == 2
    first = (
        "[data-testid=compare-stage][data-stage-id=first] .compare-cell[data-execution-id='{}']"
        " [data-testid=compare-output]"
    )
    # Mid-stream: some text is on screen and the runs have not ended.
    page.wait_for_function(
        "sel => { const e = document.querySelector(sel); return e && e.textContent.length > 0; }", arg=first.format(b)
    )
    page.screenshot(path=str(screenshot_dir / "compare-streaming.png"), full_page=True)
    for run in (a, b):
        page.wait_for_selector(f"[data-testid=compare-column][data-execution-id='{run}'][data-status=success]")
    assert page.eval_on_selector(first.format(a), "e => e.textContent") == "".join(A)
    assert page.eval_on_selector(first.format(b), "e => e.textContent") == "".join(B)
    assert Execution.objects.get(pk=a).stages.get(stage_id="first").output == "".join(A)
    diff = f"[data-testid=compare-stage][data-stage-id=first] [data-testid=compare-diff][data-execution-id='{b}']"
    page.wait_for_function(
        "sel => { const e = document.querySelector(sel); return e && e.querySelector('ins'); }", arg=diff
    )
    assert page.eval_on_selector(f"{diff} ins", "e => e.textContent") == "omega"
    assert page.eval_on_selector(f"{diff} del", "e => e.textContent") == "alpha"
    page.screenshot(path=str(screenshot_dir / "compare-done.png"), full_page=True)
