"""The compose smoke test, without Docker: each app service's own ``command`` from docker-compose.yml
(as ``docker-compose config`` resolves it, with a .env made from .env.example) runs as a local process,
so the commands the team server runs are the ones proven here.

What stands in for the containers, and nothing else:
- the hosts ``db`` and ``redis`` are 127.0.0.1: the machine's PostgreSQL (a private database on it,
  trust auth) and a private redis-server;
- the image's ENV (Dockerfile) with its directories in a temp dir, the demo model where
  ``manage.py fetchmodel`` put it, and the image's ``/opt/venv/bin`` as this virtualenv's bin;
- ``-b 0.0.0.0 -p 8000`` listens on 127.0.0.1 and a free port; the health check asks that port;
- the test is the reverse proxy: the public Host and ``X-Forwarded-Proto: https``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from executions.engine.models_cache import models_dir
from tests.deploy.harness import (
    PUBLIC_HOST,
    Proxy,
    compose_config,
    docker_compose,
    dockerfile_env,
    tokens,
    wait_until,
    write_env,
    write_pipeline,
)
from tests.helpers.fake_models import FakeModelServer
from tests.helpers.integration import outputs_by_stage
from tests.helpers.processes import ROOT, VENV_BIN, free_port, redis_server, stop, wait_for_port
from tests.helpers.sse_client import SSEReader
from tests.helpers.wire import assert_wire_contract

APP_SERVICES = ("migrate", "web", "worker", "beat")


def local_argv(argv: list[str], web_port: int) -> list[str]:
    """A container's argv as a local process: its programs from this virtualenv, and the web port."""
    out = []
    for i, arg in enumerate(argv):
        if i == 0 and (VENV_BIN / arg).exists():
            arg = str(VENV_BIN / arg)
        elif arg == "0.0.0.0":
            arg = "127.0.0.1"
        elif arg == "8000" and argv[i - 1] == "-p":
            arg = str(web_port)
        out.append(arg.replace("127.0.0.1:8000", f"127.0.0.1:{web_port}"))
    return out


