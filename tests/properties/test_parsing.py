"""Output parsing on any answer: JSON is found whole, in a fence or in prose; nothing but an
OutputParseError (naming where) ever comes out of parse_output, whatever the model wrote."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from executions.engine.errors import OutputParseError
from executions.engine.json_extract import extract_json, loads
from executions.engine.parsing import parse_markdown, parse_output
from tests.properties.strategies import json_values, model_text

WHERE = "stages.draft.output"
#: prose that cannot itself start JSON or a fence
prose = st.text(alphabet=st.characters(exclude_characters='{}[]"`~\\'), max_size=60)
structures = json_values.filter(lambda v: isinstance(v, dict | list))


def normalized(value: Any) -> Any:
    """What the parser gives back for a value: JSON has one number type, so 7.0 reads as 7."""
    return loads(json.dumps(value))


@given(json_values, st.sampled_from([None, 0, 2]), prose, prose)
def test_json_is_found_whole_or_in_a_fence_with_prose_around(
    value: Any, indent: int | None, before: str, after: str
) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    assert extract_json(f"  {text}\n") == normalized(value)
    for lang in ("json", "JSON", ""):
        fenced = f"{before}\n```{lang}\n{text}\n```\n{after}"
        assert extract_json(fenced) == normalized(value)


@given(structures, prose, prose)
def test_an_object_or_array_is_found_in_prose(value: Any, before: str, after: str) -> None:
    # [1, 2] in prose reads as a citation; it is still the answer when nothing better is there.
    text = json.dumps(value, ensure_ascii=False)
    assert extract_json(f"{before} {text} {after}") == normalized(value)


formats = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"format": st.sampled_from(["text", "json", "markdown"])},
        optional={
            "extract": st.lists(
                st.fixed_dictionaries(
                    {
                        "name": st.sampled_from(["title", "value", "x_1"]),
                        "path": st.sampled_from(["title", "items.0", "a.b[1].c", "0", "sections.Intro", "x"]),
                    },
                    optional={"required": st.booleans()},
                ),
                max_size=3,
            )
        },
    ),
)
answers = st.one_of(
    model_text,
    json_values.map(json.dumps),
    st.builds(lambda a, b: a + b, model_text, json_values.map(json.dumps)),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * (n % 7)),  # deep, truncated, stray brackets
    st.integers(1, 3000).map(lambda n: '{"a":' * n),
    st.sampled_from(['```json\n{"a": 1,}\n```', "```json\n{oops}\n```", "# T\n```\ncode", "{", "[1, 2", "\ufeff{}"]),
)


@given(answers, formats)
def test_parse_output_returns_data_or_an_output_parse_error_naming_where(text: str, spec: Any) -> None:
    try:
        data = parse_output(text, spec, WHERE)
    except OutputParseError as err:
        assert err.message.startswith(f"{WHERE}: ")
        return
    fmt = (spec or {}).get("format", "text")
    if fmt == "text":
        assert data is None
    json.dumps(data, allow_nan=False)  # what a stage's data must be: storable and sendable as JSON


@given(answers)
def test_markdown_sections_are_never_lost_or_invented(text: str) -> None:
    parsed = parse_markdown(text)
    assert set(parsed) == {"sections", "codeBlocks"}
    for title, body in parsed["sections"].items():
        assert title.split(" (")[0] in text
        assert body in text.replace("\r\n", "\n")
