"""The admin reviews past runs: read-only, filters and search, head + tail previews, cancel and re-run."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from executions.models import Execution
from tests.web.conftest import make_execution


@pytest.fixture
def admin(people) -> Client:
    dora = User.objects.create_superuser("dora", password="dora-password-123")
    client = Client()
    client.force_login(dora)
    return client


def test_the_list_shows_pipeline_user_status_duration_cost_and_tokens(admin, people):
    execution = make_execution(people.alice, total_cost=0.25, input_tokens=1200, output_tokens=3400)
    page = admin.get("/admin/executions/execution/").content.decode()
    assert str(execution.id)[:8] in page
    for cell in ("web-test", "alice", "success", "3.0 s", "$0.2500", "1,200 / 3,400"):
        assert cell in page
    assert f'href="/executions/{execution.id}/"' in page


def test_lists_never_count_the_whole_table(admin, people):
    make_execution(people.alice)
    with CaptureQueriesContext(connection) as queries:
        assert admin.get("/admin/executions/execution/").status_code == 200
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 10001" in sql for sql in counts), counts


def test_filters(admin, people):
    one = make_execution(people.alice, pipeline_id="summarize-critique", status="failed")
    two = make_execution(people.bob)
    page = admin.get("/admin/executions/execution/?status__exact=failed").content.decode()
    assert str(one.id)[:8] in page and str(two.id)[:8] not in page
    page = admin.get("/admin/executions/execution/?pipeline=summarize-critique").content.decode()
    assert str(one.id)[:8] in page and str(two.id)[:8] not in page
    page = admin.get(f"/admin/executions/execution/?created_by__id__exact={people.bob.id}").content.decode()
    assert str(two.id)[:8] in page and str(one.id)[:8] not in page
    assert "Past 7 days" in admin.get("/admin/executions/execution/").content.decode()


@pytest.mark.parametrize("term", ["id", "input", "output"])
def test_search_by_id_input_or_output(admin, people, term):
    wanted = make_execution(people.alice, input="find the walrus", outputs={"first": "a quiet narwhal", "second": ""})
    other = make_execution(people.alice)
    query = {"id": str(wanted.id), "input": "walrus", "output": "narwhal"}[term]
    page = admin.get("/admin/executions/execution/", {"q": query}).content.decode()
    assert str(wanted.id)[:8] in page and str(other.id)[:8] not in page


def test_the_change_page_is_a_read_only_review(admin, people):
    long = "".join(f"line {i}\n" for i in range(5000))
    execution = make_execution(people.alice, outputs={"first": long, "second": "<b>tag</b>"})
    page = admin.get(f"/admin/executions/execution/{execution.id}/change/").content.decode()
    assert "line 0\n" in page and "line 4999\n" in page
    assert "characters not shown" in page
    assert f'href="/executions/{execution.id}/stages/first/"' in page  # the full text
    assert f'href="/executions/{execution.id}/stages/first/output?download=1"' in page
    assert f'href="/executions/{execution.id}/"' in page  # the portal's page
    assert "&lt;b&gt;tag&lt;/b&gt;" in page
    assert 'name="_save"' not in page and "<textarea" not in page
    assert admin.get("/admin/executions/execution/add/").status_code == 403
    assert admin.post(f"/admin/executions/execution/{execution.id}/delete/").status_code == 403


def test_cancel_action(admin, people):
    queued = make_execution(people.alice, status="queued", outputs={})
    done = make_execution(people.alice)
    response = admin.post(
        "/admin/executions/execution/",
        {"action": "cancel_runs", "_selected_action": [str(queued.id), str(done.id)]},
        follow=True,
    )
    assert "Cancelled 1 execution(s)." in response.content.decode()
    assert "1 had already ended" in response.content.decode()
    assert Execution.objects.get(pk=queued.pk).status == "cancelled"
    assert Execution.objects.get(pk=done.pk).status == "success"


def test_rerun_action_starts_the_same_input_again(admin, people):
    original = make_execution(people.alice, pipeline_id="summarize-critique", input="again, please")
    response = admin.post(
        "/admin/executions/execution/", {"action": "rerun", "_selected_action": [str(original.id)]}, follow=True
    )
    new = Execution.objects.exclude(pk=original.pk).get()
    assert (new.input, new.pipeline_id, new.status) == ("again, please", "summarize-critique", "queued")
    assert new.created_by.username == "dora"
    assert re.search(rf'Started 1 run\(s\): <a href="/executions/{new.id}/">', response.content.decode())


def test_stage_runs_admin_is_read_only_too(admin, people):
    execution = make_execution(people.alice)
    stage = execution.stages.get(stage_id="first")
    page = admin.get(f"/admin/executions/stagerun/{stage.pk}/change/").content.decode()
    assert "Hello, world." in page and 'name="_save"' not in page
    assert admin.get("/admin/executions/stagerun/").status_code == 200
