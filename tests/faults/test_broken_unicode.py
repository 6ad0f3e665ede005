"""Half a character: a model whose JSON escapes split an emoji's UTF-16 halves across two deltas, or
send one half alone, and a client that posts half an emoji as input."""

from __future__ import annotations

from tests.faults.conftest import AddPipeline
from tests.helpers.fake_models import Script
from tests.helpers.faults import ONE_STAGE, assert_kept, follow
from tests.helpers.stack import Stack


def test_a_model_that_splits_an_emoji_across_deltas_streams_the_emoji(live: Stack, add_pipeline: AddPipeline) -> None:
    """What the user sees: "a😀b" where a JavaScript-built server sent "a\\ud83d" and "\\ude00b" in two
    deltas, and "�" for a half with no partner — the run completes and streams, stores and replays that
    text. Before, the halves reached Redis and the database, neither of which can hold half a
    character: the run failed, or never ended for its viewers."""
    token = live.tokens["alice"]
    pipeline = add_pipeline(ONE_STAGE, "fault-halves")
    live.fake.name_script("halves", Script(deltas=["a\ud83d", "\ude00b", " lone \udc00 end\ud83d"], interval_ms=20))
    execution_id = live.run(token, "[fake:halves]", pipeline=pipeline)
    events = follow(live, execution_id, token).events
    assert events[-1]["result"]["status"] == "success"
    text = "a😀b lone \ufffd end\ufffd"
    assert_kept(live, execution_id, events, status="success", stages=[("only", "completed", text)])


def test_an_input_holding_half_an_emoji_is_refused_with_a_reason(live: Stack) -> None:
    """What the API client sees: 400 bad_input saying why, instead of a 500 from the database."""
    status, body = live.request(
        "POST", "/api/pipelines/live-test/run", token=live.tokens["alice"], body=b'{"input": "a \\ud83d b"}'
    )
    assert (status, body["error"]["code"]) == (400, "bad_input")
    assert "surrogate" in body["error"]["message"]
    # The whole emoji, escaped as a pair, is of course fine.
    status, body = live.request(
        "POST", "/api/pipelines/live-test/run", token=live.tokens["alice"], body=b'{"input": "a \\ud83d\\ude00 b"}'
    )
    assert status == 202, body
    events = follow(live, body["executionId"], live.tokens["alice"]).events
    assert events[0]["input"] == "a 😀 b"
