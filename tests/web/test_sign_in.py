"""Every page answers for a signed-in user, and sends anyone else to the sign-in page."""

from __future__ import annotations

import pytest

from tests.web.conftest import make_execution


def page_urls(execution_id: str) -> list[str]:
    return [
        "/",
        "/pipelines/demo/",
        "/executions/",
        "/executions/?status=active",
        f"/executions/{execution_id}/",
        f"/executions/{execution_id}/stages/first/",
        f"/executions/{execution_id}/stages/first/output",
    ]


def test_every_page_answers_for_its_user(people):
    execution = make_execution(people.alice)
    client = people.client(people.alice)
    for url in page_urls(str(execution.id)):
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:500])


@pytest.mark.parametrize("index", range(7))
def test_every_page_needs_a_sign_in(people, client, index):
    execution = make_execution(people.alice)
    url = page_urls(str(execution.id))[index]
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_sign_in_page_uses_djangos_form(client, people):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content and b'name="password"' in response.content
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-password-123"})
    assert (response.status_code, response["Location"]) == (302, "/")


def test_a_wrong_password_says_so(client, people):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"didn't match" in response.content


def test_sign_out_is_a_post_from_the_navigation(people):
    client = people.client(people.alice)
    page = client.get("/").content.decode()
    assert 'action="/accounts/logout/"' in page
    response = client.post("/accounts/logout/")
    assert response.status_code == 200
    assert b"You are signed out" in response.content
    assert client.get("/").status_code == 302
