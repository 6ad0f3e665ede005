"""A stage whose model stream is cut mid-answer retries: the page clears the failed attempt's text and
shows the new attempt's, exactly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.pages import output_text, wait_status
from tests.helpers.fake_models import Script
from tests.helpers.stack import Stack

PIPELINE = """
id: e2e-retry
name: Retry
stages:
  - id: first
    name: First
    model: { provider: anthropic, model: claude-haiku-4-5, maxTokens: 512 }
    retries: 1
    prompt: "{{input}}"
"""
LOST = [f"lost {i} " for i in range(6)]
KEPT = [f"kept {i} " for i in range(30)]


@pytest.fixture
def retrying(live: Stack) -> Iterator[Stack]:
    """The pipeline, and the two model calls queued (calls without a [fake:…] marker take them in
    order); both gone when the test ends, so no later test meets them."""
    path = Path(live.pipelines_dir) / "e2e-retry.yaml"
    path.write_text(PIPELINE)
    live.fake.enqueue(Script(deltas=LOST, interval_ms=150, cut_after=4), Script(deltas=KEPT, interval_ms=20))
    yield live
    live.fake.drop_queued()
    path.unlink(missing_ok=True)


def test_a_retry_clears_the_failed_attempts_text(page, retrying):
    execution_id = retrying.run(retrying.tokens["alice"], "no marker: the queued scripts answer", pipeline="e2e-retry")
    page.goto(f"/executions/{execution_id}/")
    page.wait_for_function("document.querySelector('[data-testid=stage-output]').textContent.startsWith('lost 0')")
    page.wait_for_selector("#stage-first-note .note", timeout=30_000)  # "Retrying (attempt 2): …"
    assert "Retrying" in page.text_content("#stage-first-note")
    wait_status(page, "success")
    assert output_text(page) == "".join(KEPT)
    assert page.get_attribute("[data-stage-id=first]", "data-status") == "completed"
    page.reload()
    assert output_text(page) == "".join(KEPT)
