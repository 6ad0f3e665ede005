"""The contract every HTTP API provider meets, run through the real SDK against a fake server that speaks
the API's real wire format. Each provider's test file subclasses :class:`ApiContract` with its row.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest

from executions.engine.errors import ProviderConfigError, ProviderHTTPError, ProviderNetworkError
from executions.engine.providers import resolve_provider
from executions.engine.types import Delta, FinishDelta, ModelConfig, ModelRequest, TextDelta, Usage, UsageDelta
from tests.helpers.fake_models import FakeModelServer, FakeUsage, Gate, RecordedRequest, Script

SYSTEM = "Be terse."
PROMPT = "Say hello."


def texts(deltas: list[Delta]) -> list[str]:
    return [d.text for d in deltas if isinstance(d, TextDelta)]


async def drain(stream: AsyncIterator[Delta]) -> tuple[list[Delta], BaseException | None]:
    items: list[Delta] = []
    try:
        async for delta in stream:
            items.append(delta)
    except Exception as err:  # the test asserts on it
        return items, err
    return items, None


class ApiContract:
    provider: ClassVar[str]
    fake_kind: ClassVar[str]
    key_env: ClassVar[str]
    key_required: ClassVar[bool] = True
    #: the model used when a stage names none; None: the provider requires one
    default_model: ClassVar[str | None]
    #: an in-stream error type the API sends, and the HTTP status it stands for
    stream_error: ClassVar[tuple[str, int]]
    sends_temperature: ClassVar[bool] = True
    #: the variable that supplies the base URL when the stage sets none
    base_url_env: ClassVar[str]

    def sent(self, req: RecordedRequest) -> dict[str, Any]:
        """What the request asked for: model, system, prompt, max_tokens, temperature."""
        raise NotImplementedError

    @pytest.fixture
    def fake(self, request: pytest.FixtureRequest) -> FakeModelServer:
        return request.getfixturevalue(f"fake_{self.fake_kind}")

    def key(self) -> str:
        return f"test-key-{self.provider}"

    def model(self, fake: FakeModelServer, **extra: Any) -> ModelConfig:
        return {"provider": self.provider, "model": "model-under-test", "baseURL": fake.url, **extra}

    def run(self, model: ModelConfig, env: dict[str, str] | None = None) -> AsyncIterator[Delta]:
        env = {self.key_env: self.key()} if env is None else env
        return resolve_provider(model, env).stream(ModelRequest(model=model, prompt=PROMPT, system=SYSTEM))

    async def test_deltas_arrive_one_by_one_before_the_server_sends_the_next(self, fake: FakeModelServer) -> None:
        chunks = ["Hel", "lo, ", "wörld", " — done ✓"]
        gate = Gate()
        fake.enqueue(Script(deltas=chunks, gate=gate))
        stream = self.run(self.model(fake))
        got: list[str] = []
        gate.release()
        async for delta in stream:
            if isinstance(delta, TextDelta):
                got.append(delta.text)
                # Delta k is in our hands while the server has written exactly k+1: nothing is buffered.
                assert fake.calls[0].texts == chunks[: len(got)]
                gate.release()
        assert got == chunks
        assert fake.calls[0].outcome == "completed"

    async def test_exact_text_usage_with_cache_reads_and_finish_reason(self, fake: FakeModelServer) -> None:
        chunks = ["The answer", " is ", "42", "."]
        fake.enqueue(Script(deltas=chunks, usage=FakeUsage(input_tokens=31, output_tokens=9, cache_read_tokens=5)))
        deltas, error = await drain(self.run(self.model(fake)))
        assert error is None
        assert texts(deltas) == chunks
        assert "".join(texts(deltas)) == "The answer is 42."
        expected = Usage(input_tokens=31, output_tokens=9, cache_read_tokens=5)
        assert deltas[-1] == FinishDelta(reason="stop", usage=expected)
        assert [d for d in deltas if isinstance(d, UsageDelta)][-1] == UsageDelta(expected)
        assert sum(isinstance(d, FinishDelta) for d in deltas) == 1

    @pytest.mark.parametrize(("stop", "reason"), [("length", "length"), ("content-filter", "content-filter")])
    async def test_finish_reason_is_mapped(self, fake: FakeModelServer, stop: Any, reason: str) -> None:
        fake.enqueue(Script(deltas=["cut short"], stop_reason=stop))
        deltas, error = await drain(self.run(self.model(fake)))
        assert error is None
        assert isinstance(deltas[-1], FinishDelta) and deltas[-1].reason == reason

    async def test_settings_and_key_travel_in_the_request(self, fake: FakeModelServer) -> None:
        model = self.model(fake, model="special-model-7", maxTokens=321, temperature=0.25)
        deltas, error = await drain(self.run(model))
        assert error is None
        req = fake.calls[0].request
        assert self.sent(req) == {
            "model": "special-model-7",
            "system": SYSTEM,
            "prompt": PROMPT,
            "max_tokens": 321,
            "temperature": 0.25 if self.sends_temperature else None,
        }
        assert req.api_key() == self.key()

    async def test_defaults_max_tokens_1024_no_temperature_default_model(self, fake: FakeModelServer) -> None:
        model = self.model(fake)
        del model["model"]
        if self.default_model is None:
            deltas, error = await drain(self.run(model))
            assert isinstance(error, ProviderConfigError) and "model.model" in str(error)
            assert fake.requests == []
            return
        deltas, error = await drain(self.run(model))
        assert error is None
        assert self.sent(fake.calls[0].request) == {
            "model": self.default_model,
            "system": SYSTEM,
            "prompt": PROMPT,
            "max_tokens": 1024,
            "temperature": None,
        }

    async def test_429_with_retry_after_is_a_retryable_http_error(self, fake: FakeModelServer) -> None:
        fake.enqueue(Script(status=429, retry_after="7", error_message="slow down"))
        deltas, error = await drain(self.run(self.model(fake)))
        assert deltas == []
        assert isinstance(error, ProviderHTTPError)
        assert (error.status, error.retryable, error.retry_after) == (429, True, 7.0)
        assert str(error) == f"{self.provider}: HTTP 429: slow down"

    async def test_retry_after_ms_wins_over_retry_after(self, fake: FakeModelServer) -> None:
        fake.enqueue(Script(status=429, retry_after="7", retry_after_ms="1500"))
        _, error = await drain(self.run(self.model(fake)))
        assert isinstance(error, ProviderHTTPError) and error.retry_after == 1.5

    async def test_429_then_success_each_attempt_one_fresh_request(self, fake: FakeModelServer) -> None:
        fake.enqueue(Script(status=429, retry_after_ms="10"), Script(deltas=["second", " time"]))
        _, first = await drain(self.run(self.model(fake)))
        deltas, second = await drain(self.run(self.model(fake)))
        assert isinstance(first, ProviderHTTPError) and first.status == 429
        assert second is None and texts(deltas) == ["second", " time"]
        # max_retries=0: the SDK never retried on its own, the caller's two attempts are the two requests.
        assert [c.outcome for c in fake.calls] == ["http-error", "completed"]

    @pytest.mark.parametrize(
        ("status", "retryable"), [(500, True), (529, True), (503, True), (400, False), (401, False)]
    )
    async def test_http_status_errors(self, fake: FakeModelServer, status: int, retryable: bool) -> None:
        fake.enqueue(Script(status=status))
        _, error = await drain(self.run(self.model(fake)))
        assert isinstance(error, ProviderHTTPError)
        assert (error.status, error.retryable, error.retry_after) == (status, retryable, None)
        assert len(fake.calls) == 1

    async def test_connection_cut_mid_stream_is_retryable_after_the_deltas_already_yielded(
        self, fake: FakeModelServer
    ) -> None:
        fake.enqueue(Script(deltas=["one ", "two ", "three"], cut_after=2))
        deltas, error = await drain(self.run(self.model(fake)))
        assert texts(deltas) == ["one ", "two "]
        assert not any(isinstance(d, FinishDelta) for d in deltas)
        assert isinstance(error, ProviderNetworkError) and error.retryable
        assert fake.calls[0].outcome == "cut"

    async def test_body_ending_before_the_final_event_is_a_cut(self, fake: FakeModelServer) -> None:
        fake.enqueue(Script(deltas=["half ", "an answ", "er"], cut_after=2, cut_clean=True))
        deltas, error = await drain(self.run(self.model(fake)))
        assert texts(deltas) == ["half ", "an answ"]
        assert isinstance(error, ProviderNetworkError) and error.retryable
        assert "connection cut mid-answer" in str(error)

    async def test_error_event_mid_stream_is_a_retryable_http_error(self, fake: FakeModelServer) -> None:
        error_type, status = self.stream_error
        fake.enqueue(Script(deltas=["partial", " more"], error_after=1, error_type=error_type, error_message="busy"))
        deltas, error = await drain(self.run(self.model(fake)))
        assert texts(deltas) == ["partial"]
        assert isinstance(error, ProviderHTTPError)
        assert (error.status, error.retryable) == (status, True)
        assert "busy" in str(error)

    async def test_cancel_after_delta_3_closes_the_http_stream_at_once(self, fake: FakeModelServer) -> None:
        gate = Gate()
        fake.enqueue(Script(deltas=[f"d{i} " for i in range(10)], gate=gate))
        gate.release(4)
        got: list[str] = []
        fourth = asyncio.Event()

        async def consume() -> None:
            async for delta in self.run(self.model(fake)):
                if isinstance(delta, TextDelta):
                    got.append(delta.text)
                    if len(got) == 4:
                        fourth.set()

        task = asyncio.create_task(consume())
        await fourth.wait()
        cancelled_at = time.time()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await fake.await_closed(0)
        call = fake.calls[0]
        assert call.client_closed_at is not None and call.client_closed_at - cancelled_at < 1.0
        gate.release(6)  # permits the server can no longer use: it stopped writing when the client left
        assert got == ["d0 ", "d1 ", "d2 ", "d3 "]
        assert (call.texts, call.outcome) == (got, "client-closed")

    @pytest.mark.parametrize("stall_after", [0, 1], ids=["before-the-first-token", "mid-answer"])
    async def test_cancel_while_the_model_stalls_closes_the_http_stream(
        self, fake: FakeModelServer, stall_after: int
    ) -> None:
        fake.enqueue(Script(deltas=["first words", "never"], stall_after=stall_after))
        stream = self.run(self.model(fake))
        task = asyncio.create_task(drain(stream))
        await fake.await_calls(1)
        await fake.await_sent(stall_after, 0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await fake.await_closed(0)
        assert fake.calls[0].outcome == "client-closed"

    async def test_closing_the_generator_closes_the_http_stream(self, fake: FakeModelServer) -> None:
        fake.enqueue(Script(deltas=[f"d{i} " for i in range(10)], stall_after=3))
        stream = self.run(self.model(fake))
        async for delta in stream:
            if isinstance(delta, TextDelta):
                break
        await stream.aclose()  # type: ignore[attr-defined]
        await fake.await_closed(0)
        assert fake.calls[0].outcome == "client-closed"

    async def test_missing_key(self, fake: FakeModelServer) -> None:
        fake.enqueue(Script(deltas=["local"]))
        deltas, error = await drain(self.run(self.model(fake), env={}))
        if self.key_required:
            assert isinstance(error, ProviderConfigError) and self.key_env in str(error)
            assert fake.requests == []
        else:
            assert error is None and texts(deltas) == ["local"]
            assert fake.calls[0].request.api_key() == "not-needed"

    async def test_api_key_env_names_another_variable(self, fake: FakeModelServer) -> None:
        model = self.model(fake, apiKeyEnv="MY_TEAM_KEY")
        if self.key_required:
            _, error = await drain(self.run(model, env={self.key_env: "not this one"}))
            assert isinstance(error, ProviderConfigError) and "MY_TEAM_KEY" in str(error)
        deltas, error = await drain(self.run(model, env={"MY_TEAM_KEY": "team-secret"}))
        assert error is None and texts(deltas) == ["Hello", " from", " the", " fake."]
        assert fake.calls[-1].request.api_key() == "team-secret"

    async def test_base_url_from_the_environment(self, fake: FakeModelServer) -> None:
        model = self.model(fake)
        del model["baseURL"]
        deltas, error = await drain(self.run(model, env={self.key_env: self.key(), self.base_url_env: fake.url}))
        assert error is None and "".join(texts(deltas)) == "Hello from the fake."

    async def test_os_environ_when_no_env_is_given(
        self, fake: FakeModelServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(self.key_env, "from-os-environ")
        model = self.model(fake)
        stream = resolve_provider(model).stream(ModelRequest(model=model, prompt=PROMPT))
        _, error = await drain(stream)
        assert error is None and fake.calls[0].request.api_key() == "from-os-environ"

    async def test_connection_refused_is_a_network_error(self, fake: FakeModelServer) -> None:
        url = fake.url
        fake.stop()
        _, error = await drain(self.run(self.model(fake, baseURL=url)))
        assert isinstance(error, ProviderNetworkError) and error.retryable
