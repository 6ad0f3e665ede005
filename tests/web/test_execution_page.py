"""An execution's page, rendered on the server with everything known so far."""

from __future__ import annotations

import re

from tests.web.conftest import add_events, make_execution, texts_of

HOSTILE = (
    '<script>window.pwned = 1</script>\n<img src=x onerror="alert(1)"> & <b>bold</b>\r\nCR&LF above, a lone \r too'
)


def test_the_page_has_its_test_hooks(people):
    execution = make_execution(people.alice)
    page = people.client(people.alice).get(f"/executions/{execution.id}/").content.decode()
    assert re.search(r'data-testid="execution-status" data-status="success"', page)
    assert page.count('data-testid="stage-card"') == 2
    assert 'data-stage-id="first" data-status="completed"' in page
    assert page.count('data-testid="stage-output-toggle"') == 2
    assert page.count('data-testid="stage-output"') == 2
    assert 'data-testid="cancel-button"' in page
    assert 'hx-history="false"' in page


def test_each_stage_shows_exactly_its_output(people):
    outputs = {"first": "\nstarts with a newline\n\nand ends with spaces  ", "second": HOSTILE}
    execution = make_execution(people.alice, outputs=outputs)
    page = people.client(people.alice).get(f"/executions/{execution.id}/").content
    assert texts_of(page, **{"data-testid": "stage-output"}) == [outputs["first"], outputs["second"]]


def test_model_html_is_text_never_markup(people):
    execution = make_execution(people.alice, outputs={"first": HOSTILE, "second": ""}, input=HOSTILE)
    page = people.client(people.alice).get(f"/executions/{execution.id}/").content.decode()
    assert "<script>window.pwned" not in page
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in page
    assert '<img src=x onerror="alert(1)">' not in page
    assert "&#13;" in page  # a carriage return survives the HTML parser as a character reference


