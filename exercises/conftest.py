"""The grader: ``pytest exercises/`` grades your exercises.

    pytest exercises/                    every exercise, then your progress table
    pytest exercises/ex04_on_commit      one exercise
    pytest exercises/ --hints            every hint of a failing exercise
    pytest exercises/ --solutions        grade solutions/ instead (the workshop's own check)

Each check drives your code for real: it posts to your view through Django's
URL resolver or calls your function, lets a real rq worker run the jobs
(on another thread, with its own database connection), and reads what the
worker did back from Redis and the database. It uses its own Redis database
and its own test databases, and so does every process your code starts: the
live stack and your data are never touched.
"""

import pytest
from django.conf import settings
from django.test import Client

from lab.grader import fixtures, plugin
from lab.grader.grading import amplifier, clear_jobs, fail
from workshop_project import exercise_registry


def pytest_addoption(parser):
    plugin.add_options(parser)


def pytest_configure(config):
    plugin.configure(config)


def pytest_collection_modifyitems(items):
    # Every check commits for real (a worker on another connection must see it),
    # on both database aliases.
    for item in items:
        item.add_marker(pytest.mark.django_db(transaction=True, databases="__all__"))


def pytest_generate_tests(metafunc):
    packages = plugin.graded_packages(metafunc.config)
    if len(packages) > 1 and "package" in metafunc.fixturenames:  # the project's own mutant run
        slug = metafunc.definition.path.parent.name
        present = [package for package in packages if (settings.BASE_DIR / package / slug).is_dir()]
        metafunc.parametrize("package", present or packages[:1], indirect=True, scope="module")


@pytest.fixture(scope="module")
def package(request):
    """The package graded: ``exercises`` (yours) or ``solutions`` (plugin.graded_packages)."""
    return getattr(request, "param", None) or plugin.graded_packages(request.config)[0]


@pytest.fixture(scope="module")
def exercise(request):
    """The exercise a grader file belongs to (its folder's name)."""
    return exercise_registry.find(request.path.parent.name)


@pytest.fixture(scope="module", autouse=True)
def learner(exercise, package):
    """The module being graded: yours, or the solution's with --solutions.

    Every check imports it first, so a file that does not import fails its own
    exercise with one line naming the file and line, and no other exercise.
    """
    settings.WORKSHOP_EXERCISE_PACKAGE = package  # the served views import from here too
    try:
        return exercise_registry.import_learner_module(exercise, root=package)
    except Exception as error:  # a syntax or import error fails this exercise only, in one line
        fail(f"{exercise_registry.describe_import_error(error)} (the file does not import).")


@pytest.fixture(autouse=True)
def empty_redis():
    """Every check starts with no jobs, empty queues and empty registries."""
    clear_jobs()


@pytest.fixture(scope="session")
def _sample_pages():
    with fixtures.sample_pages() as pages:
        yield pages


@pytest.fixture
def samples(_sample_pages):
    """The sample pages the job fetches, served here; ``samples.fetches(url)`` counts the fetches."""
    _sample_pages.reset()
    return _sample_pages


@pytest.fixture
def redis_down():
    """The queue pointed at a port where nothing listens, for the block (a context manager)."""
    return fixtures.redis_down


@pytest.fixture
def browser():
    """Django's test client; a view that raises answers 500 instead of raising here."""
    return Client(HTTP_HOST="localhost", raise_request_exception=False)


@pytest.fixture
def amp():
    """The race amplifier: each job enqueued runs at once, on another thread."""
    with amplifier() as active:
        yield active