def local_env(service: dict[str, Any], *, database_url: str, redis_url: str, tmp: Path) -> dict[str, str]:
    """The container's environment: the image's ENV, then the service's (compose) environment, with the
    service hosts mapped to this machine. Nothing else of this test process's environment leaks in."""
    env = {key: str(value) for key, value in dockerfile_env().items()}
    env.update({key: str(value) for key, value in (service.get("environment") or {}).items()})
    compose_db = urlsplit(env["DATABASE_URL"])
    assert (compose_db.hostname, compose_db.port) == ("db", 5432), env["DATABASE_URL"]
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    env["DATABASE_URL"] = database_url
    env["REDIS_URL"] = redis_url
    env["PATH"] = env["PATH"].replace("/opt/venv/bin", str(VENV_BIN))
    env["STAGECAST_DATA_DIR"] = str(tmp / "data")
    env["STAGECAST_STATIC_ROOT"] = str(tmp / "static")
    env["STAGECAST_MODELS_DIR"] = str(models_dir())
    env["HOME"] = str(tmp)
    env["LANG"] = "C.UTF-8"
    return env


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every non-empty line parsed as one JSON log record (fails on any line that is not one)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.timeout(240)
def test_the_compose_services_commands_serve_a_run_over_sse(private_database: str, tmp_path: Path) -> None:
    if docker_compose() is None:
        pytest.skip("docker-compose is not installed (test.sh's set-up installs Debian's docker-compose)")
    fake = FakeModelServer("anthropic").start()
    pipelines = tmp_path / "pipelines"
    write_pipeline(pipelines)
    write_env(
        tmp_path,
        {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "POSTGRES_PASSWORD": secrets.token_hex(12),
            "ALLOWED_HOSTS": PUBLIC_HOST,
            "ANTHROPIC_API_KEY": "sk-ant-compose-smoke-0123456789",
            "ANTHROPIC_BASE_URL": fake.url,
            "STAGECAST_PIPELINES_DIRS": str(pipelines),
        },
    )
    config = compose_config(tmp_path)["services"]
    web_port = free_port()
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs = {name: tmp_path / f"{name}.log" for name in APP_SERVICES}
    try:
        with redis_server() as redis_url:
            envs = {
                name: local_env(config[name], database_url=private_database, redis_url=redis_url, tmp=tmp_path)
                for name in APP_SERVICES
            }
            web_env = envs["web"]
            assert web_env["DEBUG"] == "0" and web_env["LOG_FORMAT"] == "json"

            # The image build: static files with hashed names (Dockerfile, with DEBUG=1 and no secret).
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
                cwd=ROOT,
                env={**web_env, "DEBUG": "1", "SECRET_KEY": ""},
                check=True,
            )
            # migrate runs to completion first: the other services depend on it completing successfully.
            assert config["web"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
            migrate = subprocess.run(
                local_argv(config["migrate"]["command"], web_port),
                cwd=ROOT,
                env=envs["migrate"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert migrate.returncode == 0, migrate.stderr

            for name in ("web", "worker", "beat"):
                procs[name] = subprocess.Popen(
                    local_argv(config[name]["command"], web_port),
                    cwd=ROOT,
                    env=envs[name],
                    stdout=open(logs[name], "wb"),  # noqa: SIM115 - closed with the process
                    # Kept apart: stdout is the log; stderr has Python's own warnings (running as root here).
                    stderr=open(logs[name].with_suffix(".err"), "wb"),  # noqa: SIM115
                    start_new_session=True,
                )
            wait_for_port(web_port, procs["web"], timeout=30, what="web")
            wait_until(lambda: "ready." in logs["worker"].read_text(), 60, "the worker's ready line")

            # The web service's health check, as Docker runs it (CMD form).
            check = config["web"]["healthcheck"]["test"]
            assert check[0] == "CMD"
            health = subprocess.run(
                local_argv(check[1:], web_port), cwd=ROOT, env=web_env, capture_output=True, text=True, timeout=30
            )
            assert health.returncode == 0, health.stderr

            # The README's first admin (`docker compose run --rm web python manage.py createsuperuser`),
            # without prompts, and an API token for it.
            admin_env = {**web_env, "DJANGO_SUPERUSER_USERNAME": "admin", "DJANGO_SUPERUSER_PASSWORD": "x-Admin-9876"}
            subprocess.run(
                [sys.executable, "manage.py", "createsuperuser", "--noinput", "--email", "admin@example.com"],
                cwd=ROOT,
                env={**admin_env, "DJANGO_SUPERUSER_EMAIL": "admin@example.com"},
                check=True,
                capture_output=True,
            )
            token_run = subprocess.run(
                [sys.executable, "manage.py", "createapitoken", "admin"],
                cwd=ROOT,
                env=web_env,
                check=True,
                capture_output=True,
                text=True,
            )
            token = token_run.stdout.strip().splitlines()[-1]

            proxy = Proxy(web_port)
            # Plain HTTP is redirected to HTTPS; the portal and the admin want a login.
            status, headers, _ = Proxy(web_port, https=False).request("GET", "/api/pipelines", token=token)
            assert (status, headers["location"]) == (301, f"https://{PUBLIC_HOST}/api/pipelines")
            for path in ("/", "/executions/", "/admin/"):
                status, headers, _ = proxy.request("GET", path)
                assert status == 302 and "login" in headers["location"], (path, status, headers)
            status, headers, _ = proxy.request("GET", "/api/health")
            assert status == 200
            assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"

            execution_id = proxy.run(token, "[fake:deltas=40,interval_ms=10]")
            reader = SSEReader(web_port, f"/api/executions/{execution_id}/events", proxy.headers(token)).start()
            events = reader.wait(90).events
            assert reader.status == 200
            assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
            assert (events[-1]["type"], events[-1]["result"]["status"]) == ("execution:completed", "success")
            assert_wire_contract(events)
            assert outputs_by_stage(events) == {"first": tokens(40), "second": tokens(3)}
            print(f"\ncompose smoke: 1 execution, 1 viewer, {len(events)} events in order, none lost")
            snapshot = proxy.snapshot(token, execution_id)
            assert (snapshot["status"], snapshot["lastSeq"]) == ("success", events[-1]["seq"])

            # Static files: whitenoise serves the hashed names collectstatic made, cached for a year.
            manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
            status, headers, body = proxy.request("GET", f"/static/{manifest['stagecast.css']}")
            assert status == 200 and body == (ROOT / "static" / "stagecast.css").read_bytes()
            assert "max-age=315360000" in headers["cache-control"]

            # beat sends the reaper every 10 s: its first send proves the beat command works.
            wait_until(
                lambda: "reap-interrupted-executions" in logs["beat"].read_text(), 30, "beat's first reaper send"
            )
            for name in ("web", "worker", "beat"):
                assert procs[name].poll() is None, f"{name} exited:\n{logs[name].read_text()[-2000:]}"
            # Structured logs: every line the three servers wrote on stdout is one JSON record.
            records = {name: json_lines(logs[name].read_text()) for name in ("web", "worker", "beat")}
    finally:
        for proc in procs.values():
            stop(proc)
        fake.stop()
    assert any(r["logger"].startswith("daphne") for r in records["web"])
    assert any(r["msg"].endswith(" ready.") for r in records["worker"])
    assert all({"ts", "level", "logger", "msg"} <= set(r) for rs in records.values() for r in rs)
    assert os.path.exists(tmp_path / "data" / "celerybeat-schedule.dat") or any(
        (tmp_path / "data").glob("celerybeat-schedule*")
    )
