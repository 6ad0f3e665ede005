"""Request bodies at the API's boundary (JSON objects only, within the size limit, text that any store
and stream can hold; every refusal the error envelope with what was wrong and where), and the run
contract's answer, which a run and a re-run share."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from executions.auth import api_error
from executions.engine.surrogates import has_surrogates
from executions.models import Execution

MAX_INPUT_CHARS = 1_000_000


def json_object_body(request: HttpRequest, shape: str) -> tuple[dict[str, Any] | None, HttpResponse | None]:
    """The body as a JSON object, or the error to answer (415, 413, 400). ``shape`` names the fields."""
    content_type = request.content_type or ""
    if content_type != "application/json":
        return None, api_error(415, "unsupported_media_type", "send the body as application/json")
    try:
        raw = request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return None, api_error(413, "body_too_large", f"the request body is over {limit:,} bytes")
    try:
        body = json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, api_error(400, "bad_json", f"the body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        return None, api_error(400, "bad_body", f"the body must be a JSON object: {shape}")
    return body, None


def text_field_error(value: Any, where: str, max_chars: int) -> HttpResponse | None:
    """None when ``value`` is text a run can take; else the error naming ``where``."""
    if not isinstance(value, str):
        return api_error(400, "bad_input", f"{where} must be a string")
    if has_surrogates(value):
        # JSON may escape half of a UTF-16 pair ("\ud83d"); no UTF-8 store or stream can hold it.
        return api_error(400, "bad_input", f"{where} must be Unicode text; it holds a lone UTF-16 surrogate")
    if len(value) > max_chars:
        return api_error(413, "input_too_long", f"{where} is over {max_chars:,} characters")
    return None


def run_accepted(execution: Execution) -> JsonResponse:
    """``202 {executionId, url, eventsUrl}``: the execution is queued; follow it there."""
    return JsonResponse(
        {
            "executionId": str(execution.id),
            "url": f"/executions/{execution.id}/",
            "eventsUrl": f"/api/executions/{execution.id}/events",
        },
        status=202,
    )
