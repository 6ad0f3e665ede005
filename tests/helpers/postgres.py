"""The machine's PostgreSQL for tests: is one there, and a private database on it for a test's own processes.

The server is the one ``STAGECAST_TEST_DATABASE_URL`` names, else ``postgres://postgres@127.0.0.1:5432/``
(CI's: trust auth). A fresh user machine has none; the tests that need one skip, saying so.

``python -m tests.helpers.postgres probe`` exits 0 when the server answers, else prints why in one line
and exits 1 (test.sh decides on the PostgreSQL lane with it).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/stagecast"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str

    def url(self, dbname: str) -> str:
        auth = quote(self.user, safe="") + (f":{quote(self.password, safe='')}" if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres") -> object:
        import psycopg

        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=dbname,
            connect_timeout=3,
            autocommit=True,
        )


def server_url() -> str:
    return os.environ.get("STAGECAST_TEST_DATABASE_URL") or DEFAULT_URL


def server() -> Server:
    parts = urlsplit(server_url())
    return Server(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password or ""),
    )


def unavailable() -> str | None:
    """None when the server answers; else why not, in one line."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    srv = server()
    try:
        with srv.connect():  # type: ignore[attr-defined]
            return None
    except psycopg.Error as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return f"no PostgreSQL answers at {srv.host}:{srv.port} ({first_line})"


@contextmanager
def private_database(prefix: str = "stagecast_deploy") -> Iterator[str]:
    """A new, empty database for one test's processes; dropped afterwards (its connections too)."""
    srv = server()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with srv.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield srv.url(name)
    finally:
        with srv.connect() as conn:  # type: ignore[attr-defined]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    if sys.argv[1:] != ["probe"]:
        sys.exit("usage: python -m tests.helpers.postgres probe")
    reason = unavailable()
    if reason:
        print(reason)
        sys.exit(1)
    print(f"PostgreSQL answers at {server().host}:{server().port}")
