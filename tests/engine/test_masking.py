"""API keys never leave the engine: not in output (even cut between deltas), errors, events or the outcome."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from executions.engine.chunker import OutputChunker
from executions.engine.errors import ProviderHTTPError
from executions.engine.secrets import (
    StreamMasker,
    mask_secrets,
    mask_value,
    pipeline_secrets,
    secret_prefix_at_end,
    secret_values,
)
from tests.helpers.engine import pipeline, run
from tests.helpers.scripted_provider import ScriptedProvider
from tests.helpers.wire import assert_wire_contract, output_of

KEY = "sk-ant-api03-SECRETSECRET"
MASKED = "*" * len(KEY)


# --- the masking functions --------------------------------------------------------------------------


def test_mask_secrets_same_length_asterisks():
    assert mask_secrets(f"a {KEY} b {KEY}", [KEY]) == f"a {MASKED} b {MASKED}"
    assert mask_secrets("nothing here", [KEY]) == "nothing here"


def test_mask_value_walks_dicts_and_lists_and_keeps_untouched_objects():
    clean = {"a": ["x", 1, None]}
    assert mask_value(clean, [KEY]) is clean
    assert mask_value({"a": [f"k={KEY}", 2], "b": KEY}, [KEY]) == {"a": [f"k={MASKED}", 2], "b": MASKED}


def test_secret_values_from_the_key_variables_and_api_key_env_ignoring_short_ones():
    env = {
        "ANTHROPIC_API_KEY": "sk-ant-1234567890",
        "OPENAI_API_KEY": "short",
        "GOOGLE_API_KEY": "  AIza-0123456789  ",
        "MY_GATEWAY_KEY": "gw-abcdefghij",
        "UNRELATED": "not-a-key-at-all",
    }
    assert secret_values(env) == ["sk-ant-1234567890", "AIza-0123456789"]
    p = {"defaults": {"model": {"apiKeyEnv": "MY_GATEWAY_KEY"}}, "stages": [{"id": "a", "model": {}}]}
    assert pipeline_secrets(p, env) == ["sk-ant-1234567890", "AIza-0123456789", "gw-abcdefghij"]


def test_secret_prefix_at_end():
    assert secret_prefix_at_end("before sk-ant", [KEY]) == len("sk-ant")
    assert secret_prefix_at_end("ends in s", [KEY]) == 1
    assert secret_prefix_at_end("nothing", [KEY]) == 0
    assert secret_prefix_at_end(f"whole {MASKED}", [KEY]) == 0


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.text(max_size=30), st.just(KEY), st.just(KEY[:9])), max_size=8),
    st.lists(st.integers(min_value=0, max_value=400), max_size=10),
)
def test_stream_masker_any_cuts_give_the_masked_text(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    points = sorted({c % (len(text) + 1) for c in cuts})
    bounds = [0, *points, len(text)]
    masker = StreamMasker([KEY])
    out = "".join(masker.feed(text[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)) + masker.end()
    assert out == mask_secrets(text, [KEY])


# --- in the chunker ---------------------------------------------------------------------------------


async def test_a_key_cut_at_any_point_between_deltas_never_goes_out_even_in_halves():
    text = f"before {KEY} after"
    for cut in range(1, len(text)):
        sent: list[tuple[str, int, bool]] = []
        chunker = OutputChunker(lambda t, o, f: sent.append((t, o, f)), flush_bytes=1, secrets=[KEY])  # noqa: B023
        chunker.push(text[:cut])
        chunker.push(text[cut:])
        chunker.finish()
        assert "".join(t for t, _, _ in sent) == f"before {MASKED} after"
        assert not any("SECRET" in t for t, _, _ in sent)
        assert sent[-1][2] is True


async def test_held_text_that_is_no_key_goes_out_unchanged():
    sent: list[str] = []
    chunker = OutputChunker(lambda t, o, f: sent.append(t), flush_bytes=1, interval_ms=60_000, secrets=[KEY])
    chunker.push("ask-ant")
    assert sent == ["a"]  # "sk-ant" could be the start of the key: held
    chunker.push("hill")
    assert sent == ["a", "sk-anthill"]
    chunker.push(" sk-an")
    chunker.finish()
    assert "".join(sent) == "ask-anthill sk-an"


# --- through the executor ---------------------------------------------------------------------------


async def test_keys_are_masked_in_every_event_and_in_the_outcome():
    key = "sk-live-0123456789abcdef"
    gateway_key = "gw-9876543210fedcba"
    provider = ScriptedProvider(
        ["your key is sk-li", "ve-0123", "456789abcdef, keep it"],
        [ProviderHTTPError("openai", 503, f"bad key {key}")],
        [ProviderHTTPError("openai", 400, f"bad key {gateway_key}")],
    )
    p = pipeline({}, {"retries": 1, "model": {"apiKeyEnv": "GATEWAY_KEY"}}, {"continueOnError": True})
    env = {"OPENAI_API_KEY": key, "GATEWAY_KEY": gateway_key, "ANTHROPIC_API_KEY": "short"}
    r = await run(p, provider, env=env, input=f"input quoting {key} is short")
    assert_wire_contract(r.events)
    everything = json.dumps(r.events) + repr(r.outcome) + "\n".join(r.recorder.calls)
    assert "0123456789" not in everything and "9876543210" not in everything
    masked = "*" * len(key)
    # "short" is ANTHROPIC_API_KEY's value, too short to be a key: ordinary words stay.
    assert r.events[0]["input"] == f"input quoting {masked} is short"
    assert output_of(r.events, "s1") == f"your key is {masked}, keep it"
    assert r.outcome.stages["s1"].output == f"your key is {masked}, keep it"
    retrying = next(e for e in r.events if e["type"] == "stage:retrying")
    assert retrying["error"] == f"openai: HTTP 503: bad key {masked}"
    failed = next(e for e in r.events if e["type"] == "stage:failed")
    assert failed["error"] == f"openai: HTTP 400: bad key {'*' * len(gateway_key)}"
    assert r.outcome.stages["s2"].error == failed["error"]
    # The model itself still gets the real text: masking is for what people and logs see.
    assert "sk-live-0123456789abcdef" in provider.requests[0].prompt


async def test_extra_secrets_given_by_the_caller_are_masked_too():
    provider = ScriptedProvider(["token=tok-abcdefgh12345"])
    r = await run(pipeline({}), provider, secrets=["tok-abcdefgh12345", "tiny"])
    assert output_of(r.events, "s1") == "token=" + "*" * len("tok-abcdefgh12345")
