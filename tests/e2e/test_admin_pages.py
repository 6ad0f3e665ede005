"""The admin pages of a finished run, in the browser: the list, the review page, the link to the portal."""

from __future__ import annotations

import time

from django.contrib.auth.models import User

from tests.e2e.conftest import sign_in
from tests.e2e.pages import tokens


def wait_ended(live, execution_id: str, token: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, body = live.request("GET", f"/api/executions/{execution_id}", token=token)
        if body["status"] not in ("queued", "running"):
            return body
        time.sleep(0.1)
    raise AssertionError("the run did not end")


def test_the_admin_reviews_a_finished_run(browser, live, screenshot_dir):
    User.objects.create_superuser("dora", password="dora-password-123")
    execution_id = live.run(live.tokens["alice"], "[fake:deltas=30,interval_ms=5] review me")
    assert wait_ended(live, execution_id, live.tokens["alice"])["status"] == "success"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=f"http://127.0.0.1:{live.web_port}")
    page = context.new_page()
    try:
        sign_in(page, live, "dora")
        page.goto("/admin/executions/execution/")
        row = page.locator("#result_list tbody tr").first
        assert execution_id[:8] in row.text_content()
        assert "alice" in row.text_content() and "Success" in row.text_content()
        page.goto(f"/admin/executions/execution/?q={execution_id}")
        assert page.locator("#result_list tbody tr").count() == 1
        page.goto(f"/admin/executions/execution/{execution_id}/change/")
        assert tokens(30) in page.text_content("body")
        assert page.locator("input[type=submit][name=_save]").count() == 0
        page.screenshot(path=str(screenshot_dir / "admin-review.png"), full_page=True)
        page.click(f'a[href="/executions/{execution_id}/"] >> nth=0')
        page.wait_for_url(f"**/executions/{execution_id}/")
        assert page.get_attribute("[data-testid=execution-status]", "data-status") == "success"
    finally:
        context.close()
