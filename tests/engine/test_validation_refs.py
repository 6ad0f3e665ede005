"""Pipeline-file validation: what a schema cannot say. References between stages in templates and
conditions, duplicate ids, what each provider needs."""

from __future__ import annotations

from typing import Any

from executions.engine.validate import format_issue, validate_pipeline
from tests.helpers.pipeline_samples import base, issues, with_stage

# --- references -----------------------------------------------------------------------------------


def test_the_contract_example_an_unknown_stage_in_a_template():
    assert issues(with_stage(2, prompt="{{stages.nope.output}}")) == [
        'stages[2].prompt: unknown variable {{stages.nope.output}} (no stage "nope"; earlier stages: draft, check)',
    ]


def test_later_stages_the_stage_itself_unknown_variables_typos():
    prompt = "{{stages.final.output}} {{stages.draft.output}} {{foo}} {{stages.check.outptu}} {{stages.chek.output}}"
    assert issues(with_stage(0, prompt=prompt)) == [
        'stages[0].prompt: {{stages.final.output}} refers to a later stage, "final" (stages[2]); '
        "a stage can only use earlier stages",
        "stages[0].prompt: {{stages.draft.output}} refers to this stage itself; a stage can only use earlier stages",
        "stages[0].prompt: unknown variable {{foo}}; use {{input}}, {{stages.<id>.output}}, "
        "{{stages.<id>.data.<path>}} or {{stages.<id>.status}}",
        "stages[0].prompt: unknown variable {{stages.check.outptu}}; did you mean {{stages.check.output}}?",
        'stages[0].prompt: unknown variable {{stages.chek.output}} (no stage "chek"; there are no earlier stages); '
        'did you mean "check"?',
    ]


def test_an_escaped_reference_is_not_checked():
    assert issues(with_stage(0, prompt="Show \\{{stages.nope.output}} literally: {{input}}")) == []


def test_data_of_a_text_stage_suggests_output_markdown_data_has_sections_and_code_blocks():
    assert issues(with_stage(2, system="{{stages.draft.data.summary}}")) == [
        'stages[2].system: {{stages.draft.data.summary}}: stage "draft" has output format text, so it has no data; '
        "use {{stages.draft.output}}, or set its output.format to json or markdown",
    ]
    p = with_stage(0, output={"format": "markdown"})
    p["stages"][1]["prompt"] = "{{stages.draft.data.sections.Intro}} {{stages.draft.data.intro}}"
    assert issues(p) == [
        'stages[1].prompt: {{stages.draft.data.intro}}: markdown data has "sections" and "codeBlocks", not "intro"',
    ]


def test_defaults_system_may_only_use_input():
    p = base()
    p["defaults"]["system"] = "Topic {{input}}; {{stages.draft.output}}"
    assert issues(p) == [
        "defaults.system: {{stages.draft.output}}: defaults apply to every stage, so they can only use {{input}}",
    ]


def test_conditions_see_earlier_stages_only_early_exit_may_see_the_stage_itself():
    p = with_stage(
        1,
        skipIf={"path": "stages.check.output", "contains": "x"},
        runIf={
            "all": [
                {"path": "stages.final.status", "equals": "completed"},
                {"not": {"path": "stages.gone.data.x", "exists": True}},
            ]
        },
        earlyExit={"any": [{"path": "stages.check.data.verdict", "equals": "stop"}, {"path": "verdict", "equals": 1}]},
    )
    assert issues(p) == [
        'stages[1].skipIf.path: "stages.check.output" refers to this stage itself; a stage can only use earlier stages',
        'stages[1].runIf.all[0].path: "stages.final.status" refers to a later stage, "final" (stages[2]); '
        "a stage can only use earlier stages",
        'stages[1].runIf.all[1].not.path: unknown path "stages.gone.data.x" (no stage "gone"; earlier stages: draft)',
        'stages[1].earlyExit.any[1].path: unknown path "verdict"; expected input, stages.<id>.output, '
        "stages.<id>.status or stages.<id>.data.<path>",
    ]
    assert issues(with_stage(2, runIf={"path": "stages.draft.data.x", "exists": True})) == [
        'stages[2].runIf.path: "stages.draft.data.x": stage "draft" has output format text, so it has no data; '
        "use {{stages.draft.output}}, or set its output.format to json or markdown",
    ]


