"""The portal's pages (ARCHITECTURE.md "HTTP"): thin views that parse, authorise, call a service or a
selector, render. Another user's execution answers 404, exactly like an unknown id."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from executions.auth import can_view_all
from executions.engine.errors import PipelineConfigError, UnknownPipelineError
from executions.engine.loader import PipelineEntry, find_pipeline, list_pipelines
from executions.engine.providers.cli import AGENT_TOOLS, installed_tools
from executions.engine.resolve import merge_model, model_label
from executions.engine.types import RunOverrides
from executions.engine.wire import FINAL_STAGE_STATUSES
from executions.models import Execution, ExecutionStatus
from executions.portal.forms import RunForm
from executions.portal.output_views import markdown_update, terminal_update
from executions.portal.presenters import ExecutionState
from executions.selectors import (
    execution_get_for_user,
    execution_history,
    execution_reruns,
    execution_run_state,
    stage_output_full,
)
from executions.services import execution_cancel, execution_enqueue

#: the page shows at most this much of a stage's output; the rest is a link away (ARCHITECTURE.md)
OUTPUT_WINDOW = 64 * 1024
HISTORY_PAGE = 25
TEXT_PAGE_LINES = 1000
SEARCH_MAX_HITS = 200


def _execution_or_404(request: HttpRequest, execution_id: UUID) -> Execution:
    execution = execution_get_for_user(user=request.user, execution_id=execution_id)
    if execution is None:
        raise Http404("no such execution")
    return execution


def output_window(text: str, length: int) -> tuple[str, int]:
    """(what the page shows, how many characters come before it): all of an output up to the window,
    else its latest part, starting at a line when one starts near the cut."""
    if length <= OUTPUT_WINDOW:
        return text, 0
    tail = text[-OUTPUT_WINDOW:]
    newline = tail.find("\n", 0, 8192)
    shown = tail[newline + 1 :] if newline >= 0 else tail
    return shown, length - len(shown)


# --- pipelines --------------------------------------------------------------------------------------


def _stage_rows(entry: PipelineEntry) -> list[dict[str, Any]]:
    config = entry.config or {}
    defaults = config.get("defaults") or {}
    rows = []
    for stage in config.get("stages", []):
        model = merge_model(defaults.get("model"), stage.get("model"))
        conditions = [
            (label, stage[key])
            for key, label in (("skipIf", "Skip if"), ("runIf", "Run only if"), ("earlyExit", "End the run early if"))
            if stage.get(key)
        ]
        rows.append(
            {
                "id": stage["id"],
                "name": stage.get("name", stage["id"]),
                "type": stage.get("type", ""),
                "provider": model.get("provider", ""),
                "model": model_label(model),
                "max_tokens": model.get("maxTokens"),
                "temperature": model.get("temperature"),
                "system": stage.get("system", defaults.get("system")),
                "prompt": stage.get("prompt", ""),
                "output": stage.get("output") or {},
                "conditions": conditions,
                "continue_on_error": stage.get("continueOnError", False),
            }
        )
    return rows


@login_required
@require_GET
def pipeline_list(request: HttpRequest) -> HttpResponse:
    entries = [e for e in list_pipelines(settings.PIPELINES_DIRS) if not e.shadowed]
    pipelines = [{"entry": e, "stages": _stage_rows(e)} for e in entries]
    return render(request, "executions/pipeline_list.html", {"pipelines": pipelines})


def _runnable_tools() -> list[str]:
    return [name for name, status in installed_tools().items() if status.runnable and name in AGENT_TOOLS]


def _pipeline_page(request: HttpRequest, entry: PipelineEntry, form: RunForm, status: int = 200) -> HttpResponse:
    context = {"entry": entry, "stages": _stage_rows(entry), "form": form}
    return render(request, "executions/pipeline_detail.html", context, status=status)


def _entry_or_404(pipeline_id: str) -> PipelineEntry:
    try:
        return find_pipeline(pipeline_id, settings.PIPELINES_DIRS, allow_paths=False)
    except UnknownPipelineError as exc:
        raise Http404(exc.message) from None


@login_required
@require_GET
def pipeline_detail(request: HttpRequest, pipeline_id: str) -> HttpResponse:
    entry = _entry_or_404(pipeline_id)
    return _pipeline_page(request, entry, RunForm(tools=_runnable_tools()))


@login_required
@require_POST
def pipeline_run(request: HttpRequest, pipeline_id: str) -> HttpResponse:
    entry = _entry_or_404(pipeline_id)
    form = RunForm(request.POST, tools=_runnable_tools())
    if entry.config is None:
        form.add_error(None, "This pipeline is invalid and cannot run until its problems are fixed.")
    if not form.is_valid() or entry.config is None:
        return _pipeline_page(request, entry, form, status=400)
    mode, tool = form.overrides
    try:
        execution = execution_enqueue(
            pipeline=entry.config,
            input=form.cleaned_data["input"],
            overrides=RunOverrides(mode=mode, tool=tool),
            user=request.user,
        )
    except (ValueError, PipelineConfigError) as exc:
        form.add_error(None, str(exc))
        return _pipeline_page(request, entry, form, status=400)
    return HttpResponseRedirect(reverse("execution-detail", args=[execution.id]), status=303)


# --- executions -------------------------------------------------------------------------------------


@login_required
@require_GET
def execution_list(request: HttpRequest) -> HttpResponse:
    pipeline = request.GET.get("pipeline", "").strip()
    status = request.GET.get("status", "").strip()
    username = request.GET.get("user", "").strip() if can_view_all(request.user) else ""
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    errors = []
    if status and status != "active" and status not in ExecutionStatus.values:
        errors.append(f"Unknown status {status!r}: showing every status.")
        status = ""
    rows, has_next = execution_history(
        user=request.user,
        pipeline=pipeline or None,
        status=status or None,
        username=username or None,
        offset=(page - 1) * HISTORY_PAGE,
        limit=HISTORY_PAGE,
    )
    filters = {k: v for k, v in (("pipeline", pipeline), ("status", status), ("user", username)) if v}
    pipeline_ids = sorted({e.id for e in list_pipelines(settings.PIPELINES_DIRS)} | ({pipeline} if pipeline else set()))
    context = {
        "rows": rows,
        "page": page,
        "newer_url": f"?{urlencode({**filters, 'page': page - 1})}" if page > 1 else "",
        "older_url": f"?{urlencode({**filters, 'page': page + 1})}" if has_next else "",
        "filters": filters,
        "pipeline_ids": pipeline_ids,
        "statuses": [("active", "queued or running"), *ExecutionStatus.choices],
        "users": get_user_model().objects.order_by("username").values_list("username", flat=True)
        if can_view_all(request.user)
        else [],
        "errors": errors,
    }
    return render(request, "executions/execution_list.html", context)


@login_required
@require_GET
def execution_detail(request: HttpRequest, execution_id: UUID) -> HttpResponse:
    execution = _execution_or_404(request, execution_id)
    state = execution_run_state(execution=execution, state_class=ExecutionState)
    active = state.is_active
    # Open: what there is to read, and the stage running or about to run. That one is open before it
    # starts, so its panel opening never pushes the page down while the run streams; a stage further
    # down opens itself when it starts.
    upcoming = next((s.id for s in state.stages if not s.is_final), None) if active else None
    ids = [s.id for s in state.stages]
    rerun = execution.parent_id and execution.from_stage in ids
    reused = set(ids[: ids.index(execution.from_stage)]) if rerun else set()
    cards = []
    for stage in state.stages:
        length = stage.output_length
        shown, before = output_window(stage.text.text() if stage.text is not None else "", length)
        cards.append(
            {
                "stage": stage,
                "shown": shown,
                "before": before,
                "length": length,
                "open": stage.id == upcoming or length > 0 or stage.status == "failed",
                # a re-run's stages before its fromStage are its parent's, replayed (executions/reruns.py)
                "reused_from": str(execution.parent_id) if stage.id in reused else "",
            }
        )
    context = {
        "execution": execution,
        "state": state,
        "cards": cards,
        "cursor": state.last_seq,
        "active": active,
        "window": OUTPUT_WINDOW,
        "reruns": execution_reruns(user=request.user, execution=execution),
    }
    return render(request, "executions/execution_detail.html", context)


@login_required
@require_POST
def execution_cancel_view(request: HttpRequest, execution_id: UUID) -> HttpResponse:
    execution = _execution_or_404(request, execution_id)
    cancelled = execution_cancel(execution=execution, reason=f"cancelled by {request.user.get_username()}")
    if request.htmx:  # type: ignore[attr-defined]
        if not cancelled:
            return HttpResponse(f"The run has already ended ({execution.status}).", status=409)
        return HttpResponse(status=204)  # the page's stream shows the end of the run
    return HttpResponseRedirect(reverse("execution-detail", args=[execution.id]), status=303)


# --- a stage's output -------------------------------------------------------------------------------


def _stage_text(request: HttpRequest, execution_id: UUID, stage_id: str) -> tuple[Execution, str]:
    execution = _execution_or_404(request, execution_id)
    text = stage_output_full(execution=execution, stage_id=stage_id)
    if text is None:
        raise Http404("no such stage")
    return execution, text


def _int(request: HttpRequest, name: str, default: int) -> int:
    try:
        return max(0, int(request.GET.get(name, default)))
    except ValueError:
        return default


@login_required
@require_GET
def stage_output(request: HttpRequest, execution_id: UUID, stage_id: str) -> HttpResponse:
    """The full text as ``text/plain``; ``?download=1`` as a file; ``?offset=&limit=`` one part of it
    (in characters), for clients that page through a large output."""
    execution, text = _stage_text(request, execution_id, stage_id)
    if "offset" in request.GET or "limit" in request.GET:
        offset = _int(request, "offset", 0)
        limit = _int(request, "limit", OUTPUT_WINDOW) or OUTPUT_WINDOW
        text = text[offset : offset + limit]
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{execution.pipeline_id}-{stage_id}.txt"'
    return response


@login_required
@require_GET
def stage_text(request: HttpRequest, execution_id: UUID, stage_id: str) -> HttpResponse:
    """A large output on the server: one page of lines at a time, or the lines matching a search."""
    execution, text = _stage_text(request, execution_id, stage_id)
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # a text ending in a newline has no empty last line to show
    pages = max(1, -(-len(lines) // TEXT_PAGE_LINES))
    query = request.GET.get("q", "")
    hits: list[tuple[int, int, str]] = []
    truncated = False
    if query:
        needle = query.casefold()
        for number, line in enumerate(lines, start=1):
            if needle in line.casefold():
                if len(hits) == SEARCH_MAX_HITS:
                    truncated = True
                    break
                hits.append((number, (number - 1) // TEXT_PAGE_LINES + 1, line[:500]))
    page = min(max(1, _int(request, "page", pages)), pages)
    first = (page - 1) * TEXT_PAGE_LINES
    context = {
        "execution": execution,
        "stage_id": stage_id,
        "length": len(text),
        "line_count": len(lines),
        "page": page,
        "pages": pages,
        "page_lines": list(enumerate(lines[first : first + TEXT_PAGE_LINES], start=first + 1)),
        "query": query,
        "hits": hits,
        "truncated": truncated,
    }
    return render(request, "executions/stage_text.html", context)


@login_required
@require_GET
def stage_view(request: HttpRequest, execution_id: UUID, stage_id: str) -> HttpResponse:
    """The Markdown or terminal view of a stage, from the browser's cursor on (see output_views)."""
    execution = _execution_or_404(request, execution_id)
    stage = execution.stages.filter(stage_id=stage_id).only("status").first()
    text = stage_output_full(execution=execution, stage_id=stage_id) if stage else None
    if stage is None or text is None:
        raise Http404("no such stage")
    final = stage.status in FINAL_STAGE_STATUSES or execution.is_final
    kind = request.GET.get("format", "markdown")
    cursor = request.GET.get("cursor", "")
    if kind == "terminal":
        update = terminal_update(text, cursor, final=final)
    elif kind == "markdown":
        update = markdown_update(text, cursor, final=final)
    else:
        return HttpResponse("format is markdown or terminal", status=400, content_type="text/plain")
    context = {"update": update, "stage_id": stage_id, "kind": kind, "final": final}
    # Stripped: whatever is outside the fragment's elements would be appended to the view as text.
    html = render_to_string("executions/partials/stage_view.html", context, request=request).strip()
    return HttpResponse(html)
