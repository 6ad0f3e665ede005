"""The live stack the benchmarks run against, all on 127.0.0.1: a private redis-server, a Celery worker
(``-c 4``: four executions at once), Daphne, a fresh SQLite database in a temp dir, and two fake
Anthropic servers speaking real SSE.

The processes are the project's own (tests/helpers/processes.py), run with production settings
(``DEBUG`` off, a ``SECRET_KEY``), as docker-compose runs them. The database is migrated into a temp
dir (with the benchmark user and an API token from ``createapitoken``) once per benchmark process.

The fakes: ``bench/fake_model.py`` in its own process answers the pipelines ``bench-one`` and
``bench-two`` as a marker in the input says (its pacing timers are not slowed by the viewers in this
process); an in-process ``FakeModelServer`` answers ``bench-gated`` (its stage's ``baseURL``), whose
deltas the benchmark releases through a gate and whose send times it reads (``calls[i].sent[k].at``).

A suite run (``python -m bench``) shares one stack between the benchmarks (``shared()``); a benchmark
run alone starts its own.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.fake_models import FakeModelServer
from tests.helpers.processes import child_env, redis_server, start_daphne, start_worker, stop

from .common import ROOT, children
from .streams import final_event

USER = "bench"
PASSWORD = "bench-password-4711"
SECRET_KEY = "bench-secret-key-not-for-production-0123456789abcdefghijklmnop"

#: the benchmarks' pipelines; the fake answers each call as the input's marker says
PIPELINES = {
    "bench-one": """
        id: bench-one
        name: Bench, one stage
        stages:
          - id: out
            name: Output
            model: { provider: anthropic, model: claude-haiku-4-5, maxTokens: 64000 }
            prompt: "{{input}}"
    """,
    "bench-two": """
        id: bench-two
        name: Bench, two stages
        stages:
          - id: first
            name: First
            model: { provider: anthropic, model: claude-haiku-4-5, maxTokens: 64000 }
            prompt: "{{input}}"
          - id: second
            name: Second
            model: { provider: anthropic, model: claude-haiku-4-5, maxTokens: 64000 }
            prompt: "second: {{input}}"
    """,
    "bench-five": """
        id: bench-five
        name: Bench, five stages
        defaults:
          model: { provider: anthropic, model: claude-haiku-4-5, maxTokens: 64000 }
        stages:
          - { id: one, prompt: "one: {{input}}" }
          - { id: two, prompt: "two: {{input}}" }
          - { id: three, prompt: "three: {{input}}" }
          - { id: four, prompt: "four: {{input}}" }
          - { id: five, prompt: "five: {{input}}" }
    """,
    "bench-gated": """
        id: bench-gated
        name: Bench, one stage, gated model
        stages:
          - id: out
            name: Output
            model: { provider: anthropic, model: claude-haiku-4-5, maxTokens: 64000, baseURL: "%(gated)s" }
            prompt: "{{input}}"
    """,
}
#: every pool process of the worker: fan-out and memory run four executions at once
CONCURRENCY = 4


@dataclass
class Template:
    """A migrated database with the benchmark user, and its API token."""

    dir: Path
    db: Path
    token: str


_template: Template | None = None
_template_lock = threading.Lock()


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def template() -> Template:
    """Migrates once per benchmark process (``migrate`` takes seconds; copying the file, milliseconds)."""
    global _template
    with _template_lock:
        if _template is None:
            work = Path(tempfile.mkdtemp(prefix="stagecast-bench-template-"))
            atexit.register(shutil.rmtree, work, True)  # also when a script uses stack() without the runner
            db = work / "template.sqlite3"
            env = _env(work, db, redis_url="redis://127.0.0.1:1/0", model_url="http://127.0.0.1:1")
            # One Django start-up for it all (each costs seconds of imports on a busy 2-core machine).
            script = (
                "import io\n"
                "from django.core.management import call_command\n"
                "from django.contrib.auth.models import User\n"
                "call_command('migrate', interactive=False, verbosity=0)\n"
                "call_command('collectstatic', interactive=False, verbosity=0)\n"
                f"User.objects.create_user({USER!r}, password={PASSWORD!r})\n"
                "out = io.StringIO()\n"
                f"call_command('createapitoken', {USER!r}, stdout=out, stderr=io.StringIO())\n"
                "print('TOKEN', out.getvalue().strip().splitlines()[-1])\n"
            )
            out = _manage(env, "shell", "-c", script)
            # createapitoken prints the token alone on its last line
            token = next(line.split()[1] for line in out.splitlines() if line.startswith("TOKEN "))
            _template = Template(work, db, token)
        return _template


def _env(data_dir: Path, db: Path, *, redis_url: str, model_url: str, pipelines: Path | None = None) -> dict[str, str]:
    return child_env(
        SECRET_KEY=SECRET_KEY,
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"sqlite:///{db}",
        REDIS_URL=redis_url,
        STAGECAST_DATA_DIR=str(data_dir),
        STAGECAST_PIPELINES_DIRS=str(pipelines or data_dir),
        ANTHROPIC_API_KEY="sk-ant-bench-0123456789abcdef",
        ANTHROPIC_BASE_URL=model_url,
        LOG_LEVEL="WARNING",
    )


@contextmanager
def fake_model_process() -> Iterator[str]:
    """bench/fake_model.py in its own process; yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_model"], cwd=ROOT, stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"the fake model did not start (exit {proc.poll()})")
        yield url
    finally:
        stop(proc)


