# WRONG: It promises the job is never enqueued if the transaction rolls back, but it keeps the jobs of a transaction in
# a module-level list flushed by one on_commit per alias: after a rollback the list is never cleared, so the
# rolled-back job is sent at the next commit on that alias (state kept between calls).
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

from django.db import DEFAULT_DB_ALIAS, connections, transaction

_waiting = {}  # alias -> the jobs waiting for that alias's commit (one on_commit per transaction)


def _flush(alias):
    jobs = _waiting.pop(alias, [])
    for send in jobs:
        send()


def delay_on_commit(job, *args, using=None, **kwargs):
    """Enqueue ``job.delay(*args, **kwargs)`` once the transaction on ``using`` commits."""
    alias = using or DEFAULT_DB_ALIAS
    if not connections[alias].in_atomic_block:
        return job.delay(*args, **kwargs)
    if alias not in _waiting:
        _waiting[alias] = []
        transaction.on_commit(partial(_flush, alias), using=alias)
    _waiting[alias].append(partial(job.delay, *args, **kwargs))
