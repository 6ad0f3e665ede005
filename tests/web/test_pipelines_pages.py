"""The pipelines list and a pipeline's page: stages, models, prompts, conditions, validation errors."""

from __future__ import annotations

import textwrap

import pytest
from django.test import override_settings

INVALID = """
id: broken
name: Broken one
stages:
  - id: only
    prompt: "{{stages.nope.output}}"
    model: { provider: anthropic, maxTokens: -3 }
"""


@pytest.fixture
def pipelines_dir(tmp_path):
    (tmp_path / "broken.yaml").write_text(textwrap.dedent(INVALID))
    with override_settings(PIPELINES_DIRS=[tmp_path]):
        yield tmp_path


def test_the_list_shows_each_pipeline_with_its_stages_models_and_conditions(people, pipelines_dir):
    page = people.client(people.alice).get("/").content.decode()
    assert 'href="/pipelines/summarize-critique/"' in page
    assert "Summarize and critique" in page
    for stage in ("1. Summarize", "2. Critique", "3. Revise"):
        assert stage in page
    assert "claude-haiku-4-5 · anthropic" in page
    assert "skip if stages.critique.data.verdict equals &quot;ok&quot;" in page
    assert "Rewrite the summary so that it fixes every problem listed." in page  # its prompt


def test_an_invalid_pipeline_is_listed_with_every_problem_and_its_path(people, pipelines_dir):
    page = people.client(people.alice).get("/").content.decode()
    assert "Broken one" in page and "invalid" in page
    assert "<code>stages[0].prompt</code>" in page
    assert "<code>stages[0].model.maxTokens</code>" in page
    detail = people.client(people.alice).get("/pipelines/broken/")
    assert detail.status_code == 200
    assert b"cannot run until these are fixed" in detail.content
    assert b'data-testid="run-button" disabled' in detail.content


def test_a_pipeline_page_shows_prompts_system_prompts_and_the_run_form(people):
    response = people.client(people.alice).get("/pipelines/summarize-critique/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "You are a meticulous fact-checker and editor." in page
    assert "{{stages.summarize.output}}" in page
    assert "Skip if" in page and "verdict ← verdict" in page
    assert 'data-testid="run-input"' in page and 'data-testid="run-button"' in page
    assert 'action="/pipelines/summarize-critique/run"' in page


def test_an_unknown_pipeline_is_404(people):
    assert people.client(people.alice).get("/pipelines/no-such-thing/").status_code == 404
