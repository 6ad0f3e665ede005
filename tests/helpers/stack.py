"""The live stack for integration, e2e and fault tests: a private Redis, a real Celery worker and Daphne
on a real socket, all on the test database, and a fake Anthropic server speaking real SSE."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from pipelines_site.celery import app as celery_app
from tests.helpers.fake_models import FakeModelServer, Script
from tests.helpers.processes import RedisServer, child_env, start_daphne, start_worker, stop
from tests.helpers.sse_client import SSEReader

TEST_PIPELINE = """
id: live-test
name: Live test
stages:
  - id: first
    name: First
    model: {{ provider: anthropic, model: claude-haiku-4-5, maxTokens: 512 }}
    prompt: "{{{{input}}}}"
  - id: second
    name: Second
    model: {{ provider: anthropic, model: claude-haiku-4-5, maxTokens: 512 }}
    prompt: "second [fake:{second}] {{{{stages.first.output}}}}"
"""


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Stack:
    redis_url: str
    fake: FakeModelServer
    env: dict[str, str]
    pipelines_dir: Path
    web_port: int = 0
    web: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    redis: RedisServer | None = None

    # --- HTTP helpers -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = None
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(f"http://127.0.0.1:{self.web_port}{path}", data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                status = resp.status
                ctype = resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as err:
            raw, status, ctype = err.read(), err.code, err.headers.get("Content-Type", "")
        return status, (json.loads(raw) if "json" in ctype else raw.decode())

    def run(self, token: str, input: str, pipeline: str = "live-test") -> str:
        status, body = self.request("POST", f"/api/pipelines/{pipeline}/run", token=token, body={"input": input})
        assert status == 202, body
        return body["executionId"]

    def sse(
        self, execution_id: str, token: str, *, since: int | None = None, last_event_id: int | None = None
    ) -> SSEReader:
        path = f"/api/executions/{execution_id}/events" + (f"?since={since}" if since is not None else "")
        headers = {"Authorization": f"Bearer {token}"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        return SSEReader(self.web_port, path, headers)

    def wait_worker_log(self, text: str, timeout: float = 30.0) -> None:
        assert self.worker is not None
        log_path = self.worker.log_path  # type: ignore[attr-defined]
        deadline = time.monotonic() + timeout
        while text not in log_path.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the worker did not log {text!r} within {timeout} s")
            time.sleep(0.02)

    def wait_web_log(self, text: str, count: int = 1, timeout: float = 30.0) -> None:
        """Until Daphne's log holds ``text`` at least ``count`` times."""
        assert self.web is not None
        log_path = self.web.log_path  # type: ignore[attr-defined]
        deadline = time.monotonic() + timeout
        while (found := log_path.read_text(errors="replace").count(text)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"daphne logged {text!r} {found} times, not {count}, within {timeout} s")
            time.sleep(0.05)

    def restart_web(self, sig: int = signal.SIGTERM) -> None:
        """Stops Daphne (``signal.SIGKILL``: a crash) and starts it again on the same port."""
        assert self.web is not None
        stop(self.web, sig)
        self.web, self.web_port = start_daphne(self.env, self.web_port)

    def restart_redis(self, *, down_s: float = 0.0) -> None:
        """Kills the private redis-server and starts an empty one on the same port after ``down_s``."""
        assert self.redis is not None
        self.redis.restart(down_s=down_s)

    def web_rss_kb(self) -> int:
        """Daphne's resident memory, from /proc (Linux)."""
        assert self.web is not None
        for line in Path(f"/proc/{self.web.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for pid {self.web.pid}")

    def restart_worker(self) -> None:
        if self.worker is not None:
            stop(self.worker)
        self.worker = start_worker(self.env)


@pytest.fixture(scope="session")
def redis_process() -> Iterator[RedisServer]:
    """The session's private redis-server; fault tests restart it through ``Stack.restart_redis``."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def redis_url(redis_process: RedisServer) -> str:
    settings.REDIS_URL = redis_process.url
    celery_app.conf.broker_url = redis_process.url
    return redis_process.url


@pytest.fixture(scope="session")
def stack(
    django_db_setup: None,
    django_db_blocker: Any,
    redis_process: RedisServer,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    fake = FakeModelServer("anthropic").start()
    # Unscripted calls answer a short fixed text; tests steer each call with a [fake:…] marker in the input.
    fake.default = Script(deltas=["Hello", ", ", "world", "."], interval_ms=5)
    pipelines_dir = tmp_path_factory.mktemp("pipelines")
    (pipelines_dir / "live-test.yaml").write_text(
        textwrap.dedent(TEST_PIPELINE.format(second="deltas=3,interval_ms=5"))
    )
    with django_db_blocker.unblock():
        db_url = database_url()
    env = child_env(
        DEBUG="1",
        REDIS_URL=redis_url,
        DATABASE_URL=db_url,
        ANTHROPIC_API_KEY="sk-ant-test-key-0123456789",
        ANTHROPIC_BASE_URL=fake.url,
        STAGECAST_PIPELINES_DIRS=str(pipelines_dir),
    )
    os.environ["STAGECAST_PIPELINES_DIRS"] = str(pipelines_dir)
    settings.PIPELINES_DIRS = [pipelines_dir]
    s = Stack(redis_url=redis_url, fake=fake, env=env, pipelines_dir=pipelines_dir, redis=redis_process)
    s.worker = start_worker(env)
    s.web, s.web_port = start_daphne(env)
    try:
        yield s
    finally:
        for proc in (s.web, s.worker):
            if proc is not None:
                stop(proc)
        fake.stop()


@pytest.fixture
def live(stack: Stack, transactional_db: None) -> Stack:
    """The stack, with two users (personas) and their API tokens: alice runs, bob must see nothing."""
    from django.contrib.auth.models import User

    from executions.models import ApiToken

    # A fault test may have left a process dead: every test starts on a whole stack.
    if stack.redis is not None and not stack.redis.alive():
        stack.redis.start()
    if stack.web is not None and stack.web.poll() is not None:
        stack.web, stack.web_port = start_daphne(stack.env, stack.web_port)
    if stack.worker is None or stack.worker.poll() is not None:
        stack.restart_worker()
    stack.tokens = {}
    for name in ("alice", "bob"):
        user = User.objects.create_user(name, password=f"{name}-password-123")
        stack.tokens[name] = ApiToken.issue(user=user)[1]
    stack.fake.calls.clear() if hasattr(stack.fake.calls, "clear") else None
    return stack
