"""Hypothesis profiles for the property tests.

``stagecast`` (the default): 100 examples a test, no deadline — on a loaded 2-core machine a single
example may take a while, and a deadline would make that a flaky failure, not a finding. Set
``HYPOTHESIS_PROFILE=thorough`` for a long local hunt (2000 examples a test)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "stagecast", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("thorough", parent=settings.get_profile("stagecast"), max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "stagecast"))
