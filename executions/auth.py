"""Who may call the JSON API, and which executions a user may see.

Users see their own executions; holders of ``executions.view_all_executions`` (staff by default) see
all. Anything else answers 404, exactly like an unknown id, so ids of other users' runs leak nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, Literal, ParamSpec, cast

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from executions.models import ApiToken, Execution

VIEW_ALL_PERMISSION = "executions.view_all_executions"

P = ParamSpec("P")


class AuthenticatedHttpRequest(HttpRequest):
    """A request whose user has signed in: what ``api_view`` and the admin hand their views (the
    django-stubs recipe: the type says what the decorator checked)."""

    user: User


def api_error(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)


def can_view_all(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.has_perm(VIEW_ALL_PERMISSION)))


def can_view(user: User | AnonymousUser, execution: Execution) -> bool:
    """One execution, by the rule of ``visible_executions``; the owner first, so their own run costs no
    permission queries (every SSE viewer's connection is checked this way)."""
    return bool(user.is_authenticated and (execution.created_by_id == user.pk or can_view_all(user)))


def visible_executions(user: User | AnonymousUser) -> QuerySet[Execution]:
    if can_view_all(user):
        return Execution.objects.all()
    if not user.is_authenticated:
        return Execution.objects.none()
    return Execution.objects.filter(created_by=user)


def _bearer_user(request: HttpRequest) -> User | Literal[False] | None:
    """The token's user; None when no bearer header was sent; False when one was sent but is bad."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return False
    token = ApiToken.find(raw.strip())
    if token is None or not token.user.is_active:
        return False
    now = datetime.now(UTC)
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        return api_error(403, "csrf_failed", f"CSRF check failed: {reason}")


def _csrf_failure(request: HttpRequest) -> HttpResponse | None:
    check = _CsrfCheck(lambda req: HttpResponse())
    check.process_request(request)
    return check.process_view(request, lambda req: HttpResponse(), (), {})


def api_view(
    methods: tuple[str, ...],
) -> Callable[
    [Callable[Concatenate[AuthenticatedHttpRequest, P], HttpResponse]],
    Callable[Concatenate[HttpRequest, P], HttpResponse],
]:
    """A JSON API view: session (with CSRF on writes) or ``Authorization: Bearer``; JSON errors always.

    The wrapped view is exempt from Django's CSRF middleware, because bearer requests carry no cookie;
    session requests are checked here instead, so a session POST without its token still fails (403).
    """

    def decorate(
        view: Callable[Concatenate[AuthenticatedHttpRequest, P], HttpResponse],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            if request.method not in methods:
                response = api_error(405, "method_not_allowed", f"use {' or '.join(methods)}")
                response["Allow"] = ", ".join(methods)
                return response
            user = _bearer_user(request)
            if user is False:
                return api_error(401, "bad_credentials", "the bearer token is not valid")
            if user is not None:
                request.user = user
            elif not request.user.is_authenticated:
                return api_error(401, "not_authenticated", "sign in, or send Authorization: Bearer <token>")
            elif request.method not in ("GET", "HEAD", "OPTIONS"):
                failure = _csrf_failure(request)
                if failure is not None:
                    return failure
            return view(cast(AuthenticatedHttpRequest, request), *args, **kwargs)  # signed in: checked above

        return csrf_exempt(wrapper)

    return decorate
