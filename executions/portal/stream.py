"""The execution page's live stream: the same events as the JSON endpoint, for htmx and the page's script.

It reuses :class:`executions.live.sse.EventStream` (cursor, replay from the database, live reads from
Redis, heartbeats, the lease check), and renders each event with the fragment templates the page itself
includes (STYLE.md rule 6). Named events:

- ``out-<stageId>``: a chunk of a stage's text as a JSON string (see :func:`text_message`); the page's
  script appends it to the stage's ``<pre>`` as a text node, once per burst. The first text of an
  attempt is followed, in the same write and with the same id, by a ``state`` message with the
  stage's head (its time to first token);
- ``state``: out-of-band fragments (a stage's head and note, the run's head, the announcement), which
  htmx swaps in itself;
- ``done``: the final state read back from the database (the worker stores everything before it
  publishes the final event), then the browser closes the stream (``sse-close="done"``).

Every message carries the event's seq as its ``id``: the browser drops text at or below the last id it
has applied (and fragments below it), and keeps that id in the ``sse-connect`` URL, since htmx-ext-sse 2
forgets ``Last-Event-ID`` when it rebuilds the EventSource (bigskysoftware/htmx-extensions#184).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string

from executions.engine.wire import FINAL_EVENT_TYPES
from executions.live.sse import EventStream
from executions.portal.presenters import ExecutionState, StageState
from executions.selectors import (
    execution_get_for_user,
    execution_run_state,
    executions_active_count,
    stage_first_token_ts,
)

log = logging.getLogger(__name__)


def sse_message(seq: int, name: str, html: str) -> bytes:
    """One SSE message of HTML fragments: each line gets its own ``data:`` (the browser joins them with
    LF), and a CR, which SSE would take for a line end, goes as the character reference HTML reads as CR."""
    lines = html.replace("\r", "&#13;").split("\n")
    data = "".join(f"data: {line}\n" for line in lines)
    return f"id: {seq}\nevent: {name}\n{data}\n".encode("utf-8", "replace")


def text_message(seq: int, stage_id: str, text: str) -> bytes:
    """A chunk of a stage's text: a JSON string on one data line, whatever the text holds (a raw CR or
    LF would end an SSE line), with ``<``, ``>`` and ``&`` as JSON escapes (as Django's ``json_script``
    writes them), so that it is inert as HTML: model text never becomes markup, even if htmx were
    handed it. The page decodes it with the browser's ``JSON.parse`` and appends it as a text node:
    exactly the model's text, multi-byte and astral characters as themselves (UTF-8).

    On the per-chunk path (tens of times a second per viewer), so C-level calls only: ``replace``, not
    ``str.translate``, which is 20 times slower here."""
    data = json.dumps(text, ensure_ascii=False).replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return f"id: {seq}\nevent: out-{stage_id}\ndata: {data}\n\n".encode("utf-8", "replace")


_BETWEEN_TAGS = re.compile(r">\s+<")


def tight(html: str) -> str:
    """Fragments without the templates' layout whitespace between tags: fewer bytes and data lines.
    Model text is escaped, so it never contains a ``<`` this could touch."""
    return _BETWEEN_TAGS.sub("><", html).strip()


MERGE_MAX_CHARS = 64 * 1024


def _merged(items: list[tuple[bytes, tuple[str, int, str] | None]]) -> list[bytes]:
    """The frames in order, runs of one stage's text joined into one message (with the last seq as its
    id: the browser's cursor then stands after all of them, exactly as if it had seen each)."""
    frames: list[bytes] = []
    run: list[tuple[str, int, str]] = []

    def flush() -> None:
        if run:
            frames.append(text_message(run[-1][1], run[0][0], "".join(text for _, _, text in run)))
            run.clear()

    for chunk, text in items:
        if not chunk:
            continue
        if text is None:
            flush()
            frames.append(chunk)
            continue
        if run and (run[0][0] != text[0] or sum(len(t) for _, _, t in run) > MERGE_MAX_CHARS):
            flush()
        run.append(text)
    flush()
    return frames


def render_state_fragments(state: ExecutionState, stages: list[StageState], *, announce: str, reset: int = 0) -> str:
    context = {"execution": state, "changed": stages, "announce": announce, "reset": reset, "oob": True}
    return tight(render_to_string("executions/partials/live_state.html", context))


def _announcement(event: dict[str, Any], stage: StageState | None) -> str:
    kind = event["type"]
    if stage is None:
        return ""
    return {
        "stage:started": f"Stage {stage.name} started.",
        "stage:retrying": f"Stage {stage.name} is retrying (attempt {event.get('attempt')}).",
        "stage:completed": f"Stage {stage.name} completed.",
        "stage:failed": f"Stage {stage.name} failed.",
        "stage:skipped": f"Stage {stage.name} was skipped.",
    }.get(kind, "")


