"""Who may see what, and every bad input's own status and JSON error — with nothing changed in the DB."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from executions.models import Execution
from tests.personas import alices_execution, make_personas


@pytest.fixture
def p(db):
    return make_personas()


@pytest.fixture
def p_committed(transactional_db):
    # The SSE view authorises on a pool thread with its own connection: it sees committed rows only.
    return make_personas()


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def run(client: Client, body, *, token: str | None = None, content_type: str = "application/json", pipeline="demo"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    headers = bearer(token) if token else {}
    return client.post(f"/api/pipelines/{pipeline}/run", data=data, content_type=content_type, **headers)


@pytest.mark.parametrize(
    "path",
    [
        "/api/executions/{id}",
        "/api/executions/{id}/stages/outline/output",
        "/api/executions/{id}/events",
    ],
)
def test_another_users_execution_is_404(p_committed, client, path):
    p = p_committed
    execution = alices_execution(p)
    response = client.get(path.format(id=execution.id), **bearer(p.bob_token))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    # …exactly as an id that does not exist
    assert client.get(path.format(id="00000000-0000-0000-0000-000000000000"), **bearer(p.bob_token)).status_code == 404


def test_cancel_of_another_users_execution_is_404_and_changes_nothing(p, client):
    execution = alices_execution(p)
    response = client.post(f"/api/executions/{execution.id}/cancel", **bearer(p.bob_token))
    assert response.status_code == 404
    assert Execution.objects.get(pk=execution.pk).status == "queued"


def test_a_rerun_of_another_users_execution_is_404_and_creates_nothing(p, client):
    execution = alices_execution(p)
    count = Execution.objects.count()
    response = client.post(
        f"/api/executions/{execution.id}/rerun", data="{}", content_type="application/json", **bearer(p.bob_token)
    )
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert Execution.objects.count() == count


def test_staff_and_the_owner_see_it(p, client):
    execution = alices_execution(p)
    for user in (p.alice, p.carol):
        client.force_login(user)
        assert client.get(f"/api/executions/{execution.id}").json()["id"] == str(execution.id)
    client.force_login(p.bob)
    assert client.get("/api/executions").json() == {"executions": [], "total": 0}


def test_no_or_bad_credentials_are_401(p, client):
    assert client.get("/api/executions").status_code == 401
    response = client.get("/api/executions", HTTP_AUTHORIZATION="Bearer sc_not-a-token")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "bad_credentials")
    assert client.get("/api/health").status_code in (200, 503)  # no login needed


def test_session_post_without_csrf_is_403(p):
    client = Client(enforce_csrf_checks=True)
    client.force_login(p.alice)
    response = run(client, {"input": "x"})
    assert (response.status_code, response.json()["error"]["code"]) == (403, "csrf_failed")
    assert Execution.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "content_type", "pipeline", "status", "code"),
    [
        ({"input": "x"}, "text/plain", "demo", 415, "unsupported_media_type"),
        ("{not json", "application/json", "demo", 400, "bad_json"),
        ([1, 2], "application/json", "demo", 400, "bad_body"),
        ({}, "application/json", "demo", 400, "missing_input"),
        ({"input": 5}, "application/json", "demo", 400, "bad_input"),
        ({"input": "x", "mode": "gpu"}, "application/json", "demo", 400, "bad_mode"),
        ({"input": "x", "tool": "bash"}, "application/json", "demo", 400, "bad_tool"),
        ({"input": "x", "mode": "api", "tool": "claude"}, "application/json", "demo", 400, "bad_tool"),
        ({"input": "x", "command": ["rm"]}, "application/json", "demo", 400, "unknown_field"),
        ({"input": "x"}, "application/json", "no-such-pipeline", 404, "unknown_pipeline"),
        ({"input": "x" * 1_000_001}, "application/json", "demo", 413, "input_too_long"),
    ],
)
def test_bad_run_requests(p, client, body, content_type, pipeline, status, code):
    response = run(client, body, token=p.alice_token, content_type=content_type, pipeline=pipeline)
    assert response.status_code == status, response.content[:300]
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert Execution.objects.count() == 0


def test_a_body_over_the_upload_limit_is_413_json(p, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = run(client, {"input": "x" * 5000}, token=p.alice_token)
    assert (response.status_code, response.json()["error"]["code"]) == (413, "body_too_large")


def test_a_path_is_never_accepted_as_a_pipeline(p, client):
    response = run(client, {"input": "x"}, token=p.alice_token, pipeline="..%2Fetc%2Fpasswd")
    assert response.status_code == 404


def test_wrong_method_is_405(p, client):
    response = client.get("/api/pipelines/demo/run", **bearer(p.alice_token))
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_a_good_run_is_202_with_its_urls(p, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = run(client, {"input": "why?"}, token=p.alice_token)
    assert response.status_code == 202
    body = response.json()
    execution = Execution.objects.get()
    assert body == {
        "executionId": str(execution.id),
        "url": f"/executions/{execution.id}/",
        "eventsUrl": f"/api/executions/{execution.id}/events",
    }
    assert (execution.status, execution.created_by, execution.input) == ("queued", p.alice, "why?")
    assert len(callbacks) == 1  # the task is sent once the rows are committed
