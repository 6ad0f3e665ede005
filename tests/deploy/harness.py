"""What the deploy tests share: docker-compose.yml as compose resolves it, a test .env made from
.env.example, an HTTP client that acts as the reverse proxy, and a stage pipeline on the fake model."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.helpers.stack import TEST_PIPELINE

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
#: the host the tests' "proxy" forwards: not loopback, so the HTTPS hardening is on as on a server
PUBLIC_HOST = "stagecast.test"


def docker_compose() -> str | None:
    return shutil.which("docker-compose")


def write_env(project_dir: Path, values: dict[str, str]) -> Path:
    """``project_dir/.env``: .env.example with ``values`` filled in (a commented ``# KEY=`` line is
    uncommented), so the test runs the settings a sysadmin starts from."""
    lines = ENV_EXAMPLE.read_text().splitlines()
    pending = dict(values)
    out = []
    for line in lines:
        key = line.lstrip("# ").split("=", 1)[0] if "=" in line else None
        if key in pending and (line.startswith(f"{key}=") or line.startswith(f"# {key}=")):
            out.append(f"{key}={pending.pop(key)}")
        else:
            out.append(line)
    out += [f"{key}={value}" for key, value in pending.items()]
    path = project_dir / ".env"
    path.write_text("\n".join(out) + "\n")
    return path


def compose_config(project_dir: Path) -> dict[str, Any]:
    """docker-compose.yml as compose reads it with ``project_dir/.env``: anchors merged, ${…} filled,
    env_file folded into each service's environment."""
    exe = docker_compose()
    assert exe is not None
    done = subprocess.run(
        [exe, "-f", str(COMPOSE_FILE), "--project-directory", str(project_dir), "config"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def dockerfile_env() -> dict[str, str]:
    """The ENV of the Dockerfile's last stage (``KEY=value`` pairs, continuation lines joined)."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    last_stage = text.rsplit("\nFROM ", 1)[1]
    env: dict[str, str] = {}
    for line in last_stage.splitlines():
        if line.startswith("ENV "):
            for pair in line[4:].split():
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def write_pipeline(directory: Path) -> Path:
    """live-test: two stages on the fake Anthropic server; the input steers the first stage's script."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "live-test.yaml"
    path.write_text(textwrap.dedent(TEST_PIPELINE.format(second="deltas=3,interval_ms=5")))
    return path


def tokens(n: int) -> str:
    """The text the fake model streams for ``[fake:deltas=n]``."""
    return "".join(f"tok{i} " for i in range(n))


@dataclass
class Proxy:
    """An HTTP client that talks to one Daphne as the reverse proxy would: the public Host, and
    ``X-Forwarded-Proto: https`` (settings trust it with SECURE_PROXY_SSL_HEADER=1)."""

    port: int
    host: str = PUBLIC_HOST
    https: bool = True

    def headers(self, token: str | None = None, **extra: str) -> dict[str, str]:
        headers = {"Host": self.host, **extra}
        if self.https:
            headers["X-Forwarded-Proto"] = "https"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def request(
        self, method: str, path: str, *, token: str | None = None, body: Any = None
    ) -> tuple[int, dict[str, str], Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = None if body is None else json.dumps(body).encode()
            headers = self.headers(token, **({"Content-Type": "application/json"} if data else {}))
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            ctype = response.getheader("Content-Type", "")
            payload = json.loads(raw) if "json" in ctype else raw
            return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
        finally:
            conn.close()

    def run(self, token: str, text: str) -> str:
        status, _, body = self.request("POST", "/api/pipelines/live-test/run", token=token, body={"input": text})
        assert status == 202, (status, body)
        return str(body["executionId"])

    def snapshot(self, token: str, execution_id: str) -> dict[str, Any]:
        status, _, body = self.request("GET", f"/api/executions/{execution_id}", token=token)
        assert status == 200, (status, body)
        return dict(body)


def wait_until(predicate: Any, timeout: float, what: str, poll: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(poll)
