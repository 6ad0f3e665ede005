"""Pipeline validation on any value YAML can load (and any text): it never raises; a valid result has
a config and no issues, an invalid one has issues, each a message at a path that points into the value
(the place itself, or the missing field of an object that is there)."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from executions.engine.loader import check_pipeline_text
from executions.engine.validate import ValidationResult, validate_pipeline
from tests.properties.strategies import model_text, yaml_values

#: how the validator writes a path: dotted field names with [i] indexes, as users write them
PATH = re.compile(r"(?:[A-Za-z_][\w-]*)(?:\[\d+\])*(?:\.[A-Za-z_][\w-]*(?:\[\d+\])*)*")
SEGMENT = re.compile(r"([A-Za-z_][\w-]*)|\[(\d+)\]")

BASE = {
    "id": "base",
    "name": "Base",
    "defaults": {"model": {"provider": "anthropic", "model": "claude-haiku-4-5"}},
    "stages": [
        {"id": "draft", "prompt": "{{input}}", "output": {"format": "json", "extract": [{"name": "v", "path": "v"}]}},
        {
            "id": "review",
            "prompt": "{{stages.draft.output}} {{stages.draft.data.v}}",
            "skipIf": {"path": "stages.draft.data.v", "equals": "ok"},
            "retries": 1,
        },
    ],
}


def walk(raw: Any, path: str) -> tuple[bool, bool]:
    """(the path's parent is in ``raw``, the path itself is)."""
    node = raw
    segments = SEGMENT.findall(path)
    for i, (key, index) in enumerate(segments):
        last = i == len(segments) - 1
        if index:
            ok = isinstance(node, list) and int(index) < len(node)
        else:
            ok = isinstance(node, dict) and key in node
        if not ok:
            return last and isinstance(node, dict | list), False
        node = node[int(index)] if index else node[key]
    return True, True


def check(raw: Any, result: ValidationResult) -> None:
    if result.ok:
        assert result.config is not None and not result.issues
        json.dumps(result.config, allow_nan=False)  # stored with the execution as JSON
        return
    assert result.config is None and result.issues
    for path, message in result.issues:
        assert isinstance(message, str) and message.strip()
        if path:
            assert PATH.fullmatch(path), path
            parent_there, _ = walk(raw, path)
            assert parent_there, f"{path}: {message}"


@given(yaml_values)
def test_any_value_gives_a_result_never_an_exception(raw: Any) -> None:
    check(raw, validate_pipeline(raw))


@st.composite
def mutated(draw: Any) -> Any:
    """The valid base pipeline with one place (anywhere in it) replaced by any value, or a key added."""
    raw = json.loads(json.dumps(BASE))
    node = raw
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = draw(st.sampled_from(keys))
        child = node[key]
        if not isinstance(child, dict | list) or not child or draw(st.booleans()):
            break
        node = child
    if isinstance(node, dict) and draw(st.booleans()):
        node[draw(st.text(max_size=10))] = draw(yaml_values)
    else:
        node[key] = draw(yaml_values)
    return raw


@given(mutated())
def test_a_valid_pipeline_changed_anywhere_still_validates_cleanly(raw: Any) -> None:
    check(raw, validate_pipeline(raw))


def test_the_base_pipeline_is_valid() -> None:
    assert validate_pipeline(json.loads(json.dumps(BASE))).ok


yaml_texts = st.one_of(
    model_text,
    yaml_values.map(lambda v: yaml.safe_dump(v, allow_unicode=True) if _dumpable(v) else ""),
    mutated().map(lambda v: yaml.safe_dump(v, allow_unicode=True) if _dumpable(v) else ""),
    st.sampled_from(["a: &x [*x]", "- - - -", "id: [", "? a\n: b", "!!python/object:os.system x", "\t- x"]),
)


def _dumpable(value: Any) -> bool:
    try:
        yaml.safe_dump(value)
    except yaml.YAMLError:
        return False
    return True


@given(yaml_texts)
def test_any_text_gives_a_result_never_an_exception(text: str) -> None:
    raw, result = check_pipeline_text(text)
    check(raw, result)
