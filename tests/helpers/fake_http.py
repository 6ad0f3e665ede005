"""Raw HTTP/1.1 for the fake model servers: request parsing, responses, chunked bodies, peer-close watch.

Written by hand on asyncio streams (aiohttp is not installed, and a test server must be able to cut a
chunked body half-way and notice a client leaving mid-stream, which frameworks hide).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

MAX_HEAD = 256 * 1024


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    raw_body: bytes
    keep_alive: bool

    def json_body(self) -> Any:
        if not self.raw_body:
            return None
        text = self.raw_body.decode("utf-8", "replace")
        try:
            return json.loads(text)
        except ValueError:
            return text


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._buf = bytearray()

    async def _fill(self) -> None:
        data = await self.reader.read(65536)
        if not data:
            raise EOFError
        self._buf += data

    async def _read_until(self, marker: bytes) -> bytes:
        while (at := self._buf.find(marker)) < 0:
            if len(self._buf) > MAX_HEAD:
                raise ValueError("request head too large")
            await self._fill()
        out = bytes(self._buf[:at])
        del self._buf[: at + len(marker)]
        return out

    async def _read_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            await self._fill()
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    async def read_request(self) -> Request | None:
        """The next request on this connection, or None when the client closed it between requests."""
        try:
            head = await self._read_until(b"\r\n\r\n")
        except (EOFError, ConnectionError):
            return None
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = bytearray()
            while size := int((await self._read_until(b"\r\n")).split(b";")[0], 16):
                body += await self._read_exact(size)
                await self._read_exact(2)
            await self._read_until(b"\r\n")  # no trailers expected: the empty line after the last chunk
            raw = bytes(body)
        else:
            raw = await self._read_exact(int(headers.get("content-length") or 0))
        path, _, query = target.partition("?")
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        return Request(method, path, query, headers, raw, keep_alive)

    async def wait_peer_closed(self) -> None:
        """Returns once the client has closed (or reset) the connection; bytes it sends meanwhile are kept."""
        try:
            while True:
                await self._fill()
        except (EOFError, ConnectionError):
            return

    def write_head(self, status: int, headers: dict[str, str]) -> None:
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
        self.writer.write("\r\n".join(lines).encode("latin-1"))

    async def send_json(
        self, status: int, body: Any, headers: dict[str, str] | None = None, *, head: bool = False
    ) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        base = {"content-type": "application/json", "content-length": str(len(data)), "connection": "keep-alive"}
        self.write_head(status, {**base, **(headers or {})})
        if not head:
            self.writer.write(data)
        await self.writer.drain()

    def write_chunk(self, data: bytes) -> None:
        if data:
            self.writer.write(b"%x\r\n%s\r\n" % (len(data), data))

    async def end_chunked(self) -> None:
        self.writer.write(b"0\r\n\r\n")
        await self.writer.drain()

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()
