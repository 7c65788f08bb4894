"""Settings for tests and the grader: the stack's settings, on their own Redis database.

The Redis databases, in one place (a mistake here lets the live worker steal
the grader's jobs):

    live stack (web, worker, notebooks)   REDIS_URL's own database (0 by default)
    grader (`pytest exercises/`)          15, or TEST_REDIS_URL
    exercise 07's mutation run            the one below the grader's: 14
    lesson 02's quiet queue (lab.lessons.quiet_queue)  12 on the live server: no worker listens there
    the project's tests (`make test`)     their own redis-server: 15 for the tests and their
                                          worker, 14 for the grader they run, 13 for its mutation run

Jobs bind their queue when they are decorated, at import, so this has to be
decided in settings, not later in a fixture.
"""

from urllib.parse import urlsplit, urlunsplit

from .settings import *  # noqa: F403
from .settings import REDIS_URL, env

GRADER_REDIS_DATABASE = 15
QUIET_REDIS_DATABASE = 12


def redis_url_with_database(url: str, number: int) -> str:
    """``url`` with its database number replaced: redis://host:port/<number>."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


def redis_url_beside(url: str) -> str:
    """The Redis database next to (below) ``url``'s: for a run started from a run on ``url``
    (the grader started by the tests, exercise 07's mutation run started by the grader),
    so that the two, running at the same time, never see each other's queues."""
    number = int(urlsplit(url).path.strip("/") or 0)
    return redis_url_with_database(url, number - 1 if number > 0 else 1)


REDIS_URL = env.str("TEST_REDIS_URL", default=redis_url_with_database(REDIS_URL, GRADER_REDIS_DATABASE))
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60}}
