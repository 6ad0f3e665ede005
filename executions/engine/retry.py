"""Backoff between attempts: the server's Retry-After when it gave one, else exponential with jitter.

Only errors whose type says ``retryable`` are retried (429, 5xx, a cut stream, a timeout); the
decision never looks at a message string.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from executions.engine.errors import ProviderHTTPError, StagecastError

DEFAULT_RETRY_BASE_DELAY_S = 0.5
#: the longest exponential step; a stage with many retries does not wait minutes between them
MAX_BACKOFF_S = 30.0
#: a service asking for more than this is capped: the stage timeout bounds the run anyway
MAX_RETRY_AFTER_S = 120.0


def is_retryable(error: BaseException) -> bool:
    return isinstance(error, StagecastError) and error.retryable


def retry_delay_s(
    error: BaseException,
    attempt: int,
    *,
    base_s: float = DEFAULT_RETRY_BASE_DELAY_S,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based) before the next one."""
    if isinstance(error, ProviderHTTPError) and error.retry_after is not None:
        return min(max(0.0, error.retry_after), MAX_RETRY_AFTER_S)
    step = min(base_s * 2 ** (attempt - 1), MAX_BACKOFF_S)
    # Up to 25 % jitter so runs that hit one rate limit together do not retry in lockstep.
    return step * (0.75 + 0.25 * rng())
