"""Production settings: `check --deploy` is clean with DEBUG=0, a SECRET_KEY and a real host; the
HTTPS hardening follows STAGECAST_HTTPS; logs are one JSON record per line."""

from __future__ import annotations

import json
import logging
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines_site.healthcheck import host_header
from pipelines_site.logformat import JsonFormatter
from tests.helpers.processes import ROOT, child_env


def django(tmp_path: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter with the real settings module and exactly ``env`` on top."""
    base = child_env(STAGECAST_DATA_DIR=str(tmp_path / "data"))
    for key in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "STAGECAST_HTTPS", "DATABASE_URL"):
        base.pop(key, None)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def production(**extra: str) -> dict[str, str]:
    return {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "stagecast.example.com", **extra}


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**child_env(STAGECAST_DATA_DIR=str(tmp_path / "data")), **production()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Only informational notes (which agent CLIs are installed) may remain: no warning, no error.
    assert "WARNINGS:" not in done.stdout and "ERRORS:" not in done.stderr + done.stdout


def test_a_server_without_secret_key_does_not_start(tmp_path: Path) -> None:
    done = django(tmp_path, "import django; django.setup()", DEBUG="0", ALLOWED_HOSTS="stagecast.example.com")
    assert done.returncode != 0
    assert "SECRET_KEY is required (or set DEBUG=1 for a development instance)" in done.stderr


SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps(["
    "s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
    "s.SECURE_PROXY_SSL_HEADER, s.LOG_FORMAT]))"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (production(), [True, True, True, 31_536_000, None, "json"]),
        # Reachable from this machine only (the benchmarks): plain HTTP keeps working.
        (production(ALLOWED_HOSTS="127.0.0.1,localhost"), [False, False, False, 0, None, "json"]),
        (production(STAGECAST_HTTPS="0"), [False, False, False, 0, None, "json"]),
        (
            production(SECURE_HSTS_SECONDS="0", SECURE_PROXY_SSL_HEADER="1"),
            [True, True, True, 0, ["HTTP_X_FORWARDED_PROTO", "https"], "json"],
        ),
        ({"DEBUG": "1", "ALLOWED_HOSTS": "stagecast.example.com"}, [False, False, False, 0, None, "text"]),
    ],
)
def test_the_https_hardening_follows_the_environment(tmp_path: Path, env: dict[str, str], expected: list) -> None:
    done = django(tmp_path, SHOW, **env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected


def test_a_setting_that_is_not_a_strict_boolean_stops_the_start(tmp_path: Path) -> None:
    done = django(tmp_path, "import django; django.setup()", **production(SECURE_PROXY_SSL_HEADER="yes"))
    assert "SECURE_PROXY_SSL_HEADER must be 1/True/true or 0/False/false, not 'yes'" in done.stderr


def test_a_management_command_logs_to_stderr_a_server_to_stdout(tmp_path: Path) -> None:
    show = "import django; django.setup(); from django.conf import settings; print(settings.LOG_STREAM)"
    as_command = django(tmp_path, f"import sys; sys.argv = ['manage.py']; {show}", **production())
    as_server = django(tmp_path, f"import sys; sys.argv = ['/opt/venv/bin/daphne']; {show}", **production())
    assert (as_command.stdout.strip(), as_server.stdout.strip()) == ("stderr", "stdout")


def test_a_record_is_one_json_line_traceback_and_extra_fields_included() -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        record = logging.LogRecord(
            "executions.worker.runner", logging.ERROR, __file__, 1, "run %s failed", ("x",), sys.exc_info()
        )
    record.execution_id = "abc"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["msg"], entry["execution_id"]) == (
        "ERROR",
        "executions.worker.runner",
        "run x failed",
        "abc",
    )
    assert entry["exc"].startswith("Traceback") and entry["exc"].endswith("ValueError: bad\nvalue")


@pytest.mark.parametrize(
    ("allowed", "host"),
    [
        ("stagecast.example.com,other", "stagecast.example.com"),
        (".example.com", "example.com"),
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_the_health_check_names_a_host_django_allows(allowed: str, host: str) -> None:
    assert host_header(allowed) == host
