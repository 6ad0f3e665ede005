"""Model text as Python receives it may hold UTF-16 surrogates, which no UTF-8 consumer accepts, and NUL,
which PostgreSQL does not store.

A provider's JSON may escape a character as ``"\\ud83d\\ude00"``; a server that cuts its deltas by
UTF-16 units (JavaScript, Java) can put the two halves in two deltas, and ``json.loads`` turns each half
into a lone surrogate code point. Python never joins them again by concatenation, and Redis, the
database and the SSE wire all refuse to encode them: the run would fail on an emoji. So each stage's
deltas pass through a :class:`SurrogateMender` at the provider boundary: a pair split across deltas
becomes its character again, and a surrogate with no partner becomes U+FFFD.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def without_nul(text: str) -> str:
    """NUL as U+FFFD: PostgreSQL's text and jsonb cannot hold U+0000 ("unsupported Unicode escape
    sequence"), so a model that sends one would lose the run's record on a team server."""
    return text.replace("\x00", REPLACEMENT)


def storable(value: Any) -> Any:
    """A parsed JSON value whose every string (keys too) is mended: no NUL, no lone surrogate."""
    if isinstance(value, str):
        return without_nul(mend_surrogates(value)) if "\x00" in value or not value.isascii() else value
    if isinstance(value, list):
        return [storable(v) for v in value]
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    return value


def has_surrogates(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


def mend_surrogates(text: str) -> str:
    """Adjacent high + low surrogates as the one character they encode; any other surrogate as U+FFFD."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


class SurrogateMender:
    """One attempt's deltas in order: ``feed`` each (a trailing high surrogate waits for the next
    delta, which may hold its partner), then ``end``."""

    __slots__ = ("held",)

    def __init__(self) -> None:
        #: a high surrogate that ended the last delta
        self.held = ""

    def feed(self, text: str) -> str:
        if self.held:
            text, self.held = self.held + text, ""
        elif text.isascii() or not _SURROGATE.search(text):
            return text
        if text and "\ud800" <= text[-1] <= "\udbff":
            text, self.held = text[:-1], text[-1]
        return mend_surrogates(text)

    def end(self) -> str:
        """What is left: a high surrogate whose partner never came, as U+FFFD."""
        held, self.held = self.held, ""
        return REPLACEMENT if held else ""
