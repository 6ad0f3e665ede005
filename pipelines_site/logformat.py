"""Log records as one JSON object per line, for a team server's log collector (docker logs, journald, Loki).

python-json-logger is the well-kept library for this, but it is not in the lock file; this stdlib formatter
does the one thing needed until it is: every record, traceback included, is exactly one line, because
``json.dumps`` escapes the newlines a multi-line message or a traceback carries.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# The attributes every LogRecord has; anything else on a record came from ``extra=`` and is kept as a field.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", "process", [ "exc" ], [ extra fields ]}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "process": record.processName if record.processName != "MainProcess" else record.process,
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_") and key not in entry:
                entry[key] = value
        # default=str: an extra field that is not JSON (a datetime, a UUID) is written as its text, never lost.
        return json.dumps(entry, ensure_ascii=False, default=str)
