"""ASGI entry point for Daphne: Django's HTTP handling through the Channels protocol router."""

from __future__ import annotations

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipelines_site.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (Django must be set up first)


def _daphne_backlog(send: Any) -> Any:
    """How many bytes Daphne holds unsent for this connection, or None when that cannot be known.

    Daphne writes every ASGI body message into Twisted's transport at once, with no back-pressure to
    the application, so a viewer that stops reading would grow the web process without bound. The
    SSE view reads this figure and cuts such a viewer off (it resumes from its cursor). Daphne's send
    callable is ``partial(server.handle_reply, protocol)``; the protocol's transport holds the buffer.
    The figure's ``abort`` drops the connection and that buffer with it: a viewer that never reads
    would otherwise pin what was written for it until it closes its socket, which may be never.
    """
    protocol = (getattr(send, "args", None) or (None,))[0]
    channel = getattr(protocol, "channel", None)
    transport = getattr(channel, "transport", None)
    if transport is None or not hasattr(transport, "dataBuffer"):
        return None

    def backlog() -> int:
        return len(transport.dataBuffer) - getattr(transport, "offset", 0) + getattr(transport, "_tempDataLen", 0)

    backlog.abort = getattr(transport, "abortConnection", None)  # type: ignore[attr-defined]
    return backlog


async def http_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    backlog = _daphne_backlog(send)
    if backlog is not None:
        scope = {**scope, "stagecast.send_backlog": backlog}
    await django_asgi_app(scope, receive, send)


application = ProtocolTypeRouter({"http": http_app})
