"""Settings for the test run: a development instance whose data dir is private to the run."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("STAGECAST_DATA_DIR", tempfile.mkdtemp(prefix="stagecast-test-"))
# The real-model tests use the demo model `manage.py fetchmodel` put in the checkout, not the private data dir.
os.environ.setdefault("STAGECAST_MODELS_DIR", str(Path(__file__).resolve().parent.parent / ".stagecast" / "models"))
# No test ever reaches a real model service, whatever keys the developer's shell holds.
for _key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"):
    os.environ.pop(_key, None)

from pipelines_site.settings import *  # noqa: E402,F403

# DATABASE_URL (test.sh's PostgreSQL lane) names the server for this process; pytest-django makes its
# test_<name> database there. A subprocess must never get the bare URL — it would write into <name>
# itself — so it is dropped here: the live stack hands its processes the test database's URL
# (tests/helpers/stack.py), and commands run in a test keep a private SQLite file as they do by default.
os.environ.pop("DATABASE_URL", None)

# A file, not SQLite's in-memory default: the worker and Daphne processes of the integration tests
# open the same test database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
