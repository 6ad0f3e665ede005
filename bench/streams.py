"""Reading an execution's Redis stream straight from Redis, never through the web process: to learn
that a run has ended, to time when the worker's ``XADD`` became readable, and what Redis holds."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any, cast

import redis.asyncio as aredis

from executions.live.relay import stream_key

from .sse import FINAL_TYPES


async def stream_events(redis_url: str, execution_id: str) -> AsyncIterator[tuple[float, dict[str, Any]]]:
    """(when it became readable, event) for each event of the execution's Redis stream, to the final
    one: read straight from Redis (``XREAD BLOCK``), never through the web process."""
    client = aredis.Redis.from_url(redis_url, socket_timeout=None)
    cursor: bytes | str = "0-0"
    try:
        while True:
            reply = await client.xread({stream_key(execution_id): cursor}, block=1000, count=1000)
            # RESP2 (the client's default protocol): [[stream, [(id, fields), …]]]; the type allows RESP3's dict too.
            result = cast("list[list[Any]]", reply)
            at = time.time()
            for _, entries in result or []:
                for entry_id, fields in entries:
                    cursor = entry_id
                    event = json.loads(fields[b"e"])
                    yield at, event
                    if event["type"] in FINAL_TYPES:
                        return
    finally:
        await client.aclose()


async def final_event(redis_url: str, execution_id: str) -> dict[str, Any]:
    async for _, event in stream_events(redis_url, execution_id):
        if event["type"] in FINAL_TYPES:
            return event
    raise AssertionError("unreachable")


async def redis_figures(url: str) -> dict[str, Any]:
    """Redis's own memory and the execution streams it holds (keys, entries, longest TTL)."""
    client = aredis.Redis.from_url(url, socket_timeout=None)
    try:
        info = await client.info("memory")
        cpu = await client.info("cpu")
        keys = [key async for key in client.scan_iter(match=stream_key("*"), count=1000)]
        entries = sum([await client.xlen(k) for k in keys])
        ttls = [await client.ttl(k) for k in keys]
        usage = [await client.memory_usage(k, samples=0) or 0 for k in keys[:20]]
        return {
            "used_kb": int(info["used_memory"]) // 1024,
            "rss_kb": int(info["used_memory_rss"]) // 1024,
            "streams": len(keys),
            "entries": entries,
            "max_ttl_s": max(ttls, default=-2),
            "no_ttl": sum(1 for t in ttls if t == -1),
            "sample_stream_kb": (sum(usage) // len(usage) // 1024) if usage else 0,
            "cpu_s": float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]),
        }
    finally:
        await client.aclose()
