"""The JSON API (ARCHITECTURE.md "HTTP"): thin views that parse, authorise, call a service, answer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from executions.api.body import MAX_INPUT_CHARS, json_object_body, run_accepted, text_field_error
from executions.auth import AuthenticatedHttpRequest, api_error, api_view
from executions.engine.errors import PipelineConfigError, UnknownPipelineError
from executions.engine.loader import PipelineEntry, find_pipeline, list_pipelines
from executions.engine.types import CLI_TOOLS, RUN_MODES, RunOverrides
from executions.models import ExecutionStatus
from executions.selectors import execution_get_for_user, execution_list, execution_snapshot, stage_output_full
from executions.services import execution_cancel, execution_enqueue, pipeline_get


def _pipeline_json(entry: PipelineEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "name": entry.name,
        "description": entry.description,
        "builtin": entry.builtin,
        "valid": not entry.issues,
        "stages": len(entry.config["stages"]) if entry.config else None,
        "issues": [{"path": p, "message": m} for p, m in entry.issues],
    }


@api_view(("GET",))
def pipelines(request: AuthenticatedHttpRequest) -> HttpResponse:
    entries = [e for e in list_pipelines(settings.PIPELINES_DIRS) if not e.shadowed]
    return JsonResponse({"pipelines": [_pipeline_json(e) for e in entries]})


@api_view(("GET",))
def pipeline_detail(request: AuthenticatedHttpRequest, pipeline_id: str) -> HttpResponse:
    try:
        entry = find_pipeline(pipeline_id, settings.PIPELINES_DIRS, allow_paths=False)
    except UnknownPipelineError as exc:
        return api_error(404, "unknown_pipeline", exc.message)
    return JsonResponse({**_pipeline_json(entry), "config": entry.config})


def _parse_run_body(request: HttpRequest) -> tuple[dict[str, Any] | None, HttpResponse | None]:
    body, error = json_object_body(request, "{input, mode?, tool?}")
    if error is not None or body is None:
        return None, error
    unknown = sorted(set(body) - {"input", "mode", "tool"})
    if unknown:
        return None, api_error(
            400, "unknown_field", f"unknown field(s): {', '.join(unknown)}; allowed: input, mode, tool"
        )
    if "input" not in body:
        return None, api_error(400, "missing_input", "input is required (the text the pipeline runs on)")
    input_error = text_field_error(body["input"], "input", MAX_INPUT_CHARS)
    if input_error is not None:
        return None, input_error
    mode, tool = body.get("mode"), body.get("tool")
    if mode is not None and mode not in RUN_MODES:
        return None, api_error(400, "bad_mode", f"mode must be one of {', '.join(RUN_MODES)}")
    if tool is not None and tool not in CLI_TOOLS:
        return None, api_error(400, "bad_tool", f"tool must be one of {', '.join(CLI_TOOLS)}")
    if tool is not None and mode not in (None, "cli"):
        return None, api_error(400, "bad_tool", "tool goes with mode cli")
    return body, None


@api_view(("POST",))
def pipeline_run(request: AuthenticatedHttpRequest, pipeline_id: str) -> HttpResponse:
    body, error = _parse_run_body(request)
    if error is not None:
        return error
    assert body is not None
    try:
        pipeline = pipeline_get(ref=pipeline_id, allow_paths=False)
    except UnknownPipelineError as exc:
        return api_error(404, "unknown_pipeline", exc.message)
    except PipelineConfigError as exc:
        issues = [{"path": p, "message": m} for p, m in exc.issues]
        return api_error(400, "invalid_pipeline", f"pipeline {pipeline_id!r} is invalid", issues=issues)
    mode = body.get("mode") or ("cli" if body.get("tool") else None)
    execution = execution_enqueue(
        pipeline=pipeline,
        input=body["input"],
        overrides=RunOverrides(mode=mode, tool=body.get("tool")),
        user=request.user,
    )
    return run_accepted(execution)


def _int_param(request: HttpRequest, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw)  # ValueError → 400 in the caller
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}")
    return value


@api_view(("GET",))
def executions(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        limit = _int_param(request, "limit", 50, 1, 500)
        offset = _int_param(request, "offset", 0, 0, 10**9)
    except ValueError as exc:
        return api_error(400, "bad_parameter", str(exc) if "between" in str(exc) else "limit and offset are integers")
    status = request.GET.get("status") or None
    if status is not None and status not in ExecutionStatus.values:
        return api_error(400, "bad_parameter", f"status must be one of {', '.join(ExecutionStatus.values)}")
    pipeline = request.GET.get("pipeline") or request.GET.get("pipelineId") or None
    rows, total = execution_list(user=request.user, status=status, pipeline=pipeline, limit=limit, offset=offset)
    return JsonResponse({"executions": rows, "total": total})


@api_view(("GET",))
def execution_detail(request: AuthenticatedHttpRequest, execution_id: str) -> HttpResponse:
    execution = execution_get_for_user(user=request.user, execution_id=execution_id)
    if execution is None:
        return api_error(404, "not_found", "no such execution")
    return JsonResponse(execution_snapshot(execution=execution))


@api_view(("GET",))
def stage_output(request: AuthenticatedHttpRequest, execution_id: str, stage_id: str) -> HttpResponse:
    execution = execution_get_for_user(user=request.user, execution_id=execution_id)
    text = None if execution is None else stage_output_full(execution=execution, stage_id=stage_id)
    if execution is None or text is None:
        return api_error(404, "not_found", "no such execution or stage")
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="{execution.pipeline_id}-{stage_id}.txt"'
    return response


@api_view(("POST",))
def execution_cancel_view(request: AuthenticatedHttpRequest, execution_id: str) -> HttpResponse:
    execution = execution_get_for_user(user=request.user, execution_id=execution_id)
    if execution is None:
        return api_error(404, "not_found", "no such execution")
    if not execution_cancel(execution=execution, reason=f"cancelled by {request.user.get_username()}"):
        return api_error(409, "not_running", f"the execution has already ended ({execution.status})")
    return JsonResponse({"ok": True, "executionId": str(execution.id)}, status=202)


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    checks: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = True
    except Exception as exc:  # noqa: BLE001 - health reports, never raises
        checks["database"] = False
        checks["databaseError"] = str(exc)
    try:
        from executions.live.relay import sync_redis

        checks["redis"] = bool(sync_redis().ping())
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = False
        checks["redisError"] = str(exc)
    ok = checks["database"] and checks["redis"]
    return JsonResponse({"ok": ok, **checks}, status=200 if ok else 503)
