"""Exercise 07's grader runs your tests in a pytest process of their own.

That process starts as soon as the checks are collected, so it runs while
the other exercises are graded; the checks then wait for its ``report``.
(When several packages are graded side by side, their test files share
that one process.) The wait happens before a check's set-up starts, not in
it: the learner's tests have the run's own time limit (``mutation.Run``),
and waiting for them is not the check's set-up running late.
"""

import pytest

from lab.grader import mutation
from lab.grader.plugin import graded_packages
from workshop_project import exercise_registry

SLUG = "ex07_test_it"
_runs = []


def pytest_collection_finish(session):
    if any(SLUG in item.nodeid for item in session.items):
        exercise = exercise_registry.find(SLUG)
        files = [exercise.path(package) for package in graded_packages(session.config)]
        _runs.append(mutation.Run([path for path in files if path.exists()] or files[:1]))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    for run in _runs:  # this folder's checks only (a conftest's hooks see its own items)
        run.wait()


def pytest_sessionfinish():
    for run in _runs:
        run.stop()


@pytest.fixture(scope="module")
def report(learner, package):
    """What your tests did on each version of the view (waits for the run to end)."""
    return _runs[0].result(exercise_registry.find(SLUG).path(package))
