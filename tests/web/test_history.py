"""The history: newest first, paged without counting the table, filtered by pipeline, status and user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.web.conftest import make_execution, texts_of


def ids_on(page: bytes) -> list[str]:
    return [t.strip() for t in texts_of(page, **{"class": "mono muted small"})]


def test_a_user_sees_only_their_own_runs_newest_first(people):
    base = datetime.now(UTC) - timedelta(hours=1)
    mine = [make_execution(people.alice, created_at=base + timedelta(minutes=i)) for i in range(3)]
    make_execution(people.bob)
    page = people.client(people.alice).get("/executions/").content
    assert ids_on(page) == [str(e.id)[:8] for e in reversed(mine)]


def test_each_row_has_status_duration_and_cost(people):
    execution = make_execution(people.alice, total_cost=0.0123, input_tokens=10, output_tokens=20)
    page = people.client(people.alice).get("/executions/").content.decode()
    assert '<span class="badge badge-success">Succeeded</span>' in page
    assert f'href="/executions/{execution.id}/"' in page
    assert '<td class="num">3.0 s</td>' in page
    assert '<td class="num">$0.0123</td>' in page
    assert "10 / 20" in page


def test_pages_go_back_in_time_without_counting_rows(people):
    base = datetime.now(UTC) - timedelta(days=1)
    runs = [make_execution(people.alice, created_at=base + timedelta(minutes=i)) for i in range(27)]
    client = people.client(people.alice)
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/executions/").content
    assert not [
        q
        for q in queries
        if "COUNT(" in q["sql"].upper() and "executions_execution" in q["sql"] and "status" not in q["sql"]
    ]
    assert len(ids_on(first)) == 25
    assert b'href="?page=2"' in first and b"Newer" not in first
    second = client.get("/executions/?page=2").content
    assert ids_on(second) == [str(r.id)[:8] for r in reversed(runs[:2])]
    assert b'href="?page=1"' in second and b"Older" not in second


def test_filters_by_pipeline_status_and_user(people):
    a = make_execution(people.alice, pipeline_id="one")
    b = make_execution(people.alice, pipeline_id="two", status="failed")
    c = make_execution(people.alice, pipeline_id="two", status="running", outputs={})
    d = make_execution(people.bob, pipeline_id="two")
    alice = people.client(people.alice)
    assert ids_on(alice.get("/executions/?pipeline=two").content) == [str(c.id)[:8], str(b.id)[:8]]
    assert ids_on(alice.get("/executions/?status=failed").content) == [str(b.id)[:8]]
    assert ids_on(alice.get("/executions/?status=active").content) == [str(c.id)[:8]]
    assert ids_on(alice.get("/executions/?pipeline=one&status=failed").content) == []
    # A user filter is for those who see everyone's runs; for others it changes nothing.
    assert ids_on(alice.get("/executions/?user=bob").content) == [str(c.id)[:8], str(b.id)[:8], str(a.id)[:8]]
    carol = people.client(people.carol)
    assert ids_on(carol.get("/executions/?user=bob").content) == [str(d.id)[:8]]
    assert b'<option value="bob" selected>bob</option>' in carol.get("/executions/?user=bob").content


def test_an_unknown_status_says_so(people):
    response = people.client(people.alice).get("/executions/?status=exploded")
    assert response.status_code == 200
    assert b"Unknown status &#x27;exploded&#x27;" in response.content
