# WRONG: The reconciler takes every pending task, however young: a job still waiting in the queue gets a twin.
"""Exercise 08, solved: an idempotent job plus a reconciler.

Delivery is now "at least once": a task may be enqueued by the commit and
again by the reconciler, so the job checks first and measures only a task
that is still pending. (With several workers racing for the same task you
would claim it atomically: ``select_for_update`` or a conditional
``UPDATE ... WHERE result IS NULL``.) The reconciler leaves young tasks
alone: their job may simply not have run yet.
"""

from datetime import timedelta
from functools import partial

import django_rq
from django.db import transaction
from django.utils import timezone

from workshop_project.tasks.jobs import measure
from workshop_project.tasks.models import Task

STALE_AFTER = timedelta(minutes=5)


def measure_once(task_id):
    """The job: measure the task's URL, unless it already has a result."""
    task = Task.objects.pending().filter(id=task_id).first()
    if task is None:
        return "nothing to do"  # measured already (or gone): doing it again would be a second fetch
    measure(task)
    return "measured"


def enqueue(task_id):
    """Enqueue measure_once for a task, on the queue as configured at this moment."""
    return django_rq.get_queue("default").enqueue(measure_once, task_id)


def start_task(url):
    task = Task.objects.create(url=url)
    # robust=True: if the enqueue fails (Redis down), log it instead of failing
    # a request whose task is already committed.
    transaction.on_commit(partial(enqueue, task.id), robust=True)
    return task


def reconcile(older_than=STALE_AFTER):
    """Enqueue again every pending task created more than ``older_than`` ago; return how many."""
    stale = Task.objects.pending().filter(created_on__lte=timezone.now())
    task_ids = list(stale.values_list("id", flat=True))
    for task_id in task_ids:
        enqueue(task_id)
    return len(task_ids)
