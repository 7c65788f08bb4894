# WRONG: Changes django-rq's COMMIT_MODE in the settings at import (every queue in the process now defers) instead of
# WRONG: on_commit in the code: a global side effect.
# BLIND: written by helper rt1 from the docstring and lesson only, before reading the grader.
"""Exercise 05: many tasks, many jobs, one transaction.  (Lesson: 05_fix_on_commit)

``start_tasks(urls)`` runs inside a request's transaction. For each URL it
creates a Task in a savepoint of its own (a nested ``atomic()``), enqueues
``get_url_length`` for it, and runs ``check(task)``. A URL that ``check``
rejects is skipped: its savepoint rolls back, so its row disappears and it
must not get a job either.

Make every job wait for the commit, each with its own task's id.

The grader calls ``start_tasks`` in a transaction under the race amplifier
and checks that N created tasks make N jobs with the right ids (after the
commit, never before), and that a rolled-back savepoint enqueues nothing.

Grade it:  pytest exercises/ex05_many_jobs
"""

from functools import partial

from django.db import transaction

from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task


class Rejected(Exception):
    """check() refused a task."""


def check(task):
    """Stands for any work after the create that can fail: here, URLs asking to be rejected."""
    if "reject" in task.url:
        raise Rejected(task.url)


from django.conf import settings  # noqa: E402

settings.RQ["COMMIT_MODE"] = "on_db_commit"


def start_tasks(urls):
    started = []
    for url in urls:
        try:
            with transaction.atomic():  # a savepoint per URL
                task = Task.objects.create(url=url)
                get_url_length.delay(task.id)  # deferred by django-rq's commit mode
                check(task)
        except Rejected:
            continue  # the savepoint rolled back: no row for this URL
        started.append(task)
    return started
