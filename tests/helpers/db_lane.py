"""The PostgreSQL lane of test.sh (``pytest -p tests.helpers.db_lane``): only the tests that use the
test database run again on PostgreSQL.

The rest — the engine, the providers, the agent CLIs, the commands that keep a private SQLite file —
never open the lane's database, so a second run would prove nothing new and would double CI's time.
A test uses the database when its fixtures include pytest-django's ``db``/``transactional_db`` (the live
stack's ``live`` does) or it carries ``django_db``.
"""

from __future__ import annotations

import pytest

DB_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"})


def uses_database(item: pytest.Item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(fixtures & DB_FIXTURES) or item.get_closest_marker("django_db") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep = [item for item in items if uses_database(item)]
    skipped = [item for item in items if not uses_database(item)]
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = keep


def pytest_report_header(config: pytest.Config) -> str:
    return "PostgreSQL lane: only tests that use the test database run (the rest ran in the SQLite lane)"
