"""``GET /api/executions/compare?ids=a,b[,c,d]``: runs the caller may see, side by side (executions/compare.py)."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse

from executions.auth import AuthenticatedHttpRequest, api_error, api_view
from executions.compare import CompareRefused, compare_executions, compare_ids_parse, compare_json


@api_view(("GET",))
def executions_compare(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        ids = compare_ids_parse(request.GET.getlist("ids"))
        comparison = compare_executions(user=request.user, ids=ids)
    except CompareRefused as refused:
        return api_error(refused.status, refused.code, refused.message)
    return JsonResponse(compare_json(comparison))
