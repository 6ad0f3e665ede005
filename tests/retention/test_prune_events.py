"""Retention: `pruneevents --days N` (and beat's hourly pass) deletes the event log of executions that
ended more than N days ago, keeping each one's final event, its stages' output and figures."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery
from django.core.management import CommandError, call_command

from executions.models import Execution, ExecutionEvent, StageRun
from executions.services import execution_create, execution_events_prune, pipeline_get
from pipelines_site.celery import PRUNE_EVERY_S, add_event_retention
from tests.helpers.processes import ROOT, child_env

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def run_with_events(*, status: str, ended_days_ago: float | None, chunks: int = 5) -> Execution:
    """An execution of the demo pipeline with a full event log, as a worker leaves it."""
    execution = execution_create(pipeline=pipeline_get(ref="demo"), input="q")
    seq = 0
    rows = []
    for stage in execution.stages.order_by("index"):
        for i in range(chunks):
            seq += 1
            event = {"type": "stage:output", "seq": seq, "stageId": stage.stage_id, "output": f"c{i} ", "offset": 3 * i}
            rows.append(ExecutionEvent(execution=execution, seq=seq, type=event["type"], payload=event, ts=seq))
        StageRun.objects.filter(pk=stage.pk).update(
            status="completed", output="".join(f"c{i} " for i in range(chunks)), cost=0.25, output_tokens=chunks
        )
    ended_at = None if ended_days_ago is None else NOW - timedelta(days=ended_days_ago)
    if ended_at is not None:
        seq += 1
        final = {"type": "execution:completed", "seq": seq, "result": {"status": status}}
        rows.append(ExecutionEvent(execution=execution, seq=seq, type=final["type"], payload=final, ts=seq))
    ExecutionEvent.objects.bulk_create(rows)
    Execution.objects.filter(pk=execution.pk).update(status=status, ended_at=ended_at, last_seq=seq)
    execution.refresh_from_db()
    return execution


@pytest.mark.django_db
def test_only_the_logs_of_runs_ended_before_the_cutoff_go_and_each_keeps_its_final_event():
    old = run_with_events(status="success", ended_days_ago=8)
    old_failed = run_with_events(status="failed", ended_days_ago=30)
    recent = run_with_events(status="success", ended_days_ago=6)
    running = run_with_events(status="running", ended_days_ago=None)
    before = {e.pk: ExecutionEvent.objects.filter(execution=e).count() for e in (old, old_failed, recent, running)}

    result = execution_events_prune(older_than_days=7, batch=1, now=NOW)

    assert (result.executions, result.events) == (2, (before[old.pk] - 1) + (before[old_failed.pk] - 1))
    for pruned in (old, old_failed):
        kept = list(ExecutionEvent.objects.filter(execution=pruned).values_list("seq", "type"))
        assert kept == [(pruned.last_seq, "execution:completed")]
        pruned.refresh_from_db()
        assert pruned.events_pruned_at is not None
        # The record stays: status, seq, and every stage's full output and figures.
        stages = list(pruned.stages.all())
        assert len(stages) == 3  # the demo pipeline's
        assert (pruned.last_seq, [s.output for s in stages]) == (before[pruned.pk], ["c0 c1 c2 c3 c4 "] * 3)
        assert [(s.status, s.cost, s.output_tokens) for s in stages] == [("completed", 0.25, 5)] * 3
    for untouched in (recent, running):
        assert ExecutionEvent.objects.filter(execution=untouched).count() == before[untouched.pk]
        untouched.refresh_from_db()
        assert untouched.events_pruned_at is None
    # A second pass finds nothing left to do (pruned runs are never scanned again).
    assert execution_events_prune(older_than_days=7, now=NOW) == type(result)(executions=0, events=0)


@pytest.mark.django_db
def test_the_command_prunes_with_days_or_the_setting_and_refuses_neither(settings):
    run_with_events(status="success", ended_days_ago=400)
    out = io.StringIO()
    call_command("pruneevents", "--days", "365", stdout=out)
    assert out.getvalue().strip() == (
        "Pruned the event log of 1 execution(s) that ended more than 365 day(s) ago: 15 event(s) deleted."
    )
    settings.EVENT_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="give --days N"):
        call_command("pruneevents")
    settings.EVENT_RETENTION_DAYS = 30
    out = io.StringIO()
    call_command("pruneevents", stdout=out)
    assert "0 execution(s) that ended more than 30 day(s) ago" in out.getvalue()


@pytest.mark.parametrize(("days", "scheduled"), [(0, None), (14, {"days": 14})])
def test_beat_schedules_the_hourly_prune_only_when_retention_is_on(settings, days, scheduled):
    settings.EVENT_RETENTION_DAYS = days
    app = Celery("probe")
    app.conf.beat_schedule = {}
    add_event_retention(sender=app)
    entry = app.conf.beat_schedule.get("prune-event-log")
    if scheduled is None:
        assert entry is None
    else:
        assert entry == {"task": "executions.prune_events", "schedule": PRUNE_EVERY_S, "kwargs": scheduled}


@pytest.mark.parametrize(("days", "entry"), [("0", "None"), ("3", "{'days': 3}")])
def test_the_real_beat_schedule_reads_the_setting(tmp_path, days, entry):
    code = (
        "from pipelines_site.celery import app; print(app.conf.beat_schedule.get('prune-event-log', {}).get('kwargs'))"
    )
    env = child_env(DEBUG="1", STAGECAST_DATA_DIR=str(tmp_path), STAGECAST_EVENT_RETENTION_DAYS=days)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == entry
