"""Worker start-up: load the model SDKs once, in the parent, before the pool forks.

Importing the ``anthropic`` SDK alone takes seconds on a cold machine. Done lazily, that import would
run inside an execution's event loop and block it: no chunk, no cancel, no lease renewal while it
lasts (a cancel was measured waiting 5.4 s for it). Loaded here, every pool child inherits them.
"""

from __future__ import annotations

import importlib
import logging

from celery.signals import worker_init

log = logging.getLogger(__name__)

PRELOADED = (
    "anthropic",
    "openai",
    "google.genai",
    # the price database (about 0.4 s to load): a pool child's first priced stage must not pay it
    "genai_prices.data",
    "executions.engine.providers.anthropic",
    "executions.engine.providers.openai",
    "executions.engine.providers.google",
    "executions.engine.providers.local",
    "executions.engine.providers.cli",
)


@worker_init.connect
def preload_providers(**kwargs: object) -> None:
    for name in PRELOADED:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a provider that cannot load fails its own stages, clearly
            log.warning("could not preload %s", name, exc_info=True)
