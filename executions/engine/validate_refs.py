"""The checks a schema cannot express: duplicate ids, references between stages in templates and
conditions, what each provider needs, extract names. Reads the raw file defensively (any value may be
of any type; the schema reports those), so problems of both kinds are reported in one run."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .conditions import LEAF_OPERATORS, compile_matches
from .resolve import API_PROVIDERS, DEFAULT_MODELS, merge_model
from .templates import VARIABLE_HELP, Expr, classify_expr, template_refs
from .types import CLI_TOOLS, PROVIDERS
from .validate_schema import Issues, closest, short_json

#: A model name to suggest in messages: each provider's default, and a typical local server's.
EXAMPLE_MODEL = {**DEFAULT_MODELS, "openai-compatible": "llama3"}

_CONDITION_PATHS = "expected input, stages.<id>.output, stages.<id>.status or stages.<id>.data.<path>"


@dataclass(slots=True)
class _StageInfo:
    #: None for a stage without a usable id, or a duplicate (references go to the first one)
    id: str | None
    index: int
    format: str
    extract_names: list[str]


def _obj(v: Any) -> dict[Any, Any]:
    return v if isinstance(v, dict) else {}


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


@dataclass(slots=True)
class RefChecker:
    stages: list[_StageInfo] = field(default_factory=list)
    errors: Issues = field(default_factory=list)
    warnings: Issues = field(default_factory=list)

    def check(self, raw: dict[Any, Any]) -> None:
        raw_stages = raw.get("stages")
        stages: list[Any] = raw_stages if isinstance(raw_stages, list) else []
        defaults = raw.get("defaults") if isinstance(raw.get("defaults"), dict) else None
        seen: dict[str, int] = {}
        for i, s in enumerate(stages):
            stage = _obj(s)
            sid = _str(stage.get("id"))
            output = _obj(stage.get("output"))
            raw_extract = output.get("extract")
            extract: list[Any] = raw_extract if isinstance(raw_extract, list) else []
            names = [e["name"] for e in extract if isinstance(e, dict) and isinstance(e.get("name"), str)]
            fmt = _str(output.get("format")) or "text"
            self.stages.append(_StageInfo(sid if sid is not None and sid not in seen else None, i, fmt, names))
            if sid is not None:
                if sid in seen:
                    self.errors.append((f"stages[{i}].id", f'duplicate stage id "{sid}" (also stages[{seen[sid]}])'))
                else:
                    seen[sid] = i
        if defaults is not None and isinstance(defaults.get("system"), str):
            self._template(defaults["system"], "defaults.system", None)
        for i, s in enumerate(stages):
            if not isinstance(s, dict):
                continue
            at = f"stages[{i}]"
            for key in ("prompt", "system"):
                if isinstance(s.get(key), str):
                    self._template(s[key], f"{at}.{key}", i)
            for key, allow_self in (("skipIf", False), ("runIf", False), ("earlyExit", True)):
                self._condition(s.get(key), f"{at}.{key}", i, allow_self)
            self._model(defaults.get("model", _ABSENT) if defaults else _ABSENT, s.get("model", _ABSENT), at)
            self._extract(s.get("output"), at)

    # --- references -------------------------------------------------------------------------------

    def _find(self, stage_id: str) -> _StageInfo | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    def _stage_ref(self, stage_id: str, from_index: int, allow_self: bool, shown: str) -> str | None:
        """Where stage ``from_index`` may look: earlier stages, and for earlyExit also itself."""
        target = self._find(stage_id)
        if target is None:
            earlier = [s.id for s in self.stages if s.index < from_index and s.id is not None]
            where = f"earlier stages: {', '.join(earlier)}" if earlier else "there are no earlier stages"
            hint = closest(stage_id, [s.id or "" for s in self.stages])
            return f'{shown} (no stage "{stage_id}"; {where})' + (f'; did you mean "{hint}"?' if hint else "")
        if target.index == from_index and not allow_self:
            return f"{shown} refers to this stage itself; a stage can only use earlier stages"
        if target.index > from_index:
            return (
                f'{shown} refers to a later stage, "{stage_id}" (stages[{target.index}]); '
                "a stage can only use earlier stages"
            )
        return None

    def _data_ref(self, stage_id: str, data_path: tuple[str, ...], shown: str) -> str | None:
        """``data`` only exists for json and markdown stages; markdown data has sections and codeBlocks."""
        target = self._find(stage_id)
        if target is None:
            return None
        if target.format == "text":
            return (
                f'{shown}: stage "{stage_id}" has output format text, so it has no data; '
                f"use {{{{stages.{stage_id}.output}}}}, or set its output.format to json or markdown"
            )
        first = data_path[0] if data_path else None
        if target.format == "markdown" and first is not None:
            if first not in ("sections", "codeBlocks", *target.extract_names):
                names = target.extract_names
                extracted = f" and the extracted {', '.join(names)}" if names else ""
                return f'{shown}: markdown data has "sections" and "codeBlocks"{extracted}, not "{first}"'
        return None

    def _expr(self, e: Expr, stage_index: int, allow_self: bool, shown: str, unknown: str) -> str | None:
        assert e.stage_id is not None
        known = self._find(e.stage_id) is not None
        problem = self._stage_ref(e.stage_id, stage_index, allow_self, shown if known else f"{unknown} {shown}")
        if problem is None and e.kind == "stage-data":
            problem = self._data_ref(e.stage_id, e.data_path, shown)
        return problem

    def _template(self, text: str, where: str, stage_index: int | None) -> None:
        for ref in template_refs(text):
            shown = f"{{{{{ref.expr}}}}}"
            if ref.kind == "input":
                continue
            if ref.kind == "unknown":
                parts = ref.expr.split(".")
                hint = closest(parts[2], ["output", "status", "data"]) if ref.stage_id and len(parts) > 2 else None
                help_ = f"did you mean {{{{stages.{ref.stage_id}.{hint}}}}}?" if hint else VARIABLE_HELP
                self.errors.append((where, f"unknown variable {shown}; {help_}"))
            elif stage_index is None:
                why = "defaults apply to every stage, so they can only use {{input}}"
                self.errors.append((where, f"{shown}: {why}"))
            else:
                e = Expr(ref.kind, ref.stage_id, ref.data_path)
                problem = self._expr(e, stage_index, False, shown, "unknown variable")
                if problem:
                    self.errors.append((where, problem))

    def _condition(self, cond: Any, where: str, stage_index: int, allow_self: bool) -> None:
        if not isinstance(cond, dict):
            return  # the schema reports it
        for key in ("all", "any"):
            if isinstance(cond.get(key), list):
                for j, sub in enumerate(cond[key]):
                    self._condition(sub, f"{where}.{key}[{j}]", stage_index, allow_self)
        if "not" in cond:
            self._condition(cond["not"], f"{where}.not", stage_index, allow_self)
        path = _str(cond.get("path"))
        if path is None:
            return
        if not any(op in cond for op in LEAF_OPERATORS):
            self.errors.append((where, f"a condition needs a test: one of {', '.join(LEAF_OPERATORS)}"))
        matches = _str(cond.get("matches"))
        if matches is not None:
            try:
                compile_matches(matches)
            except (re.error, RecursionError, OverflowError) as err:
                self.errors.append((f"{where}.matches", f"invalid regular expression {short_json(matches)}: {err}"))
        e = classify_expr(path.strip())
        shown = short_json(path)
        problem: str | None = None
        if e.kind == "unknown":
            problem = f"unknown path {shown}; {_CONDITION_PATHS}"
        elif e.kind != "input":
            problem = self._expr(e, stage_index, allow_self, shown, "unknown path")
        if problem:
            self.errors.append((f"{where}.path", problem))

    # --- models and extracts ----------------------------------------------------------------------

    def _model(self, defaults: Any, stage: Any, at: str) -> None:
        if (defaults is not _ABSENT and not isinstance(defaults, dict)) or (
            stage is not _ABSENT and not isinstance(stage, dict)
        ):
            return  # the schema reports it
        m = merge_model(defaults if isinstance(defaults, dict) else None, stage if isinstance(stage, dict) else None)
        if "provider" not in m:
            self.errors.append((f"{at}.model", f"no model: set {at}.model or defaults.model"))
            return
        provider = m["provider"]
        if not isinstance(provider, str) or provider not in PROVIDERS:
            return
        tool = _str(m.get("tool"))
        is_command = provider == "cli" and tool == "command"
        if provider in API_PROVIDERS and "model" not in m:
            self.errors.append(
                (
                    f"{at}.model.model",
                    f"provider {provider} needs a model name, e.g. {EXAMPLE_MODEL[provider]}; "
                    f"set {at}.model.model or defaults.model.model",
                )
            )
        if provider == "cli" and tool is None:
            self.errors.append((f"{at}.model.tool", f"provider cli needs a tool: one of {', '.join(CLI_TOOLS)}"))
        if is_command and "command" not in m:
            self.errors.append(
                (
                    f"{at}.model.command",
                    'tool command needs command: the program and its arguments, e.g. ["my-llm", "--json"]',
                )
            )
        if "command" in m and not is_command:
            uses = f"tool {tool}" if provider == "cli" and tool in CLI_TOOLS else f"provider {provider}"
            self.errors.append(
                (
                    f"{at}.model.command",
                    f"command is only used with provider cli and tool command (this stage uses {uses})",
                )
            )
        if provider == "openai-compatible" and "baseURL" not in m:
            self.warnings.append(
                (
                    f"{at}.model.baseURL",
                    "openai-compatible without baseURL: OPENAI_BASE_URL must be set when the pipeline runs",
                )
            )
        ignored: list[tuple[str, str]] = []
        if provider != "cli":
            ignored += [(f, "provider cli") for f in ("tool", "allowedTools", "cwd")]
        if provider != "local":
            ignored.append(("path", "provider local"))
        if provider in ("local", "cli"):
            ignored.append(("baseURL", "API providers"))
        for name, used_by in ignored:
            if name in m:
                self.warnings.append(
                    (f"{at}.model.{name}", f"{name} is only used by {used_by}; ignored for provider {provider}")
                )

    def _extract(self, output: Any, at: str) -> None:
        if not isinstance(output, dict) or not isinstance(output.get("extract"), list):
            return
        fmt = _str(output.get("format")) or "text"
        if fmt == "text" and output["extract"]:
            why = "extract needs output.format json (or markdown); text has no data to extract from"
            self.errors.append((f"{at}.output.extract", why))
        names: dict[str, int] = {}
        for j, e in enumerate(output["extract"]):
            name = _str(e.get("name")) if isinstance(e, dict) else None
            if name is None:
                continue
            if name in names:
                self.errors.append(
                    (f"{at}.output.extract[{j}].name", f'duplicate extract name "{name}" (also extract[{names[name]}])')
                )
            else:
                names[name] = j


_ABSENT: Any = object()
