# WRONG: A concurrency window: at the commit it starts a thread that enqueues the jobs and returns without waiting, so
# WRONG: when the request has committed its jobs may not be in Redis yet (and a crash then loses them).
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

import threading
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


def _enqueue_all(task_ids):
    for task_id in task_ids:
        get_url_length.delay(task_id)


def start_tasks(urls):
    started = []
    for url in urls:
        try:
            with transaction.atomic():  # a savepoint per URL
                task = Task.objects.create(url=url)
                check(task)
        except Rejected:
            continue  # the savepoint rolled back: no row for this URL
        started.append(task)
    ids = [task.id for task in started]
    transaction.on_commit(lambda: threading.Thread(target=_enqueue_all, args=(ids,)).start())
    return started
