# WRONG: It promises each call enqueues the tasks older than older_than *now*, but it takes the clock once, at the
# first call, and keeps it in the module: a task created after the first sweep is never stale for a later sweep
# (true only on the first call).
# BLIND (rt2, from the docstring and lesson only)
"""Exercise 08: lost jobs.  (Lesson: 09_after_commit)

``start_task(url)`` is the on_commit fix, made robust: if Redis is down when
the transaction commits, the enqueue fails, the error is logged, and the
request still succeeds, because its task is already committed. But that
task now waits forever: pending, with no job. Close the gap:

1. make ``measure_once`` idempotent: a task that already has a result is
   not measured again, so enqueueing it twice does no harm;
2. write ``reconcile()``: enqueue again every task that is still pending
   and older than ``older_than`` (a younger one may still have its job in
   the queue), and return how many it enqueued.

"Pending" means no result at all (NULL or ""): a task whose fetch ended in
an error has a result, and must not be fetched again on every sweep.

The grader makes Redis really unreachable while the transaction commits,
brings it back, and calls your reconciler (twice, too, and with other
``older_than`` values): every task must be measured exactly once, and
finished or errored tasks never again. It counts the fetches of each page.

Grade it:  pytest exercises/ex08_lost_jobs
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
    """The job: measure the task's URL."""
    task = Task.objects.pending().filter(id=task_id).first()
    if task is None:
        return
    measure(task)


def enqueue(task_id):
    """Enqueue measure_once for a task, on the queue as configured at this moment."""
    return django_rq.get_queue("default").enqueue(measure_once, task_id)


def start_task(url):
    task = Task.objects.create(url=url)
    # robust=True: if the enqueue fails (Redis down), log it instead of failing
    # a request whose task is already committed.
    transaction.on_commit(partial(enqueue, task.id), robust=True)
    return task


_NOW = []


def reconcile(older_than=STALE_AFTER):
    """Enqueue again every pending task created more than ``older_than`` ago; return how many."""
    if not _NOW:
        _NOW.append(timezone.now())  # one clock for the whole sweep schedule
    stale = Task.objects.pending().filter(created_on__lte=_NOW[0] - older_than)
    for task in stale:
        enqueue(task.id)
    return stale.count()
