"""Fixtures for the project's own tests: a real Redis, real processes, the test database.

``make test`` (``python -m lab.testing -- pytest tests``) starts a private
redis-server and exports REDIS_URL; the test settings put every job on that
server's database 15.
"""

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.db import connections

from lab import testing
from lab.core.outcomes import clear_jobs
from lab.testing import queue_workers as lesson13_workers
from lab.testing.lanes import DURATIONS


@pytest.fixture(scope="session")
def redis_connection():
    connection = django_rq.get_connection("default")
    try:
        connection.ping()
    except Exception:
        pytest.exit(
            f"Redis does not answer at {settings.REDIS_URL}: run the tests with `make test`, which starts one.",
            returncode=3,
        )
    return connection


@pytest.fixture(autouse=True)
def empty_redis(redis_connection):
    """Every test starts with no jobs, empty queues and empty registries
    (the session's live worker stays registered)."""
    clear_jobs()
    return


def process_env(**extra):
    """Environment for a web server or worker process that shares this test's databases."""
    return testing.django_env(
        DJANGO_SETTINGS_MODULE="workshop_project.test_settings",
        DATABASE_URL=testing.database_url(connections["default"].settings_dict),
        SECOND_DATABASE_URL=testing.database_url(connections["second"].settings_dict),
        **extra,
    )


@pytest.fixture(scope="session")
def live_processes(django_db_setup, redis_connection):
    """A real web server, a real rq worker and the outbox relay, on the test databases and test Redis.

    Started once for the session (after the test databases exist); yields the web's URL.
    """
    with contextlib.ExitStack() as stack:
        # FETCH_TIMEOUT_SECONDS: the bad-input test waits out one timeout. Its hostile
        # servers are on loopback, which the fetch refuses by default (test_fetch_limits.py).
        env = process_env(FETCH_TIMEOUT_SECONDS=2, FETCH_ALLOW_PRIVATE_ADDRESSES=1)
        url = stack.enter_context(testing.web_server(env))
        stack.enter_context(testing.rq_worker({**env, "WORKSHOP_WEB_URL": url}, redis_connection))
        stack.enter_context(relay_process(env))
        yield url


@pytest.fixture(scope="session")
def queue_workers(live_processes, django_db_blocker):
    """Lesson 13's workers beside the live ones: a Celery worker and django-tasks-db's, on the
    test databases and the test Redis. Started only for the tests that ask (the rq path stays as
    fast); each answers once before the first test (a ping; a task, written to the test database)."""
    env = process_env(WORKSHOP_WEB_URL=live_processes, FETCH_TIMEOUT_SECONDS=2)
    with contextlib.ExitStack() as stack:
        with django_db_blocker.unblock():
            stack.enter_context(lesson13_workers.celery_worker(env))
            stack.enter_context(lesson13_workers.db_worker(env))
        yield env


@contextlib.contextmanager
def relay_process(env):
    """``manage.py relay`` (as `bin/run relay` runs it), entered once it has made a pass.

    Its heartbeat is in the data folder, where ``workshop doctor`` looks for it.
    """
    heartbeat = Path(settings.DATA_DIR) / "relay.heartbeat"
    started = time.time()

    def passed():
        return heartbeat.stat().st_mtime >= started

    with testing.running(
        [sys.executable, "manage.py", "relay"],
        "the outbox relay",
        passed,
        env=env,
        cwd=testing.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as process:
        yield process


@pytest.fixture
def live_stack(live_processes, transactional_db, settings):
    """The live web and worker, with this process's settings pointing at them."""
    settings.WORKSHOP_WEB_URL = live_processes
    return live_processes


#: A test that took longer than this in tests/.test_durations (``make durations``) is ``slow``.
SLOW_SECONDS = 3.0


def measured_slow() -> set[str]:
    """The node ids of the tests that took over SLOW_SECONDS when last measured."""
    try:
        durations = json.loads(DURATIONS.read_text())
    except (FileNotFoundError, ValueError):
        return set()
    return {test for test, seconds in durations.items() if seconds > SLOW_SECONDS}


def pytest_collection_modifyitems(items):
    """Mark every test that uses the live processes ``live`` (pytest.ini), so
    ``-m "not live"`` leaves out what starts a web server and a worker; and
    every test measured over SLOW_SECONDS ``slow``, so ``make test-fast`` stays
    fast without anyone keeping a list by hand."""
    slow = measured_slow()
    for item in items:
        if "live_processes" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.live)
        if item.nodeid in slow:
            item.add_marker(pytest.mark.slow)
