"""Execution, StageRun, ExecutionEvent: the durable record of every run, and the event log viewers replay."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models

from executions.engine import wire
from executions.engine.types import RunOverrides


class ExecutionStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    EARLY_EXIT = "early_exit"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


# The statuses are the wire model's (executions/engine/wire.py); the choices only name them for forms
# and the admin, and tests/test_wire_model.py holds the two equal.
FINAL_EXECUTION_STATUSES = tuple(sorted(wire.FINAL_EXECUTION_STATUSES))


class StageStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Execution(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pipeline_id = models.CharField(max_length=100)
    pipeline_name = models.CharField(max_length=200)
    #: the validated pipeline as it was when the run started, so a past run stays reviewable
    pipeline_config = models.JSONField()
    input = models.TextField(blank=True)
    mode = models.CharField(max_length=10, blank=True, help_text="api, cli or local when overridden")
    tool = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=ExecutionStatus.choices, default=ExecutionStatus.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="executions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    #: seq of the last event in the log (0: none yet)
    last_seq = models.PositiveIntegerField(default=0)
    total_cost = models.FloatField(default=0)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    #: why it failed, was cancelled or interrupted, in words a user understands
    error = models.TextField(blank=True)
    #: when retention deleted its event log (all but the final event); its stages keep their output
    events_pruned_at = models.DateTimeField(null=True, blank=True)
    #: a re-run's origin: the execution it was made from, and the first stage it ran again (the ones
    #: before it were reused from the parent, byte for byte)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns")
    from_stage = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["-created_at"], name="exec_created_idx"),
            models.Index(fields=["status", "-created_at"], name="exec_status_idx"),
            models.Index(fields=["pipeline_id", "-created_at"], name="exec_pipeline_idx"),
            models.Index(fields=["created_by", "-created_at"], name="exec_user_idx"),
            # What retention has still to prune, oldest first: the hourly pass never scans pruned runs.
            models.Index(
                fields=["ended_at"], name="exec_prunable_idx", condition=models.Q(events_pruned_at__isnull=True)
            ),
        ]
        permissions = [("view_all_executions", "Can see every user's executions")]

    def __str__(self) -> str:
        return f"{self.pipeline_id} {self.id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in wire.FINAL_EXECUTION_STATUSES

    @property
    def duration_ms(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds() * 1000

    @property
    def overrides(self) -> RunOverrides:
        """The ``--mode``/``--tool`` it was started with: a re-run or a worker applies the same."""
        return RunOverrides(mode=self.mode or None, tool=self.tool or None)


class StageRun(models.Model):
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="stages")
    index = models.PositiveIntegerField()
    stage_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=100, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=StageStatus.choices, default=StageStatus.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    output = models.TextField(blank=True)
    #: length of ``output`` in Unicode code points
    output_length = models.PositiveBigIntegerField(default=0)
    data = models.JSONField(null=True, blank=True)
    cost = models.FloatField(default=0)
    cost_source = models.CharField(max_length=20, blank=True)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    time_to_first_token_ms = models.FloatField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    finish_reason = models.CharField(max_length=30, blank=True)
    #: the error of a failed stage, or the reason it was skipped or cancelled
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["execution", "index"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "stage_id"], name="stagerun_unique_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.stage_id} ({self.status})"

    @property
    def duration_ms(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds() * 1000


class ExecutionEvent(models.Model):
    """One wire event, exactly as sent: the log every viewer replays from."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField()
    #: ms since the epoch, as in the event
    ts = models.BigIntegerField()

    class Meta:
        ordering = ["execution", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "seq"], name="event_unique_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.execution_id} #{self.seq} {self.type}"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the JSON API; only its hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    #: the first characters, to tell tokens apart in the admin
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @classmethod
    def issue(cls, *, user: models.Model, name: str = "") -> tuple[ApiToken, str]:
        raw = "sc_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=raw[:10], token_hash=_hash_token(raw))
        return token, raw

    @classmethod
    def find(cls, raw: str) -> ApiToken | None:
        return cls.objects.select_related("user").filter(token_hash=_hash_token(raw)).first()
