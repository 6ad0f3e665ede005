"""A snapshot taken while the worker stores events shows each chunk once.

The snapshot reads ``last_seq``, then the live tail after it from Redis, then the stored chunks. On
PostgreSQL the worker's next batch commits between those reads often enough to see (a page reloaded
mid-run showed a chunk twice): the stored chunks must stop at the ``last_seq`` the tail starts after.
"""

from __future__ import annotations

import pytest

from executions.live.relay import EventPublisher
from executions.models import Execution, ExecutionEvent, StageRun
from executions.selectors import execution_snapshot, stage_output_full
from executions.services import execution_create, pipeline_get


def chunk(execution: Execution, seq: int, text: str, offset: int) -> dict:
    return {
        "type": "stage:output",
        "executionId": str(execution.pk),
        "seq": seq,
        "ts": seq,
        "stageId": "draft",
        "output": text,
        "offset": offset,
        "isFinal": False,
    }


@pytest.mark.django_db
def test_chunks_stored_after_the_snapshots_last_seq_are_not_counted_twice(redis_url):
    execution = execution_create(pipeline=pipeline_get(ref="demo"), input="q")
    Execution.objects.filter(pk=execution.pk).update(status="running")
    StageRun.objects.filter(execution=execution, stage_id="draft").update(status="running")
    events = [chunk(execution, seq, f"c{seq} ", 3 * (seq - 1)) for seq in range(1, 7)]
    publisher = EventPublisher(str(execution.pk))
    for event in events:
        publisher.publish(event)
    # What the snapshot sees across its reads: last_seq was 3 when it looked, and by the time it reads
    # the stored chunks the worker has committed 4 and 5 as well; 6 is only in the stream.
    ExecutionEvent.objects.bulk_create(
        ExecutionEvent(execution=execution, seq=e["seq"], type=e["type"], payload=e, ts=e["ts"]) for e in events[:5]
    )
    Execution.objects.filter(pk=execution.pk).update(last_seq=3)

    snapshot = execution_snapshot(execution=execution)
    draft = next(s for s in snapshot["stages"] if s["id"] == "draft")
    assert (draft["output"], snapshot["lastSeq"]) == ("c1 c2 c3 c4 c5 c6 ", 6)
    assert stage_output_full(execution=execution, stage_id="draft") == "c1 c2 c3 c4 c5 c6 "
