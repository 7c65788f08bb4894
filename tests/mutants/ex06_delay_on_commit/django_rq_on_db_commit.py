# WRONG: django-rq's on_db_commit queue: it watches only the default database.
"""Exercise 06, solved: on_commit on the right database alias, with the arguments bound now."""

from functools import partial

import django_rq
from django.db import transaction


def delay_on_commit(job, *args, using=None, **kwargs):
    """Enqueue ``job.delay(*args, **kwargs)`` once the transaction on ``using`` commits."""
    django_rq.get_queue("default", commit_mode="on_db_commit").enqueue(job, *args, **kwargs)
