"""Experiments the lessons run against the live stack, and how they show them.

- ``sweep``: failure rate against hold time, for several variants, measured
  live (HTTP to the running web, the running worker) with ``race.live``.
- ``table`` and ``plot``: the same rows as a text table and a matplotlib figure.
- ``leftovers``: what one request that fails half-way leaves behind (rows,
  jobs that ran, jobs that failed): the price of each fix.
- ``pickup_latency``: how long the live worker takes from ``.delay()`` to
  the job's first query (lesson 02).
- ``testing_table`` and ``run_recipe``: lesson 08's tests, run with pytest on
  a test database (``your_test`` runs the portable one).

Everything is read back from the database and rq's registries, as a learner
would check by hand; nothing here knows how a variant is written.
"""

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import django_rq
from django.conf import settings
from django.db.models import Max
from rq.job import JobStatus

from lab.core import web
from lab.core.outcomes import POLL_INTERVAL, Outcome, failures
from lab.lessons import race
from lab.lessons.barrier import settle
from lab.lessons.probes import first_query
from workshop_project.tasks.models import Task

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Hold times (ms) from "commits at once" to "the worker always wins".
HOLDS_MS = (0, 5, 20, 30, 50, 100, 200)

#: Each variant's line in a plot gets its own marker and dash, so lines that
#: lie on top of each other (every fix at 0 %) can still be told apart.
STYLES = [("o", "-"), ("s", "--"), ("^", "-."), ("D", ":"), ("v", (0, (5, 1))), ("P", (0, (3, 1, 1, 1)))]


def sweep(variants: Sequence[str], holds_ms: Sequence[int] = HOLDS_MS, runs: int = 10) -> list[race.Row]:
    """One ``race.live`` row per variant and hold time (``row.failure_rate`` is 0..1)."""
    return [race.live(variant, runs=runs, hold_ms=hold_ms) for variant in variants for hold_ms in holds_ms]


def table(rows: Sequence[race.Row]) -> str:
    """Hold times down, variants across, "failures/runs" in each cell: the numbers behind the plot."""
    variants = list(dict.fromkeys(row.variant for row in rows))
    holds = sorted({row.hold_ms or 0 for row in rows})
    cells = {(row.variant, row.hold_ms or 0): f"{row.failures}/{row.runs}" for row in rows}
    lines = [["hold ms", *variants]] + [
        [str(hold)] + [cells.get((variant, hold), "") for variant in variants] for hold in holds
    ]
    return aligned(lines)


def aligned(lines: Sequence[Sequence[str]]) -> str:
    """Lists of strings as right-aligned text columns."""
    widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=False)) for line in lines)


def plot(rows: Sequence[race.Row], title: str = "How often the worker missed the row") -> "Figure":
    """Failure rate (%) against hold time, one line per variant.

    Where lines meet (several fixes at 0 %) they are drawn a point or two
    apart, each with its own marker and dash, so every variant stays visible;
    elsewhere each point is exact.
    Returned closed: Jupyter shows it once, as the cell's value, and pyplot
    keeps nothing open between cells. matplotlib is imported here, not at the
    top, so the rest of the lab loads quickly without it.
    """
    from matplotlib import pyplot

    figure = pyplot.figure(figsize=(7, 3.5), layout="constrained")
    pyplot.close(figure)
    axes = figure.subplots()
    variants = list(dict.fromkeys(row.variant for row in rows))
    sharing: dict[tuple[int, float], list[str]] = {}  # variants drawn at the same point
    for row in rows:
        sharing.setdefault((row.hold_ms or 0, row.failure_rate), []).append(row.variant)
    for index, variant in enumerate(variants):
        points = []
        for row in sorted((row for row in rows if row.variant == variant), key=lambda row: row.hold_ms or 0):
            same = sharing[row.hold_ms or 0, row.failure_rate]
            offset = (same.index(variant) - (len(same) - 1) / 2) * 1.5  # points apart, only where lines meet
            points.append((row.hold_ms or 0, 100 * row.failure_rate + offset))
        marker, dashes = STYLES[index % len(STYLES)]
        axes.plot(
            [hold for hold, _ in points],
            [rate for _, rate in points],
            marker=marker,
            linestyle=dashes,
            label=variant,
            alpha=0.85,
        )
    axes.set_xscale("symlog", linthresh=10)
    holds = sorted({row.hold_ms or 0 for row in rows})
    axes.set_xticks(holds, [str(hold) for hold in holds])
    axes.set_xlabel("transaction held open after .delay() (ms)")
    axes.set_ylabel("jobs failed with DoesNotExist (%)")
    axes.set_ylim(-8, 108)
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend()
    return figure


@dataclass
class Leftovers:
    """What one request left behind once the worker had finished."""

    variant: str
    status_code: int
    tasks: list[Task] = field(default_factory=list)  # rows created since the request started
    failed_jobs: list[Outcome] = field(default_factory=list)  # each job that failed since the request

    def columns(self) -> dict[str, object]:
        """The row as ``print_rows`` shows it."""
        return {
            "variant": self.variant,
            "response": self.status_code,
            "rows left": len(self.tasks),
            "rows measured": sum(task.status == "OK" for task in self.tasks),
            "jobs failed": len(self.failed_jobs),
        }