def test_another_users_execution_is_404_like_an_unknown_one(people):
    execution = make_execution(people.alice)
    bob = people.client(people.bob)
    assert bob.get(f"/executions/{execution.id}/").status_code == 404
    assert bob.get("/executions/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert bob.get("/executions/not-a-uuid/").status_code == 404


def test_staff_see_every_execution(people):
    execution = make_execution(people.alice)
    assert people.client(people.carol).get(f"/executions/{execution.id}/").status_code == 200


def test_a_finished_run_has_no_stream(people):
    execution = make_execution(people.alice)
    page = people.client(people.alice).get(f"/executions/{execution.id}/").content.decode()
    assert "sse-connect" not in page and "sse-swap" not in page
    assert 'class="cancel-form invisible"' in page
    assert 'id="esc-hint"' not in page


def test_a_running_run_follows_the_stream_from_the_seq_it_was_rendered_at(people, redis_url):
    execution = make_execution(
        people.alice, status="running", outputs={"first": "", "second": ""}, stage_status={"first": "running"}
    )
    add_events(
        execution,
        [
            {
                "type": "execution:started",
                "pipelineId": "web-test",
                "pipelineName": "Web test",
                "input": "x",
                "stages": [],
            },
            {
                "type": "stage:started",
                "stage": {"id": "first", "name": "First", "type": "generate"},
                "index": 0,
                "total": 2,
            },
            {"type": "stage:output", "stageId": "first", "output": "Hello ", "offset": 0, "isFinal": False},
            {"type": "stage:output", "stageId": "first", "output": "<world>", "offset": 6, "isFinal": False},
        ],
    )
    page = people.client(people.alice).get(f"/executions/{execution.id}/").content.decode()
    assert f'sse-connect="/executions/{execution.id}/stream?since=4"' in page
    assert 'sse-close="done"' in page
    assert 'sse-swap="out-first" hx-swap="none"' in page  # the script appends the text, never htmx
    assert 'sse-swap="state,done" hx-swap="none"' in page
    assert '<p class="muted small hint" id="esc-hint"><kbd>Esc</kbd> cancels the run</p>' in page
    assert texts_of(page, **{"data-testid": "stage-output"}) == ["Hello <world>", ""]
    assert 'data-stage-id="first" data-status="running"' in page
    assert re.search(r'<details class="stage card fixed" id="stage-first"[^>]* open>', page)
    assert re.search(r'<details class="stage card fixed" id="stage-second"[^>]*"0">', page)  # pending: closed
    assert 'data-testid="execution-status" data-status="running"' in page


def test_a_long_output_shows_its_latest_part_and_how_much_came_before(people):
    lines = [f"line {i:06d} " + "x" * 50 for i in range(20_000)]
    text = "\n".join(lines)
    execution = make_execution(people.alice, outputs={"first": text, "second": "short"})
    page = people.client(people.alice).get(f"/executions/{execution.id}/").content.decode()
    shown = texts_of(page, **{"data-testid": "stage-output"})[0]
    assert len(shown) <= 64 * 1024
    assert text.endswith(shown)
    assert shown.startswith("line ")  # cut at a line start
    before = len(text) - len(shown)
    assert f"{before:,} characters" in page
    assert f'href="/executions/{execution.id}/stages/first/"' in page
    assert len(page) < 200_000  # the page never carries the whole megabyte


def test_an_output_up_to_the_window_is_whole(people):
    text = "y" * (64 * 1024)
    execution = make_execution(people.alice, outputs={"first": text, "second": ""})
    page = people.client(people.alice).get(f"/executions/{execution.id}/").content
    assert texts_of(page, **{"data-testid": "stage-output"})[0] == text
    assert b"Earlier output not shown here" in page  # the notice's text is there, hidden
    assert b'<span class="notice-before" hidden>' in page


def test_failed_stages_show_their_error_and_skipped_ones_their_reason(people):
    execution = make_execution(
        people.alice,
        status="failed",
        outputs={"first": "partial", "second": ""},
        stage_status={"first": "failed", "second": "skipped"},
        error="stage first failed: <overloaded>",
    )
    execution.stages.filter(stage_id="first").update(error="HTTP 529 <overloaded>")
    execution.stages.filter(stage_id="second").update(error="not run: an earlier stage failed")
    page = people.client(people.alice).get(f"/executions/{execution.id}/").content.decode()
    assert "<strong>Failed:</strong> HTTP 529 &lt;overloaded&gt;" in page
    assert "<strong>Skipped:</strong> not run: an earlier stage failed" in page
    assert "stage first failed: &lt;overloaded&gt;" in page
    assert 'data-testid="execution-status" data-status="failed"' in page


def test_the_stage_head_shows_its_figures(people):
    execution = make_execution(people.alice)
    heads = texts_of(people.client(people.alice).get(f"/executions/{execution.id}/").content, id="stage-first-head")
    head = " ".join(heads[0].split())
    for figure in (
        "1. First",
        "completed",
        "Time: 3.0 s",
        "TTFT: 120 ms",
        "Tokens: 4",
        "Speed: 1 tok/s",
        "Cost: $0.0001 est.",
    ):
        assert figure in head, head


def test_the_navigation_counts_this_users_running_executions(people, redis_url):
    make_execution(people.alice, status="running", outputs={})
    make_execution(people.alice, status="queued", outputs={})
    make_execution(people.alice, status="success")
    make_execution(people.bob, status="running", outputs={})
    page = people.client(people.alice).get("/").content
    assert texts_of(page, id="nav-running-count") == ["2"]
    assert texts_of(people.client(people.carol).get("/").content, id="nav-running-count") == ["3"]


def test_the_live_text_is_not_announced_but_status_changes_are(people):
    execution = make_execution(people.alice)
    page = people.client(people.alice).get(f"/executions/{execution.id}/").content.decode()
    assert '<div id="sc-announce" class="visually-hidden" role="status" aria-live="polite"></div>' in page
    pre = re.search(r'<pre class="output"[^>]*>', page).group(0)
    assert "aria-live" not in pre and "role=" not in pre
    assert 'role="region" aria-label="Output of First"' in page  # a scrollable region, reachable by Tab
    assert 'tabindex="0"' in page


def test_a_running_stage_head_knows_when_its_first_token_came(people, redis_url):
    execution = make_execution(
        people.alice, status="running", outputs={"first": "", "second": ""}, stage_status={"first": "running"}
    )
    events = add_events(
        execution,
        [
            {"type": "stage:started", "stage": {"id": "first", "name": "First", "type": "g"}, "index": 0, "total": 2},
            {"type": "stage:output", "stageId": "first", "output": "a", "offset": 0, "isFinal": False},
            {"type": "stage:output", "stageId": "first", "output": "b", "offset": 1, "isFinal": False},
        ],
    )
    page = people.client(people.alice).get(f"/executions/{execution.id}/").content.decode()
    assert 'id="stage-first-head" data-status="running" data-started="' in page
    assert f'data-first="{events[1]["ts"]}"' in page
