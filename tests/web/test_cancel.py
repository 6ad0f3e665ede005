"""The Cancel button: stops a run (a queued one never starts), says so when the run already ended."""

from __future__ import annotations

from executions.models import Execution
from tests.web.conftest import make_execution

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_cancelling_a_queued_run(people):
    execution = make_execution(people.alice, status="queued", outputs={})
    response = people.client(people.alice).post(f"/executions/{execution.id}/cancel", **HTMX)
    assert response.status_code == 204
    execution.refresh_from_db()
    assert (execution.status, execution.error) == ("cancelled", "cancelled by alice")
    assert set(execution.stages.values_list("status", flat=True)) == {"cancelled"}


def test_cancelling_a_running_run_tells_its_worker(people, redis_url):
    from executions.live.relay import cancel_key, sync_redis

    execution = make_execution(people.alice, status="running", outputs={})
    response = people.client(people.alice).post(f"/executions/{execution.id}/cancel", **HTMX)
    assert response.status_code == 204
    assert sync_redis().lrange(cancel_key(str(execution.id)), 0, -1) == [b"cancelled by alice"]


def test_an_ended_run_cannot_be_cancelled(people):
    execution = make_execution(people.alice)
    response = people.client(people.alice).post(f"/executions/{execution.id}/cancel", **HTMX)
    assert (response.status_code, response.content) == (409, b"The run has already ended (success).")


def test_without_javascript_the_form_comes_back_to_the_page(people):
    execution = make_execution(people.alice, status="queued", outputs={})
    response = people.client(people.alice).post(f"/executions/{execution.id}/cancel")
    assert (response.status_code, response["Location"]) == (303, f"/executions/{execution.id}/")


def test_another_user_cannot_cancel(people):
    execution = make_execution(people.alice, status="queued", outputs={})
    assert people.client(people.bob).post(f"/executions/{execution.id}/cancel", **HTMX).status_code == 404
    assert Execution.objects.get(pk=execution.pk).status == "queued"


def test_cancel_needs_a_post_and_a_csrf_token(people):
    from django.test import Client

    execution = make_execution(people.alice, status="queued", outputs={})
    assert people.client(people.alice).get(f"/executions/{execution.id}/cancel").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people.alice)
    assert strict.post(f"/executions/{execution.id}/cancel", **HTMX).status_code == 403
