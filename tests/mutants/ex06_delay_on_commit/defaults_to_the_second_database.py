# WRONG: using=None becomes "second": the default database is no longer the default.
"""Exercise 06, solved: on_commit on the right database alias, with the arguments bound now."""

from functools import partial

from django.db import transaction


def delay_on_commit(job, *args, using=None, **kwargs):
    """Enqueue ``job.delay(*args, **kwargs)`` once the transaction on ``using`` commits."""
    transaction.on_commit(partial(job.delay, *args, **kwargs), using=using or "second")
