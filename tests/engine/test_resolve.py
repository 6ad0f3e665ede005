"""A stage's effective settings: defaults, the stage, then --mode / --tool."""

from __future__ import annotations

from typing import Any

import pytest

from executions.engine.resolve import DEFAULT_MODELS, model_label, resolve_stage, resolve_stages, stage_refs
from executions.engine.types import DEFAULT_RETRIES, DEFAULT_TIMEOUT_MS, RunOverrides, StageRef

NO_KEYS: dict[str, str] = {}


def pipeline(stages: list[dict[str, Any]], defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {
        "id": "p",
        "name": "P",
        "stages": [{"id": f"s{i}", "prompt": "x", **s} for i, s in enumerate(stages)],
    }
    if defaults is not None:
        p["defaults"] = defaults
    return p


def model(
    p: dict[str, Any], overrides: RunOverrides | None = None, env: dict[str, str] = NO_KEYS, i: int = 0
) -> dict[str, Any]:
    return resolve_stage(p, i, overrides or RunOverrides(), env).model


def test_the_default_models_are_in_one_place():
    assert DEFAULT_MODELS == {"anthropic": "claude-haiku-4-5", "openai": "gpt-4o-mini", "google": "gemini-2.5-flash"}


def test_ref_retries_timeout_output_and_system_defaults():
    p = pipeline([{"model": {"provider": "local"}}])
    stage = resolve_stage(p, 0, RunOverrides(), NO_KEYS)
    assert stage.ref == StageRef("s0", "s0", "generate", "local", "SmolLM2-135M-Instruct")
    assert (stage.index, stage.config, stage.model, stage.system) == (0, p["stages"][0], {"provider": "local"}, None)
    assert (stage.retries, stage.timeout_ms, stage.output) == (DEFAULT_RETRIES, DEFAULT_TIMEOUT_MS, {"format": "text"})


def test_the_model_label_is_the_model_name_the_providers_default_the_cli_or_the_gguf_file():
    assert model_label({"provider": "anthropic", "model": "claude-sonnet-4-5"}) == "claude-sonnet-4-5"
    assert model_label({"provider": "openai"}) == "gpt-4o-mini"
    assert model_label({"provider": "openai-compatible"}) == "openai-compatible"
    assert (
        model_label({"provider": "cli", "tool": "claude", "model": "claude-haiku-4-5"}) == "claude · claude-haiku-4-5"
    )
    assert model_label({"provider": "cli", "tool": "command", "command": ["/usr/bin/my-tool", "--x"]}) == "my-tool"
    assert model_label({"provider": "local", "path": "models/tiny.gguf"}) == "tiny.gguf"


def test_stage_values_win_over_defaults_which_win_over_built_in_defaults():
    p = pipeline(
        [
            {"name": "Draft", "type": "write", "retries": 0, "output": {"format": "json"}, "system": "stage sys"},
            {"timeoutMs": 5},
        ],
        {"model": {"provider": "local"}, "system": "default sys", "retries": 4, "timeoutMs": 1000},
    )
    a, b = resolve_stages(p, RunOverrides(), NO_KEYS)
    assert (a.ref, a.retries, a.timeout_ms, a.output, a.system) == (
        StageRef("s0", "Draft", "write", "local", "SmolLM2-135M-Instruct"),
        0,
        1000,
        {"format": "json"},
        "stage sys",
    )
    assert (b.ref, b.retries, b.timeout_ms, b.system) == (
        StageRef("s1", "s1", "generate", "local", "SmolLM2-135M-Instruct"),
        4,
        5,
        "default sys",
    )
    assert stage_refs(p, RunOverrides(), NO_KEYS) == [a.ref, b.ref]


def test_the_model_merges_field_by_field_when_the_provider_is_the_same():
    p = pipeline(
        [{"model": {"maxTokens": 50}}, {"model": {"provider": "anthropic", "temperature": 1}}],
        {
            "model": {
                "provider": "anthropic",
                "model": "claude-haiku-4-5",
                "maxTokens": 1024,
                "temperature": 0.3,
                "baseURL": "http://127.0.0.1:1",
            }
        },
    )
    assert model(p) == {
        "provider": "anthropic",
        "model": "claude-haiku-4-5",
        "maxTokens": 50,
        "temperature": 0.3,
        "baseURL": "http://127.0.0.1:1",
    }
    assert model(p, i=1) == {
        "provider": "anthropic",
        "model": "claude-haiku-4-5",
        "maxTokens": 1024,
        "temperature": 1,
        "baseURL": "http://127.0.0.1:1",
    }


def test_a_different_provider_inherits_only_max_tokens_and_temperature():
    p = pipeline(
        [{"model": {"provider": "openai", "model": "gpt-4o-mini"}}, {"model": {"provider": "cli", "tool": "gemini"}}],
        {
            "model": {
                "provider": "cli",
                "tool": "command",
                "command": ["x"],
                "model": "m",
                "maxTokens": 10,
                "temperature": 0.5,
                "cwd": "/tmp",
            }
        },
    )
    assert model(p) == {"provider": "openai", "model": "gpt-4o-mini", "maxTokens": 10, "temperature": 0.5}
    # another agent CLI: the defaults' model name and argv do not carry over, its sandbox settings do
    assert model(p, i=1) == {"provider": "cli", "tool": "gemini", "maxTokens": 10, "temperature": 0.5, "cwd": "/tmp"}


def test_an_out_of_range_index_is_an_index_error():
    with pytest.raises(IndexError, match=r"^no stage at index 3 \(the pipeline has 1\)$"):
        resolve_stage(pipeline([{}]), 3, RunOverrides(), NO_KEYS)


ANTHROPIC = pipeline(
    [
        {
            "model": {
                "provider": "anthropic",
                "model": "claude-sonnet-4-5",
                "maxTokens": 300,
                "temperature": 0.2,
                "baseURL": "http://127.0.0.1:1",
            }
        }
    ]
)
LOCAL = pipeline([{"model": {"provider": "local", "path": "/m.gguf", "maxTokens": 96}}])
CLI_OPENCODE = pipeline([{"model": {"provider": "cli", "tool": "opencode", "model": "x/y", "allowedTools": ["Read"]}}])


def test_no_overrides_leave_the_model_unchanged():
    assert model(ANTHROPIC) == ANTHROPIC["stages"][0]["model"]


def test_mode_local_keeps_max_tokens_and_temperature_path_only_when_already_local():
    assert model(ANTHROPIC, RunOverrides(mode="local")) == {"provider": "local", "maxTokens": 300, "temperature": 0.2}
    assert model(LOCAL, RunOverrides(mode="local")) == {"provider": "local", "path": "/m.gguf", "maxTokens": 96}


def test_mode_cli_runs_claude_by_default_keeping_the_model_name_only_from_anthropic_to_claude():
    assert model(ANTHROPIC, RunOverrides(mode="cli")) == {
        "provider": "cli",
        "tool": "claude",
        "model": "claude-sonnet-4-5",
        "maxTokens": 300,
        "temperature": 0.2,
    }
    assert model(ANTHROPIC, RunOverrides(mode="cli", tool="gemini")) == {
        "provider": "cli",
        "tool": "gemini",
        "maxTokens": 300,
        "temperature": 0.2,
    }
    assert model(LOCAL, RunOverrides(mode="cli")) == {"provider": "cli", "tool": "claude", "maxTokens": 96}


def test_a_tool_alone_implies_mode_cli():
    assert model(ANTHROPIC, RunOverrides(tool="claude")) == {
        "provider": "cli",
        "tool": "claude",
        "model": "claude-sonnet-4-5",
        "maxTokens": 300,
        "temperature": 0.2,
    }
    assert model(LOCAL, RunOverrides(tool="opencode")) == {"provider": "cli", "tool": "opencode", "maxTokens": 96}


def test_a_stage_already_on_the_requested_cli_keeps_its_settings_another_tool_replaces_them():
    kept = {"provider": "cli", "tool": "opencode", "model": "x/y", "allowedTools": ["Read"]}
    assert model(CLI_OPENCODE, RunOverrides(mode="cli")) == kept
    assert model(CLI_OPENCODE, RunOverrides(tool="opencode")) == kept
    assert model(CLI_OPENCODE, RunOverrides(tool="claude")) == {"provider": "cli", "tool": "claude"}


def test_mode_api_leaves_api_stages_alone_and_moves_others_to_the_first_provider_with_a_key():
    api = RunOverrides(mode="api")
    assert model(ANTHROPIC, api, {"OPENAI_API_KEY": "k"}) == ANTHROPIC["stages"][0]["model"]
    compat = pipeline([{"model": {"provider": "openai-compatible", "model": "llama3"}}])
    assert model(compat, api) == {"provider": "openai-compatible", "model": "llama3"}
    assert model(LOCAL, api, {"ANTHROPIC_API_KEY": "a", "OPENAI_API_KEY": "o"}) == {
        "provider": "anthropic",
        "model": "claude-haiku-4-5",
        "maxTokens": 96,
    }
    assert model(LOCAL, api, {"OPENAI_API_KEY": "o", "GOOGLE_API_KEY": "g"}) == {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "maxTokens": 96,
    }
    assert model(LOCAL, api, {"GOOGLE_API_KEY": "g"}) == {
        "provider": "google",
        "model": "gemini-2.5-flash",
        "maxTokens": 96,
    }
    # no key at all (or a blank one): anthropic, whose missing key is then reported by the provider
    assert model(CLI_OPENCODE, api, {"ANTHROPIC_API_KEY": " "}) == {
        "provider": "anthropic",
        "model": "claude-haiku-4-5",
    }
    assert resolve_stage(LOCAL, 0, api, {"GOOGLE_API_KEY": "g"}).ref == StageRef(
        "s0", "s0", "generate", "google", "gemini-2.5-flash"
    )


def test_the_resolved_model_is_a_copy():
    p = pipeline([{"model": {"maxTokens": 5}}], {"model": {"provider": "local"}})
    model(p)["maxTokens"] = 99
    assert p["stages"][0]["model"] == {"maxTokens": 5} and p["defaults"]["model"] == {"provider": "local"}
