"""The admin is for reviewing past runs: never editable, big text deferred in lists and shown head + tail
with a link to the full text, no COUNT(*) over the whole table, and two actions: cancel, re-run.
(City-of-Helsinki/mvj batchrun/admin.py and healthchecks hc/api/admin.py are the models.)"""

from __future__ import annotations

import json
import uuid
from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from executions.auth import AuthenticatedHttpRequest
from executions.engine import wire
from executions.engine.errors import PipelineConfigError, UnknownPipelineError
from executions.engine.formatting import format_cost, format_duration
from executions.engine.loader import list_pipelines
from executions.models import ApiToken, Execution, ExecutionEvent, StageRun
from executions.services import execution_cancel, execution_enqueue, pipeline_get

PREVIEW_CHARS = 2000
#: lists count at most this many rows; past it the admin says "10,000+" rather than scan the table
COUNT_CAP = 10_000


def head_tail(text: str, limit: int = PREVIEW_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n\n… {len(text) - limit:,} characters not shown …\n\n{text[-half:]}"


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows (a bounded subquery), so a list page never scans millions."""

    @cached_property
    def count(self) -> int:
        capped = self.object_list[: COUNT_CAP + 1]
        return capped.count() if isinstance(capped, QuerySet) else len(capped)


class ReviewOnly:
    """Runs are evidence: nobody adds, edits or deletes them here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _is_changelist(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and (match.url_name or "").endswith("changelist")


def _output_preview(obj: StageRun) -> str:
    full = reverse("stage-text", args=[obj.execution_id, obj.stage_id])
    download = reverse("stage-output", args=[obj.execution_id, obj.stage_id]) + "?download=1"
    note = f"{obj.output_length:,} characters"
    if obj.output_length > PREVIEW_CHARS:
        note += f"; the middle is not shown here ({obj.output_length - PREVIEW_CHARS:,} characters)"
    return format_html(
        '<pre style="white-space:pre-wrap;max-height:24em;overflow:auto;margin:0">{}</pre>'
        '<p>{} · <a href="{}">full text</a> · <a href="{}">download</a></p>',
        head_tail(obj.output),
        note,
        full,
        download,
    )


def _portal_link(execution_id: Any, label: str = "open the live page") -> str:
    return format_html('<a href="{}">{}</a>', reverse("execution-detail", args=[execution_id]), label)


class PipelineFilter(admin.SimpleListFilter):
    """The pipelines this deployment knows, from its files: no SELECT DISTINCT over every run."""

    title = "pipeline"
    parameter_name = "pipeline"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(e.id, e.name) for e in list_pipelines(settings.PIPELINES_DIRS) if not e.shadowed]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Execution]) -> QuerySet[Execution]:
        return queryset.filter(pipeline_id=self.value()) if self.value() else queryset


class StageRunInline(ReviewOnly, admin.StackedInline):
    model = StageRun
    extra = 0
    can_delete = False
    fields = (("stage_id", "status", "provider", "model"), ("figures",), "reason", "output_preview")
    readonly_fields = ("stage_id", "status", "provider", "model", "figures", "reason", "output_preview")

    @admin.display(description="figures")
    def figures(self, obj: StageRun) -> str:
        parts = [
            f"duration {format_duration(obj.duration_ms)}",
            f"first token {format_duration(obj.time_to_first_token_ms)}",
            f"{obj.input_tokens:,} in / {obj.output_tokens:,} out tokens",
            format_cost(obj.cost, obj.cost_source or "unknown") if obj.status == "completed" else "no cost",
            f"{obj.attempts} attempt{'s' if obj.attempts != 1 else ''}",
        ]
        return " · ".join(parts)

    @admin.display(description="error / reason")
    def reason(self, obj: StageRun) -> str:
        return obj.error or "—"

    @admin.display(description="output")
    def output_preview(self, obj: StageRun) -> str:
        return _output_preview(obj)


