"""A model's stream cut mid-answer: a retry starts the stage's text afresh; with no retry left the stage
fails with a clear error and keeps what it streamed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.conftest import AddPipeline
from tests.helpers.fake_models import Script
from tests.helpers.faults import ONE_STAGE, TWO_STAGES, assert_kept, follow
from tests.helpers.stack import Stack


@pytest.fixture
def fake_queue(live: Stack) -> Iterator[Stack]:
    """Scripts queued on the session's fake model for this test alone (calls without a [fake:…] marker
    take them in order); whatever the test leaves is dropped, so no later test gets it."""
    yield live
    live.fake.drop_queued()


def test_stream_cut_with_a_retry_left_the_stage_starts_afresh_and_ends_exact(
    fake_queue: Stack, add_pipeline: AddPipeline
) -> None:
    """What the user sees: the stage's text starts to grow ("lost 0 lost 1 …"), the connection to the
    model drops, the stage says it is retrying (attempt 2, "peer closed connection …") and its text is
    cleared; the second attempt's text then streams from offset 0 and is the stage's output, exactly —
    in the live view, the snapshot, the full output and a replay."""
    live = fake_queue
    token = live.tokens["alice"]
    pipeline = add_pipeline(ONE_STAGE, "fault-recut", retries=1)
    lost = [f"lost {i} " for i in range(6)]
    kept = [f"kept {i} " for i in range(40)]
    live.fake.enqueue(Script(deltas=lost, interval_ms=40, cut_after=4), Script(deltas=kept, interval_ms=5))
    execution_id = live.run(token, "no marker: the queued scripts answer", pipeline=pipeline)
    events = follow(live, execution_id, token).events

    retry_at = next(i for i, e in enumerate(events) if e["type"] == "stage:retrying")
    retrying = events[retry_at]
    assert (retrying["stageId"], retrying["attempt"]) == ("only", 2)
    assert retrying["error"].startswith("anthropic: connection failed: peer closed connection")
    before = [e for e in events[:retry_at] if e["type"] == "stage:output"]
    after = [e for e in events[retry_at:] if e["type"] == "stage:output"]
    # Shown before the cut (a prefix of what the model sent: text still coalescing when the cut came is
    # void anyway), then afresh from offset 0.
    shown = "".join(e["output"] for e in before)
    assert shown and "".join(lost[:4]).startswith(shown)
    assert after[0]["offset"] == 0
    assert "".join(e["output"] for e in after) == "".join(kept)
    assert len(live.fake.calls) >= 2 and live.fake.calls[-2].outcome == "cut"

    snapshot = assert_kept(live, execution_id, events, status="success", stages=[("only", "completed", "".join(kept))])
    assert snapshot["stages"][0]["attempts"] == 2


def test_stream_cut_with_no_retry_left_the_stage_fails_and_keeps_its_text(
    live: Stack, add_pipeline: AddPipeline
) -> None:
    """What the user sees: after the last attempt's connection drops, the stage turns "failed" with
    the error "anthropic: connection failed: peer closed connection …" (code provider_network), and
    the text that attempt streamed stays on the page, in the snapshot and in the full output; the next
    stage is skipped and the run ends "failed"."""
    token = live.tokens["alice"]
    pipeline = add_pipeline(TWO_STAGES, "fault-cut", retries=1)
    execution_id = live.run(token, "[fake:deltas=8,interval_ms=20,cut_after=5]", pipeline=pipeline)
    events = follow(live, execution_id, token).events

    kinds = [e["type"] for e in events if e["type"] != "stage:output"]
    assert kinds == [
        "execution:started",
        "stage:started",
        "stage:retrying",
        "stage:failed",
        "stage:skipped",
        "execution:completed",
    ]
    failed = next(e for e in events if e["type"] == "stage:failed")
    assert failed["stage"]["id"] == "first"
    assert failed["code"] == "provider_network"
    assert failed["error"].startswith("anthropic: connection failed: peer closed connection")
    assert events[-1]["result"]["status"] == "failed"
    partial = "tok0 tok1 tok2 tok3 tok4 "
    snapshot = assert_kept(
        live,
        execution_id,
        events,
        status="failed",
        stages=[("first", "failed", partial), ("second", "skipped", "")],
    )
    assert snapshot["stages"][0]["error"] == failed["error"]
