# WRONG: For the default database it calls job.delay() at once and relies on django-rq's on_db_commit mode, which it
# switches on by changing settings.RQ at import (a global side effect) and which never reaches a queue built
# before: on 'default' the job is sent before the commit.
# BLIND (rt2, from the docstring and lesson only)
"""Exercise 06: a reusable delay_on_commit for django-rq jobs.  (Lesson: 07_where_protection_stops)

Celery >= 5.4 has ``task.delay_on_commit(...)``. Write the same for django-rq:

    delay_on_commit(get_url_length, task.id)                  # after "default" commits
    delay_on_commit(get_url_length, task.id, using="second")  # after "second" commits

Inside a transaction on the database ``using`` (the default one if not
given), the job is enqueued when that transaction commits, and never if it
rolls back. Outside a transaction, it is enqueued at once.

Why not django-rq's own ``COMMIT_MODE = "on_db_commit"``? It only watches
the *default* database: a job enqueued inside a transaction on "second" goes
to Redis at once, before that transaction commits.

The grader enqueues a probe job (it reads a task on the database named by
its keyword argument, so every argument must reach the job) through your
helper, under the race amplifier: on "default" and on "second", with the two
transactions nested in either order, and with "second" rolled back.

Grade it:  pytest exercises/ex06_delay_on_commit
"""

from functools import partial

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction

settings.RQ["COMMIT_MODE"] = "on_db_commit"  # django-rq waits for "default" by itself


def delay_on_commit(job, *args, using=None, **kwargs):
    """Enqueue ``job.delay(*args, **kwargs)`` once the transaction on ``using`` commits."""
    if using in (None, DEFAULT_DB_ALIAS):
        return job.delay(*args, **kwargs)  # the commit mode defers it
    transaction.on_commit(partial(job.delay, *args, **kwargs), using=using)