@admin.register(Execution)
class ExecutionAdmin(ReviewOnly, admin.ModelAdmin):
    list_display = (
        "short_id",
        "pipeline_id",
        "created_by",
        "status",
        "created_at",
        "duration",
        "cost",
        "tokens",
        "live",
    )
    list_filter = ("status", PipelineFilter, "created_by", "created_at")
    search_fields = ("input", "pipeline_id", "stages__output")
    search_help_text = "An execution id, or words of its input or of a stage's output."
    list_select_related = ("created_by",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    actions = ("cancel_runs", "rerun")
    inlines = [StageRunInline]
    fieldsets = (
        (None, {"fields": (("id", "live"), ("pipeline_id", "pipeline_name"), ("status", "created_by"))}),
        ("When", {"fields": (("created_at", "started_at", "ended_at"), "duration")}),
        ("Figures", {"fields": (("cost", "tokens"), "last_seq")}),
        ("Input and outcome", {"fields": ("input_preview", "mode", "tool", "error")}),
        ("Pipeline as run", {"classes": ("collapse",), "fields": ("config",)}),
    )
    readonly_fields = (
        "id",
        "live",
        "pipeline_id",
        "pipeline_name",
        "status",
        "created_by",
        "created_at",
        "started_at",
        "ended_at",
        "duration",
        "cost",
        "tokens",
        "last_seq",
        "input_preview",
        "mode",
        "tool",
        "error",
        "config",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Execution]:
        qs = super().get_queryset(request).select_related("created_by")
        # The list never shows these, and they can be large; the change page loads them.
        return qs.defer("pipeline_config", "input") if _is_changelist(request) else qs

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Execution], search_term: str
    ) -> tuple[QuerySet[Execution], bool]:
        """An id matches exactly (SQLite stores UUIDs without dashes, so ``icontains`` would miss)."""
        term = search_term.strip()
        try:
            return queryset.filter(pk=uuid.UUID(term)), False
        except ValueError:
            pass
        if not term:
            return queryset, False
        matching = Q(input__icontains=term) | Q(pipeline_id__icontains=term)
        with_output = StageRun.objects.filter(output__icontains=term).values("execution_id")
        return queryset.filter(matching | Q(pk__in=with_output)), False

    def view_on_site(self, obj: Execution) -> str:
        return reverse("execution-detail", args=[obj.id])

    @admin.display(description="id", ordering="id")
    def short_id(self, obj: Execution) -> str:
        return str(obj.id)[:8]

    @admin.display(description="portal")
    def live(self, obj: Execution) -> str:
        return _portal_link(obj.id, "watch live" if obj.status in wire.ACTIVE_EXECUTION_STATUSES else "open")

    @admin.display(description="duration")
    def duration(self, obj: Execution) -> str:
        return format_duration(obj.duration_ms)

    @admin.display(description="cost", ordering="total_cost")
    def cost(self, obj: Execution) -> str:
        return format_cost(obj.total_cost, "tool") if obj.total_cost else "—"

    @admin.display(description="tokens in / out")
    def tokens(self, obj: Execution) -> str:
        return f"{obj.input_tokens:,} / {obj.output_tokens:,}"

    @admin.display(description="input")
    def input_preview(self, obj: Execution) -> str:
        return format_html(
            '<pre style="white-space:pre-wrap;max-height:16em;overflow:auto;margin:0">{}</pre>', head_tail(obj.input)
        )

    @admin.display(description="pipeline")
    def config(self, obj: Execution) -> str:
        text = json.dumps(obj.pipeline_config, indent=2, ensure_ascii=False)
        return format_html('<pre style="white-space:pre-wrap;margin:0">{}</pre>', text)

    @admin.action(description="Cancel the selected running or queued executions")
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[Execution]) -> None:
        reason = f"cancelled by {request.user.get_username()} (admin)"
        done = [
            e
            for e in queryset.filter(status__in=sorted(wire.ACTIVE_EXECUTION_STATUSES))
            if execution_cancel(execution=e, reason=reason)
        ]
        skipped = queryset.count() - len(done)
        self.message_user(request, f"Cancelled {len(done)} execution(s).", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} had already ended and were left as they are.", messages.WARNING)

    @admin.action(description="Re-run the selected executions with the same input")
    def rerun(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Execution]) -> None:
        started = []
        for execution in queryset:
            try:
                pipeline = pipeline_get(ref=execution.pipeline_id, allow_paths=False)
                note = ""
            except (UnknownPipelineError, PipelineConfigError):
                # Its file is gone or broken now: the copy stored with the run is what ran last time.
                pipeline, note = execution.pipeline_config, " (the pipeline as stored with the run)"
            new = execution_enqueue(
                pipeline=pipeline, input=execution.input, overrides=execution.overrides, user=request.user
            )
            started.append(format_html("{}{}", _portal_link(new.id, str(new.id)[:8]), note))
        if started:
            links = format_html_join(", ", "{}", ((s,) for s in started))
            self.message_user(request, format_html("Started {} run(s): {}", len(started), links), messages.SUCCESS)


@admin.register(StageRun)
class StageRunAdmin(ReviewOnly, admin.ModelAdmin):
    list_display = ("execution", "index", "stage_id", "status", "provider", "model", "cost", "output_length")
    list_filter = ("status", "provider")
    search_fields = ("stage_id",)
    list_select_related = ("execution",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    exclude = ("output", "data")
    readonly_fields = ("output_preview",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[StageRun]:
        qs = super().get_queryset(request).defer("data")
        return qs.defer("output") if _is_changelist(request) else qs

    def view_on_site(self, obj: StageRun) -> str:
        return reverse("execution-detail", args=[obj.execution_id])

    @admin.display(description="output")
    def output_preview(self, obj: StageRun) -> str:
        return _output_preview(obj)


@admin.register(ExecutionEvent)
class ExecutionEventAdmin(ReviewOnly, admin.ModelAdmin):
    list_display = ("execution", "seq", "type", "ts")
    list_filter = ("type",)
    show_full_result_count = False
    paginator = CappedCountPaginator


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at")
    readonly_fields = ("prefix", "token_hash", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued by `manage.py createapitoken`, which shows the secret once
