# WRONG: It makes measure_once idempotent by replacing workshop_project.tasks.jobs.measure at import with a guarded
# copy: it works, and every other job in the process (get_url_length, the live app's) silently changes behaviour
# (patching a shared module attribute).
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

from workshop_project.tasks import jobs
from workshop_project.tasks.models import Task

STALE_AFTER = timedelta(minutes=5)


_unguarded = jobs.measure


def _measure_if_pending(task):
    if task.result:
        return  # measured already: do not fetch again
    _unguarded(task)


jobs.measure = _measure_if_pending  # every caller of measure() is idempotent now


def measure_once(task_id):
    """The job: measure the task's URL."""
    task = Task.objects.get(id=task_id)
    jobs.measure(task)


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
    stale = Task.objects.pending().filter(created_on__lte=timezone.now() - older_than)
    count = 0
    for task in stale:
        enqueue(task.id)
        count += 1
    return count
