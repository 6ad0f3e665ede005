"""A refresh mid-run shows all the output so far and goes on with nothing twice; a dropped connection
shows a notice, reconnects, and resumes from the last event seen (not from the start)."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.pages import INSTRUMENT, metrics, open_run, output_text, status, tokens, wait_status, wait_text


def ids_around_reopen(page: Any) -> tuple[int, list[int]]:
    """(the last id seen before the stream reopened, every id that arrived after it)."""
    messages = metrics(page)["messages"]
    opens = [i for i, m in enumerate(messages) if m[1] == "open"]
    assert len(opens) >= 2, messages
    before = [m[0] for m in messages[: opens[-1]] if m[1] != "open"]
    after = [m[0] for m in messages[opens[-1] :] if m[1] != "open"]
    return max(before), after


def assert_resumed(page: Any) -> int:
    """Nothing at or below the cursor came again: the server started after it (a replay from the start
    would bring back ids 1, 2, … first, which the page would then have had to drop)."""
    last, after = ids_around_reopen(page)
    assert after and min(after) > last, (last, after)
    return last


def test_a_reload_mid_run_ends_exact(page, live):
    open_run(page, live, "[fake:deltas=90,interval_ms=40]")
    before = wait_text(page, 60)
    page.reload()
    after_reload = output_text(page)
    assert after_reload.startswith(before)  # everything so far, rendered by the server
    assert status(page) == "running"
    wait_status(page, "success")
    assert output_text(page) == tokens(90)


def test_restarting_the_web_process_mid_run_resumes_from_the_last_event(page, live, screenshot_dir):
    page.context.add_init_script(INSTRUMENT)
    streams: list[Any] = []
    page.on("request", lambda r: "/stream" in r.url and streams.append(r))
    open_run(page, live, "[fake:deltas=120,interval_ms=40]")
    wait_text(page, 80)
    live.restart_web()  # every open stream drops; the browser reconnects to the new process
    wait_status(page, "success")
    assert output_text(page) == tokens(120)
    last = assert_resumed(page)
    cursors = [r.all_headers().get("last-event-id") for r in streams]
    assert str(last) in cursors, cursors  # the browser's own reconnect sent the last id it had seen
    assert metrics(page)["errors"] >= 1
    assert page.is_hidden("#sc-connection")


def test_a_rebuilt_event_source_resumes_from_the_cursor_in_its_url(page, live):
    """After an error answer (a proxy's 503 during a deploy, say) the EventSource is CLOSED and
    htmx-ext-sse builds a new one without Last-Event-ID: the cursor in the sse-connect URL carries it."""
    page.context.add_init_script(INSTRUMENT)
    requests: list[tuple[str, str | None]] = []
    refuse = {"count": 0}

    def route(route: Any) -> None:
        request = route.request
        requests.append((request.url, request.headers.get("last-event-id")))
        if refuse["count"]:
            refuse["count"] -= 1
            route.fulfill(status=503, body="deploying", headers={"Content-Type": "text/plain"})
        else:
            route.continue_()

    page.route("**/stream?*", route)
    open_run(page, live, "[fake:deltas=120,interval_ms=40]")
    wait_text(page, 80)
    refuse["count"] = 1
    live.restart_web()
    page.wait_for_function("document.querySelector('#sc-connection').hidden === false", timeout=15_000)
    wait_status(page, "success")
    assert output_text(page) == tokens(120)
    assert_resumed(page)
    rebuilt = [(url, header) for url, header in requests[1:] if header is None]
    assert rebuilt, requests
    # The rebuilt source asked from its cursor, not from the start.
    assert int(rebuilt[-1][0].rsplit("since=", 1)[1]) > 0


def test_the_connection_notice_shows_while_the_server_is_away(page, live):
    open_run(page, live, "[fake:deltas=150,interval_ms=40]")
    wait_text(page, 40)
    from tests.helpers.processes import start_daphne, stop

    stop(live.web)
    page.wait_for_function("document.querySelector('#sc-connection').hidden === false", timeout=10_000)
    assert "reconnecting" in page.text_content("#sc-connection")
    time.sleep(0.5)
    live.web, live.web_port = start_daphne(live.env, live.web_port)
    wait_status(page, "success")
    assert page.is_hidden("#sc-connection")
    assert output_text(page) == tokens(150)
