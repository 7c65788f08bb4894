# WRONG: Drops **kwargs: a job's keyword arguments never reach it.
"""Exercise 06, solved: on_commit on the right database alias, with the arguments bound now."""

from functools import partial

from django.db import transaction


def delay_on_commit(job, *args, using=None, **kwargs):
    """Enqueue ``job.delay(*args, **kwargs)`` once the transaction on ``using`` commits."""
    transaction.on_commit(partial(job.delay, *args), using=using)
