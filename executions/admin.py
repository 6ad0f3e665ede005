"""The admin is for review: runs are read-only, big text is deferred in lists and shown head + tail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from .models import ApiToken, Execution, ExecutionEvent, StageRun

PREVIEW_CHARS = 2000


def head_tail(text: str, limit: int = PREVIEW_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n\n… {len(text) - limit:,} characters not shown …\n\n{text[-half:]}"


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StageRunInline(ReadOnlyMixin, admin.TabularInline):
    model = StageRun
    extra = 0
    can_delete = False
    fields = ("index", "stage_id", "provider", "model", "status", "output_preview", "cost", "error")
    readonly_fields = fields

    @admin.display(description="output")
    def output_preview(self, obj: StageRun) -> str:
        style = "white-space:pre-wrap;max-height:20em;overflow:auto"
        return format_html("<pre style='{}'>{}</pre>", style, head_tail(obj.output))


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "pipeline_id", "created_by", "status", "created_at", "duration", "total_cost", "tokens")
    list_filter = ("status", "pipeline_id", "created_by", "created_at")
    search_fields = ("id", "input", "pipeline_id")
    date_hierarchy = "created_at"
    show_full_result_count = False  # no COUNT(*) over a big table on every page
    inlines = [StageRunInline]
    exclude = ("pipeline_config",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Execution]:
        return super().get_queryset(request).select_related("created_by").defer("pipeline_config", "input")

    @admin.display(description="duration")
    def duration(self, obj: Execution) -> str:
        ms = obj.duration_ms
        return "—" if ms is None else f"{ms / 1000:.1f} s"

    @admin.display(description="tokens")
    def tokens(self, obj: Execution) -> str:
        return f"{obj.input_tokens:,} in / {obj.output_tokens:,} out"


@admin.register(StageRun)
class StageRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("execution", "index", "stage_id", "status", "provider", "model", "cost")
    list_filter = ("status", "provider")
    search_fields = ("stage_id", "execution__id")
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[StageRun]:
        return super().get_queryset(request).defer("output", "data")


@admin.register(ExecutionEvent)
class ExecutionEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("execution", "seq", "type", "ts")
    list_filter = ("type",)
    show_full_result_count = False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at")
    readonly_fields = ("prefix", "token_hash", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued by `manage.py createapitoken`, which shows the secret once
