"""The test suite in lanes that run at once, each with servers of its own.

    python -m lab.testing.lanes [--postgres] --lane EXPR [--lane EXPR ...] -- PYTEST_ARGS...

Each lane is one ``python -m lab.testing [--postgres] -- python -m pytest -m EXPR
PYTEST_ARGS`` process: its own Redis server, its own PostgreSQL cluster, its own
data folder (SQLite files, progress.json) and free ports for its web server and
worker, so lanes share no state and need no plugin to keep them apart. Most of the
slow tests wait on other processes (a kernel, a browser, a worker), so two lanes
on two cores take little more than the longer one.

A lane's output is kept in a file and printed whole when it ends (lanes never
interleave lines); the last line adds up every lane's tally. The exit status is
the first failing lane's, and pytest's 5 (nothing collected) only when no lane
collected anything.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

NOTHING_COLLECTED = 5


def marker_expression(lane: str, args: list[str]) -> tuple[str, list[str]]:
    """The lane's ``-m`` joined with one the caller gave (``-m EXPR`` or ``-mEXPR``); the rest of the args."""
    rest, given = [], None
    it = iter(args)
    for arg in it:
        if arg == "-m":
            given = next(it, "")
        elif arg.startswith("-m") and not arg.startswith("--"):
            given = arg[2:]
        else:
            rest.append(arg)
    return (f"({given}) and ({lane})" if given else lane), rest


def tally(junit: Path) -> dict[str, int]:
    """passed / failed / errors / skipped, read from the lane's JUnit report."""
    counts = dict.fromkeys(("passed", "failed", "errors", "skipped"), 0)
    if not junit.exists():
        return counts
    for suite in ET.parse(junit).getroot().iter("testsuite"):
        tests, failed, errors, skipped = (int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped"))
        counts["failed"] += failed
        counts["errors"] += errors
        counts["skipped"] += skipped
        counts["passed"] += tests - failed - errors - skipped
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="each lane also starts PostgreSQL and uses it")
    parser.add_argument("--lane", action="append", required=True, help="a marker expression (-m) for one lane")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    args = options.pytest_args[1:] if options.pytest_args[:1] == ["--"] else options.pytest_args
    folder = Path(tempfile.mkdtemp(prefix="workshop-lanes-"))
    running = []
    for number, lane in enumerate(options.lane, 1):
        expression, rest = marker_expression(lane, args)
        junit = folder / f"lane{number}.xml"
        command = [sys.executable, "-m", "lab.testing", *(["--postgres"] if options.postgres else [])]
        command += ["--", sys.executable, "-m", "pytest", "-m", expression, f"--junitxml={junit}", *rest]
        log = (folder / f"lane{number}.log").open("w")
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        running.append((number, expression, process, log, junit, started))
    statuses, totals = [], dict.fromkeys(("passed", "failed", "errors", "skipped"), 0)
    for number, expression, process, log, junit, started in running:
        status = process.wait()
        log.close()
        seconds = time.monotonic() - started
        print(f"\n===== lane {number}: -m {expression!r}: exit {status} after {seconds:.0f} s =====", flush=True)
        sys.stdout.write((folder / f"lane{number}.log").read_text())
        statuses.append(status)
        for key, value in tally(junit).items():
            totals[key] += value
    failing = [s for s in statuses if s not in (0, NOTHING_COLLECTED)]
    status = failing[0] if failing else (NOTHING_COLLECTED if all(s == NOTHING_COLLECTED for s in statuses) else 0)
    summary = f"{totals['passed']} passed, {totals['failed'] + totals['errors']} failed"
    if totals["skipped"]:
        summary += f", {totals['skipped']} skipped"
    print(f"\nlanes: {summary}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