def test_an_invalid_matches_regex_and_a_valid_one():
    assert issues(with_stage(2, skipIf={"path": "stages.check.output", "matches": "([a-z"})) == [
        'stages[2].skipIf.matches: invalid regular expression "([a-z": unterminated character set at position 1',
    ]
    assert issues(with_stage(2, skipIf={"path": "stages.check.output", "matches": "(?i)^ok"})) == []


def test_duplicate_stage_ids_and_extract_names_extract_on_a_text_stage():
    extract = [{"name": "a", "path": "a"}, {"name": "b", "path": "b"}, {"name": "a", "path": "c"}]
    p = with_stage(2, id="draft", output={"format": "json", "extract": extract})
    p["stages"][0]["output"] = {"extract": [{"name": "x", "path": "x"}]}
    assert issues(p) == [
        "stages[0].output.extract: extract needs output.format json (or markdown); text has no data to extract from",
        'stages[2].id: duplicate stage id "draft" (also stages[0])',
        'stages[2].output.extract[2].name: duplicate extract name "a" (also extract[0])',
    ]


# --- providers ------------------------------------------------------------------------------------


def stage_model(model: dict[str, Any] | None, defaults: dict[str, Any] | None = None) -> list[str]:
    p = base()
    if defaults is None:
        del p["defaults"]
    else:
        p["defaults"] = {"model": defaults}
    p["stages"] = [{"id": "only", "prompt": "x", **({"model": model} if model is not None else {})}]
    return issues(p)


def test_no_model_anywhere():
    assert stage_model(None) == ["stages[0].model: no model: set stages[0].model or defaults.model"]
    assert stage_model({"maxTokens": 5}) == ["stages[0].model: no model: set stages[0].model or defaults.model"]


def test_an_api_provider_needs_a_model_name():
    assert stage_model({"provider": "anthropic"}) == [
        "stages[0].model.model: provider anthropic needs a model name, e.g. claude-haiku-4-5; "
        "set stages[0].model.model or defaults.model.model",
    ]
    assert stage_model({"maxTokens": 9}, {"provider": "google", "model": "gemini-2.5-flash"}) == []
    # A different provider does not inherit the defaults' model name.
    assert stage_model({"provider": "openai"}, {"provider": "anthropic", "model": "claude-haiku-4-5"}) == [
        "stages[0].model.model: provider openai needs a model name, e.g. gpt-4o-mini; "
        "set stages[0].model.model or defaults.model.model",
    ]


def test_cli_needs_a_tool_command_needs_command_command_only_for_tool_command():
    assert stage_model({"provider": "cli"}) == [
        "stages[0].model.tool: provider cli needs a tool: one of claude, opencode, gemini, command",
    ]
    assert stage_model({"provider": "cli", "tool": "command"}) == [
        'stages[0].model.command: tool command needs command: the program and its arguments, e.g. ["my-llm", "--json"]',
    ]
    assert stage_model({"provider": "cli", "tool": "claude", "command": ["x"]}) == [
        "stages[0].model.command: command is only used with provider cli and tool command "
        "(this stage uses tool claude)",
    ]
    assert stage_model({"provider": "cli", "tool": "command", "command": ["my-llm", "--json"]}) == []


def test_warnings_for_settings_that_may_be_fine_at_run_time_or_are_ignored():
    p = base()
    p["stages"] = [
        {"id": "a", "prompt": "x", "model": {"provider": "openai-compatible", "model": "llama3"}},
        {
            "id": "b",
            "prompt": "x",
            "model": {"provider": "local", "baseURL": "http://127.0.0.1:1/v1", "tool": "claude"},
        },
    ]
    result = validate_pipeline(p, "test")
    assert result.ok
    assert [format_issue(w) for w in result.warnings] == [
        "stages[0].model.baseURL: openai-compatible without baseURL: "
        "OPENAI_BASE_URL must be set when the pipeline runs",
        "stages[1].model.tool: tool is only used by provider cli; ignored for provider local",
        "stages[1].model.baseURL: baseURL is only used by API providers; ignored for provider local",
    ]
