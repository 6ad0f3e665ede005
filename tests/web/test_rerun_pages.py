"""Re-runs from the portal: the buttons only on ended runs and only where the service allows them, the
new run's lineage both ways and in the history, edits refused inline, another user's run 404, CSRF."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from executions.models import Execution
from tests.web.conftest import PIPELINE_CONFIG, texts_of
from tests.web.conftest import make_execution as make_any_execution

HTMX = {"HTTP_HX_REQUEST": "true"}
MODEL = {"provider": "anthropic", "model": "claude-haiku-4-5"}
#: the page tests' pipeline, with model names, so that a re-run of it validates
CONFIG = {**PIPELINE_CONFIG, "stages": [{**stage, "model": MODEL} for stage in PIPELINE_CONFIG["stages"]]}


def make_execution(user: Any, **fields: Any) -> Execution:
    execution = make_any_execution(user, **fields)
    Execution.objects.filter(pk=execution.pk).update(pipeline_config=CONFIG)
    execution.refresh_from_db()
    return execution


def _testids(html: str, testid: str) -> list[str]:
    """The stage (data-rerun-stage) of every element with this data-testid, in page order."""
    tags = re.findall(rf'<[^>]*data-testid="{testid}"[^>]*>', html)
    return [m.group(1) for tag in tags if (m := re.search(r'data-rerun-stage="([^"]*)"', tag))]


def _page(client: Client, execution: Execution) -> str:
    response = client.get(f"/executions/{execution.id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_succeeded_run_offers_a_rerun_and_an_edit_from_every_stage_and_no_retry(people):
    html = _page(people.client(people.alice), make_execution(people.alice))
    assert _testids(html, "rerun-button") == ["first", "second"]
    assert _testids(html, "edit-rerun-link") == ["first", "second"]
    assert 'data-testid="retry-button"' not in html


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_run_that_has_not_ended_shows_no_rerun_controls(people, status):
    stages = {"first": "completed", "second": "running"} if status == "running" else {}
    html = _page(people.client(people.alice), make_execution(people.alice, status=status, stage_status=stages))
    for testid in ("rerun-button", "edit-rerun-link", "retry-button"):
        assert f'data-testid="{testid}"' not in html


@pytest.mark.parametrize("status", ["failed", "cancelled", "interrupted"])
def test_a_run_that_did_not_finish_offers_a_retry_from_its_first_unfinished_stage(people, status):
    second = {"failed": "failed", "cancelled": "cancelled", "interrupted": "pending"}[status]
    execution = make_execution(people.alice, status=status, stage_status={"first": "completed", "second": second})
    html = _page(people.client(people.alice), execution)
    assert _testids(html, "retry-button") == ["second"]
    assert texts_of(html, **{"data-testid": "retry-button"}) == ["Retry from Second"]
    # From the unfinished stage on, not past it: its later stages would need its output.
    assert _testids(html, "rerun-button") == ["first", "second"]


def test_no_rerun_past_a_stage_that_did_not_complete(people):
    execution = make_execution(people.alice, status="failed", stage_status={"first": "failed", "second": "pending"})
    html = _page(people.client(people.alice), execution)
    assert _testids(html, "rerun-button") == ["first"]
    assert _testids(html, "edit-rerun-link") == ["first"]
    assert _testids(html, "retry-button") == ["first"]
    assert "only completed or skipped stages are reused" in html  # the disabled button's title


def test_rerun_from_a_stage_goes_to_the_new_run_which_names_its_parent(people):
    parent = make_execution(people.alice)
    client = people.client(people.alice)
    response = client.post(f"/executions/{parent.id}/rerun", {"fromStage": "second"})
    child = Execution.objects.get(parent=parent)
    assert (response.status_code, response["Location"]) == (303, f"/executions/{child.id}/")
    assert (child.from_stage, child.created_by, child.status, child.input) == (
        "second",
        people.alice,
        "queued",
        "the input",
    )
    child_page = _page(client, child)
    assert texts_of(child_page, **{"data-testid": "rerun-of"}) == [f"↳ Re-run of {str(parent.id)[:8]} from second"]
    assert f'href="/executions/{parent.id}/"' in child_page
    assert texts_of(child_page, **{"data-testid": "reused-from"})[0].startswith(f"Reused from {str(parent.id)[:8]}")
    assert len(texts_of(child_page, **{"data-testid": "reused-from"})) == 1  # "first" only
    parent_page = _page(client, parent)
    assert f'href="/executions/{child.id}/"' in parent_page
    assert texts_of(parent_page, **{"data-testid": "rerun-of"}) == []


def test_a_button_posted_through_htmx_is_sent_on_with_hx_redirect(people):
    parent = make_execution(people.alice, status="failed", stage_status={"first": "completed", "second": "failed"})
    response = people.client(people.alice).post(f"/executions/{parent.id}/rerun", {"fromStage": "second"}, **HTMX)
    child = Execution.objects.get(parent=parent)
    assert (response.status_code, response["HX-Redirect"]) == (204, f"/executions/{child.id}/")


def test_a_rerun_past_an_unfinished_stage_is_refused_with_the_reason(people):
    parent = make_execution(people.alice, status="failed", stage_status={"first": "failed", "second": "pending"})
    response = people.client(people.alice).post(f"/executions/{parent.id}/rerun", {"fromStage": "second"})
    assert response.status_code == 409
    errors = texts_of(response.content, **{"data-testid": "rerun-error"})
    assert errors == [
        f"stage first was failed in {parent.id}: only completed or skipped stages are reused; "
        "re-run from first or an earlier stage"
    ]
    assert not Execution.objects.filter(parent=parent).exists()


def test_the_edit_form_is_prefilled_with_what_the_stage_ran(people):
    parent = make_execution(people.alice)
    response = people.client(people.alice).get(f"/executions/{parent.id}/stages/second/edit")
    assert response.status_code == 200
    assert texts_of(response.content, **{"data-testid": "edit-prompt"}) == ["{{stages.first.output}}"]
    assert texts_of(response.content, **{"data-testid": "edit-system"}) == [""]
    assert texts_of(response.content, **{"data-testid": "edit-model"}) == [
        "provider: anthropic\nmodel: claude-haiku-4-5"
    ]
    assert texts_of(response.content, **{"data-testid": "rerun-error"}) == []


def test_an_edit_reruns_from_its_stage_with_the_new_prompt_and_model(people):
    parent = make_execution(people.alice)
    response = people.client(people.alice).post(
        f"/executions/{parent.id}/stages/second/edit",
        {"prompt": "Shorter: {{stages.first.output}}", "system": "", "model": "provider: anthropic\nmaxTokens: 64"},
    )
    child = Execution.objects.get(parent=parent)
    assert (response.status_code, response["Location"]) == (303, f"/executions/{child.id}/")
    assert child.from_stage == "second"
    second = child.pipeline_config["stages"][1]
    assert (second["prompt"], second["model"]["maxTokens"]) == ("Shorter: {{stages.first.output}}", 64)
    assert "system" not in second  # an unchanged field stays the pipeline's own
    assert child.pipeline_config["stages"][0] == parent.pipeline_config["stages"][0]


def test_a_bad_edit_is_shown_inline_and_creates_nothing(people):
    parent = make_execution(people.alice)
    before = Execution.objects.count()
    response = people.client(people.alice).post(
        f"/executions/{parent.id}/stages/second/edit", {"prompt": "{{stages.nope.output}}", "system": "", "model": ""}
    )
    assert response.status_code == 400
    [error] = texts_of(response.content, **{"data-testid": "rerun-error"})
    assert error.startswith("stages.second.prompt: unknown variable")
    assert "stages.nope.output" in error
    # The form comes back with what was typed.
    assert texts_of(response.content, **{"data-testid": "edit-prompt"}) == ["{{stages.nope.output}}"]
    assert Execution.objects.count() == before


def test_a_model_that_is_not_a_mapping_is_shown_inline(people):
    parent = make_execution(people.alice)
    response = people.client(people.alice).post(
        f"/executions/{parent.id}/stages/first/edit", {"prompt": "{{input}}", "system": "", "model": "- a list"}
    )
    assert response.status_code == 400
    assert texts_of(response.content, **{"data-testid": "rerun-error"}) == [
        "The model must be a mapping, e.g. provider: anthropic and model: claude-haiku-4-5."
    ]
    assert not Execution.objects.filter(parent=parent).exists()


def test_an_unknown_stage_is_404(people):
    parent = make_execution(people.alice)
    assert people.client(people.alice).get(f"/executions/{parent.id}/stages/nope/edit").status_code == 404


def test_another_users_run_is_404_on_every_rerun_route(people):
    parent = make_execution(people.alice)
    bob = people.client(people.bob)
    edit = {"prompt": "x", "system": "", "model": ""}
    assert bob.get(f"/executions/{parent.id}/stages/second/edit").status_code == 404
    assert bob.post(f"/executions/{parent.id}/stages/second/edit", edit).status_code == 404
    assert bob.post(f"/executions/{parent.id}/rerun", {"fromStage": "second"}).status_code == 404
    assert bob.post(f"/executions/{parent.id}/rerun", {"fromStage": "second"}, **HTMX).status_code == 404
    assert not Execution.objects.filter(parent=parent).exists()


def test_rerun_routes_need_a_csrf_token_and_a_post(people):
    parent = make_execution(people.alice)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people.alice)
    assert strict.post(f"/executions/{parent.id}/rerun", {"fromStage": "second"}).status_code == 403
    assert strict.post(f"/executions/{parent.id}/rerun", {"fromStage": "second"}, **HTMX).status_code == 403
    edit = {"prompt": "x", "system": "", "model": ""}
    assert strict.post(f"/executions/{parent.id}/stages/second/edit", edit).status_code == 403
    assert strict.get(f"/executions/{parent.id}/rerun").status_code == 405
    assert not Execution.objects.filter(parent=parent).exists()
    # With the page's token the same form goes through.
    page = strict.get(f"/executions/{parent.id}/stages/second/edit").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    ok = strict.post(f"/executions/{parent.id}/stages/second/edit", {**edit, "csrfmiddlewaretoken": token.group(1)})
    assert ok.status_code == 303


def test_the_history_shows_the_lineage_without_a_query_per_row(people, django_assert_max_num_queries):
    parent = make_execution(people.alice)
    client = people.client(people.alice)
    client.post(f"/executions/{parent.id}/rerun", {"fromStage": "second"})
    client.post(f"/executions/{parent.id}/rerun", {"fromStage": "first"})
    for _ in range(5):
        make_execution(people.alice)
    with django_assert_max_num_queries(12):
        html = client.get("/executions/").content.decode()
    short = str(parent.id)[:8]
    assert texts_of(html, **{"data-testid": "row-lineage"}) == [
        f"↳ re-run of {short} from first",
        f"↳ re-run of {short} from second",
    ]


def test_data_stage_id_names_the_stage_panels_alone(people):
    """Outside tests find a panel by ``[data-stage-id=…]`` (ARCHITECTURE.md's test hooks): the re-run
    controls name their stage in an attribute of their own."""
    execution = make_execution(people.alice, status="failed", stage_status={"first": "completed", "second": "failed"})
    html = _page(people.client(people.alice), execution)
    assert _testids(html, "retry-button") == ["second"]
    assert sorted(re.findall(r'data-stage-id="([^"]*)"', html)) == ["first", "second"]
