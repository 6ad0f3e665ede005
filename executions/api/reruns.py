"""``POST /api/executions/<id>/rerun``: a re-run of a run the caller may see (the contracts' table)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from executions.api.body import MAX_INPUT_CHARS, json_object_body, run_accepted, text_field_error
from executions.auth import AuthenticatedHttpRequest, api_error, api_view
from executions.reruns import EDITABLE, RerunRefused, execution_rerun
from executions.selectors import execution_get_for_user

SHAPE = "{fromStage?, input?, stages?: {<stageId>: {prompt?, system?, model?}}}"


def _edits_error(stages: Any) -> HttpResponse | None:
    if not isinstance(stages, dict):
        return api_error(400, "bad_body", "stages must be an object: {<stageId>: {prompt?, system?, model?}}")
    for stage_id, edit in stages.items():
        if not isinstance(edit, dict):
            return api_error(400, "bad_body", f"stages.{stage_id} must be an object: {{prompt?, system?, model?}}")
        unknown = sorted(set(edit) - set(EDITABLE))
        if unknown:
            allowed = ", ".join(EDITABLE)
            return api_error(
                400, "unknown_field", f"stages.{stage_id}: unknown field(s) {', '.join(unknown)}; allowed: {allowed}"
            )
        for key in ("prompt", "system"):
            if key in edit and (error := text_field_error(edit[key], f"stages.{stage_id}.{key}", MAX_INPUT_CHARS)):
                return error
        if "model" in edit and not isinstance(edit["model"], dict):
            return api_error(400, "bad_body", f"stages.{stage_id}.model must be an object, e.g. {{provider, model}}")
    return None


@api_view(("POST",))
def execution_rerun_view(request: AuthenticatedHttpRequest, execution_id: str) -> HttpResponse:
    parent = execution_get_for_user(user=request.user, execution_id=execution_id)
    if parent is None:
        return api_error(404, "not_found", "no such execution")
    body, error = json_object_body(request, SHAPE)
    if error is not None or body is None:
        return error or api_error(400, "bad_body", f"the body must be a JSON object: {SHAPE}")
    unknown = sorted(set(body) - {"fromStage", "input", "stages"})
    if unknown:
        return api_error(
            400, "unknown_field", f"unknown field(s): {', '.join(unknown)}; allowed: fromStage, input, stages"
        )
    from_stage = body.get("fromStage")
    if from_stage is not None and not isinstance(from_stage, str):
        return api_error(400, "bad_body", "fromStage must be a stage id (a string)")
    if "input" in body and (error := text_field_error(body["input"], "input", MAX_INPUT_CHARS)):
        return error
    if "stages" in body and (error := _edits_error(body["stages"])):
        return error
    try:
        execution = execution_rerun(
            parent=parent, user=request.user, from_stage=from_stage, input=body.get("input"), stages=body.get("stages")
        )
    except RerunRefused as refused:
        return api_error(refused.status, refused.code, refused.message)
    return run_accepted(execution)
