"""BENCHMARKS.md's generated blocks and the one summary line.

A full run and a ``--quick`` run each own one block between markers; nothing else in the file is
touched. Inside a block each benchmark has its own section, which carries its figures as JSON in an
HTML comment, so that running one benchmark alone (``python -m bench latency``) rewrites its section
and recomputes the budget table from the others' figures as they were last measured (each section
says when, on which commit, and how loaded the machine was).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .common import ROOT

DOC = ROOT / "BENCHMARKS.md"
SUMMARY_KEYS = (
    "latency_p99_ms",
    "overhead_ratio",
    "lost_events",
    "duplicated_events",
    "web_rss_slope_kb_per_run",
    "browser_longest_task_ms",
    "browser_cls",
    "local_tok_s",
)
DATA = re.compile(r"<!-- bench-data:(?P<name>[a-z-]+) (?P<json>.*?) -->")


def markers(quick: bool) -> tuple[str, str]:
    kind = "quick" if quick else "full"
    command = "python -m bench --quick" if quick else "python -m bench"
    return f"<!-- bench:{kind}:start (written by {command}; do not edit by hand) -->", f"<!-- bench:{kind}:end -->"


@dataclass
class Outcome:
    """One benchmark's run: its figures (None when it failed), why it failed, and the run's context."""

    name: str
    result: dict[str, Any] | None
    error: str | None
    meta: dict[str, Any]


def summary_line(modules: list[ModuleType], outcomes: dict[str, Outcome]) -> str:
    """This run's figures only: a benchmark that did not run (or failed) gives ``na``."""
    values = dict.fromkeys(SUMMARY_KEYS, "na")
    for module in modules:
        outcome = outcomes.get(module.NAME)
        if outcome is not None:
            values.update(module.summary(outcome.result))
    return " ".join(f"{key}={values[key]}" for key in SUMMARY_KEYS)


def verdicts(modules: list[ModuleType], outcomes: dict[str, Outcome]) -> list[tuple[str, str, str, str]]:
    """(budget, figure, verdict, when) for every budget, from the latest figures of each benchmark."""
    rows = []
    for module in modules:
        outcome = outcomes.get(module.NAME)
        if not hasattr(module, "budgets"):
            continue
        if outcome is None:
            for budget, _, _ in module.budgets(None):
                rows.append((budget, "not run yet", "not measured", "—"))
            continue
        for budget, figure, verdict in module.budgets(outcome.result):
            rows.append((budget, figure, verdict, outcome.meta.get("date", "?")[:16].replace("T", " ")))
    return rows


def _section(module: ModuleType, outcome: Outcome) -> list[str]:
    meta = outcome.meta
    payload = json.dumps({"result": outcome.result, "error": outcome.error, "meta": meta}, separators=(",", ":"))
    # "--" may not appear inside an HTML comment; JSON reads the escaped form back as the same text.
    payload = payload.replace("--", "-\\u002d")
    out = [
        f"### {module.TITLE}",
        "",
        f"<!-- bench-data:{module.NAME} {payload} -->",
        f"Run {meta['date']} on commit {meta['commit']}, `{meta['command']}`, {meta['seconds']:.0f} s; "
        f"load average before {meta['load_before']}, after {meta['load_after']}.",
        "",
    ]
    if outcome.error:
        out.append(f"**Failed:** {outcome.error}")
    if outcome.result is not None:
        out += module.markdown(outcome.result)
    out.append("")
    return out


def render_block(
    quick: bool, modules: list[ModuleType], outcomes: dict[str, Outcome], machine: str, written: str
) -> str:
    start, end = markers(quick)
    lines = [
        start,
        f"Machine: {machine}. Last written by {written}.",
        "",
        "### Budgets (ARCHITECTURE.md)",
        "",
        "| budget | figure | verdict | measured (UTC) |",
        "|---|---|---|---|",
    ]
    lines += [f"| {b} | {f} | **{v}** | {w} |" for b, f, v, w in verdicts(modules, outcomes)]
    lines += ["", f"Summary line of these figures: `{summary_line(modules, outcomes)}`", ""]
    side = [row for m in modules if (o := outcomes.get(m.NAME)) and o.result for row in m.versus(o.result)]
    if side:
        lines += [
            "### Side by side with the TypeScript version",
            "",
            "| figure | this version | TypeScript (commit 05b1249, full run) |",
            "|---|---|---|",
            *(f"| {name} | {ours} | {theirs} |" for name, ours, theirs in side),
            "",
        ]
    for module in modules:
        outcome = outcomes.get(module.NAME)
        if outcome is not None:
            lines += _section(module, outcome)
    lines.append(end)
    return "\n".join(lines)


def previous(quick: bool, doc: str) -> dict[str, Outcome]:
    """The figures a block holds now, by benchmark."""
    start, end = markers(quick)
    if start not in doc or end not in doc:
        return {}
    block = doc[doc.index(start) : doc.index(end)]
    found = {}
    for match in DATA.finditer(block):
        try:
            data = json.loads(match["json"])
        except ValueError:
            continue
        found[match["name"]] = Outcome(match["name"], data.get("result"), data.get("error"), data.get("meta", {}))
    return found


def write(
    quick: bool, modules: list[ModuleType], outcomes: dict[str, Outcome], machine: str, written: str, path: Path = DOC
) -> None:
    """Rewrites this kind of run's block, keeping the sections of benchmarks that did not run now."""
    doc = path.read_text() if path.exists() else "# Benchmarks\n"
    merged = {**previous(quick, doc), **outcomes}
    block = render_block(quick, modules, merged, machine, written)
    start, end = markers(quick)
    if start in doc and end in doc:
        doc = doc[: doc.index(start)] + block + doc[doc.index(end) + len(end) :]
    else:
        heading = "## Latest quick run (reduced sizes)" if quick else "## Figures (full sizes)"
        doc = doc.rstrip() + f"\n\n{heading}\n\n{block}\n"
    path.write_text(doc)