class PageStream(EventStream):
    """One viewer of the execution page. ``state`` is what the page showed at ``cursor``; each event
    updates it and goes out as the fragments it changed. The per-chunk path encodes and frames the text,
    nothing more: it runs tens of times a second per viewer."""

    def __init__(self, *, state: ExecutionState, user: Any, cursor: int, final_seq: int | None, backlog: Any) -> None:
        super().__init__(state.id, cursor, running=state.status == "running", final_seq=final_seq, backlog=backlog)
        self.state = state
        self.user = user
        self.final_event: dict[str, Any] | None = None
        #: (stage id, seq, text) of the text frame just made, for merging (see __aiter__)
        self._text: tuple[str, int, str] | None = None

    def frame(self, event: dict[str, Any]) -> bytes:
        kind, seq = event["type"], event["seq"]
        if kind == "stage:output":
            stage_id = event["stageId"]
            stage = self.state.stage(stage_id)
            before = stage.first_ms if stage is not None else None
            self.state.apply(event)
            # The reducer sets first_ms on an attempt's first text: that is when the head has news.
            first = stage is not None and before is None and stage.first_ms is not None
            if not event["output"]:
                return b""  # an empty last chunk changes nothing on the page
            message = text_message(seq, stage_id, event["output"])
            if first and stage is not None:
                # The first text of an attempt: the head learns its time to first token from a fragment
                # right after the text, with the same id (the page applies a fragment at its cursor
                # again, never text), in the same write so that no reconnect falls between the two.
                head = render_to_string("executions/partials/stage_head.html", {"stage": stage, "oob": True})
                return message + sse_message(seq, "state", tight(head))
            self._text = (stage_id, seq, event["output"])  # later text is merged with text only
            return message
        if kind in FINAL_EVENT_TYPES:
            self.state.apply(event)
            self.final_event = event  # rendered from the database once the stream ends, below
            return b""
        stage = self.state.apply(event)
        changed = [stage] if stage is not None else []
        reset = seq if kind == "stage:retrying" else 0
        html = render_state_fragments(self.state, changed, announce=_announcement(event, stage), reset=reset)
        return sse_message(seq, "state", html)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # A pump reads the shared stream into a queue; whatever has piled up by the time this side runs
        # goes out together, consecutive text of one stage as one message. A fast model's burst (a
        # megabyte arrives as a thousand 1 KB chunks) becomes a few hundred swaps in the browser instead
        # of a thousand, and nothing waits: a chunk that arrives alone goes out alone, at once.
        queue: asyncio.Queue[tuple[bytes, tuple[str, int, str] | None] | None] = asyncio.Queue()

        async def pump() -> None:
            try:
                async for chunk in EventStream.__aiter__(self):
                    queue.put_nowait((chunk, self._text))
                    self._text = None
            finally:
                queue.put_nowait(None)

        task = asyncio.create_task(pump())
        try:
            ended = False
            while not ended:
                batch = [await queue.get()]
                while not queue.empty():
                    batch.append(queue.get_nowait())
                ended = batch[-1] is None
                for frame in _merged([item for item in batch if item is not None]):
                    yield frame
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self.final_event is not None:
            yield await self._done_frame(self.final_event["seq"])
        elif self.final_seq is not None and self.cursor >= self.final_seq:
            # The run had ended before this viewer connected, and it had seen everything: the page
            # still needs its "done" to close the stream (else the browser reconnects for ever).
            yield await self._done_frame(self.final_seq)

    async def _done_frame(self, seq: int) -> bytes:
        try:
            state, running = await sync_to_async(_final_state, thread_sensitive=False)(self.user, self.state.id)
        except Exception:  # noqa: BLE001 - the database is away: end with what the stream said
            log.warning("could not read the final state of %s", self.state.id, exc_info=True)
            state, running = self.state, None
        html = tight(
            render_to_string(
                "executions/partials/live_done.html",
                {
                    "execution": state,
                    "changed": state.stages,
                    "announce": f"The run {state.status_label.lower()}.",
                    "running_count": running,
                    "oob": True,
                },
            )
        )
        return sse_message(seq, "done", html)


def _final_state(user: Any, execution_id: str) -> tuple[ExecutionState, int]:
    try:
        execution = execution_get_for_user(user=user, execution_id=execution_id)
        assert execution is not None
        return execution_run_state(
            execution=execution, state_class=ExecutionState, with_text=False
        ), executions_active_count(user=user)
    finally:
        close_old_connections()


def _load(request: HttpRequest, execution_id: str) -> tuple[ExecutionState, int | None] | None:
    """Authorises and reads what the stream starts from: once, before streaming, on a pool thread whose
    connection is closed at once (an open stream must pin no database connection)."""
    try:
        if not request.user.is_authenticated:
            return None
        execution = execution_get_for_user(user=request.user, execution_id=execution_id)
        if execution is None:
            return None
        state = execution_run_state(execution=execution, state_class=ExecutionState, with_text=False)
        for stage in state.stages:
            if stage.status == "running":
                stage.first_ms = stage_first_token_ts(execution_id=execution.id, stage_id=stage.id)
        return state, (execution.last_seq if execution.is_final else None)
    finally:
        close_old_connections()


async def execution_stream(request: HttpRequest, execution_id: str) -> HttpResponseBase:
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    # The cursor: the browser's own Last-Event-ID on a native reconnect, else the one the page keeps in
    # the URL (a rebuilt EventSource sends no header); the later of the two when both are there.
    cursors = [request.headers.get("Last-Event-ID", ""), request.GET.get("since", "")]
    try:
        cursor = max([int(c) for c in cursors if c] or [0])
    except ValueError:
        return HttpResponse("the cursor must be an event's seq (an integer)", status=400, content_type="text/plain")
    loaded = await sync_to_async(_load, thread_sensitive=False)(request, str(execution_id))
    if loaded is None:
        return HttpResponse("no such execution", status=404, content_type="text/plain")
    state, final_seq = loaded
    backlog = request.scope.get("stagecast.send_backlog") if hasattr(request, "scope") else None
    stream = PageStream(state=state, user=request.user, cursor=max(cursor, 0), final_seq=final_seq, backlog=backlog)
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
