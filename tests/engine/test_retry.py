"""Retries: only retryable error types, backoff honouring Retry-After, each attempt fresh, offset back to 0."""

from __future__ import annotations

import pytest

from executions.engine.errors import (
    CLIExitError,
    ProviderConfigError,
    ProviderHTTPError,
    ProviderNetworkError,
    StageTimeoutError,
)
from executions.engine.retry import MAX_BACKOFF_S, MAX_RETRY_AFTER_S, is_retryable, retry_delay_s
from executions.engine.types import FinishDelta, Usage
from tests.helpers.engine import pipeline, run
from tests.helpers.scripted_provider import Gate, ScriptedProvider
from tests.helpers.wire import assert_wire_contract, chunks, types

SLOW = {"coalesce_interval_ms": 60_000}


def http(status: int, retry_after: float | None = None) -> ProviderHTTPError:
    return ProviderHTTPError("openai-compatible", status, "busy", retry_after=retry_after)


# --- the backoff itself -----------------------------------------------------------------------------


def test_retry_after_is_honoured_and_capped():
    assert retry_delay_s(http(429, retry_after=2.5), 1) == 2.5
    assert retry_delay_s(http(429, retry_after=0), 3) == 0
    assert retry_delay_s(http(503, retry_after=10_000), 1) == MAX_RETRY_AFTER_S


