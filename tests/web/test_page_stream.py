"""The execution page's stream: stage text as JSON strings, the rest as HTML fragments, from the page's
cursor, ending with "done"."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import AsyncClient
from hypothesis import given
from hypothesis import strategies as st

from executions.live.relay import EventPublisher
from executions.models import Execution
from executions.portal.stream import _merged, sse_message, text_message
from tests.helpers.sse_client import parse_event_stream
from tests.properties.strategies import model_text
from tests.web.conftest import make_execution

pytestmark = pytest.mark.django_db(transaction=True)

FIRST = "<b>Hi</b>\r\n"
SECOND = "& more <script>x</script>"


def events(execution_id: str) -> list[dict[str, Any]]:
    ts = int(time.time() * 1000)
    stage = {"id": "first", "name": "First", "type": "generate", "provider": "anthropic", "model": "m"}
    second = {**stage, "id": "second", "name": "Second"}
    raw = [
        {"type": "execution:started", "pipelineId": "web-test", "pipelineName": "Web test", "input": "x", "stages": []},
        {"type": "stage:started", "stage": stage, "index": 0, "total": 2},
        {"type": "stage:output", "stageId": "first", "output": FIRST, "offset": 0, "isFinal": False},
        {"type": "stage:output", "stageId": "first", "output": SECOND, "offset": len(FIRST), "isFinal": False},
        {"type": "stage:output", "stageId": "first", "output": "", "offset": len(FIRST + SECOND), "isFinal": True},
        {
            "type": "stage:completed",
            "stage": stage,
            "result": {
                "status": "completed",
                "cost": 0.001,
                "costSource": "price-table",
                "duration": 900.0,
                "usage": {"inputTokens": 5, "outputTokens": 7},
                "timeToFirstToken": 100.0,
            },
        },
        {"type": "stage:skipped", "stage": second, "reason": "skip <because>"},
        {"type": "execution:completed", "result": {"status": "success"}},
    ]
    return [{"executionId": execution_id, "seq": i, "ts": ts + i, **e} for i, e in enumerate(raw, start=1)]


def parse_sse(body: bytes) -> list[dict[str, str]]:
    messages = []
    for block in body.decode().split("\n\n"):
        fields: dict[str, str] = {}
        data: list[str] = []
        for line in block.split("\n"):
            key, _, value = line.partition(": ")
            if key == "data":
                data.append(value)
            elif key in ("id", "event"):
                fields[key] = value
        if data:
            messages.append({**fields, "data": "\n".join(data)})
    return messages


@pytest.fixture
def finished_run(redis_url):
    """A run whose events are all in the live stream and whose rows say it ended (persist, then publish)."""
    alice = User.objects.create_user("alice", password="alice-password-123")
    User.objects.create_user("bob", password="bob-password-123")
    execution = make_execution(
        alice, outputs={"first": FIRST + SECOND, "second": ""}, stage_status={"second": "skipped"}
    )
    publisher = EventPublisher(str(execution.id))
    for event in events(str(execution.id)):
        publisher.publish(event)
    Execution.objects.filter(pk=execution.pk).update(last_seq=8)
    return execution


async def read(user: str, url: str, **headers: str) -> tuple[int, list[dict[str, str]]]:
    client = AsyncClient()
    await client.aforce_login(await sync_to_async(User.objects.get)(username=user))
    response = await client.get(url, headers=headers)
    if response.status_code != 200:
        return response.status_code, []
    body = b"".join([chunk async for chunk in response.streaming_content])
    return response.status_code, parse_sse(body)


async def test_every_event_goes_out_once_as_fragments(finished_run):
    status, messages = await read("alice", f"/executions/{finished_run.id}/stream?since=0")
    assert status == 200
    # 3 is the stage's first text, and its head follows it with the same id (its time to first token);
    # 4 is plain text; 5 is an empty last chunk, which changes nothing on the page.
    assert [(m["id"], m["event"]) for m in messages] == [
        ("1", "state"),
        ("2", "state"),
        ("3", "out-first"),
        ("3", "state"),
        ("4", "out-first"),
        ("6", "state"),
        ("7", "state"),
        ("8", "done"),
    ]


async def test_text_is_a_json_string_inert_as_html_and_exact(finished_run):
    _, messages = await read("alice", f"/executions/{finished_run.id}/stream?since=0")
    first, second = messages[2]["data"], messages[4]["data"]
    assert first == '"\\u003cb\\u003eHi\\u003c/b\\u003e\\r\\n"'  # one data line, no <, > or & in it
    assert second == '"\\u0026 more \\u003cscript\\u003ex\\u003c/script\\u003e"'
    assert json.loads(first) + json.loads(second) == FIRST + SECOND


async def test_the_first_text_is_followed_by_the_heads_fragment_alone(finished_run):
    _, messages = await read("alice", f"/executions/{finished_run.id}/stream?since=0")
    head = messages[3]["data"]
    assert head.startswith('<span class="stage-head" id="stage-first-head" data-status="running"')
    assert head.endswith("</span>") and head.count('hx-swap-oob="true"') == 1
    assert "100 ms" not in head and 'data-first="' in head  # when the first token came, for the ticker


async def test_a_chunk_that_arrives_alone_goes_out_alone(finished_run):
    _, messages = await read("alice", f"/executions/{finished_run.id}/stream?since=3")
    assert [(m["id"], m["event"], json.loads(m["data"])) for m in messages[:1]] == [("4", "out-first", SECOND)]


async def test_state_fragments_update_heads_notes_and_announce(finished_run):
    _, messages = await read("alice", f"/executions/{finished_run.id}/stream?since=0")
    started, completed, skipped = messages[1]["data"], messages[5]["data"], messages[6]["data"]
    assert '<span id="sc-announce" hx-swap-oob="innerHTML">Stage First started.</span>' in started
    assert 'data-testid="execution-status" data-status="running"' in started
    assert 'id="stage-first-head" data-status="completed"' in completed
    assert "900 ms" in completed and "100 ms" in completed and "$0.0010 est." in completed
    assert "<strong>Skipped:</strong> skip &lt;because&gt;" in skipped


async def test_done_reads_the_final_state_back_and_updates_the_navigation(finished_run):
    _, messages = await read("alice", f"/executions/{finished_run.id}/stream?since=0")
    done = messages[-1]["data"]
    assert 'data-testid="execution-status" data-status="success"' in done
    assert 'id="stage-first-head" data-status="completed"' in done
    assert 'id="stage-second-head" data-status="skipped"' in done
    assert '<span class="count" id="nav-running-count" hx-swap-oob="true">0</span>' in done
    assert "The run succeeded." in done
    assert '<p class="muted small hint invisible" id="esc-hint" hx-swap-oob="true">' in done


async def test_the_stream_resumes_after_the_cursor(finished_run):
    _, messages = await read("alice", f"/executions/{finished_run.id}/stream?since=4")
    assert [m["id"] for m in messages] == ["6", "7", "8"]
    # A native reconnect sends Last-Event-ID; the later of it and the URL's cursor wins.
    _, messages = await read("alice", f"/executions/{finished_run.id}/stream?since=3", **{"Last-Event-ID": "6"})
    assert [m["id"] for m in messages] == ["7", "8"]


async def test_a_viewer_that_saw_everything_still_gets_done(finished_run):
    await sync_to_async(Execution.objects.filter(pk=finished_run.pk).update)(status="success")
    _, messages = await read("alice", f"/executions/{finished_run.id}/stream?since=8")
    assert [(m["id"], m["event"]) for m in messages] == [("8", "done")]


async def test_another_user_gets_404(finished_run):
    status, _ = await read("bob", f"/executions/{finished_run.id}/stream?since=0")
    assert status == 404


async def test_a_bad_cursor_is_400(finished_run):
    status, _ = await read("alice", f"/executions/{finished_run.id}/stream?since=abc")
    assert status == 400


def test_merging_joins_only_consecutive_text_of_one_stage():
    state = sse_message(3, "state", "<b>s</b>")
    items = [
        (b"x", ("a", 1, "one ")),
        (b"x", ("a", 2, "two ")),
        (b"x", ("b", 4, "other")),
        (state, None),
        (b"x", ("a", 5, "three")),
        (b"", None),
    ]
    assert _merged(items) == [
        text_message(2, "a", "one two "),
        text_message(4, "b", "other"),
        state,
        text_message(5, "a", "three"),
    ]


@given(model_text, st.integers(1, 10**9))
def test_a_text_message_carries_any_text_exactly(text: str, seq: int) -> None:
    """Parsed as a browser's EventSource parses it (a CR or LF ends a line there), then JSON.parse'd: the
    very text, whatever newlines, CRs, NULs, U+2028 or astral characters it holds; and no markup."""
    (message,) = parse_event_stream(text_message(seq, "draft", text).decode("utf-8"))
    assert (message.id, message.event) == (str(seq), "out-draft")
    assert json.loads(message.data) == text
    assert not set("<>&\r\n") & set(message.data)
