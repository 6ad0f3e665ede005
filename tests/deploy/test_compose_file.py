"""docker-compose.yml, the Dockerfile, .dockerignore and .env.example, read as a sysadmin's tools
read them: compose validates the file offline (Debian's docker-compose 1.29, which also holds it to
what older Compose accepts), and every setting the code reads is documented in .env.example."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.harness import COMPOSE_FILE, DOCKERFILE, ENV_EXAMPLE, ROOT, compose_config, docker_compose, write_env

REQUIRED = {"SECRET_KEY": "k" * 50, "POSTGRES_PASSWORD": "0123abcd", "ALLOWED_HOSTS": "stagecast.example.com"}
#: read by docker compose itself (docker-compose.yml), not by the code
COMPOSE_ONLY = {"COMPOSE_PROJECT_NAME", "STAGECAST_BIND", "STAGECAST_PORT", "POSTGRES_USER", "POSTGRES_DB"}


@pytest.fixture
def compose() -> str:
    exe = docker_compose()
    if exe is None:
        pytest.skip("docker-compose is not installed (test.sh's set-up installs Debian's docker-compose)")
    return exe


def test_compose_validates_the_file_with_the_example_env(compose: str, tmp_path: Path) -> None:
    write_env(tmp_path, REQUIRED)
    services = compose_config(tmp_path)["services"]
    assert set(services) == {"migrate", "web", "worker", "beat", "redis", "db"}
    app = ("web", "worker", "beat")
    for name in app:
        assert services[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
        env = services[name]["environment"]
        assert env["DATABASE_URL"] == "postgres://stagecast:0123abcd@db:5432/stagecast"
        assert (env["REDIS_URL"], env["POSTGRES_PASSWORD"]) == ("redis://redis:6379/0", "")
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["migrate"]["restart"] == "no"
    assert services["web"]["healthcheck"]["test"][1:4] == ["python", "-m", "pipelines_site.healthcheck"]
    assert services["db"]["healthcheck"]["test"][1].startswith("pg_isready")
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["db"]["volumes"] == ["db-data:/var/lib/postgresql/data:rw"]
    # `--scale worker=3` needs a worker with no fixed name and no published port.
    assert not {"container_name", "ports"} & set(services["worker"])
    # Plain HTTP on loopback only: the reverse proxy on the host is the way in.
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000/tcp"]


def test_compose_stops_with_a_clear_message_when_env_lacks_a_required_value(compose: str, tmp_path: Path) -> None:
    write_env(tmp_path, {**REQUIRED, "SECRET_KEY": ""})
    done = subprocess.run(
        [compose, "-f", str(COMPOSE_FILE), "--project-directory", str(tmp_path), "config"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "set SECRET_KEY in .env (see .env.example)" in done.stderr


def test_the_file_has_no_key_older_compose_rejects() -> None:
    config = yaml.safe_load(COMPOSE_FILE.read_text())
    assert "name" not in config and "version" not in config  # COMPOSE_PROJECT_NAME in .env names it


def settings_read_from_the_environment() -> set[str]:
    """Every variable name the code reads: env*() helpers, os.environ / os.getenv, tool path variables."""
    names: set[str] = set()
    pattern = re.compile(
        r"""(?:env(?:str|bool|int|list|choice)|environ\.get|environ\[|getenv)\(?\s*["']([A-Z][A-Z0-9_]+)"""
    )
    for path in [*ROOT.glob("pipelines_site/*.py"), *ROOT.glob("executions/**/*.py")]:
        if "migrations" in path.parts:
            continue
        names |= set(pattern.findall(path.read_text()))
    names |= {f"STAGECAST_{tool}_PATH" for tool in ("CLAUDE", "OPENCODE", "GEMINI")}
    names |= {"ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"}
    # Not settings: the test harness's own, and DJANGO_SETTINGS_MODULE (fixed by the image).
    return names - {"DJANGO_SETTINGS_MODULE", "PATH", "HOME"}


def test_env_example_documents_every_setting_the_code_reads() -> None:
    documented = set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text()))
    missing = settings_read_from_the_environment() - documented
    assert not missing, f".env.example does not mention: {sorted(missing)}"
    assert COMPOSE_ONLY <= documented


def test_the_image_is_slim_non_root_locked_and_holds_no_secret() -> None:
    text = DOCKERFILE.read_text()
    froms = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert set(froms) == {"${PYTHON_IMAGE}"}
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in text
    assert "uv sync --frozen --no-dev" in text
    assert re.search(r"^USER stagecast$", text, re.MULTILINE)
    assert "collectstatic --noinput" in text
    # No secret value in the image: no ENV or ARG names a key or a password.
    for line in re.findall(r"^(?:ENV|ARG) .*$", text.replace("\\\n", " "), re.MULTILINE):
        assert not re.search(r"SECRET_KEY|API_KEY|PASSWORD", line), line
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv", ".stagecast"} <= set(ignored)
