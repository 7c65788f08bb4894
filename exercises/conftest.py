"""The grader: ``pytest exercises/`` grades your exercises.

    pytest exercises/                    every exercise, then your progress table
    pytest exercises/ex04_on_commit      one exercise
    pytest exercises/ --hints            every hint of a failing exercise
    pytest exercises/ --solutions        grade solutions/ instead (the workshop's own check)

Each check drives your code for real: it posts to your view through Django's
URL resolver or calls your function, lets a real rq worker run the jobs
(on another thread, with its own database connection), and reads what the
worker did back from Redis and the database. It uses its own Redis database
and its own test database, so the live stack and your data are never touched.
"""

import pytest
from django.test import Client

from lab import grading
from lab.amplifier import amplifier
from lab.outcomes import clear_jobs
from workshop_project import exercise_registry


def pytest_addoption(parser):
    grading.add_options(parser)


def pytest_configure(config):
    grading.configure(config)


def pytest_collection_modifyitems(items):
    # Every check commits for real (a worker on another connection must see it),
    # on both database aliases.
    for item in items:
        item.add_marker(pytest.mark.django_db(transaction=True, databases="__all__"))


@pytest.fixture(scope="module")
def exercise(request):
    """The exercise a grader file belongs to (its folder's name)."""
    return exercise_registry.find(request.path.parent.name)


@pytest.fixture(scope="module", autouse=True)
def learner(exercise, pytestconfig):
    """The module being graded: yours, or the solution's with --solutions.

    Every check imports it first, so a file that does not import fails its own
    exercise with one line naming the file and line, and no other exercise.
    """
    root = "solutions" if pytestconfig.getoption("solutions") else "exercises"
    try:
        return exercise_registry.import_learner_module(exercise, root=root)
    except Exception as error:  # a syntax or import error fails this exercise only, in one line
        grading.fail(f"{exercise_registry.describe_import_error(error)} (the file does not import).")


@pytest.fixture(autouse=True)
def empty_redis():
    """Every check starts with no jobs, empty queues and empty registries."""
    clear_jobs()


@pytest.fixture(scope="session")
def _sample_pages():
    with grading.sample_pages() as pages:
        yield pages


@pytest.fixture
def samples(_sample_pages):
    """The sample pages the job fetches, served here; ``samples.fetches(url)`` counts the fetches."""
    _sample_pages.reset()
    return _sample_pages


@pytest.fixture
def browser():
    """Django's test client; a view that raises answers 500 instead of raising here."""
    return Client(HTTP_HOST="localhost", raise_request_exception=False)


@pytest.fixture
def amp():
    """The race amplifier: each job enqueued runs at once, on another thread."""
    with amplifier() as active:
        yield active
