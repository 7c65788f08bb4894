# WRONG: It makes every transaction.on_commit in the process wait for `using` by replacing
# django.db.transaction.on_commit at import with a wrapper whose default alias is the last `using` it was given:
# the helper works, and every other on_commit(callback) in the process (views, Django itself) now waits for
# whichever database the last call named (a global side effect).
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

from django.db import transaction

_original_on_commit = transaction.on_commit


def _on_commit(func, using=None, robust=False):
    return _original_on_commit(func, using=using or _current["using"], robust=robust)


_current = {"using": None}
transaction.on_commit = _on_commit  # every caller now follows our alias


def delay_on_commit(job, *args, using=None, **kwargs):
    """Enqueue ``job.delay(*args, **kwargs)`` once the transaction on ``using`` commits."""
    _current["using"] = using
    transaction.on_commit(partial(job.delay, *args, **kwargs))
