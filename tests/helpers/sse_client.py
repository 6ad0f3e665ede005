"""A raw SSE client for tests: reads the byte stream line by line, as a browser's EventSource does,
so the framing itself (id/event/data lines, comments, the end of the response) is what is tested."""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SSEMessage:
    id: str | None
    event: str
    data: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.data)


@dataclass
class SSEReader:
    """Connects to ``path`` and collects messages in a thread; ``events`` are the decoded payloads."""

    port: int
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    messages: list[SSEMessage] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    status: int | None = None
    ended: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    arrival: list[float] = field(default_factory=list)
    retry_ms: int | None = None

    def start(self, *, stop_after: int | None = None) -> SSEReader:
        self._stop_after = stop_after
        self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self._conn.request("GET", self.path, headers={"Accept": "text/event-stream", **self.headers})
        self._response = self._conn.getresponse()
        self.status = self._response.status
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    @property
    def events(self) -> list[dict[str, Any]]:
        return [m.json for m in list(self.messages)]

    def _read(self) -> None:
        fields: dict[str, str] = {}
        data: list[str] = []
        try:
            while True:
                raw = self._response.readline()  # decodes chunked transfer encoding
                if not raw:
                    break
                line = raw.decode("utf-8").rstrip("\n").rstrip("\r")
                if line == "":
                    # As EventSource does: a block without data lines dispatches nothing (e.g. "retry:").
                    if data:
                        self.messages.append(
                            SSEMessage(fields.get("id"), fields.get("event", "message"), "\n".join(data))
                        )
                        self.arrival.append(time.monotonic())
                        fields, data = {}, []
                        if self._stop_after is not None and len(self.messages) >= self._stop_after:
                            break
                    continue
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "data":
                    data.append(value)
                elif name == "retry":
                    self.retry_ms = int(value)
                else:
                    fields[name] = value
        except BaseException as exc:  # noqa: BLE001 - reported to the test through .error
            self.error = exc
        finally:
            self.ended.set()

    def close(self) -> None:
        try:
            self._conn.sock and self._conn.sock.close()  # type: ignore[func-returns-value]
        except OSError:
            pass
        self._conn.close()

    def wait(self, timeout: float = 30.0) -> SSEReader:
        if not self.ended.wait(timeout):
            raise TimeoutError(f"SSE stream {self.path} did not end within {timeout} s ({len(self.messages)} messages)")
        return self

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if self.ended.is_set() or time.monotonic() > deadline:
                raise TimeoutError(f"got {len(self.messages)} of {count} messages from {self.path}")
            time.sleep(0.005)


def parse_event_stream(text: str) -> list[SSEMessage]:
    """Messages from a whole ``text/event-stream`` body, by the HTML standard's parsing rules (what a
    browser's EventSource does): lines end at CRLF, LF or CR; ``data`` lines join with LF; the last
    event id persists from message to message; a message is dispatched only at a blank line, so a
    stream cut mid-message yields the messages before it; a block without data dispatches nothing."""
    messages: list[SSEMessage] = []
    text = text.removeprefix("\ufeff")
    last_id: str | None = None
    event = ""
    data: list[str] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # The piece after the last line break is an unfinished line: the stream ended inside it.
    for line in lines[:-1]:
        if line == "":
            if data:
                messages.append(SSEMessage(last_id, event or "message", "\n".join(data)))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id" and "\0" not in value:
            last_id = value
    return messages
