"""The deploy tests run the stack on PostgreSQL, each in a private database of its own (never the
lane's test database), so they need a PostgreSQL server: CI has one on 127.0.0.1:5432; a machine
without one skips them, saying so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import postgres


@pytest.fixture(scope="session")
def postgres_server() -> None:
    reason = postgres.unavailable()
    if reason:
        pytest.skip(f"{reason}: the deploy tests run the stack on PostgreSQL (set STAGECAST_TEST_DATABASE_URL)")


@pytest.fixture
def private_database(postgres_server: None) -> Iterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    with postgres.private_database() as url:
        yield url
