"""The Google provider through the real ``google-genai`` SDK against the fake Gemini API."""

from __future__ import annotations

from typing import Any

from executions.engine.providers.google import GoogleProvider, map_finish_reason
from executions.engine.types import FinishDelta, ModelRequest
from tests.helpers.fake_models import FakeModelServer, RecordedRequest
from tests.providers.api_contract import ApiContract, drain, texts

ENV = {"GOOGLE_API_KEY": "gk"}


class TestGoogleContract(ApiContract):
    provider = "google"
    fake_kind = "google"
    key_env = "GOOGLE_API_KEY"
    default_model = "gemini-2.5-flash"
    stream_error = ("UNAVAILABLE", 503)
    base_url_env = "GOOGLE_GEMINI_BASE_URL"

    def sent(self, req: RecordedRequest) -> dict[str, Any]:
        body = req.body
        config = body.get("generationConfig", {})
        system = body.get("systemInstruction", {}).get("parts", [{}])[0].get("text")
        return {
            "model": req.path.split("/models/")[1].split(":")[0],
            "system": system,
            "prompt": body["contents"][0]["parts"][0]["text"],
            "max_tokens": config.get("maxOutputTokens"),
            "temperature": config.get("temperature"),
        }


async def test_streams_generate_content_with_alt_sse_and_the_key_header(fake_google: FakeModelServer) -> None:
    model = {"provider": "google", "baseURL": fake_google.url, "model": "gemini-2.5-pro"}
    _, error = await drain(GoogleProvider(ENV).stream(ModelRequest(model=model, prompt="p")))
    req = fake_google.calls[0].request
    assert error is None
    assert (req.method, req.path, req.query, req.headers["x-goog-api-key"]) == (
        "POST",
        "/v1/models/gemini-2.5-pro:streamGenerateContent",
        "alt=sse",
        "gk",
    )


async def test_a_v1_style_base_url_keeps_its_api_version(fake_google: FakeModelServer) -> None:
    model = {"provider": "google", "baseURL": f"{fake_google.url}/v1beta"}
    deltas, error = await drain(GoogleProvider(ENV).stream(ModelRequest(model=model, prompt="p")))
    assert error is None and "".join(texts(deltas)) == "Hello from the fake."
    assert fake_google.calls[0].request.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert isinstance(deltas[-1], FinishDelta) and deltas[-1].reason == "stop"


def test_finish_reason_map() -> None:
    assert [map_finish_reason(r) for r in ("STOP", "MAX_TOKENS", "SAFETY", "RECITATION", None, "OTHER")] == [
        "stop",
        "length",
        "content-filter",
        "content-filter",
        "other",
        "other",
    ]
    assert map_finish_reason("STOP", called_tool=True) == "tool-calls"
