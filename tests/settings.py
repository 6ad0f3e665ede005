"""Settings for the test run: a development instance whose data dir is private to the run."""

import os
import tempfile

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("STAGECAST_DATA_DIR", tempfile.mkdtemp(prefix="stagecast-test-"))
# No test ever reaches a real model service, whatever keys the developer's shell holds.
for _key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"):
    os.environ.pop(_key, None)

from pipelines_site.settings import *  # noqa: E402,F403