def test_exponential_backoff_with_jitter_and_a_cap():
    top, bottom = (lambda: 1.0), (lambda: 0.0)
    assert [retry_delay_s(http(500), n, base_s=0.5, rng=top) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert retry_delay_s(http(500), 2, base_s=0.5, rng=bottom) == 0.75
    assert retry_delay_s(ProviderNetworkError("x", "cut"), 30, base_s=0.5, rng=top) == MAX_BACKOFF_S


def test_only_retryable_types_are_retried():
    assert [is_retryable(http(s)) for s in (400, 401, 404, 408, 409, 429, 500, 529)] == [
        False,
        False,
        False,
        True,
        True,
        True,
        True,
        True,
    ]
    assert is_retryable(ProviderNetworkError("x", "cut"))
    assert is_retryable(StageTimeoutError(10))
    assert not is_retryable(ProviderConfigError("no key"))
    assert not is_retryable(CLIExitError("claude", 1, None, ""))
    assert not is_retryable(ValueError("a bug"))


# --- through the executor ---------------------------------------------------------------------------


async def test_429_then_success_waits_retry_after_and_restarts_at_offset_0():
    provider = ScriptedProvider(
        ["partial ", "answer", http(429, retry_after=0.002)],
        ["final", " answer", FinishDelta("stop", Usage(5, 2))],
    )
    r = await run(pipeline({"retries": 2}), provider, **SLOW)
    assert_wire_contract(r.events)
    assert types(r.events) == [
        "execution:started",
        "stage:started",
        "stage:output",
        "stage:retrying",
        "stage:output",
        "stage:output",
        "stage:completed",
        "execution:completed",
    ]
    retrying = r.events[3]
    assert (retrying["attempt"], retrying["delayMs"]) == (2, 2)
    assert retrying["error"] == "openai-compatible: HTTP 429: busy"
    # "answer" of the void attempt was still pending: dropped, never sent.
    assert chunks(r.events) == [("s1", "partial ", 0, False), ("s1", "final", 0, False), ("s1", " answer", 5, True)]
    s1 = r.outcome.stages["s1"]
    assert (s1.status, s1.output) == ("completed", "final answer")
    assert s1.result is not None and (s1.result.attempts, s1.result.usage) == (2, Usage(5, 2))
    assert "retrying s1 attempt 2: openai-compatible: HTTP 429: busy" in r.recorder.calls


async def test_5xx_and_a_cut_stream_are_retried_until_the_retries_run_out():
    provider = ScriptedProvider(
        [http(500)],
        ["cut ", ProviderNetworkError("openai-compatible", "the stream ended before the model finished")],
        [http(529)],
    )
    r = await run(pipeline({"retries": 2}, {}), provider, **SLOW)
    assert_wire_contract(r.events)
    assert len(provider.calls) == 3
    assert [e["attempt"] for e in r.events if e["type"] == "stage:retrying"] == [2, 3]
    failed = next(e for e in r.events if e["type"] == "stage:failed")
    assert (failed["error"], failed["code"]) == ("openai-compatible: HTTP 529: busy", "provider_http")
    assert r.outcome.stages["s1"].output == ""  # the last attempt streamed nothing
    assert r.outcome.stages["s2"].status == "skipped"


async def test_a_cut_stream_with_no_retry_left_keeps_what_was_streamed():
    provider = ScriptedProvider(["kept ", "text", ProviderNetworkError("openai-compatible", "connection reset")])
    r = await run(pipeline({"retries": 0}), provider, **SLOW)
    assert_wire_contract(r.events)
    assert chunks(r.events) == [("s1", "kept ", 0, False), ("s1", "text", 5, True)]
    assert types(r.events)[-2:] == ["stage:failed", "execution:completed"]
    assert r.events[-2]["code"] == "provider_network"
    assert (r.outcome.stages["s1"].status, r.outcome.stages["s1"].output) == ("failed", "kept text")


async def test_a_non_retryable_error_is_not_retried():
    provider = ScriptedProvider([ProviderConfigError("ANTHROPIC_API_KEY is not set")])
    r = await run(pipeline({"retries": 5}), provider)
    assert len(provider.calls) == 1
    assert "stage:retrying" not in types(r.events)
    assert r.events[-2]["code"] == "provider_config"


async def test_an_unknown_exception_is_a_failure_not_a_retry():
    provider = ScriptedProvider([KeyError("choices")])
    r = await run(pipeline({"retries": 5}), provider)
    assert len(provider.calls) == 1
    assert (r.events[-2]["error"], r.events[-2]["code"]) == ("'choices'", "provider_error")


async def test_a_hung_provider_times_out_keeps_its_output_and_is_stopped():
    never = Gate("never opened")
    provider = ScriptedProvider(["waiting", never])
    r = await run(pipeline({"retries": 0, "timeoutMs": 50}), provider, **SLOW)
    assert_wire_contract(r.events)
    assert provider.calls[0].ended == "CancelledError"
    failed = r.events[-2]
    assert (failed["error"], failed["code"]) == ("timed out after 50 ms", "timeout")
    assert r.outcome.stages["s1"].output == "waiting"


async def test_a_timeout_is_retried_and_each_attempt_starts_fresh():
    never = Gate("never opened")
    provider = ScriptedProvider(
        ["slow ", never],
        ["quick", FinishDelta("stop", Usage(3, 1))],
    )
    r = await run(pipeline({"retries": 1, "timeoutMs": 50}), provider, **SLOW)
    assert_wire_contract(r.events)
    assert [c.ended for c in provider.calls] == ["CancelledError", "finished"]
    assert provider.requests[0] == provider.requests[1]
    assert provider.requests[0] is provider.requests[1]  # one rendered request, sent afresh per attempt
    retrying = next(e for e in r.events if e["type"] == "stage:retrying")
    assert retrying["error"] == "timed out after 50 ms"
    assert chunks(r.events) == [("s1", "slow ", 0, False), ("s1", "quick", 0, False), ("s1", "", 5, True)]
    result = r.outcome.stages["s1"].result
    assert result is not None
    assert (result.attempts, result.usage, r.outcome.stages["s1"].output) == (2, Usage(3, 1), "quick")
    assert result.time_to_first_token_ms is not None and result.time_to_first_token_ms < 50
    assert result.duration_ms >= 50


@pytest.mark.parametrize("retries", [0, 1, 3])
async def test_attempts_are_one_plus_retries(retries: int):
    provider = ScriptedProvider(*[[http(503)] for _ in range(retries + 1)])
    r = await run(pipeline({"retries": retries}), provider)
    assert len(provider.calls) == retries + 1
    assert types(r.events).count("stage:retrying") == retries
