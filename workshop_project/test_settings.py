"""Settings for tests and the grader: the stack's settings, on their own Redis database.

The Redis databases, in one place (a mistake here lets the live worker steal
the grader's jobs):

    live stack (web, worker, notebooks)   REDIS_URL's own database (0 by default)
    grader (`pytest exercises/`)          15, or TEST_REDIS_URL
    exercise 07's mutation run            the one below the grader's: 14
    lesson 02's quiet queue (lab.lessons.quiet_queue)  12 on the live server: no worker listens there
    the project's tests (`make test`)     their own redis-server: 15 for the tests and their
                                          worker, 14 for the grader they run, 13 for its mutation run
    Celery's broker and results           the database 8 away from the run's rq database
                                          (redis_urls.celery_redis_url): the stack's 8, the
                                          grader's 7, its mutation run's 6; the tests' 7, 6, 5

Jobs bind their queue when they are decorated, at import, so this has to be
decided in settings, not later in a fixture.
"""

from urllib.parse import urlsplit

from .redis_urls import celery_redis_url, redis_url_with_database
from .settings import *  # noqa: F403
from .settings import CELERY_BROKER_TRANSPORT_OPTIONS, REDIS_URL, env

GRADER_REDIS_DATABASE = 15
QUIET_REDIS_DATABASE = 12


def redis_url_beside(url: str) -> str:
    """The Redis database next to (below) ``url``'s: for a run started from a run on ``url``
    (the grader started by the tests, exercise 07's mutation run started by the grader),
    so that the two, running at the same time, never see each other's queues."""
    number = int(urlsplit(url).path.strip("/") or 0)
    return redis_url_with_database(url, number - 1 if number > 0 else 1)


REDIS_URL = env.str("TEST_REDIS_URL", default=redis_url_with_database(REDIS_URL, GRADER_REDIS_DATABASE))
RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60} for name in ("default", "django_tasks")}
CELERY_BROKER_URL = CELERY_RESULT_BACKEND = celery_redis_url(REDIS_URL)
# The grader starts and stops Celery workers on threads: a worker stops once its blocking
# read returns, so that read waits 0.1 s at a time rather than Celery's 1 s (the stack keeps 1 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "polling_interval": 0.1}
