"""The shape of a pipeline file (ARCHITECTURE.md, "Pipeline files"), built from :mod:`.validate_schema`."""

from __future__ import annotations

import re
from typing import Any

from .types import CLI_TOOLS, OUTPUT_FORMATS, PROVIDERS
from .validate_schema import Bool, Check, Enum, Issues, ListOf, Num, Obj, Scalar, Str, describe_value, key_text

ID_PATTERN = re.compile(r"[a-z0-9-]+")
ID_MESSAGE = "must match [a-z0-9-]+ (lowercase letters, digits and dashes)"

_ID = Str(pattern=ID_PATTERN, pattern_message=ID_MESSAGE)

MODEL = Obj(
    {
        "provider": Enum(PROVIDERS, "provider"),
        # API providers and agent CLIs; for `local` the GGUF file comes from `path`.
        "model": Str(min_len=1),
        "maxTokens": Num(integer=True, gt=0),
        "temperature": Num(ge=0, le=2),
        # OpenAI-style URLs include /v1; Anthropic's is the server root.
        "baseURL": Str(url=True),
        "apiKeyEnv": Str(
            pattern=re.compile(r"[A-Z_][A-Z0-9_]*"),
            pattern_message="must be an environment variable name such as MY_API_KEY",
        ),
        "path": Str(min_len=1),
        "tool": Enum(CLI_TOOLS, "tool"),
        # An argv list, never a shell string.
        "command": ListOf(Str(min_len=1), min_items=1),
        "allowedTools": ListOf(Str(min_len=1)),
        "cwd": Str(min_len=1),
    }
)

_LEAF_FIELDS: dict[str, Check] = {
    "path": Str(min_len=1),
    "equals": Scalar(),
    "notEquals": Scalar(),
    "in": ListOf(Scalar()),
    "contains": Str(),
    "matches": Str(),
    "exists": Bool(),
    "gt": Num(),
    "gte": Num(),
    "lt": Num(),
    "lte": Num(),
}
_COMBINATORS = ("all", "any", "not")
_LEAF = Obj(_LEAF_FIELDS, required=("path",), also_known=_COMBINATORS)


class Condition:
    """``{path, <test>…}``, ``{all: […]}``, ``{any: […]}`` or ``{not: …}``."""

    expected = "a condition"

    def __init__(self) -> None:
        self._list = ListOf(self, min_items=1)

    def __call__(self, v: Any, at: str, out: Issues) -> Any:
        if not isinstance(v, dict):
            out.append(
                (
                    at,
                    "expected a condition ({path, equals…}, {all: […]}, {any: […]} or {not: …}); "
                    f"got {describe_value(v)}",
                )
            )
            return None
        # The author's intent is the key the object has: path first, then all, any, not.
        kind = next((k for k in ("path", *_COMBINATORS) if k in v), "path")
        before = len(out)
        if kind == "path":
            extra = [k for k in _COMBINATORS if k in v]
            leaf = _LEAF({k: x for k, x in v.items() if k not in extra}, at, out)
            self._cannot_also(kind, extra, at, out)
            return leaf if len(out) == before else None
        inner = self._list(v[kind], f"{at}.{kind}", out) if kind != "not" else self(v[kind], f"{at}.not", out)
        self._cannot_also(kind, [k for k in v if k != kind], at, out)
        return {kind: inner} if len(out) == before else None

    @staticmethod
    def _cannot_also(kind: str, extra: list[Any], at: str, out: Issues) -> None:
        if extra:
            shown = ", ".join(f'"{key_text(k)}"' for k in extra)
            out.append((at, f'a condition with "{kind}" cannot also have {shown}'))


CONDITION = Condition()

EXTRACT = Obj(
    {
        "name": Str(pattern=re.compile(r"[A-Za-z_][A-Za-z0-9_]*"), pattern_message="must be an identifier"),
        # Dotted path into the parsed JSON, e.g. `result.items.0.title`.
        "path": Str(min_len=1),
        "required": Bool(),
    },
    required=("name", "path"),
)

OUTPUT = Obj(
    {"format": Enum(OUTPUT_FORMATS, "output format"), "extract": ListOf(EXTRACT)},
    defaults={"format": "text"},
)

_RETRIES = Num(integer=True, ge=0, le=10)
_TIMEOUT = Num(integer=True, gt=0)

STAGE = Obj(
    {
        "id": _ID,
        "name": Str(min_len=1),
        "type": Str(min_len=1),
        "model": MODEL,
        "system": Str(),
        "prompt": Str(min_len=1),
        "output": OUTPUT,
        "retries": _RETRIES,
        "timeoutMs": _TIMEOUT,
        "skipIf": CONDITION,
        "runIf": CONDITION,
        "earlyExit": CONDITION,
        "continueOnError": Bool(),
    },
    required=("id", "prompt"),
)

DEFAULTS = Obj({"model": MODEL, "system": Str(), "retries": _RETRIES, "timeoutMs": _TIMEOUT})

PIPELINE = Obj(
    {
        "id": _ID,
        "name": Str(min_len=1),
        "description": Str(),
        "defaults": DEFAULTS,
        "stages": ListOf(STAGE, min_items=1, min_message="a pipeline needs at least one stage"),
    },
    required=("id", "name", "stages"),
)
