"""Settings for tests and the grader: the stack's settings, on their own Redis database.

The live worker listens on the stack's Redis database. Tests and the grader
enqueue on another one (15 unless TEST_REDIS_URL says otherwise), so the live
worker never takes a grader's job and a test never sees a learner's jobs.
Jobs bind their queue when they are decorated, at import, so this has to be
decided in settings, not later in a fixture.
"""

from urllib.parse import urlsplit, urlunsplit

from .settings import *  # noqa: F403
from .settings import REDIS_URL, env


def _other_database(url, number=15):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{number}"))


REDIS_URL = env.str("TEST_REDIS_URL", default=_other_database(REDIS_URL))
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60}}
