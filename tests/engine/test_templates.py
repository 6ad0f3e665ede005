"""Templates and the run context they read: substitution, escapes, and errors that say what exists."""

from __future__ import annotations

import pytest

from executions.engine.context import RunContext, StageState, describe_miss, resolve_path, split_path
from executions.engine.errors import TemplateError
from executions.engine.templates import TemplateRef, render_template, template_references, template_refs


def make_ctx() -> RunContext:
    return RunContext(
        input="the topic",
        stages={
            "draft": StageState("completed", "draft text", None),
            "check": StageState(
                "completed",
                '{"verdict":"ok"}',
                {
                    "verdict": "ok",
                    "score": 7,
                    "items": [{"title": "first"}, {"title": "second"}],
                    "note": None,
                    "flag": True,
                    "ratio": 0.5,
                },
            ),
            "gone": StageState("skipped", "", None),
            "broke": StageState("failed", "partial", None),
            "later": StageState("pending", "", None),
        },
    )


def render(template: str, where: str = "p") -> str:
    return render_template(template, make_ctx(), where)


def template_error(template: str, where: str = "p") -> str:
    with pytest.raises(TemplateError) as caught:
        render(template, where)
    return caught.value.message


# --- the run context ------------------------------------------------------------------------------


def test_split_path_accepts_brackets_and_keeps_empty_segments():
    assert split_path(" stages.check.data.items[1].title ") == ["stages", "check", "data", "items", "1", "title"]
    assert split_path("stages..output") == ["stages", "", "output"]


def test_resolve_path_reads_input_output_status_and_nested_data():
    ctx = make_ctx()
    assert resolve_path(ctx, "input") == (True, "the topic")
    assert resolve_path(ctx, "stages.draft.output") == (True, "draft text")
    assert resolve_path(ctx, "stages.draft.status") == (True, "completed")
    assert resolve_path(ctx, "stages.check.data.items.0.title") == (True, "first")
    assert resolve_path(ctx, "stages.check.data.items[1].title") == (True, "second")
    assert resolve_path(ctx, "stages.check.data.note") == (True, None)


def test_resolve_path_misses_unknown_keys_out_of_range_indexes_absent_data_and_attributes():
    ctx = make_ctx()
    for path in (
        "stages.check.data.items.2",
        "stages.check.data.items.x",
        "stages.check.data.items.-1",
        "stages.draft.data",
        "stages.nope.output",
        "stages.check.data.__class__",
        "stages.check.data.verdict.upper",
        "stages.check.input",
        "nothing",
    ):
        assert (path, resolve_path(ctx, path)) == (path, (False, None))


def test_describe_miss_says_how_far_a_path_resolves_and_what_is_there():
    data = {"a": {"b": [1, 2]}, "s": "x"}
    assert describe_miss(data, ["a", "c"]) == (1, "keys: b")
    assert describe_miss(data, ["a", "b", "5"]) == (2, "an array of 2 (indexes 0-1)")
    assert describe_miss(data, ["s", "t"]) == (1, "a string value")
    assert describe_miss(data, ["zz"]) == (0, "keys: a, s")
    assert describe_miss({"e": []}, ["e", "0"]) == (1, "an empty array")


# --- references -----------------------------------------------------------------------------------


def test_template_refs_finds_every_reference_with_its_kind_tolerating_spaces():
    refs = template_refs(
        "A {{ input }} B {{stages.draft.output}} {{stages.check.data.items.0.title}} {{stages.check.status}} "
        "{{foo}} {{stages.x.outptu}}"
    )
    assert refs == [
        TemplateRef("{{ input }}", "input", 2, "input"),
        TemplateRef("{{stages.draft.output}}", "stages.draft.output", 16, "stage-output", "draft"),
        TemplateRef(
            "{{stages.check.data.items.0.title}}",
            "stages.check.data.items.0.title",
            40,
            "stage-data",
            "check",
            ("items", "0", "title"),
        ),
        TemplateRef("{{stages.check.status}}", "stages.check.status", 76, "stage-status", "check"),
        TemplateRef("{{foo}}", "foo", 100, "unknown"),
        TemplateRef("{{stages.x.outptu}}", "stages.x.outptu", 108, "unknown", "x"),
    ]
    assert template_references("{{ input }} {{stages.a.data}} \\{{stages.b.output}}") == ["input", "stages.a.data"]