@dataclass
class Stack:
    web: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    port: int
    redis_url: str
    token: str
    dir: Path
    #: the in-process fake behind the pipeline ``bench-gated``
    gated: FakeModelServer
    warmed: bool = False
    #: events in the last run the overhead benchmark watched (its final seq)
    last_events: int = 0
    viewer_cpu_ms: list[float] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pool(self) -> list[int]:
        return children(self.worker.pid)

    # --- the JSON API (blocking calls, run in a thread from async code) ---------------------------------

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw, status, ctype = resp.read(), resp.status, resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as err:
            raw, status, ctype = err.read(), err.code, err.headers.get("Content-Type", "")
        return status, (json.loads(raw) if "json" in ctype else raw)

    def run(self, pipeline: str, input: str) -> str:
        status, body = self.request("POST", f"/api/pipelines/{pipeline}/run", {"input": input})
        if status != 202:
            raise RuntimeError(f"run {pipeline}: {status} {body}")
        return str(body["executionId"])

    async def arun(self, pipeline: str, input: str) -> str:
        return await asyncio.to_thread(self.run, pipeline, input)

    async def ready(self) -> Stack:
        """Once per stack: one run on each of the worker's pool processes at once, with no viewer, so
        that first-run costs (connections, caches; the model SDK imports too, before
        executions/worker.py preloaded them in the parent) stay out of the figures. No viewer is
        attached: a viewer's lease check once took runs stalled by those imports for dead (BENCHMARKS.md,
        "Findings")."""
        if not self.warmed:
            ids = [await self.arun("bench-one", "[fake:deltas=20,interval_ms=25]") for _ in range(CONCURRENCY)]
            await asyncio.gather(*(asyncio.wait_for(final_event(self.redis_url, eid), 180) for eid in ids))
            self.warmed = True
        return self

    async def snapshot(self, execution_id: str) -> dict[str, Any]:
        status, body = await asyncio.to_thread(self.request, "GET", f"/api/executions/{execution_id}")
        if status != 200:
            raise RuntimeError(f"snapshot {execution_id}: {status} {body}")
        return dict(body)


_shared: Stack | None = None


@contextmanager
def _fresh() -> Iterator[Stack]:
    base = template()
    with ExitStack() as exits:
        work = Path(tempfile.mkdtemp(prefix="stagecast-bench-"))
        exits.callback(shutil.rmtree, work, True)
        db = work / "bench.sqlite3"
        shutil.copyfile(base.db, db)
        shutil.copytree(base.dir / "staticfiles", work / "staticfiles")
        gated = FakeModelServer("anthropic").start()
        exits.callback(gated.stop)
        pipelines = work / "pipelines"
        pipelines.mkdir()
        for name, text in PIPELINES.items():
            (pipelines / f"{name}.yaml").write_text(textwrap.dedent(text % {"gated": gated.url}).lstrip())
        redis_url = exits.enter_context(redis_server())
        model_url = exits.enter_context(fake_model_process())
        env = _env(work, db, redis_url=redis_url, model_url=model_url, pipelines=pipelines)
        # Started side by side: each takes seconds to import Django and be ready.
        started: dict[str, Any] = {}

        def start_web() -> None:
            started["web"] = start_daphne(env)

        web_thread = threading.Thread(target=start_web)
        web_thread.start()
        try:
            worker = start_worker(env, concurrency=CONCURRENCY, log_path=work / "worker.log", beat=False)
        finally:
            web_thread.join()
        exits.callback(stop, worker)
        if "web" not in started:
            raise RuntimeError("daphne did not start")
        web, port = started["web"]
        exits.callback(_stop_and_forget_log, web)
        yield Stack(web=web, worker=worker, port=port, redis_url=redis_url, token=base.token, dir=work, gated=gated)


def _stop_and_forget_log(proc: subprocess.Popen[bytes]) -> None:
    stop(proc)
    Path(proc.log_path).unlink(missing_ok=True)  # type: ignore[attr-defined]


@contextmanager
def stack(*, fresh: bool = False) -> Iterator[Stack]:
    """The suite's shared stack when there is one (unless ``fresh``), else one for this benchmark alone."""
    if _shared is not None and not fresh:
        yield _shared
        return
    with _fresh() as own:
        yield own


@contextmanager
def shared() -> Iterator[Stack]:
    """One stack for every benchmark of a suite run (starting one costs seconds each time)."""
    global _shared
    with _fresh() as one:
        _shared = one
        try:
            yield one
        finally:
            _shared = None


def remove_template() -> None:
    global _template
    if _template is not None:
        shutil.rmtree(_template.dir, ignore_errors=True)
        _template = None
