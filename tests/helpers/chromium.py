"""Debian's Chromium as the e2e tests and the browser benchmarks launch it, through Playwright for Python
(never ``playwright install``), with the flags that keep it off the network and quiet here."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
