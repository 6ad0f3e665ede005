"""The database locked for writes mid-run: the live stream does not wait for it, and nothing is lost."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from django.db import connection

from executions.engine.executor import PipelineExecutor
from executions.engine.loader import load_pipeline_text
from executions.models import Execution, ExecutionEvent
from executions.services import execution_create
from executions.worker.recorder import ExecutionRecorder
from tests.helpers.faults import assert_kept, database_write_lock, lock_support
from tests.helpers.scripted_provider import ScriptedProvider
from tests.helpers.stack import Stack

TOKENS_200 = "".join(f"tok{i} " for i in range(200))


@pytest.fixture
def lockable() -> None:
    if (reason := lock_support()) is not None:
        pytest.skip(reason)


def test_database_locked_mid_stream_viewers_see_no_pause_and_everything_is_stored(live: Stack, lockable: None) -> None:
    """What the user sees: nothing at all. While another process holds the database's write lock
    (a long migration, a backup, SQLite's single writer), chunks keep arriving live — the stream is
    relayed through Redis, never through the database — and a refresh (the snapshot) shows the output
    up to that moment, read while writes wait. Once the lock goes, the worker's writer catches up and
    the stored run is exactly what was streamed."""
    token = live.tokens["alice"]
    execution_id = live.run(token, "[fake:deltas=200,interval_ms=20]")
    reader = live.sse(execution_id, token).start()
    reader.wait_for(10, timeout=60)
    with database_write_lock():
        at_lock = len(reader.messages)
        live.fake.wait_sent(len(live.fake.calls[-1].sent) + 100, timeout=60)  # ~2 s of the model's output
        reader.wait_for(at_lock + 20, timeout=60)
        code, snapshot = live.request("GET", f"/api/executions/{execution_id}", token=token)
        stored_during_lock = Execution.objects.get(pk=execution_id).last_seq
    assert code == 200, snapshot
    assert snapshot["status"] == "running"
    assert stored_during_lock <= at_lock + 1, "the worker wrote events while the test held the write lock"

    events = reader.wait(120).events
    # The snapshot taken under the lock (its tail read from Redis) matched the stream at its lastSeq.
    shown = "".join(e["output"] for e in events[: snapshot["lastSeq"]] if e["type"] == "stage:output")
    assert snapshot["lastSeq"] > stored_during_lock
    assert snapshot["stages"][0]["output"] == shown
    assert_kept(
        live,
        execution_id,
        events,
        status="success",
        stages=[("first", "completed", TOKENS_200), ("second", "completed", "tok0 tok1 tok2 ")],
    )


class _Signal(logging.Handler):
    """Sets ``seen`` when a record containing ``text`` is logged (from any thread)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.seen.set()


def test_the_recorder_outlasts_a_lock_held_past_the_database_timeout(
    transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the user sees: a run that completes and is stored whole, although its writer found the
    database locked for longer than SQLite's busy timeout (here shortened to 0.2 s so the test is fast;
    in production 20 s). Before, the first "database is locked" killed the writer: the rest of the run
    went unstored and the run was later reported interrupted."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's busy timeout; a PostgreSQL writer waits on the lock instead")
    config = load_pipeline_text(
        "id: locked\nname: Locked\nstages:\n  - id: only\n    prompt: '{{input}}'\n"
        "    model: { provider: openai-compatible, model: fake }\n",
        "locked.yaml",
    )
    execution = execution_create(pipeline=config, input="the input")
    execution_id = str(execution.pk)
    provider = ScriptedProvider([f"part {i} " for i in range(50)])
    # New connections (the recorder's thread opens its own) give up on a lock after 0.2 s.
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.2)
    failed_write = _Signal("database write failed")
    logging.getLogger("executions.worker.recorder").addHandler(failed_write)
    try:
        with database_write_lock():
            recorder = ExecutionRecorder(execution_id)
            executor = PipelineExecutor(
                config,
                input="the input",
                execution_id=execution_id,
                on_event=recorder,
                resolve_provider=provider.resolver,
                env={},
            )
            outcome = asyncio.run(executor.run())
            assert failed_write.seen.wait(30), "the writer never met the lock"
        recorder.close()
    finally:
        logging.getLogger("executions.worker.recorder").removeHandler(failed_write)
    assert outcome.status == "success"
    execution.refresh_from_db()
    rows = ExecutionEvent.objects.filter(execution_id=execution_id).order_by("seq")
    events = list(rows.values_list("payload", flat=True))
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == "execution:completed"
    assert (execution.status, execution.last_seq) == ("success", events[-1]["seq"])
    stage = execution.stages.get(stage_id="only")
    assert (stage.status, stage.output) == ("completed", "".join(f"part {i} " for i in range(50)))
