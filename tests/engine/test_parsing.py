"""Output parsing: the JSON in a model's answer, markdown sections, extract, and errors that quote the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from executions.engine import json_extract
from executions.engine.errors import OutputParseError
from executions.engine.parsing import extract_json, parse_markdown, parse_output


def parse_error(fn: Callable[[], Any]) -> str:
    with pytest.raises(OutputParseError) as caught:
        fn()
    return caught.value.message


# --- extract_json ---------------------------------------------------------------------------------


def test_the_whole_text_with_surrounding_whitespace_and_a_bom():
    assert extract_json('  {"a": 1, "b": [true, null]}\n') == {"a": 1, "b": [True, None]}
    assert extract_json("[1, 2]") == [1, 2]
    assert extract_json('\ufeff{"a": "é"}') == {"a": "é"}


def test_json_numbers_are_one_type_so_7_0_is_7():
    value = extract_json('{"a": 7.0, "b": 0.5, "c": 1e2}')
    assert value == {"a": 7, "b": 0.5, "c": 100}
    assert [type(value[k]) for k in "abc"] == [int, float, int]


def test_a_json_fence_is_preferred_over_other_fences_and_prose():
    text = 'Here you go:\n```js\nconst x = {"no": 1}\n```\n\n```json\n{"verdict": "ok"}\n```\nThanks!'
    assert extract_json(text) == {"verdict": "ok"}


def test_any_fence_when_there_is_no_json_fence_tilde_fences_too():
    assert extract_json('Result:\n```\n{"n": 2}\n```') == {"n": 2}
    assert extract_json('Result:\n~~~\n["x"]\n~~~') == ["x"]


def test_the_first_balanced_object_in_prose_with_braces_and_quotes_inside_strings():
    text = (
        'Sure! The answer is {"msg": "use {braces} and \\"quotes\\" freely }", "nested": {"deep": [1, {"k": "]"}]}} '
        "— hope that helps {not json}."
    )
    assert extract_json(text) == {"msg": 'use {braces} and "quotes" freely }', "nested": {"deep": [1, {"k": "]"}]}}


def test_prose_braces_that_are_not_json_are_skipped():
    assert extract_json('Fill in {name} then: {"ok": true}') == {"ok": True}
    assert extract_json('A stray ] and } first, then {"ok": 1}') == {"ok": 1}


def test_a_citation_like_list_of_numbers_loses_to_a_later_object_but_is_used_alone():
    assert extract_json('As shown in [1], the result is {"score": 9}.') == {"score": 9}
    assert extract_json("The list is [1, 2, 3] as requested.") == [1, 2, 3]


def test_trailing_commas_are_tolerated_in_the_whole_text_fences_and_prose():
    assert extract_json('{"a": [1, 2,], "b": {"c": 3,},}') == {"a": [1, 2], "b": {"c": 3}}
    assert extract_json('```json\n{"a": 1,\n}\n```') == {"a": 1}
    assert extract_json('Answer: {"a": "x,}", "b": 2,} end') == {"a": "x,}", "b": 2}


def test_nan_and_infinity_are_not_json():
    assert parse_error(lambda: extract_json("NaN")) == 'no JSON found in the answer: "NaN"'
    assert extract_json('Values: {"a": Infinity} or {"a": 1}') == {"a": 1}


def test_a_truncated_answer_is_an_error_not_a_partial_inner_object():
    assert parse_error(lambda: extract_json('{"items": [{"a": 1}, {"b": ')) == (
        'the JSON in the answer is incomplete (cut off at the end?): "{\\"items\\": [{\\"a\\": 1}, {\\"b\\":"'
    )
    assert parse_error(lambda: extract_json('Here it is:\n```json\n{"verdict": "ok", "fixes": ["one')) == (
        "the JSON in the answer is incomplete (cut off at the end?): "
        '"Here it is: ```json {\\"verdict\\": \\"ok\\", \\"fixes\\": [\\"one"'
    )
    long_text = "word " * 30 + '{"a": ['
    # the last 80 characters, where the cut is
    assert parse_error(lambda: extract_json(long_text)) == (
        'the JSON in the answer is incomplete (cut off at the end?): …"rd ' + "word " * 14 + '{\\"a\\": ["'
    )


def test_no_json_at_all_the_error_quotes_the_start_of_the_answer():
    assert parse_error(lambda: extract_json("I cannot answer that in JSON, sorry.")) == (
        'no JSON found in the answer: "I cannot answer that in JSON, sorry."'
    )
    assert parse_error(lambda: extract_json("x" * 100)) == f'no JSON found in the answer: "{"x" * 80}"…'
    assert parse_error(lambda: extract_json("  \n")) == "expected JSON but the answer is empty"


def test_a_broken_json_fence_with_nothing_else_reports_the_fences_parse_error():
    assert parse_error(lambda: extract_json("```json\n{verdict: ok}\n```")) == (
        "the json block in the answer is not valid JSON (Expecting property name enclosed in double quotes: "
        'line 1 column 2 (char 1)): "```json {verdict: ok} ```"'
    )


def test_the_prose_search_gives_up_past_its_budget(monkeypatch: pytest.MonkeyPatch):
    text = "{ x " * 100 + '{"late": 1}'
    assert extract_json(text) == {"late": 1}
    monkeypatch.setattr(json_extract, "SCAN_BUDGET", 1000)
    assert parse_error(lambda: extract_json(text)) == f'no JSON found in the answer: "{("{ x " * 20)[:80]}"…'


# --- parse_output ---------------------------------------------------------------------------------


def test_text_has_no_data_json_is_the_parsed_value():
    assert parse_output('{"a": 1}', None, "stages[0].output") is None
    assert parse_output('{"a": 1}', {"format": "text"}, "stages[0].output") is None
    assert parse_output('Here: {"a": 1}', {"format": "json"}, "stages[0].output") == {"a": 1}


def test_errors_name_where():
    assert parse_error(lambda: parse_output("nope", {"format": "json"}, "stages[1].output")) == (
        'stages[1].output: no JSON found in the answer: "nope"'
    )


def test_extract_adds_each_value_under_its_name_missing_optional_fields_become_null():
    data = parse_output(
        '{"result": {"verdict": "ok", "items": [{"title": "T"}]}, "verdict": "shadowed"}',
        {
            "format": "json",
            "extract": [
                {"name": "verdict", "path": "result.verdict", "required": True},
                {"name": "first", "path": "result.items[0].title"},
                {"name": "notes", "path": "result.notes"},
            ],
        },
        "p",
    )
    assert data == {
        "result": {"verdict": "ok", "items": [{"title": "T"}]},
        "verdict": "ok",
        "first": "T",
        "notes": None,
    }


def test_an_array_or_scalar_answer_is_wrapped_as_value_so_extracted_names_have_somewhere_to_live():
    spec = {"format": "json", "extract": [{"name": "top", "path": "0.title"}]}
    assert parse_output('[{"title": "A"}, {"title": "B"}]', spec, "p") == {
        "value": [{"title": "A"}, {"title": "B"}],
        "top": "A",
    }
    assert parse_output("42", {"format": "json", "extract": [{"name": "x", "path": "x"}]}, "p") == {
        "value": 42,
        "x": None,
    }


def test_a_missing_required_field_names_the_field_its_path_and_what_exists():
    def req(text: str, name: str, path: str) -> str:
        spec = {"format": "json", "extract": [{"name": name, "path": path, "required": True}]}
        return parse_error(lambda: parse_output(text, spec, "stages[1].output"))

    assert req('{"result": {"score": 3, "notes": "x"}}', "verdict", "result.verdict") == (
        'stages[1].output: required field "verdict" (path result.verdict) is missing from the answer; '
        "result has keys: score, notes"
    )
    assert req('{"a": null}', "a", "a") == (
        'stages[1].output: required field "a" (path a) is missing from the answer; a has a null value'
    )
    assert req('{"b": 1}', "v", "x.y") == (
        'stages[1].output: required field "v" (path x.y) is missing from the answer; the answer has keys: b'
    )


# --- markdown -------------------------------------------------------------------------------------

MD = "\n".join(
    [
        "Intro text, not a section.",
        "# Review",
        "Overall fine.",
        "## Issues",
        "- one",
        "```ts",
        "# not a heading",
        "const a = 1;",
        "```",
        "## Praise ##",
        "Good names.",
        "# Verdict",
        "ok",
        "# Verdict",
        "again",
        "~~~",
        "plain",
        "~~~",
    ]
)


def test_sections_run_to_the_next_heading_of_the_same_or_higher_level_code_blocks_keep_their_language():
    assert parse_markdown(MD) == {
        "sections": {
            "Review": (
                "Overall fine.\n## Issues\n- one\n```ts\n# not a heading\nconst a = 1;\n```\n## Praise ##\nGood names."
            ),
            "Issues": "- one\n```ts\n# not a heading\nconst a = 1;\n```",
            "Praise": "Good names.",
            "Verdict": "ok",
            "Verdict (2)": "again\n~~~\nplain\n~~~",
        },
        "codeBlocks": [
            {"lang": "ts", "code": "# not a heading\nconst a = 1;"},
            {"lang": "", "code": "plain"},
        ],
    }


def test_parse_output_with_format_markdown_and_extract_from_it():
    assert parse_output("# A\r\nbody", {"format": "markdown"}, "p") == {"sections": {"A": "body"}, "codeBlocks": []}
    spec = {"format": "markdown", "extract": [{"name": "a", "path": "sections.A"}]}
    assert parse_output("# A\nbody", spec, "p") == {"sections": {"A": "body"}, "codeBlocks": [], "a": "body"}
    assert parse_output("no headings at all", {"format": "markdown"}, "p") == {"sections": {}, "codeBlocks": []}


def test_json_escapes_for_what_no_store_holds_are_mended():
    """``\\u0000`` and half a surrogate pair parse into strings PostgreSQL and UTF-8 refuse."""
    from executions.engine.parsing import parse_output

    data = parse_output('{"a\\u0000": ["\\u0000x", "\\ud83d"], "b": 1}', {"format": "json"}, "")
    assert data == {"a\ufffd": ["\ufffdx", "\ufffd"], "b": 1}
