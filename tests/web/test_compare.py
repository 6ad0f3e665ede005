"""Compare: the JSON and the page for runs side by side (aligned stages, an absent stage, deltas, word
diffs), the ids it refuses, another user's run as 404, the history's and the re-run's entry points,
and the model race from a pipeline's page."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from executions.compare import word_diff
from executions.models import Execution, StageRun
from tests.web.conftest import make_execution, texts_of

BASE = "Grüße aus Tokyo: 日本語 is fun 😀."
OTHER = "Grüße aus Kyoto: 日本語 was fun 😀!"


def _pair(people):
    a = make_execution(people.alice, outputs={"first": BASE, "second": "same text"})
    b = make_execution(people.alice, outputs={"first": OTHER, "second": "same text"})
    start = a.started_at
    StageRun.objects.filter(execution=a).update(started_at=start, ended_at=start + timedelta(seconds=2))
    StageRun.objects.filter(execution=b).update(started_at=start, ended_at=start + timedelta(seconds=2.5))
    StageRun.objects.filter(execution=b, stage_id="first").update(
        output_tokens=9, time_to_first_token_ms=100.0, cost=0.0002
    )
    return a, b


def _api(client, ids: str):
    return client.get(f"/api/executions/compare?ids={ids}")


def test_word_diff_marks_the_changed_words_and_rebuilds_both_texts():
    ops = word_diff(BASE, OTHER)
    assert ops == [
        ("equal", "Grüße aus "),
        ("delete", "Tokyo"),
        ("insert", "Kyoto"),
        ("equal", ": 日本語 "),
        ("delete", "is"),
        ("insert", "was"),
        ("equal", " fun 😀"),
        ("delete", "."),
        ("insert", "!"),
    ]
    assert "".join(t for op, t in ops if op != "delete") == OTHER
    assert "".join(t for op, t in ops if op != "insert") == BASE


def test_the_json_aligns_stages_with_deltas_and_diffs(people):
    a, b = _pair(people)
    response = _api(people.client(people.alice), f"{a.id},{b.id}")
    assert response.status_code == 200
    body = response.json()
    assert [(r["id"], r["status"], r["url"]) for r in body["runs"]] == [
        (str(a.id), "success", f"/executions/{a.id}/"),
        (str(b.id), "success", f"/executions/{b.id}/"),
    ]
    assert [r["pipelineId"] for r in body["runs"]] == ["web-test", "web-test"]
    assert [s["id"] for s in body["stages"]] == ["first", "second"]
    first, other = body["stages"][0]["runs"]
    assert (first["output"], first["outputLength"], first["delta"], first["diff"]) == (BASE, len(BASE), None, None)
    assert (first["inputTokens"], first["outputTokens"], first["ttft"], first["cost"]) == (12, 4, 120.0, 0.00012)
    assert other["output"] == OTHER
    assert other["delta"] == {"duration": 500.0, "ttft": -20.0, "outputTokens": 5, "cost": 0.00008}
    assert other["diff"][:3] == [["equal", "Grüße aus "], ["delete", "Tokyo"], ["insert", "Kyoto"]]
    assert body["stages"][1]["runs"][1]["diff"] == [["equal", "same text"]]


def test_a_stage_only_one_run_has_is_absent_in_the_other(people):
    a, b = _pair(people)
    StageRun.objects.filter(execution=b, stage_id="second").update(stage_id="extra")
    body = _api(people.client(people.alice), f"{a.id},{b.id}").json()
    assert [s["id"] for s in body["stages"]] == ["first", "second", "extra"]
    assert body["stages"][1]["runs"][1] is None
    assert body["stages"][2]["runs"][0] is None
    assert body["stages"][2]["runs"][1]["output"] == "same text"
    # The first run has no "extra": there is nothing to diff against.
    assert (body["stages"][2]["runs"][1]["diff"], body["stages"][2]["runs"][1]["delta"]) == (None, None)


@pytest.mark.parametrize(
    "ids",
    ["", "{a}", "{a},{a}", "{a},nope", "{a},{b},{c},{d},{e}", "{a},,{b}"],
)
def test_wrong_ids_are_400(people, ids):
    runs = [str(make_execution(people.alice).id) for _ in range(5)]
    query = ids.format(**dict(zip("abcde", runs, strict=True)))
    response = _api(people.client(people.alice), query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_parameter"
    assert people.client(people.alice).get(f"/executions/compare/?ids={query}").status_code == 400


def test_another_users_run_and_an_unknown_one_are_404(people):
    a, b = _pair(people)
    bobs = make_execution(people.bob)
    alice = people.client(people.alice)
    for ids in (f"{a.id},{bobs.id}", f"{a.id},{uuid.uuid4()}"):
        response = _api(alice, ids)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert alice.get(f"/executions/compare/?ids={ids}").status_code == 404
    # Staff see everyone's runs.
    assert _api(people.client(people.carol), f"{a.id},{bobs.id}").status_code == 200
    assert people.client(people.bob).get(f"/api/executions/compare?ids={a.id},{b.id}").status_code == 404


def test_the_api_needs_credentials(people, client):
    a, b = _pair(people)
    assert _api(client, f"{a.id},{b.id}").status_code == 401


def test_the_page_renders_columns_stages_outputs_and_diffs(people):
    a, b = _pair(people)
    StageRun.objects.filter(execution=b, stage_id="second").update(stage_id="extra")
    page = people.client(people.alice).get(f"/executions/compare/?ids={a.id},{b.id}").content.decode()
    assert page.count('data-testid="compare-column"') == 2
    assert f'data-execution-id="{a.id}"' in page and f'data-execution-id="{b.id}"' in page
    assert texts_of(page, **{"data-testid": "compare-output"}) == [BASE, OTHER, "same text", "same text"]
    assert page.count('data-testid="compare-absent"') == 2
    assert page.count('data-testid="compare-metrics"') == 4
    assert page.count('data-testid="compare-stage"') == 3
    diffs = texts_of(page, **{"data-testid": "compare-diff"})
    assert diffs[0] == "Grüße aus TokyoKyoto: 日本語 iswas fun 😀.!"
    assert "<del>Tokyo</del><ins>Kyoto</ins>" in page
    # Finished runs are not followed.
    assert "data-events=" not in page


def test_model_text_is_escaped_in_outputs_and_diffs(people):
    a = make_execution(people.alice, outputs={"first": "<b>bold</b>", "second": ""})
    b = make_execution(people.alice, outputs={"first": "<script>x</script>", "second": ""})
    page = people.client(people.alice).get(f"/executions/compare/?ids={a.id},{b.id}").content.decode()
    assert "<script>x" not in page and "<b>bold" not in page
    assert "&lt;script&gt;" in page


def test_a_running_run_is_followed_from_its_cursor(people):
    a, _ = _pair(people)
    running = make_execution(people.alice, status="running", outputs={"first": "", "second": ""})
    page = people.client(people.alice).get(f"/executions/compare/?ids={a.id},{running.id}").content.decode()
    assert f'data-events="/api/executions/{running.id}/events"' in page
    assert page.count("data-events=") == 1


def test_the_stage_fragment_has_the_metrics_and_diff_of_one_stage(people):
    a, b = _pair(people)
    response = people.client(people.alice).get(f"/executions/compare/stage?ids={a.id},{b.id}&stage=first")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-part="metrics"') == 2 and html.count('data-part="diff"') == 2
    assert "<del>Tokyo</del><ins>Kyoto</ins>" in html
    missing = people.client(people.alice).get(f"/executions/compare/stage?ids={a.id},{b.id}&stage=nope")
    assert missing.status_code == 404


def test_the_history_has_a_checkbox_per_row_and_a_compare_button(people):
    a, b = _pair(people)
    page = people.client(people.alice).get("/executions/").content.decode()
    assert page.count('data-testid="compare-checkbox"') == 2
    assert 'data-testid="compare-button"' in page
    # The form sends ids=a&ids=b: the page takes that too.
    response = people.client(people.alice).get("/executions/compare/", {"ids": [str(a.id), str(b.id)]})
    assert response.status_code == 200


def test_a_rerun_links_to_compare_with_its_parent(people):
    parent = make_execution(people.alice)
    child = make_execution(people.alice, parent=parent)
    page = people.client(people.alice).get(f"/executions/{child.id}/").content.decode()
    assert f'href="/executions/compare/?ids={parent.id},{child.id}"' in page
    assert "compare-parent" not in people.client(people.alice).get(f"/executions/{parent.id}/").content.decode()


def test_the_race_starts_one_run_per_model_and_opens_the_compare_page(people):
    page = people.client(people.alice).get("/pipelines/summarize-critique/").content.decode()
    assert 'data-testid="race-form"' in page
    models = "anthropic claude-haiku-4-5\nopenai gpt-4o-mini\n"
    response = people.client(people.alice).post(
        "/pipelines/summarize-critique/race", {"input": "race me", "models": models, "stage": ""}
    )
    assert response.status_code == 303
    runs = list(Execution.objects.order_by("created_at"))
    assert len(runs) == 2
    assert response["Location"] == f"/executions/compare/?ids={runs[0].id},{runs[1].id}"
    for run, (provider, model) in zip(
        runs, [("anthropic", "claude-haiku-4-5"), ("openai", "gpt-4o-mini")], strict=True
    ):
        assert run.input == "race me" and run.created_by == people.alice and run.status == "queued"
        stages = list(run.stages.order_by("index"))
        assert [s.stage_id for s in stages] == ["summarize", "critique", "revise"]
        assert {(s.provider, s.model) for s in stages} == {(provider, model)}


def test_the_race_on_one_stage_keeps_the_others_as_the_pipeline_says(people):
    client = people.client(people.alice)
    before = {s["id"]: s for s in client.get("/api/pipelines/summarize-critique").json()["config"]["stages"]}
    models = "openai gpt-4o-mini\nopenai gpt-4o"
    response = client.post("/pipelines/summarize-critique/race", {"input": "x", "models": models, "stage": "critique"})
    assert response.status_code == 303
    for run, model in zip(Execution.objects.order_by("created_at"), ["gpt-4o-mini", "gpt-4o"], strict=True):
        rows = {s.stage_id: (s.provider, s.model) for s in run.stages.all()}
        assert rows["critique"] == ("openai", model)
        assert rows["summarize"][0] == before["summarize"].get("model", {}).get("provider", rows["summarize"][0])
        assert rows["summarize"] != ("openai", model)


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ("anthropic claude-haiku-4-5", "Name 2 to 4 models, not 1."),
        ("a b\nc d\ne f\ng h\ni j", "Name 2 to 4 models, not 5."),
        ("anthropic\nopenai gpt-4o", "Line 1: write the provider, then the model"),
        ("openai gpt-4o\nopenai gpt-4o", "Each model may appear once."),
        ("nosuch m1\nopenai gpt-4o", "nosuch m1: "),
    ],
)
def test_a_wrong_race_is_refused_and_starts_nothing(people, models, message):
    response = people.client(people.alice).post(
        "/pipelines/summarize-critique/race", {"input": "x", "models": models, "stage": ""}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Execution.objects.exists()
