"""A stage's text reaches the page exactly as the model wrote it: CRs, blank lines, leading spaces,
multi-byte and astral characters, and text that looks like the stream's own framing or encoding."""

from __future__ import annotations

from tests.e2e.pages import open_run, output_text, wait_status
from tests.helpers.fake_script import Script

DELTAS = [
    "Windows line\r\n",
    "a CR alone\r",
    "\nsplit CRLF, then a blank line\r",
    "\n\n",
    "  leading spaces, data: not a field\n",
    "id: 7\nevent: done\n\n",
    'JSON-looking "\\u003cb\\u003e" \\n stays as typed\n',
    "日本語, café, 😀 and 𝄞 (astral), \u2028 a line separator\n",
    "&amp; &lt;b&gt; is text too",
]


def test_the_text_is_exact_live_and_after_a_reload(page, live):
    live.fake.name_script("exact", Script(deltas=DELTAS, interval_ms=150))
    open_run(page, live, "[fake:exact]")
    page.wait_for_selector("[data-stage-id=first][data-status=running]")  # so the text comes live
    assert len(output_text(page)) < len("".join(DELTAS))
    wait_status(page, "success")
    expected = "".join(DELTAS)
    assert output_text(page) == expected  # as streamed (appended chunk by chunk)
    page.reload()
    assert output_text(page) == expected  # as the server renders the page
