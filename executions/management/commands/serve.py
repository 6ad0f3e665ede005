"""``serve``: the whole portal on one machine — Daphne, a Celery worker (with beat) and, unless
REDIS_URL is set, a private redis-server — under honcho, a well-kept process runner that multiplexes
their logs and stops every one of them on Ctrl-C."""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from honcho.manager import Manager

ADMIN_USERNAME = "admin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_admin(data_dir: Path) -> tuple[str, str | None]:
    """The first start creates a superuser and keeps its generated password in the data dir."""
    password_file = data_dir / "admin-password.txt"
    user_model = get_user_model()
    if not user_model.objects.filter(username=ADMIN_USERNAME).exists():
        password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(ADMIN_USERNAME, email="", password=password)
        password_file.write_text(password + "\n")
        password_file.chmod(0o600)
    if password_file.exists():
        return ADMIN_USERNAME, password_file.read_text().strip()
    return ADMIN_USERNAME, None


class Command(BaseCommand):
    help = "Start the portal on this machine: Daphne, a Celery worker and (unless REDIS_URL is set) Redis."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address Daphne listens on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=2, help="executions run at once (worker processes)")

    def handle(self, *args: Any, host: str, port: int, concurrency: int, **options: Any) -> None:
        data_dir: Path = settings.DATA_DIR
        bin_dir = Path(sys.executable).parent
        call_command("migrate", interactive=False, verbosity=0)
        username, password = ensure_admin(data_dir)

        env = dict(os.environ)
        manager = Manager()
        if os.environ.get("REDIS_URL"):
            redis_url = os.environ["REDIS_URL"]
        else:
            redis_server = shutil.which("redis-server")
            if redis_server is None:
                raise CommandError("redis-server is not installed: run scripts/setup.sh, or set REDIS_URL")
            redis_port = free_port()
            redis_dir = data_dir / "redis"
            redis_dir.mkdir(exist_ok=True)
            redis_url = f"redis://127.0.0.1:{redis_port}/0"
            manager.add_process(
                "redis",
                shlex.join(
                    [
                        redis_server,
                        "--port",
                        str(redis_port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        str(redis_dir),
                        "--loglevel",
                        "warning",
                    ]
                ),
                env=env,
            )
        env["REDIS_URL"] = redis_url
        manager.add_process(
            "web",
            shlex.join([str(bin_dir / "daphne"), "-b", host, "-p", str(port), "pipelines_site.asgi:application"]),
            env=env,
            cwd=str(settings.BASE_DIR),
        )
        manager.add_process(
            "worker",
            shlex.join(
                [
                    str(bin_dir / "celery"),
                    "-A",
                    "pipelines_site",
                    "worker",
                    "-B",
                    "-c",
                    str(concurrency),
                    "-l",
                    "INFO",
                    "-s",
                    str(data_dir / "celerybeat-schedule"),
                    "--without-gossip",
                    "--without-mingle",
                ]
            ),
            env=env,
            cwd=str(settings.BASE_DIR),
        )
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        self.stdout.write(self.style.SUCCESS(f"\nstagecast is starting at http://{shown_host}:{port}/"))
        if password:
            self.stdout.write(f"Sign in as {username} / {password}  (kept in {data_dir / 'admin-password.txt'})")
        else:
            self.stdout.write(f"Sign in as {username} with the password you set for it.")
        self.stdout.write("Ctrl-C stops the web server, the worker and Redis.\n")
        manager.loop()
        sys.exit(manager.returncode or 0)
