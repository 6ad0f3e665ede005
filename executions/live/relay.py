"""The live event log: a Redis Stream per execution, with the database as its durable record.

Why a Stream: measured on this machine (shared/notes/stack-measurements.md §4), XADD + XREAD BLOCK
delivered every event across reconnects with p99 4.5 ms, while pub/sub and the Channels layers lost
10–45 % across a reconnect or a burst. The stream id is ``<seq>-0``, so an SSE ``Last-Event-ID`` is a
stream cursor as it is. The worker publishes each event here the moment it exists and stores it in the
database in batches (``ExecutionRecorder``); once an event is stored, the stream may drop it
(``trim_stored``), so Redis holds only the not-yet-durable tail plus a short margin for fast resumes,
and nothing a while after the end (``STREAM_TTL_S``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
import weakref
from typing import Any, cast

import redis
import redis.asyncio as aredis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

#: how many stored events a stream keeps for resumes that need no database read
KEEP_STORED = 512
#: a stream never grows past this many entries, whatever happens to the database writer
HARD_CAP = 100_000
#: how long an ended execution's stream stays: viewers still reading finish from it; later ones replay
#: from the database, which holds every event before the final one is published
STREAM_TTL_S = 30
#: a running execution's lease; the worker renews it, and when it lapses the run was interrupted
LEASE_TTL_S = 15
LEASE_RENEW_S = 4


_SURROGATE = re.compile("[\ud800-\udfff]")


def stream_key(execution_id: str) -> str:
    return f"stagecast:exec:{execution_id}:events"


def cancel_key(execution_id: str) -> str:
    return f"stagecast:exec:{execution_id}:cancel"


def lease_key(execution_id: str) -> str:
    return f"stagecast:exec:{execution_id}:lease"


def encode(event: dict[str, Any]) -> str:
    text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    if not text.isascii() and _SURROGATE.search(text):
        # Redis takes UTF-8, which cannot hold a lone surrogate; escaped, it reads back as the same str.
        return json.dumps(event, separators=(",", ":"))
    return text


def stream_id(seq: int) -> str:
    return f"{seq}-0"


def seq_of(entry_id: bytes | str) -> int:
    raw = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(raw.split("-", 1)[0])


# --- clients ----------------------------------------------------------------------------------------
# redis-py 8 defaults to a 5 s socket timeout, which breaks every XREAD BLOCK longer than that
# (stack-measurements.md "three biggest pitfalls"): blocking reads set their own timeouts instead.

_sync_clients: dict[tuple[int, str], redis.Redis] = {}
_sync_lock = threading.Lock()


def sync_redis() -> redis.Redis:
    """One client per process (a forked Celery child must not share its parent's sockets) and per
    REDIS_URL: a process whose settings change (a test run) must not keep talking to the old server."""
    key = (os.getpid(), settings.REDIS_URL)
    client = _sync_clients.get(key)
    if client is None:
        with _sync_lock:
            client = _sync_clients.get(key)
            if client is None:
                client = redis.Redis.from_url(
                    settings.REDIS_URL, socket_timeout=None, socket_connect_timeout=5, health_check_interval=30
                )
                _sync_clients[key] = client
    return client


_publish_clients: dict[tuple[int, str], redis.Redis] = {}


def publish_redis() -> redis.Redis:
    """The worker's client for the per-event XADD: one retry (a pooled connection that died with a
    restarted Redis reconnects at once), then it fails fast. redis-py's default retries back off for
    seconds, which here would stall the run's event loop and its cancel watcher while Redis is away;
    the publisher keeps what it could not send and sends it later, in order (``runner.LivePublisher``)."""
    key = (os.getpid(), settings.REDIS_URL)
    client = _publish_clients.get(key)
    if client is None:
        with _sync_lock:
            client = _publish_clients.get(key)
            if client is None:
                client = redis.Redis.from_url(
                    settings.REDIS_URL, socket_timeout=None, socket_connect_timeout=2, retry=Retry(NoBackoff(), 1)
                )
                _publish_clients[key] = client
    return client


_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aredis.Redis] = weakref.WeakKeyDictionary()


def async_redis() -> aredis.Redis:
    """One client per event loop: a client's connections belong to the loop that made them."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = aredis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=None, socket_connect_timeout=5, max_connections=2000
        )
        _async_clients[loop] = client
    return client


async def async_redis_release() -> None:
    """Closes this loop's client and drops it from the cache: the client refers to its loop, so a
    cached entry would keep both alive for ever in a pool process that runs one loop per execution."""
    client = _async_clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()


# --- the worker's side ------------------------------------------------------------------------------


