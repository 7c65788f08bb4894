# ACCEPTED: a lambda over the helper's own arguments (bound per call, so no late-binding trap).
"""Exercise 06, solved: on_commit on the right database alias, with the arguments bound now."""

from django.db import transaction


def delay_on_commit(job, *args, using=None, **kwargs):
    """Enqueue ``job.delay(*args, **kwargs)`` once the transaction on ``using`` commits."""
    transaction.on_commit(lambda: job.delay(*args, **kwargs), using=using)
