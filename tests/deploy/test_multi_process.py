"""Several processes on one Redis and one PostgreSQL, as a team server runs them (two web replicas,
`--scale worker=2`, one beat): two Daphne processes, two Celery workers and a beat process, all real,
on a private database, with production settings behind the tests' "proxy".

- viewers on either web process receive identical, complete streams of runs that either worker ran;
- a worker killed with SIGKILL mid-run: its runs end `interrupted`, the other worker's finish;
- a web process killed mid-stream: its viewers reconnect to the other one and lose nothing.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.harness import PUBLIC_HOST, Proxy, tokens, wait_until, write_pipeline
from tests.helpers import postgres
from tests.helpers.fake_models import FakeModelServer, Script
from tests.helpers.integration import outputs_by_stage
from tests.helpers.processes import ROOT, VENV_BIN, child_env, redis_server, start_daphne, start_worker, stop
from tests.helpers.sse_client import SSEReader

RECEIVED = re.compile(r"Task executions\.run_execution\[[0-9a-f-]+\] received")


@dataclass
class Cluster:
    env: dict[str, str]
    token: str
    webs: list[tuple[subprocess.Popen[bytes], int]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    #: what the measurements add up to, printed at the end (pytest -s shows it)
    figures: dict[str, float] = field(default_factory=lambda: {"executions": 0, "viewers": 0, "events": 0, "lost": 0})

    def proxy(self, web: int) -> Proxy:
        return Proxy(self.webs[web][1])

    def viewer(self, web: int, execution_id: str, *, after: int | None = None) -> SSEReader:
        headers = self.proxy(web).headers(self.token)
        if after is not None:
            headers["Last-Event-ID"] = str(after)
        return SSEReader(self.webs[web][1], f"/api/executions/{execution_id}/events", headers).start()

    def received(self, worker: int) -> int:
        log_path: Path = self.workers[worker].log_path  # type: ignore[attr-defined]
        return len(RECEIVED.findall(log_path.read_text(errors="replace")))

    def run_on_some_worker(self, text: str, web: int = 0) -> tuple[str, int]:
        """Starts a run and tells which worker took it (the one whose log says it received a task)."""
        before = [self.received(i) for i in range(len(self.workers))]
        execution_id = self.proxy(web).run(self.token, text)
        wait_until(
            lambda: any(self.received(i) > before[i] for i in range(len(self.workers))), 30, "a worker to take the run"
        )
        return execution_id, next(i for i in range(len(self.workers)) if self.received(i) > before[i])

    def status(self, execution_id: str) -> str:
        return str(self.proxy(1).snapshot(self.token, execution_id)["status"])

    def count(self, streams: list[list[dict[str, Any]]], expected_events: int) -> None:
        self.figures["executions"] += 1
        self.figures["viewers"] += len(streams)
        self.figures["events"] += sum(len(s) for s in streams)
        self.figures["lost"] += sum(expected_events - len(s) for s in streams)


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    reason = postgres.unavailable()
    if reason:
        pytest.skip(f"{reason}: the multi-process tests run on PostgreSQL (set STAGECAST_TEST_DATABASE_URL)")
    tmp = tmp_path_factory.mktemp("cluster")
    fake = FakeModelServer("anthropic").start()
    fake.default = Script(deltas=["Hello", ", ", "world", "."], interval_ms=5)
    write_pipeline(tmp / "pipelines")
    beat: subprocess.Popen[bytes] | None = None
    with postgres.private_database() as database_url, redis_server() as redis_url:
        env = child_env(
            DEBUG="0",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS=PUBLIC_HOST,
            SECURE_PROXY_SSL_HEADER="1",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            ANTHROPIC_API_KEY="sk-ant-multi-process-0123456789",
            ANTHROPIC_BASE_URL=fake.url,
            STAGECAST_PIPELINES_DIRS=str(tmp / "pipelines"),
            STAGECAST_DATA_DIR=str(tmp / "data"),
        )
        manage(env, "migrate", "--noinput")
        manage(
            {**env, "DJANGO_SUPERUSER_USERNAME": "ops", "DJANGO_SUPERUSER_PASSWORD": "x-Ops-98765"},
            "createsuperuser",
            "--noinput",
            "--email",
            "ops@example.com",
        )
        token = manage(env, "createapitoken", "ops").strip().splitlines()[-1]
        c = Cluster(env=env, token=token)
        try:
            c.webs = [start_daphne(env), start_daphne(env)]
            c.workers = [start_worker(env, concurrency=2, beat=False), start_worker(env, concurrency=2, beat=False)]
            beat = subprocess.Popen(
                [str(VENV_BIN / "celery"), "-A", "pipelines_site", "--quiet", "beat"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            yield c
        finally:
            for proc in [*(w for w, _ in c.webs), *c.workers, *([beat] if beat else [])]:
                stop(proc)
            fake.stop()
    print(f"\nmulti-process figures: {c.figures}")


def assert_identical_and_complete(streams: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    first = streams[0]
    assert [e["seq"] for e in first] == list(range(1, len(first) + 1))
    assert first[-1]["type"].startswith("execution:")
    for other in streams[1:]:
        assert other == first  # the same events, byte for byte once decoded: seq, ts, text
    return first


@pytest.mark.timeout(180)
def test_viewers_on_either_web_process_get_identical_streams_of_runs_on_either_worker(cluster: Cluster) -> None:
    runs: list[tuple[str, int, list[SSEReader]]] = []
    for n in range(6):
        execution_id, worker = cluster.run_on_some_worker("[fake:deltas=80,interval_ms=10]", web=n % 2)
        viewers = [cluster.viewer(web, execution_id) for web in (0, 0, 1, 1)]
        runs.append((execution_id, worker, viewers))
    assert {worker for _, worker, _ in runs} == {0, 1}, "each worker ran some of the executions"
    for execution_id, _, viewers in runs:
        streams = [viewer.wait(90).events for viewer in viewers]
        events = assert_identical_and_complete(streams)
        assert (events[-1]["type"], events[-1]["result"]["status"]) == ("execution:completed", "success")
        assert outputs_by_stage(events) == {"first": tokens(80), "second": tokens(3)}
        assert cluster.status(execution_id) == "success"
        cluster.count(streams, len(events))


@pytest.mark.timeout(180)
def test_a_worker_killed_mid_run_interrupts_its_runs_and_the_others_finish(cluster: Cluster) -> None:
    long_run = "[fake:deltas=2000,interval_ms=10]"
    placed = [cluster.run_on_some_worker(long_run)]
    doomed = placed[0][1]
    # A worker takes a run only into a free process (CELERY_WORKER_DISABLE_PREFETCH), so once the doomed
    # worker's two processes are busy the next run goes to the other one.
    while len({worker for _, worker in placed}) < 2:
        assert len(placed) < 4, f"every run went to worker {doomed}"
        placed.append(cluster.run_on_some_worker(long_run, web=len(placed) % 2))
    viewers = {execution_id: [cluster.viewer(web, execution_id) for web in (0, 1)] for execution_id, _ in placed}
    for execution_id, _ in placed:
        wait_until(lambda eid=execution_id: cluster.status(eid) == "running", 30, "the run to start")
    for readers in viewers.values():
        for reader in readers:
            reader.wait_for(10, timeout=30)  # every run is streaming when the worker dies

    victim = cluster.workers[doomed]
    os.killpg(victim.pid, signal.SIGKILL)  # the worker and its pool processes, with no warning
    victim.wait(10)
    killed_at = time.monotonic()

    for execution_id, worker in placed:
        streams = [reader.wait(120).events for reader in viewers[execution_id]]
        events = assert_identical_and_complete(streams)
        if worker == doomed:
            assert events[-1]["type"] == "execution:interrupted"
            assert cluster.status(execution_id) == "interrupted"
            assert outputs_by_stage(events)["first"] == tokens(len(outputs_by_stage(events)["first"].split()))
        else:
            assert (events[-1]["type"], events[-1]["result"]["status"]) == ("execution:completed", "success")
            assert outputs_by_stage(events) == {"first": tokens(2000), "second": tokens(3)}
        cluster.count(streams, len(events))
    interrupted_within = time.monotonic() - killed_at
    assert interrupted_within < 40, interrupted_within
    cluster.figures["runs_on_killed_worker"] = sum(1 for _, worker in placed if worker == doomed)
    cluster.figures["all_streams_ended_s_after_kill"] = round(interrupted_within, 1)
    cluster.workers[doomed] = start_worker(cluster.env, concurrency=2, beat=False)


@pytest.mark.timeout(180)
def test_a_web_process_killed_mid_stream_its_viewers_resume_on_the_other_losing_nothing(cluster: Cluster) -> None:
    execution_id, _ = cluster.run_on_some_worker("[fake:deltas=600,interval_ms=10]", web=1)
    moving = [cluster.viewer(0, execution_id) for _ in range(3)]
    staying = [cluster.viewer(1, execution_id) for _ in range(3)]
    for reader in moving:
        reader.wait_for(20, timeout=30)
    web, port = cluster.webs[0]
    os.killpg(web.pid, signal.SIGKILL)
    web.wait(10)
    streams = []
    for reader in moving:
        assert reader.ended.wait(10), "the killed web process's connections end"
        before = reader.events
        # An EventSource reconnects with the last id it parsed: here, to the web process still up.
        rest = cluster.viewer(1, execution_id, after=before[-1]["seq"]).wait(90).events
        streams.append(before + rest)
    streams += [reader.wait(90).events for reader in staying]
    events = assert_identical_and_complete(streams)
    assert (events[-1]["type"], events[-1]["result"]["status"]) == ("execution:completed", "success")
    assert outputs_by_stage(events) == {"first": tokens(600), "second": tokens(3)}
    cluster.count(streams, len(events))
    cluster.webs[0] = start_daphne(cluster.env, port)