class EventPublisher:
    """Publishes one execution's events to its stream. Called on the per-chunk hot path: one XADD each."""

    def __init__(self, execution_id: str, client: redis.Redis | None = None) -> None:
        self.execution_id = execution_id
        self.key = stream_key(execution_id)
        self.client = client or sync_redis()

    def publish(self, event: dict[str, Any]) -> None:
        self.client.xadd(self.key, {"e": encode(event)}, id=stream_id(event["seq"]), maxlen=HARD_CAP, approximate=True)

    def trim_stored(self, stored_seq: int) -> None:
        """Events up to ``stored_seq`` are in the database: the stream keeps only a margin of them."""
        if stored_seq > KEEP_STORED:
            self.client.xtrim(self.key, minid=stream_id(stored_seq - KEEP_STORED + 1), approximate=True)

    def end(self) -> None:
        self.client.expire(self.key, STREAM_TTL_S)


def publish_one(execution_id: str, event: dict[str, Any], *, ended: bool = False) -> None:
    """Publish an event written outside a run (a queued run cancelled, a run found interrupted)."""
    publisher = EventPublisher(execution_id)
    publisher.publish(event)
    if ended:
        publisher.end()


def request_cancel(execution_id: str, reason: str) -> None:
    """Wakes the worker running this execution at once (it waits on this list with BLPOP)."""
    client = sync_redis()
    pipe = client.pipeline()
    pipe.rpush(cancel_key(execution_id), reason)
    pipe.expire(cancel_key(execution_id), 3600)
    pipe.execute()


async def wait_for_cancel(execution_id: str) -> str:
    """Returns the cancel reason as soon as one is pushed; the worker's sibling task awaits this.

    Outlives a Redis restart: a watcher that died with its connection would leave the run uncancellable."""
    client = async_redis()
    while True:
        try:
            item = await client.blpop([cancel_key(execution_id)], timeout=30)
        except redis.RedisError as err:
            log.warning("cancel watch for %s: Redis unreachable (%s); watching again in 1 s", execution_id, err)
            await asyncio.sleep(1)
            continue
        if item is not None:
            reason = item[1]
            return reason.decode() if isinstance(reason, bytes) else str(reason)


def _lapsed(lease_exists: int, uptime_s: int) -> bool:
    # A Redis that restarted less than a lease ago has lost every lease, and the live workers renew
    # theirs within LEASE_RENEW_S: a missing lease means a dead worker only on a Redis older than that.
    return not lease_exists and uptime_s >= LEASE_TTL_S


def lease_lapsed(execution_id: str, client: redis.Redis | None = None) -> bool:
    """True when the worker running this execution stopped renewing its lease (it died)."""
    client = client or sync_redis()
    if client.exists(lease_key(execution_id)):
        return False
    try:
        uptime = int(client.info("server")["uptime_in_seconds"])
    except redis.ResponseError:  # INFO disabled (some managed services): assume a Redis that stayed up
        uptime = LEASE_TTL_S
    return _lapsed(0, uptime)


async def lease_lapsed_async(execution_id: str) -> bool:
    client = async_redis()
    if await client.exists(lease_key(execution_id)):
        return False
    try:
        uptime = int((await client.info("server"))["uptime_in_seconds"])
    except redis.ResponseError:
        uptime = LEASE_TTL_S
    return _lapsed(0, uptime)


# --- the viewers' side ------------------------------------------------------------------------------


#: a stream read as redis-py gives it with RESP2 and bytes replies (its types cover RESP3 too)
StreamEntries = list[tuple[bytes, dict[bytes, bytes]]]


def stream_events_after(execution_id: str, after_seq: int) -> list[dict[str, Any]]:
    """Every event the stream holds after ``after_seq``: what the worker published but may not have
    stored yet (a snapshot's live tail; what a dead worker's reaper stores)."""
    entries = cast(StreamEntries, sync_redis().xrange(stream_key(execution_id), min=stream_id(after_seq + 1)))
    return [json.loads(fields[b"e"]) for _, fields in entries]


async def stream_first_seq(execution_id: str) -> int | None:
    """The oldest seq still in the stream, or None when there is no stream (ended long ago, or lost)."""
    entries = cast(StreamEntries, await async_redis().xrange(stream_key(execution_id), count=1))
    return seq_of(entries[0][0]) if entries else None


async def read_stream(execution_id: str, after_seq: int, *, block_ms: int, count: int = 500) -> list[dict[str, Any]]:
    """Events after ``after_seq``, waiting up to ``block_ms`` for the first one. The cursor is the seq."""
    result = cast(
        "list[tuple[bytes, StreamEntries]]",
        await async_redis().xread({stream_key(execution_id): stream_id(after_seq)}, count=count, block=block_ms),
    )
    if not result:
        return []
    return [json.loads(fields[b"e"]) for _, fields in result[0][1]]
