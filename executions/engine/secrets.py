"""API keys never appear in what stagecast emits: events, errors, stored output, logs.

A key is replaced by asterisks of the same length (as v1 did), so every ``offset`` and chunk size of
the wire contract stays what it would have been, and a reader still sees that something was there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: the variables that hold the providers' keys; a pipeline may name more with ``apiKeyEnv``
KEY_ENV_NAMES = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY")
#: shorter values would mask ordinary words ("test", "none"); real keys are long
MIN_SECRET_LENGTH = 8


def secret_values(env: Mapping[str, str], extra_env_names: Iterable[str] = ()) -> list[str]:
    """The values of the key variables (and ``extra_env_names``) that are set and long enough."""
    names = dict.fromkeys([*KEY_ENV_NAMES, *extra_env_names])
    return normalize_secrets(env.get(name, "") for name in names)


def pipeline_secrets(pipeline: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """The secrets a run of ``pipeline`` can see: the usual key variables plus every ``apiKeyEnv`` it names."""
    models = [(pipeline.get("defaults") or {}).get("model") or {}]
    models += [stage.get("model") or {} for stage in pipeline.get("stages") or ()]
    names = [m["apiKeyEnv"] for m in models if isinstance(m, Mapping) and isinstance(m.get("apiKeyEnv"), str)]
    return secret_values(env, names)


def normalize_secrets(values: Iterable[str]) -> list[str]:
    """Stripped, long enough, no duplicates; longest first so a key that contains another is masked whole."""
    kept = {v.strip() for v in values if v and len(v.strip()) >= MIN_SECRET_LENGTH}
    return sorted(kept, key=len, reverse=True)


def mask_secrets(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "*" * len(secret))
    return text


def mask_value(value: Any, secrets: Sequence[str]) -> Any:
    """``value`` with every string in it masked (dicts and lists walked); the same object when nothing changed."""
    if not secrets:
        return value
    if isinstance(value, str):
        return mask_secrets(value, secrets)
    if isinstance(value, dict):
        masked = {k: mask_value(v, secrets) for k, v in value.items()}
        return value if all(masked[k] is value[k] for k in value) else masked
    if isinstance(value, list | tuple):
        items = [mask_value(v, secrets) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else type(value)(items)
    return value


def secret_prefix_at_end(text: str, secrets: Sequence[str]) -> int:
    """Length of the longest end of ``text`` that is the start of a secret (but not a whole one).

    That is the text a stream must hold back: the next delta may complete the key, which is then
    masked whole instead of going out in halves.
    """
    longest = 0
    n = len(text)
    for secret in secrets:
        # Only the last len(secret) - 1 characters can start an unfinished key; the first match from
        # the left is the longest one for this secret.
        i = text.find(secret[0], max(0, n - len(secret) + 1))
        while i != -1:
            if secret.startswith(text[i:]):
                longest = max(longest, n - i)
                break
            i = text.find(secret[0], i + 1)
    return longest


class StreamMasker:
    """Masks keys in text that arrives in pieces, holding back a tail that could be a key's start.

    ``feed`` returns the text that is safe to send now; ``end`` returns whatever was held (masked).
    Concatenating every return value gives exactly ``mask_secrets`` of the whole text.
    """

    __slots__ = ("_secrets", "_held")

    def __init__(self, secrets: Sequence[str]) -> None:
        self._secrets = list(secrets)
        self._held = ""

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def feed(self, text: str) -> str:
        if not self._secrets:
            return text
        text = mask_secrets(self._held + text, self._secrets)
        k = secret_prefix_at_end(text, self._secrets)
        if k:
            self._held = text[-k:]
            return text[:-k]
        self._held = ""
        return text

    def end(self) -> str:
        # What is held is only the start of a key, never a whole one: it goes out as it is.
        held, self._held = self._held, ""
        return held

    def reset(self) -> None:
        self._held = ""
