# WRONG: Defers only on the default database; on any other it enqueues at once.
"""Exercise 06, solved: on_commit on the right database alias, with the arguments bound now."""

from functools import partial

from django.db import transaction


def delay_on_commit(job, *args, using=None, **kwargs):
    """Enqueue ``job.delay(*args, **kwargs)`` once the transaction on ``using`` commits."""
    if using not in (None, "default"):
        job.delay(*args, **kwargs)
        return
    transaction.on_commit(partial(job.delay, *args, **kwargs))
