"""Viewers that stop reading while a large output streams: the web process stops writing for them,
then cuts them off (dropping what it had buffered for them) instead of growing, and each resumes
from its cursor losing nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
import redis

from executions.live.relay import stream_key
from executions.live.sse import MAX_BACKLOG_BYTES
from tests.faults.conftest import AddPipeline
from tests.helpers.fake_models import Script
from tests.helpers.faults import ONE_STAGE, PeakRSS, StalledViewer, assert_kept, follow
from tests.helpers.stack import Stack

#: 1024 deltas of 16 KB: a 16 MB answer, numbered so that a misplaced chunk shows
DELTAS = [f"{i:05d}" + "v" * 16378 + "\n" for i in range(1024)]
OUTPUT = "".join(DELTAS)
STALLED = 4
#: Daphne's peak growth while the stalled viewers wait: measured about 20 MB (their 2 MB backlogs, the
#: allocator's copies of them, the healthy viewer's batches); buffering their whole streams measured
#: 78 MB. The exact figure that matters, the bytes held per viewer, is read from the log below.
MAX_GROWTH_MB = 40
#: a viewer waits once over the limit, so at most one frame (≤ 4096 bytes of text, as JSON) lies past it
MAX_HELD_BYTES = MAX_BACKLOG_BYTES + 16 * 1024
CUT_OFF = "cut off at seq"
UNSENT = re.compile(r"\((\d+) bytes unsent\): cut off at seq")


def web_log(live: Stack) -> str:
    assert live.web is not None
    return live.web.log_path.read_text(errors="replace")  # type: ignore[attr-defined]


def assert_cut_off_and_resumes(
    live: Stack, viewer: StalledViewer, whole: list[dict[str, Any]], execution_id: str
) -> None:
    """The connection was dropped mid-stream; what the viewer had received is a prefix of the run's
    events, and reconnecting from the last id it parsed gives the rest."""
    assert viewer.ending in ("reset", "closed"), f"the stalled viewer's connection is still {viewer.ending}"
    messages, complete = viewer.messages()
    assert not complete, "the server finished the response instead of dropping the connection"
    got = [m.json for m in messages]
    assert len(viewer.received) < 2 * MAX_BACKLOG_BYTES + 8 * 1024 * 1024  # far below the 16 MB answer
    assert got == whole[: len(got)]
    token = live.tokens["alice"]
    rest = follow(live, execution_id, token, seen=got, timeout=180)
    assert rest.reconnects == 0
    assert rest.events == whole


@pytest.mark.timeout(600)
def test_viewers_that_stop_reading_are_cut_off_and_resume_without_loss(live: Stack, add_pipeline: AddPipeline) -> None:
    """What the user sees: nothing, unless their own tab froze. A viewer that stops reading (a frozen
    tab, a stalled proxy) while a 16 MB answer streams gets no more once 2 MB wait unsent for it, and
    after 10 s without reading it is cut off: the web process drops the connection and what it held
    for it, so its memory does not grow with the answer. The other viewers and the run go on
    undisturbed; when the frozen tab wakes, its EventSource reconnects from the last id it parsed and
    gets the rest — nothing lost, nothing twice. A healthy viewer replaying the whole 16 MB from the
    database (faster than any network drains) is paced, never cut off."""
    token = live.tokens["alice"]
    pipeline = add_pipeline(ONE_STAGE, "fault-flood")
    live.fake.name_script("flood-16mb", Script(deltas=DELTAS, interval_ms=5))
    cuts_before = web_log(live).count(CUT_OFF)
    with PeakRSS(live) as rss:
        execution_id = live.run(token, "[fake:flood-16mb]", pipeline=pipeline)
        stalled = [StalledViewer(live, execution_id, token) for _ in range(STALLED)]
        healthy = live.sse(execution_id, token).start()
        whole = healthy.wait(300).events
        # Each stalled viewer is cut off STALL_S after it stopped draining.
        live.wait_web_log(CUT_OFF, cuts_before + STALLED, timeout=120)
    assert whole[-1]["type"] == "execution:completed"
    held = [int(n) for n in UNSENT.findall(web_log(live))][-STALLED:]
    assert len(held) == STALLED and all(n <= MAX_HELD_BYTES for n in held), held
    assert rss.growth_mb < MAX_GROWTH_MB, f"Daphne grew {rss.growth_mb:.1f} MB with {STALLED} stalled viewers"

    for viewer in stalled:
        viewer.read_all(timeout=30)
        assert_cut_off_and_resumes(live, viewer, whole, execution_id)
    assert_kept(live, execution_id, whole, status="success", stages=[("only", "completed", OUTPUT)])

    # The same from the database: once the run's stream is gone, a stalled viewer of the replay is cut
    # off as well (replayed pages count against the same limit).
    redis.Redis.from_url(live.redis_url).delete(stream_key(execution_id))
    late = StalledViewer(live, execution_id, token)
    healthy_replay = live.sse(execution_id, token, since=0).start()
    assert healthy_replay.wait(300).events == whole
    live.wait_web_log(CUT_OFF, cuts_before + STALLED + 1, timeout=120)
    late.read_all(timeout=30)
    assert_cut_off_and_resumes(live, late, whole, execution_id)
