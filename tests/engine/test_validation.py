"""Pipeline-file validation: the schema. Each kind of problem gives its own message and path, all at once;
anything at all gives a clean result."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from executions.engine.loader import BUILTIN_DIR, check_pipeline_text, new_pipeline_text
from executions.engine.validate import validate_pipeline
from tests.helpers.pipeline_samples import base, issues, with_stage

# --- valid files ----------------------------------------------------------------------------------


def test_the_base_pipeline_is_valid_and_comes_back_normalized():
    p = base()
    p["stages"][0]["output"] = {}
    result = validate_pipeline(p, "test")
    assert (result.ok, result.issues, result.warnings) == (True, [], [])
    assert result.config is not None
    assert result.config["stages"][0]["output"] == {"format": "text"}
    assert result.config["stages"][1]["output"] == {
        "format": "json",
        "extract": [{"name": "verdict", "path": "verdict"}],
    }
    assert "output" not in result.config["stages"][2]
    assert json.loads(json.dumps(result.config)) == result.config


def test_every_builtin_pipeline_validates_clean_with_no_warnings():
    files = sorted(p.name for p in BUILTIN_DIR.iterdir() if p.suffix == ".yaml")
    assert files == ["code-review.yaml", "demo.yaml", "prompt-optimizer.yaml", "summarize-critique.yaml"]
    for name in files:
        _, result = check_pipeline_text((BUILTIN_DIR / name).read_text())
        assert (name, result.issues, result.warnings) == (name, [], [])
        assert result.config is not None
        assert result.config["id"] == name.removesuffix(".yaml")
        assert isinstance(result.config["description"], str)
        provider = "local" if name == "demo.yaml" else "anthropic"
        assert result.config["defaults"]["model"]["provider"] == provider


def test_the_new_pipeline_template_validates_clean():
    _, result = check_pipeline_text(new_pipeline_text("my-new-pipe"))
    assert (result.ok, result.issues, result.warnings) == (True, [], [])


# --- schema problems ------------------------------------------------------------------------------


def test_not_an_object():
    assert issues(None) == ["expected a pipeline object (id, name, stages); got null"]
    assert issues([1]) == ["expected a pipeline object (id, name, stages); got an array"]
    assert issues("id: x") == ['expected a pipeline object (id, name, stages); got string "id: x"']


def test_unknown_provider_tool_and_format_list_the_choices():
    assert issues(with_stage(0, model={"provider": "foo"})) == [
        'stages[0].model.provider: unknown provider "foo"; expected one of anthropic, openai, openai-compatible, '
        "google, local, cli",
    ]
    assert issues(with_stage(0, model={"provider": "antropic", "model": "m"})) == [
        'stages[0].model.provider: unknown provider "antropic"; expected one of anthropic, openai, '
        'openai-compatible, google, local, cli (did you mean "anthropic"?)',
    ]
    assert issues(with_stage(0, model={"provider": "cli", "tool": "claud"})) == [
        'stages[0].model.tool: unknown tool "claud"; expected one of claude, opencode, gemini, command '
        '(did you mean "claude"?)',
    ]
    assert issues(with_stage(0, output={"format": "yaml"})) == [
        'stages[0].output.format: unknown output format "yaml"; expected one of text, json, markdown',
    ]


def test_unknown_fields_with_a_suggestion_when_close():
    p = with_stage(1, promt="x")
    p["descripton"] = "d"
    assert issues(p) == [
        'unknown field "descripton"; did you mean "description"?',
        'stages[1]: unknown field "promt"; did you mean "prompt"?',
    ]
    assert issues(with_stage(0, model={"provider": "local", "zzz": 1})) == ['stages[0].model: unknown field "zzz"']
    assert issues(with_stage(2, skipIf={"path": "stages.check.data.verdict", "equal": "ok"})) == [
        'stages[2].skipIf: unknown field "equal"; did you mean "equals"?',
        "stages[2].skipIf: a condition needs a test: one of equals, notEquals, in, contains, matches, exists, "
        "gt, gte, lt, lte",
    ]


def test_swapped_letters_are_a_typo_a_chance_likeness_is_not():
    assert issues(with_stage(1, tpye="x")) == ['stages[1]: unknown field "tpye"; did you mean "type"?']
    assert issues(with_stage(0, model={"provider": "locla"})) == [
        'stages[0].model.provider: unknown provider "locla"; expected one of anthropic, openai, '
        'openai-compatible, google, local, cli (did you mean "local"?)',
    ]
    # "temp" shares four letters with "system" and none of its sense.
    assert issues(with_stage(0, temp=0.3)) == ['stages[0]: unknown field "temp"']


def test_missing_and_mistyped_fields_ranges_and_formats():
    p = base()
    del p["name"]
    p["stages"][0] = {
        "id": "Draft One",
        "retries": 1.5,
        "timeoutMs": 0,
        "model": {"temperature": 3, "baseURL": "localhost"},
    }
    assert issues(p) == [
        "name: missing; expected a string",
        'stages[0].id: "Draft One" must match [a-z0-9-]+ (lowercase letters, digits and dashes)',
        "stages[0].model.temperature: must be at most 2; got number 3",
        'stages[0].model.baseURL: "localhost" is not a valid URL',
        "stages[0].prompt: missing; expected a string",
        "stages[0].retries: expected a whole number; got number 1.5",
        "stages[0].timeoutMs: must be greater than 0; got number 0",
        # the rename leaves later references dangling, and that is reported too
        'stages[1].prompt: unknown variable {{stages.draft.output}} (no stage "draft"; earlier stages: Draft One)',
        'stages[2].prompt: unknown variable {{stages.draft.output}} (no stage "draft"; '
        "earlier stages: Draft One, check)",
    ]
    assert issues({"id": "x", "name": "X", "stages": []}) == ["stages: a pipeline needs at least one stage"]
    assert issues({"id": "x", "name": "", "stages": "all of them"}) == [
        "name: must not be empty",
        'stages: expected a list; got string "all of them"',
    ]


def test_more_types_and_ranges():
    p = base()
    p["defaults"] = {"model": {"provider": "local", "maxTokens": -1, "temperature": "hot"}, "retries": 11, "system": 5}
    p["stages"][0].update(
        prompt="", continueOnError="yes", name=None, model={"apiKeyEnv": "my key", "command": [], "allowedTools": [""]}
    )
    p["stages"][1]["output"]["extract"] = [{"name": "1st", "path": "", "required": 1}, "verdict"]
    assert issues(p) == [
        "defaults.model.maxTokens: must be greater than 0; got number -1",
        'defaults.model.temperature: expected a number; got string "hot"',
        "defaults.system: expected a string; got number 5",
        "defaults.retries: must be at most 10; got number 11",
        "stages[0].name: expected a string; got null",
        'stages[0].model.apiKeyEnv: "my key" must be an environment variable name such as MY_API_KEY',
        "stages[0].model.command: needs at least 1 item",
        "stages[0].model.allowedTools[0]: must not be empty",
        "stages[0].prompt: must not be empty",
        'stages[0].continueOnError: expected a boolean; got string "yes"',
        "stages[0].model.command: command is only used with provider cli and tool command (this stage uses "
        "provider local)",
        'stages[1].output.extract[0].name: "1st" must be an identifier',
        "stages[1].output.extract[0].path: must not be empty",
        "stages[1].output.extract[0].required: expected a boolean; got number 1",
        'stages[1].output.extract[1]: expected an object; got string "verdict"',
    ]


def test_condition_shapes():
    assert issues(with_stage(2, skipIf={"path": "stages.check.data.verdict", "equals": {"a": 1}})) == [
        "stages[2].skipIf.equals: expected a string, a number, a boolean or null; got an object",
    ]
    assert issues(with_stage(2, skipIf="verdict == ok")) == [
        "stages[2].skipIf: expected a condition ({path, equals…}, {all: […]}, {any: […]} or {not: …}); "
        'got string "verdict == ok"',
    ]
    assert issues(with_stage(2, runIf={"all": [], "any": [{"path": "input", "exists": True}]})) == [
        "stages[2].runIf.all: needs at least 1 item",
        'stages[2].runIf: a condition with "all" cannot also have "any"',
    ]
    assert issues(with_stage(2, runIf={"path": "input", "exists": True, "not": {"path": "input", "exists": 1}})) == [
        'stages[2].runIf: a condition with "path" cannot also have "not"',
    ]
    assert issues(with_stage(2, runIf={"not": {"equals": 1}, "gt": "1"})) == [
        "stages[2].runIf.not.path: missing; expected a string",
        'stages[2].runIf: a condition with "not" cannot also have "gt"',
    ]
    assert issues(with_stage(2, earlyExit={"path": "input", "in": "abc", "gt": float("inf")})) == [
        'stages[2].earlyExit.in: expected a list; got string "abc"',
        "stages[2].earlyExit.gt: expected a number; got number Infinity",
    ]


# --- everything at once, and anything at all ------------------------------------------------------


def test_several_problems_at_once_are_all_reported_grouped_by_stage():
    p = base()
    p["id"] = "Bad"
    p["stages"][0]["promt"] = "typo"
    p["stages"][1].update(id="draft", model={"provider": "cli"})
    p["stages"][2].update(prompt="{{stages.nope.output}}", skipIf={"path": "stages.check.output", "matches": "("})
    assert issues(p) == [
        'id: "Bad" must match [a-z0-9-]+ (lowercase letters, digits and dashes)',
        'stages[0]: unknown field "promt"; did you mean "prompt"?',
        'stages[1].id: duplicate stage id "draft" (also stages[0])',
        "stages[1].model.tool: provider cli needs a tool: one of claude, opencode, gemini, command",
        'stages[2].prompt: unknown variable {{stages.nope.output}} (no stage "nope"; earlier stages: draft)',
        'stages[2].skipIf.matches: invalid regular expression "(": missing ), unterminated subpattern at position 0',
        'stages[2].skipIf.path: unknown path "stages.check.output" (no stage "check"; earlier stages: draft)',
    ]


def test_self_containing_huge_and_deep_values_are_refused_cleanly():
    loop: list[Any] = []
    loop.append(loop)
    assert issues({**base(), "stages": loop}) == ["the pipeline contains itself (a YAML alias inside its own anchor)"]
    # 2**25 conditions once shared nodes are expanded, as a billion-laughs YAML file would make.
    cond: dict[str, Any] = {"path": "input", "exists": True}
    for _ in range(25):
        cond = {"all": [cond, cond]}
    assert issues(with_stage(2, runIf=cond)) == [
        "the pipeline holds more than 100000 values once YAML aliases are expanded"
    ]
    deep: dict[str, Any] = {"path": "input", "exists": True}
    for _ in range(70):
        deep = {"not": deep}
    assert issues(with_stage(2, runIf=deep)) == ["the pipeline nests more than 64 levels deep"]


_KEYS = st.sampled_from(
    [
        "id",
        "name",
        "stages",
        "defaults",
        "model",
        "provider",
        "prompt",
        "output",
        "format",
        "extract",
        "path",
        "skipIf",
        "all",
        "any",
        "not",
        "equals",
        "matches",
        "tool",
        "command",
        "in",
        "x",
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "{{input}}",
            "{{stages.a.output}}",
            "{{stages.a.data.x}}",
            "(",
            "local",
            "cli",
            "json",
            "a",
            "stages.a.output",
            "command",
            "markdown",
        ]
    ),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_KEYS, st.integers(), st.none()), inner, max_size=6),
    ),
    max_leaves=20,
)


def _clean(result: Any) -> None:
    if result.ok:
        assert isinstance(result.config["stages"], list)
        json.dumps(result.config, allow_nan=False)
        return
    assert result.issues and result.config is None
    for path, message in result.issues:
        assert isinstance(path, str) and isinstance(message, str) and message


@settings(max_examples=400, deadline=None)
@given(_VALUES)
def test_property_validation_never_raises_on_any_value(raw: Any):
    _clean(validate_pipeline(raw, "fuzz"))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(_KEYS, _VALUES, max_size=6), max_size=4), _VALUES)
def test_property_validation_never_raises_on_near_pipelines(stages: Any, defaults: Any):
    _clean(validate_pipeline({"id": "p", "name": "P", "defaults": defaults, "stages": stages}, "fuzz"))
