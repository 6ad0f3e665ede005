"""A stage's effective settings: pipeline defaults, then the stage, then the run's --mode / --tool."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .types import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT_MS,
    ModelConfig,
    PipelineConfig,
    RunOverrides,
    StageRef,
)

#: The model each API provider uses when a stage names none (also what cost estimates price).
DEFAULT_MODELS: dict[str, str] = {
    "anthropic": "claude-haiku-4-5",
    "openai": "gpt-4o-mini",
    "google": "gemini-2.5-flash",
}

#: What the local provider runs when a stage names no GGUF ``path`` (the label only; the file is the provider's).
DEFAULT_LOCAL_MODEL = "SmolLM2-135M-Instruct"

API_PROVIDERS = ("anthropic", "openai", "openai-compatible", "google")

#: ``--mode api`` for a stage not on an API provider: the first provider whose key is set.
API_FALLBACKS: tuple[tuple[str, str], ...] = (
    ("ANTHROPIC_API_KEY", "anthropic"),
    ("OPENAI_API_KEY", "openai"),
    ("GOOGLE_API_KEY", "google"),
)


@dataclass(frozen=True, slots=True)
class ResolvedStage:
    ref: StageRef
    index: int
    #: the stage as written in the pipeline
    config: dict[str, Any]
    model: ModelConfig
    system: str | None
    retries: int
    timeout_ms: int
    #: ``{"format": "text"}`` when the stage has none
    output: dict[str, Any]


def _generic(m: Mapping[str, Any]) -> dict[str, Any]:
    """Fields that mean the same on every provider, so they carry across a provider change."""
    return {k: m[k] for k in ("maxTokens", "temperature") if k in m}


def merge_model(defaults: Mapping[str, Any] | None, stage: Mapping[str, Any] | None) -> dict[str, Any]:
    """defaults.model then stage.model, field by field.

    When the stage names a different provider, the defaults' provider-specific fields (model, baseURL,
    path, tool, command…) would be nonsense there, so only maxTokens/temperature carry over. Takes raw
    dicts too: validation merges before it knows the values are well typed.
    """
    d = dict(defaults or {})
    s = dict(stage or {})
    if "provider" in s and "provider" in d and s["provider"] != d["provider"]:
        return {**_generic(d), **s}
    provider = s["provider"] if s.get("provider") is not None else d.get("provider")
    # Same for a different agent CLI: another tool's model name or argv means nothing to this one,
    # while the sandbox settings (cwd, allowedTools) still apply.
    if provider == "cli" and "tool" in s and "tool" in d and s["tool"] != d["tool"]:
        sandbox: dict[str, Any] = {k: d[k] for k in ("provider", "cwd", "allowedTools") if k in d}
        return {**_generic(d), **sandbox, **s}
    return {**d, **s}


def _apply_overrides(model: dict[str, Any], overrides: RunOverrides, env: Mapping[str, str]) -> dict[str, Any]:
    mode = overrides.mode or ("cli" if overrides.tool else None)
    if not mode:
        return model
    if mode == "local":
        return model if model.get("provider") == "local" else {"provider": "local", **_generic(model)}
    if mode == "cli":
        tool = overrides.tool or "claude"
        # Already on the requested CLI (or on any CLI when no tool is named): keep the stage's own settings.
        if model.get("provider") == "cli" and (overrides.tool is None or model.get("tool") == tool):
            return model
        keep_name = model.get("provider") == "anthropic" and tool == "claude" and "model" in model
        return {"provider": "cli", "tool": tool, **({"model": model["model"]} if keep_name else {}), **_generic(model)}
    if model.get("provider") in API_PROVIDERS:
        return model
    provider = next((p for var, p in API_FALLBACKS if env.get(var, "").strip()), API_FALLBACKS[0][1])
    return {"provider": provider, "model": DEFAULT_MODELS[provider], **_generic(model)}


def model_label(model: Mapping[str, Any]) -> str:
    """A short label of what runs a stage: the model name, the agent CLI (and its model), or the GGUF file."""
    provider = model.get("provider", "")
    if provider == "cli":
        command = model.get("command") or ["command"]
        tool = command[0].rsplit("/", 1)[-1] if model.get("tool") == "command" else model.get("tool", "claude")
        return f"{tool} · {model['model']}" if model.get("model") else str(tool)
    if provider == "local":
        path = model.get("path")
        return path.replace("\\", "/").rsplit("/", 1)[-1] if path else DEFAULT_LOCAL_MODEL
    return str(model.get("model") or DEFAULT_MODELS.get(provider) or provider)


def resolve_stage(
    pipeline: PipelineConfig,
    index: int,
    overrides: RunOverrides | None = None,
    env: Mapping[str, str] | None = None,
) -> ResolvedStage:
    """The effective settings of stage ``index`` of a validated pipeline. ``env`` (default: the process
    environment) decides which API provider ``--mode api`` falls back to."""
    stages = pipeline["stages"]
    if not 0 <= index < len(stages):
        raise IndexError(f"no stage at index {index} (the pipeline has {len(stages)})")
    config = stages[index]
    defaults = pipeline.get("defaults") or {}
    model = _apply_overrides(
        merge_model(defaults.get("model"), config.get("model")),
        overrides or RunOverrides(),
        os.environ if env is None else env,
    )
    return ResolvedStage(
        ref=StageRef(
            id=config["id"],
            name=config.get("name", config["id"]),
            type=config.get("type", "generate"),
            provider=model.get("provider", ""),
            model=model_label(model),
        ),
        index=index,
        config=config,
        model=model,
        system=config.get("system", defaults.get("system")),
        retries=config.get("retries", defaults.get("retries", DEFAULT_RETRIES)),
        timeout_ms=config.get("timeoutMs", defaults.get("timeoutMs", DEFAULT_TIMEOUT_MS)),
        output=config.get("output") or {"format": "text"},
    )


def resolve_stages(
    pipeline: PipelineConfig, overrides: RunOverrides | None = None, env: Mapping[str, str] | None = None
) -> list[ResolvedStage]:
    return [resolve_stage(pipeline, i, overrides, env) for i in range(len(pipeline["stages"]))]


def stage_refs(
    pipeline: PipelineConfig, overrides: RunOverrides | None = None, env: Mapping[str, str] | None = None
) -> list[StageRef]:
    """What each stage is called and what runs it, for ``execution:started`` and the UI."""
    return [stage.ref for stage in resolve_stages(pipeline, overrides, env)]
