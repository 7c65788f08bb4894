"""The test suite in lanes that run at once, each with servers of its own.

    python -m lab.testing.lanes [--postgres] [--lanes N] [--store-durations] -- PYTEST_ARGS...

pytest-split cuts the tests in N contiguous chunks of about equal time, from
the durations stored in ``tests/.test_durations`` (``make durations`` measures
them again). Each lane is one ``python -m lab.testing [--postgres] -- python -m
pytest --splits N --group K PYTEST_ARGS`` process: its own Redis server, its own
PostgreSQL cluster, its own data folder (SQLite files, progress.json) and free
ports for its web server and worker, so lanes share no state. Most slow tests
wait on other processes (a kernel, a browser, a worker), so two lanes on two
cores take little more than half the time of one.

A lane's output is kept in a file and printed whole when it ends (lanes never
interleave lines); the last line adds up every lane's tally. The exit status is
the first failing lane's, and pytest's 5 (nothing collected) only when no lane
collected anything.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from lab.testing.processes import BASE_DIR

NOTHING_COLLECTED = 5
#: What each test took (``make durations``), in pytest-split's format; lanes are cut from it.
DURATIONS = BASE_DIR / "tests" / ".test_durations"


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


def node_id(classname: str, name: str) -> str:
    """A JUnit test case's pytest node id: ``tests.browser.test_x.TestY`` + ``test_z`` ->
    ``tests/browser/test_x.py::TestY::test_z`` (the longest dotted prefix that is a file)."""
    parts = classname.split(".")
    for cut in range(len(parts), 0, -1):
        path = "/".join(parts[:cut]) + ".py"
        if (BASE_DIR / path).is_file():
            return "::".join([path, *parts[cut:], name])
    return "::".join([classname.replace(".", "/") + ".py", name])


def measured(junit_files: list[Path]) -> dict[str, float]:
    """What each test took, set-up and tear-down included, from the lanes' JUnit reports.

    Not pytest-split's own ``--store-durations``: it leaves out a set-up over
    ten minutes, which is exactly the one a lane must know about (the mutant
    suite grades every mutant in its module fixture)."""
    durations = {}
    for junit in junit_files:
        if junit.exists():
            for case in ET.parse(junit).getroot().iter("testcase"):
                durations[node_id(case.get("classname", ""), case.get("name", ""))] = float(case.get("time", 0))
    return durations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="each lane also starts PostgreSQL and uses it")
    parser.add_argument("--lanes", type=int, default=2, help="how many lanes run at once (default 2, for two cores)")
    parser.add_argument("--store-durations", action="store_true", help=f"write what each test took to {DURATIONS}")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    args = options.pytest_args[1:] if options.pytest_args[:1] == ["--"] else options.pytest_args
    folder = Path(tempfile.mkdtemp(prefix="workshop-lanes-"))
    stored = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    running = []
    for number in range(1, options.lanes + 1):
        junit = folder / f"lane{number}.xml"
        command = [sys.executable, "-m", "lab.testing", *(["--postgres"] if options.postgres else [])]
        command += ["--", sys.executable, "-m", "pytest", f"--junitxml={junit}"]
        command += [f"--splits={options.lanes}", f"--group={number}", "--splitting-algorithm=duration_based_chunks"]
        command += [f"--durations-path={DURATIONS}"]
        log = (folder / f"lane{number}.log").open("w")
        process = subprocess.Popen([*command, *args], stdout=log, stderr=subprocess.STDOUT)
        running.append((number, process, log, junit, time.monotonic()))
    statuses, totals = [], dict.fromkeys(("passed", "failed", "errors", "skipped"), 0)
    for number, process, log, junit, started in running:
        status = process.wait()
        log.close()
        print(f"\n===== lane {number} of {options.lanes}: exit {status} after {time.monotonic() - started:.0f} s =====")
        sys.stdout.write((folder / f"lane{number}.log").read_text())
        sys.stdout.flush()
        statuses.append(status)
        for key, value in tally(junit).items():
            totals[key] += value
    if options.store_durations:
        merged = {**stored, **measured([lane[3] for lane in running])}
        DURATIONS.write_text(json.dumps(merged, sort_keys=True, indent=1) + "\n")
        print(f"stored the durations of {len(merged)} tests in {DURATIONS.relative_to(BASE_DIR)}")
    failing = [s for s in statuses if s not in (0, NOTHING_COLLECTED)]
    status = failing[0] if failing else (NOTHING_COLLECTED if all(s == NOTHING_COLLECTED for s in statuses) else 0)
    summary = f"{totals['passed']} passed, {totals['failed'] + totals['errors']} failed"
    if totals["skipped"]:
        summary += f", {totals['skipped']} skipped"
    print(f"\nlanes: {summary}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
