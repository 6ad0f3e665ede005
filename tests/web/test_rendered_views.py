"""The Markdown and terminal views: rendered and sanitized on the server, sent in increments."""

from __future__ import annotations

import re

from executions.portal.output_views import MARKDOWN_LIMIT, markdown_update, render_markdown, terminal_update
from tests.web.conftest import make_execution, texts_of

ANSI = "\x1b[1;34mPlan\x1b[0m: <ready>\n\x1b[32m✔ tests \x1b[38;5;208mpassed\nstill orange\x1b[0m plain\n"


def test_markdown_is_sanitized():
    html = render_markdown(
        '# T\n\n<script>alert(1)</script> [x](javascript:alert(1)) [ok](https://e.org) <b onclick="x">b</b>'
    )
    assert "<h1>T</h1>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "javascript:" not in re.sub(r"\[x\]\(javascript:alert\(1\)\)", "", html)  # shown as text only
    assert 'href="https://e.org"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert "<b onclick" not in html and "&lt;b onclick" in html


def test_markdown_sends_finished_blocks_once_and_the_open_tail_each_time():
    text = "# Title\n\nFirst paragraph.\n\n- a\n- b\n\nstill typ"
    first = markdown_update(text, "", final=False)
    assert first.replace
    assert first.stable == "<h1>Title</h1>\n<p>First paragraph.</p>\n<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"
    assert first.tail == "<p>still typ</p>\n"
    more = text + "ing.\n\n```py\nx = 1\n"
    second = markdown_update(more, first.cursor, final=False)
    assert not second.replace
    assert second.stable == "<p>still typing.</p>\n"  # only what finished since
    assert second.tail == "<pre><code>x = 1\n</code></pre>\n"
    done = markdown_update(more + "```\n", second.cursor, final=True)
    assert done.stable == "<pre><code>x = 1\n</code></pre>\n" and done.tail == ""


def test_markdown_past_the_limit_says_so():
    update = markdown_update("x" * (MARKDOWN_LIMIT + 1), "", final=True)
    assert "too large to render as Markdown" in update.notice
    assert update.stable == "" and update.tail == ""


def test_the_terminal_view_shows_ansi_colours_as_classes_and_escapes_text():
    update = terminal_update(ANSI, "", final=False)
    assert update.stable == (
        '<span class="ansi-fg-4 ansi-bold">Plan</span>: &lt;ready&gt;\n'
        '<span class="ansi-fg-2">✔ tests </span><span style="color:#ff8700">passed</span>\n'
        '<span style="color:#ff8700">still orange</span> plain\n'
    )
    assert update.tail == ""


def test_the_terminal_view_carries_colour_across_increments():
    first = terminal_update("\x1b[31mred line\nand more", "", final=False)
    assert first.stable == '<span class="ansi-fg-1">red line</span>\n'
    assert first.tail == '<span class="ansi-fg-1">and more</span>'
    second = terminal_update("\x1b[31mred line\nand more\nnext\n", first.cursor, final=False)
    assert second.stable == '<span class="ansi-fg-1">and more</span>\n<span class="ansi-fg-1">next</span>\n'


def test_the_view_route_answers_fragments_for_the_owner_only(people):
    execution = make_execution(people.alice, outputs={"first": "# Hi\n\n<script>x</script>", "second": ANSI})
    client = people.client(people.alice)
    md = client.get(f"/executions/{execution.id}/stages/first/view?format=markdown").content.decode()
    assert 'id="view-first-markdown-stable" hx-swap-oob="true"><h1>Hi</h1>' in md
    assert "&lt;script&gt;x&lt;/script&gt;" in md and "<script>" not in md
    assert 'data-final="1"' in md
    term = client.get(f"/executions/{execution.id}/stages/second/view?format=terminal").content
    assert texts_of(term, id="view-second-terminal-stable") == ["Plan: <ready>\n✔ tests passed\nstill orange plain\n"]
    assert client.get(f"/executions/{execution.id}/stages/first/view?format=pdf").status_code == 400
    assert people.client(people.bob).get(f"/executions/{execution.id}/stages/first/view").status_code == 404
