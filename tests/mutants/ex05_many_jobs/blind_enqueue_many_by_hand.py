# WRONG: Enqueues at the commit with one enqueue_many call built from the tasks in 'started', but reads the list when
# WRONG: the callback runs through a lambda over a name rebound later: the tasks of a second call in the same
# WRONG: transaction are enqueued twice, the first call's never.
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

import django_rq
from django.db import transaction
from rq import Queue

from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task


class Rejected(Exception):
    """check() refused a task."""


def check(task):
    """Stands for any work after the create that can fail: here, URLs asking to be rejected."""
    if "reject" in task.url:
        raise Rejected(task.url)


_batch = []


def start_tasks(urls):
    global _batch
    started = []
    for url in urls:
        try:
            with transaction.atomic():  # a savepoint per URL
                task = Task.objects.create(url=url)
                check(task)
        except Rejected:
            continue  # the savepoint rolled back: no row for this URL
        started.append(task)
    _batch = started
    transaction.on_commit(lambda: _enqueue(_batch))
    return started


def _enqueue(tasks):
    queue = django_rq.get_queue("default")
    queue.enqueue_many([Queue.prepare_data(get_url_length, (task.id,)) for task in tasks])
