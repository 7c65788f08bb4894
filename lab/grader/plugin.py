"""The grader's pytest plugin: ``exercises/conftest.py`` plugs it into pytest.

What a learner sees is decided here: one line when Redis is down, one plain
sentence per failing exercise (what was expected, what the worker did) with
the hint of the check that failed, and a progress table at the end. The
sentences come from the graders (``lab.grader.grading``); this module only decides
what is graded, on which databases, and how it is reported.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from django.conf import settings

from lab.core import progress
from lab.grader import deadline, guard
from lab.grader.grading import UNUSABLE_VALUE, describe_error
from lab.stack.advice import START_STACK
from workshop_project import exercise_registry

START_REDIS = f"{START_STACK} (or point REDIS_URL at a running Redis), then grade again"


# --- pytest: options, start-up checks, the grader's own databases ----------------


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("workshop", "the workshop's grader")
    group.addoption("--solutions", action="store_true", help="grade solutions/ instead of your exercises/")
    group.addoption("--hints", action="store_true", help="show every hint of a failing exercise, not only the first")
    # The project's own tests grade copies of the exercises (tests/mutants/) side by side.
    group.addoption("--packages", default="", help=argparse.SUPPRESS)


def graded_packages(config: pytest.Config) -> list[str]:
    """Which packages are graded: ``exercises`` (yours), ``solutions``, or the ones --packages names.
    The one place that decides it; the fixtures and exercise 07's conftest ask here."""
    named = [name for name in config.getoption("packages").split(",") if name]
    return named or (["solutions"] if config.getoption("solutions") else ["exercises"])


def redis_problem() -> str | None:
    """None if the grader's Redis answers; otherwise one line saying so and how to fix it."""
    url = settings.RQ_QUEUES["default"]["URL"]
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError:
        return f"Redis does not answer at {url}: {START_REDIS}."
    return None


def use_own_test_databases(prefix: str) -> None:
    """Give this pytest run its own test databases (files for SQLite, so that a worker
    on another connection sees what a test committed), never the project tests' ones."""
    for database in settings.DATABASES.values():
        test = database.setdefault("TEST", {})
        if database["ENGINE"].endswith("sqlite3"):
            test["NAME"] = str(Path(settings.DATA_DIR) / f"{prefix}-{Path(database['NAME']).stem}.sqlite3")
            # A throwaway database need not survive a power cut: no fsync on every commit.
            # And a job blocked by a transaction that holds the write lock fails in seconds, not 20.
            options = database.setdefault("OPTIONS", {})
            options["init_command"] = options.get("init_command", "") + "PRAGMA synchronous=OFF;"
            options["timeout"] = 5
        else:
            test["NAME"] = f"{prefix}_{database['NAME']}"


def isolate_child_processes() -> dict[str, str]:
    """Point the environment at the grader's databases, for every process started from here.

    Learner code may start ``manage.py rqworker`` or anything else: that child reads
    its settings from the environment, not from this process. So the environment
    names the grader's test databases and the grader's Redis database, and the
    test settings; a child can never reach the live ``data/workshop.sqlite3`` or
    the live worker's Redis database. Returns what it set.
    """
    from lab.testing import database_url

    names = {"default": "DATABASE_URL", "second": "SECOND_DATABASE_URL"}
    isolated = {
        "DJANGO_SETTINGS_MODULE": "workshop_project.test_settings",
        "REDIS_URL": settings.RQ_QUEUES["default"]["URL"],
        "TEST_REDIS_URL": settings.RQ_QUEUES["default"]["URL"],
    }
    for alias, variable in names.items():
        database = settings.DATABASES[alias]
        isolated[variable] = database_url({**database, "NAME": database["TEST"]["NAME"]})
    os.environ.update(isolated)
    return isolated


def configure(config: pytest.Config) -> None:
    """Everything the grader decides before a test runs (called from pytest_configure)."""
    problem = redis_problem()
    if problem:
        raise pytest.UsageError(problem)  # pytest prints it as one line and exits non-zero
    packages = graded_packages(config)
    settings.WORKSHOP_EXERCISE_PACKAGE = packages[0]  # the served views import from here too
    use_own_test_databases("grader")
    isolate_child_processes()
    config.option.nomigrations = True  # tables straight from the models: faster, and no data migrations to need
    if config.option.tbstyle == "auto":  # our summary replaces the tracebacks, unless asked for
        config.option.tbstyle = "no"
        config.option.reportchars = ""
    config.pluginmanager.register(Reporter(config, packages), "workshop-grader")
    config.pluginmanager.register(guard, "workshop-guard")  # invariants, time limit, threads: every check


# --- What went wrong, in one sentence --------------------------------------------


def explain(excinfo: pytest.ExceptionInfo) -> tuple[str, str | None]:
    """One sentence for a failed check, and its cause: the grader's own verdict, code that ran out of
    time, the exception the learner's code raised, or a value of theirs the check could not use."""
    error = excinfo.value
    if isinstance(error, pytest.fail.Exception):
        return str(error.msg), getattr(error, "cause", None)
    if isinstance(error, deadline.OutOfTime):
        return deadline.describe_out_of_time(error, excinfo.tb), guard.OUT_OF_TIME
    sentence = describe_error(error, excinfo.tb)
    cause = UNUSABLE_VALUE if sentence.startswith("Your answer gave the check") else None
    return sentence + ".", cause


def check_name(nodeid: str) -> str:
    """``test_it_fails_every_time`` from ``exercises/ex01_reproduce/test_reproduce.py::test_it_fails_every_time[x]``"""
    return nodeid.split("::")[-1].split("[")[0]