def leftovers(variant: str, fail: bool = True, hold_ms: int = 0) -> Leftovers:
    """Submit once (failing half-way by default), let the worker finish, report what is left."""
    last_id = Task.objects.aggregate(last=Max("id"))["last"] or 0
    failed_before = {failure.job_id for failure in failures()}
    submission = web.submit(variant, hold_ms=hold_ms, fail=fail)
    settle()
    return Leftovers(
        variant,
        submission.status_code,
        list(Task.objects.filter(id__gt=last_id).order_by("id")),
        failures(since=failed_before),
    )


def compare_leftovers(variants: Sequence[str], fail: bool = True, hold_ms: int = 0) -> list[Leftovers]:
    """``leftovers`` for each variant, for ``print_rows``."""
    return [leftovers(variant, fail=fail, hold_ms=hold_ms) for variant in variants]


def print_rows(rows: Sequence[Leftovers]) -> None:
    """Leftovers as an aligned text table, one line each."""
    columns = [row.columns() for row in rows]
    header = list(columns[0]) if columns else ["(nothing)"]
    print(aligned([header] + [[str(row.get(column, "")) for column in header] for row in columns]))


# --- Lesson 08: tests run for real, on a test database -----------------------


def run_recipe(filename: str, *pytest_args: str, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    """Run ``pytest lab/lessons/recipes/<filename>`` in its own process; return its exit code and output lines.

    pytest-django creates a test database for it, as for any test suite, and
    the run enqueues where the grader does (``lesson.grader_env``): never on
    the Redis database a live worker listens on, so no worker takes its jobs.
    """
    from lab.lessons.lesson import grader_env

    process = subprocess.run(
        [sys.executable, "-m", "pytest", f"lab/lessons/recipes/{filename}", "-q", "-p", "no:logging", *pytest_args],
        cwd=settings.BASE_DIR,
        env={**grader_env(), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    return process.returncode, (process.stdout + process.stderr).splitlines()


class RecipeFailed(RuntimeError):
    """A recipe run by a lesson did not end as the lesson says it does."""


def testing_table() -> str:
    """Measure lesson 08's table (``lab/lessons/recipes/matrix.py``); return it in Markdown."""
    from lab.lessons.recipes.matrix import MODES, QUEUES, SETUPS

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "rows.jsonl"
        code, lines = run_recipe("matrix.py", "--tb=line", env={"WORKSHOP_MATRIX_OUT": str(out)})
        rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    if code != 0 or not rows:  # a changed django-rq or Django: say so rather than show a stale table
        said = [line for line in lines if line.startswith(("E ", "ERROR", "FAILED")) or "passed" in line]
        raise RecipeFailed(
            "lab/lessons/recipes/matrix.py did not measure the expected table:\n" + "\n".join(said or lines)
        )
    seen = {(row["setup"], row["mode"], row["queue"]): row["job"] for row in rows}
    production = {"auto": "the race", "on_db_commit": "safe", "request_finished": "safe"}
    header = ["commit mode", "queue", "in production", *SETUPS]
    body = [
        [f"`{mode}`", queue, production[mode], *(emphasis(seen.get((setup, mode, queue), "?")) for setup in SETUPS)]
        for mode in MODES
        for queue in QUEUES
    ]
    return markdown_table([header, *body])


def emphasis(seen: str) -> str:
    """The cells to notice stand out: a job that failed in bold, one that never ran in italics."""
    return {"DoesNotExist": "**DoesNotExist**", "never ran": "*never ran*"}.get(seen, seen)


def markdown_table(lines: list[list[str]]) -> str:
    """Lists of strings as a Markdown table (the first is the header), for ``IPython.display.Markdown``."""
    rows = ["| " + " | ".join(line) + " |" for line in lines]
    return "\n".join([rows[0], "|" + "---|" * len(lines[0]), *rows[1:]])


# --- Lesson 02: how long the worker takes to pick a job up --------------------


@dataclass
class Pickup:
    """Milliseconds from ``.delay()`` to the end of the job's first query, over several jobs."""

    samples_ms: list[float]

    def __str__(self) -> str:
        ordered = sorted(self.samples_ms)
        if not ordered:
            return "no job finished: is the worker running?"
        p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
        return (
            f"{len(ordered)} jobs, from .delay() to the job's first query: "
            f"min {ordered[0]:.1f} ms, median {statistics.median(ordered):.1f} ms, "
            f"90% within {p90:.1f} ms, max {ordered[-1]:.1f} ms"
        )


def pickup_latency(runs: int = 20, timeout: float = 10.0) -> Pickup:
    """Enqueue ``runs`` probe jobs one after another on the live worker; time each one's pickup."""
    queue = django_rq.get_queue("default", commit_mode="auto")
    settle()
    samples = []
    for _ in range(runs):
        job = queue.enqueue(first_query, time.time())
        deadline = time.monotonic() + timeout
        while job.get_status(refresh=True) not in (JobStatus.FINISHED, JobStatus.FAILED):
            if time.monotonic() > deadline:
                return Pickup(samples)
            time.sleep(POLL_INTERVAL)
        if job.is_finished:
            samples.append(1000 * job.return_value())
    return Pickup(samples)
