"""A stage's full text: plain text, as a file, in parts, and paged and searchable on the server."""

from __future__ import annotations

from tests.web.conftest import make_execution, texts_of

TEXT = "\n".join(f"line {i} {'needle' if i % 700 == 0 else 'hay'}" for i in range(1, 2501))


def test_the_full_text_is_plain_text(people):
    execution = make_execution(people.alice, outputs={"first": "<b>a</b>\r\nb", "second": ""})
    response = people.client(people.alice).get(f"/executions/{execution.id}/stages/first/output")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == "<b>a</b>\r\nb"
    assert "Content-Disposition" not in response


def test_download_is_a_file(people):
    execution = make_execution(people.alice)
    response = people.client(people.alice).get(f"/executions/{execution.id}/stages/first/output?download=1")
    assert response["Content-Disposition"] == 'attachment; filename="web-test-first.txt"'
    assert response.content == b"Hello, world."


def test_a_part_of_a_large_output(people):
    execution = make_execution(people.alice, outputs={"first": TEXT, "second": ""})
    client = people.client(people.alice)
    response = client.get(f"/executions/{execution.id}/stages/first/output?offset=10&limit=20")
    assert response.content.decode() == TEXT[10:30]


def test_another_users_output_is_404(people):
    execution = make_execution(people.alice)
    bob = people.client(people.bob)
    assert bob.get(f"/executions/{execution.id}/stages/first/output").status_code == 404
    assert bob.get(f"/executions/{execution.id}/stages/first/").status_code == 404
    assert people.client(people.alice).get(f"/executions/{execution.id}/stages/nope/output").status_code == 404


def test_the_text_page_shows_one_page_of_lines(people):
    execution = make_execution(people.alice, outputs={"first": TEXT, "second": ""})
    client = people.client(people.alice)
    last = client.get(f"/executions/{execution.id}/stages/first/").content
    assert texts_of(last, id="L2500") == ["2500line 2500 hay"]
    assert texts_of(last, id="L2001") == ["2001line 2001 hay"]
    assert texts_of(last, id="L2000") == []  # the last page (the tail) by default
    first = client.get(f"/executions/{execution.id}/stages/first/?page=1").content
    assert texts_of(first, id="L1") == ["1line 1 hay"]
    assert texts_of(first, id="L1001") == []


def test_search_lists_matching_lines_with_links_to_their_page(people):
    execution = make_execution(people.alice, outputs={"first": TEXT, "second": ""})
    page = people.client(people.alice).get(f"/executions/{execution.id}/stages/first/?q=NEEDLE").content.decode()
    assert "3 lines with “NEEDLE”" in page
    for number, page_number in ((700, 1), (1400, 2), (2100, 3)):
        assert f'href="?page={page_number}#L{number}">line {number}</a>' in page


def test_search_escapes_what_it_shows(people):
    execution = make_execution(people.alice, outputs={"first": "a <script>x</script>", "second": ""})
    page = people.client(people.alice).get(f"/executions/{execution.id}/stages/first/?q=<script>").content.decode()
    assert "<script>x" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
