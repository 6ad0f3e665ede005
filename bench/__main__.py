"""``python -m bench [NAME …] [--quick] [--no-browser] [--no-write] [--check]``

Runs the benchmarks (all, or those named: latency, overhead, fanout, memory, browser, local, rerun), prints
each one's figures, rewrites its section of BENCHMARKS.md (the ``--quick`` block or the full one), and
ends with the one summary line ARCHITECTURE.md "Budgets" fixes. Exit status: 1 when a benchmark could
not run; with ``--check``, 2 when a budget was missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
import traceback
from datetime import UTC, datetime
from types import ModuleType

from . import browser, fanout, latency, local, memory, overhead, report, rerun
from .common import commit, load_average, machine
from .stack import remove_template, shared

MODULES: list[ModuleType] = [latency, overhead, fanout, memory, browser, local, rerun]
BY_NAME = {m.NAME: m for m in MODULES}


def log(line: str) -> None:
    print(line, flush=True)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=" ".join(__doc__.split("\n")[2:]))
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BY_NAME)}")
    parser.add_argument("--quick", action="store_true", help="CI sizes (the whole suite in under 3 minutes)")
    parser.add_argument("--no-browser", action="store_true", help="skip Chromium (latency then stops at SSE)")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md as it is")
    parser.add_argument("--check", action="store_true", help="exit 2 when a budget is missed")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BY_NAME)}")
    return args


def run_all(
    chosen: list[ModuleType], args: argparse.Namespace, command: str, head: str, outcomes: dict[str, report.Outcome]
) -> None:
    for module in chosen:
        log(f"\n== {module.NAME} ==")
        meta = {
            "date": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "commit": head,
            "command": command,
            "load_before": load_average(),
            "quick": args.quick,
        }
        t0 = time.monotonic()
        result, error = None, None
        try:
            result = asyncio.run(module.run(quick=args.quick, log=log, browser=not args.no_browser))
        except Exception as err:  # reported with the figures; the other benchmarks still run
            error = f"{type(err).__name__}: {err}".splitlines()[0]
            traceback.print_exc()
            log(f"  FAILED: {error}")
        meta["seconds"] = time.monotonic() - t0
        meta["load_after"] = load_average()
        outcomes[module.NAME] = report.Outcome(module.NAME, result, error, meta)
        if result is not None:
            for line in module.markdown(result):
                log("  " + line)
        log(f"  ({meta['seconds']:.1f} s; load average {meta['load_after']})")


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    chosen = [m for m in MODULES if not args.names or m.NAME in args.names]
    command = " ".join(["python -m bench", *args.names, *(["--quick"] if args.quick else [])])
    if args.no_browser:
        command += " --no-browser"
    began = time.monotonic()
    sizes = "--quick: CI sizes" if args.quick else "full sizes"
    log(f"stagecast benchmarks ({sizes}): {', '.join(m.NAME for m in chosen)}")
    log(f"machine: {machine()}; load average {load_average()}")
    outcomes: dict[str, report.Outcome] = {}
    head = commit()
    needs_stack = [m for m in chosen if m not in (local, memory)]
    try:
        with contextlib.ExitStack() as exits:
            if len(needs_stack) > 1:
                exits.enter_context(shared())
            run_all(chosen, args, command, head, outcomes)
    finally:
        remove_template()
    verdicts = report.verdicts(chosen, outcomes)
    log("\nbudgets:")
    for budget, figure, verdict, _ in verdicts:
        log(f"  {verdict:>12}  {budget}: {figure}")
    if not args.no_write:
        stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        written = f"`{command}` at {stamp} ({time.monotonic() - began:.0f} s in all)"
        report.write(args.quick, MODULES, outcomes, machine(), written)
        log(f"figures written to BENCHMARKS.md ({time.monotonic() - began:.0f} s in all)")
    log(report.summary_line(MODULES, outcomes))
    if any(o.error for o in outcomes.values()):
        return 1
    if args.check and any(v == "MISSED" for _, _, v, _ in verdicts):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