def test_an_escaped_reference_and_single_braces_are_not_references():
    assert template_refs('Use \\{{name}} and {"a": {"b": 1}}') == []


# --- rendering ------------------------------------------------------------------------------------


def test_substitutes_text_numbers_objects_as_pretty_json_null_as_nothing():
    out = render(
        "{{input}} | {{ stages.draft.output }} | {{stages.check.data.score}} | {{stages.check.data.items.1}} | "
        "[{{stages.check.data.note}}] | {{stages.check.status}} | {{stages.check.data.flag}} | "
        "{{stages.check.data.ratio}}",
        "stages[2].prompt",
    )
    assert out == 'the topic | draft text | 7 | {\n  "title": "second"\n} | [] | completed | true | 0.5'


def test_whole_data_renders_as_pretty_json_keeping_non_ascii():
    ctx = RunContext("x", {"a": StageState("completed", "", {"mot": "café", "n": [1, 2]})})
    assert render_template("{{stages.a.data}}", ctx, "p") == '{\n  "mot": "café",\n  "n": [\n    1,\n    2\n  ]\n}'


def test_a_skipped_stage_renders_empty_a_failed_one_its_partial_output_and_empty_data():
    assert render("[{{stages.gone.output}}][{{stages.gone.data.x}}][{{stages.gone.status}}]") == "[][][skipped]"
    assert (
        render("[{{stages.broke.output}}][{{stages.broke.data.x}}][{{stages.broke.status}}]") == "[partial][][failed]"
    )


def test_an_escaped_reference_renders_literally_and_text_around_is_kept():
    assert render("\\{{input}} {{input}} {single} {{ }") == "{{input}} the topic {single} {{ }"


def test_a_missing_data_field_names_where_the_variable_and_what_exists():
    assert template_error("x {{stages.check.data.verdikt}}", "stages[1].prompt") == (
        "stages[1].prompt: {{stages.check.data.verdikt}} resolved to nothing: "
        "stages.check.data has keys: verdict, score, items, note, flag, ratio"
    )
    assert template_error("{{stages.check.data.items.5.title}}", "stages[1].system") == (
        "stages[1].system: {{stages.check.data.items.5.title}} resolved to nothing: "
        "stages.check.data.items has an array of 2 (indexes 0-1)"
    )
    assert template_error("{{stages.check.data.verdict.x}}") == (
        "p: {{stages.check.data.verdict.x}} resolved to nothing: stages.check.data.verdict has a string value"
    )


def test_text_stage_data_unknown_stages_unknown_variables_and_unfinished_stages_raise():
    assert template_error("{{stages.draft.data.x}}") == (
        'p: {{stages.draft.data.x}} has nothing to read: stage "draft" has no parsed data '
        "(its output format is text); use {{stages.draft.output}}"
    )
    assert template_error("{{stages.nope.output}}") == (
        'p: {{stages.nope.output}} refers to no stage "nope" (stages: draft, check, gone, broke, later)'
    )
    assert template_error("{{foo}}") == (
        "p: unknown variable {{foo}}; use {{input}}, {{stages.<id>.output}}, {{stages.<id>.data.<path>}} "
        "or {{stages.<id>.status}}"
    )
    assert template_error("{{stages.later.output}}") == (
        'p: {{stages.later.output}} refers to stage "later", which has not finished (status pending)'
    )
    assert render("{{stages.later.status}}") == "pending"