COLOUR = {"done": {"green": True}, "failing": {"red": True}}


@dataclass
class Grade:
    exercise: exercise_registry.Exercise
    checks: int = 0
    failures: list[tuple[str, str, str | None]] = field(default_factory=list)  # (check, sentence, cause), as run

    @property
    def passed(self) -> bool:
        return self.checks > 0 and not self.failures

    @property
    def first(self) -> tuple[str, str, str | None]:
        """The failure to show: one of the guard's (it changes how everything after it reads), else the first."""
        guarded = [failure for failure in self.failures if failure[2] in guard.ADVICE]
        return (guarded or self.failures or [("", "", None)])[0]

    @property
    def first_sentence(self) -> str:
        return self.first[1]


class Reporter:
    """Collects each exercise's checks and prints what a learner needs: the first failure
    of each exercise they are working on, the hint for that check, and the progress table."""

    def __init__(self, config: pytest.Config, packages: list[str]):
        self.config = config
        self.root = packages[0]
        self.several = len(packages) > 1
        self.exercises = {exercise.slug: exercise for exercise in exercise_registry.load()}
        self.grades: dict[str, Grade] = {}
        # Exercises graded only in part (-k, a single file or check) are shown but not recorded.
        self.partial: set[str | None] = set()
        self.all_partial = any("::" in arg or Path(arg).is_file() for arg in config.args)

    def slug_of(self, nodeid: str) -> str | None:
        parts = nodeid.split("::")[0].split("/")
        return next((part for part in parts if part in self.exercises), None)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        slug = self.slug_of(report.nodeid)
        if report.failed and slug and call.excinfo is not None:
            sentence, cause = explain(call.excinfo)
            lost = [describe_error(error) for error in guard.thread_errors(item) if report.when == "call"]
            lost = [said for said in lost if said.startswith("Your code raised")]
            if lost and lost[0].removeprefix("Your code raised ") not in sentence:
                sentence += f" Meanwhile, on a thread of yours: {lost[0][0].lower()}{lost[0][1:]}."
                cause = cause or guard.THREAD_RAISED
            for pair in [("sentence", sentence), *([("cause", cause)] if cause else [])]:
                report.user_properties.append(pair)
                item.user_properties.append(pair)  # the JUnit report writes the item's, at teardown

    def pytest_deselected(self, items):
        self.partial |= {self.slug_of(item.nodeid) for item in items}

    def pytest_runtest_logreport(self, report):
        slug = self.slug_of(report.nodeid)
        if not slug:
            return
        grade = self.grades.setdefault(slug, Grade(self.exercises[slug]))
        if report.when == "call" or (report.when == "setup" and not report.passed):
            grade.checks += 1
        if report.failed:
            said = dict(report.user_properties)
            sentence = said.get("sentence") or report.longreprtext.strip().splitlines()[-1]
            grade.failures.append((check_name(report.nodeid), sentence, said.get("cause")))

    def pytest_terminal_summary(self, terminalreporter):
        if not self.grades:
            return
        tr = terminalreporter
        if self.several:  # the project's own mutant run reads the JUnit report, not this
            tr.write_line(f"graded {self.config.getoption('packages')}")
            return
        ordered = [self.grades[slug] for slug in self.exercises if slug in self.grades]
        failing = [grade for grade in ordered if not grade.passed]
        if self.root == "exercises":
            # The first failure first; then only the exercises being worked on (not untouched starters).
            shown = [grade for grade in failing if grade is failing[0] or not progress.is_starter(grade.exercise)]
        else:
            shown = failing
        for grade in shown:
            self.write_failure(tr, grade)
        graded = {grade.exercise.slug: grade.passed for grade in ordered}
        if self.root == "exercises":
            if not self.all_partial:
                progress.record(
                    {
                        slug: (passed, self.grades[slug].first_sentence)
                        for slug, passed in graded.items()
                        if slug not in self.partial
                    }
                )
            tr.write_sep("=", "your progress")
            rows = progress.rows(graded)
            last = progress.summary(rows)
        else:
            tr.write_sep("=", f"grading {self.root}/")
            rows = [row for row in progress.rows(graded) if row.exercise.slug in graded]
            last = f"{sum(graded.values())} of {len(graded)} pass."
        for row in rows:
            tr.write_line(str(row), **COLOUR.get(row.state, {}))
        tr.write_line(last)

    def write_failure(self, tr, grade: Grade) -> None:
        exercise = grade.exercise
        check, sentence, cause = grade.first
        tr.write_sep("-", f"✘ {exercise.slug}: {exercise.title}", red=True)
        tr.write_line(f"  {sentence}")
        if self.config.getoption("hints"):
            numbers = list(range(1, len(exercise.hints) + 1))
        elif cause in guard.ADVICE and cause not in exercise.causes:
            numbers = []  # the exercise's hints are about its subject; this is about the process
            tr.write_line(f"  Hint: {guard.ADVICE[cause]}", yellow=True)
        else:
            numbers = [exercise.hint_number(check, cause)]
        for number in numbers:
            tr.write_line(f"  Hint {number}/{len(exercise.hints)}: {exercise.hints[number - 1]}", yellow=True)
        more = len(grade.failures) - 1
        tail = f"{more} more check{'s' if more > 1 else ''} fail{'' if more > 1 else 's'}. " if more > 0 else ""
        if 0 < len(numbers) < len(exercise.hints):
            tail += f"More hints: pytest exercises/{exercise.slug} --hints"
        else:
            tail += (
                f"Edit {exercise_registry.relative(exercise.path(self.root))}, then: pytest exercises/{exercise.slug}"
            )
        tr.write_line(f"  {tail}")
