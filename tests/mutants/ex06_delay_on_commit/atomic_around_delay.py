# WRONG: A savepoint on using around .delay(): the outer transaction is still open when the job is enqueued.
"""Exercise 06, solved: on_commit on the right database alias, with the arguments bound now."""

from functools import partial

from django.db import transaction


def delay_on_commit(job, *args, using=None, **kwargs):
    """Enqueue ``job.delay(*args, **kwargs)`` once the transaction on ``using`` commits."""
    with transaction.atomic(using=using):
        job.delay(*args, **kwargs)
