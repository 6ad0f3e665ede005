"""Model output that looks like HTML, or carries a script, is shown as the text it is."""

from __future__ import annotations

from tests.e2e.pages import open_run, output_text, wait_status

PARTS = ["<b>bold</b> & <i>x</i>", "<script>window.__pwned=1</script>", "<img src=x onerror=window.__pwned=2>"]


def test_html_and_scripts_show_as_text_live_and_after_a_reload(page, live):
    open_run(page, live, "[fake:text=" + "|".join(PARTS) + ",interval_ms=200]")
    wait_status(page, "success")
    for _ in range(2):
        assert output_text(page) == "".join(PARTS)
        assert (
            page.locator(
                "[data-testid=stage-output] b, [data-testid=stage-output] script, [data-testid=stage-output] img"
            ).count()
            == 0
        )
        assert page.evaluate("window.__pwned") is None
        page.reload()
