"""Fixtures shared by every test package. Add yours below; keep each one small and documented."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.fake_models import FakeModelServer


def _serve(kind: str) -> Iterator[FakeModelServer]:
    # One server per test: its own port, its own queue and records, stopped even when the test fails.
    server = FakeModelServer(kind).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_anthropic() -> Iterator[FakeModelServer]:
    """A fake Anthropic Messages API; ``.url`` is the server root (the SDK appends /v1/messages)."""
    yield from _serve("anthropic")


@pytest.fixture
def fake_openai() -> Iterator[FakeModelServer]:
    """A fake OpenAI Chat Completions API; ``.url`` ends in /v1, as the SDK's base_url must."""
    yield from _serve("openai")


@pytest.fixture
def fake_google() -> Iterator[FakeModelServer]:
    """A fake Gemini API (streamGenerateContent?alt=sse under any /v1…/ version); ``.url`` is the root."""
    yield from _serve("google")


# The live stack (private Redis, Celery worker, Daphne, fake Anthropic): see tests/helpers/stack.py.
from tests.helpers.stack import live, redis_process, redis_url, stack  # noqa: E402,F401
