"""Iterating on a run in the browser: "Edit & re-run" on a stage of an ended run, a new prompt, Ctrl+Enter,
and the new run's page says what it re-runs, reuses the stage before and streams the edited one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.pages import output_text, wait_status
from tests.helpers.stack import Stack

PIPELINE = """
id: e2e-rerun
name: Re-run
defaults:
  model: { provider: anthropic, model: claude-haiku-4-5, maxTokens: 512 }
stages:
  - id: draft
    name: Draft
    prompt: "[fake:text=Draft |one.] {{input}}"
  - id: polish
    name: Polish
    prompt: "[fake:text=Polished |first.] {{stages.draft.output}}"
"""


@pytest.fixture
def rerun_pipeline(live: Stack) -> Iterator[str]:
    path = Path(live.pipelines_dir) / "e2e-rerun.yaml"
    path.write_text(PIPELINE)
    yield "e2e-rerun"
    path.unlink(missing_ok=True)


def test_edit_and_rerun_a_stage_with_ctrl_enter(page, live, rerun_pipeline, screenshot_dir):
    parent_id = live.run(live.tokens["alice"], "the input", pipeline=rerun_pipeline)
    page.goto(f"/executions/{parent_id}/")
    wait_status(page, "success")
    assert page.locator("[data-testid=rerun-button]").evaluate_all("els => els.map(e => e.dataset.rerunStage)") == [
        "draft",
        "polish",
    ]
    assert page.locator("[data-testid=retry-button]").count() == 0
    page.locator("[data-stage-id=polish] [data-testid=stage-output-toggle]").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "execution-rerun-buttons.png"), full_page=True)

    page.click("[data-testid=edit-rerun-link][data-rerun-stage=polish]")
    prompt = page.locator("[data-testid=edit-prompt]")
    assert prompt.input_value() == "[fake:text=Polished |first.] {{stages.draft.output}}"
    prompt.fill("[fake:text=Edited |second |time.] {{stages.draft.output}}")
    prompt.press("Control+Enter")

    page.wait_for_url(lambda url: "/executions/" in url and parent_id not in url)
    lineage = page.locator("[data-testid=rerun-of]")
    assert lineage.inner_text() == f"↳ Re-run of {parent_id[:8]} from polish"
    wait_status(page, "success")
    assert output_text(page, "polish") == "Edited second time."
    assert output_text(page, "draft") == "Draft one."
    assert page.locator("[data-stage-id=draft] [data-testid=reused-from]").count() == 1
    # The run ended while the page watched: its re-run controls came with the end of the stream.
    assert page.locator("[data-testid=rerun-button]").count() == 2

    lineage.locator("a").click()
    page.wait_for_url(f"**/executions/{parent_id}/")
    assert output_text(page, "polish") == "Polished first."
    assert page.locator("[data-testid=reruns] a").count() == 1
