# WRONG: A post_save receiver registered at import enqueues on commit for every Task created anywhere in the process (a
# WRONG: global side effect); start_tasks itself enqueues nothing.
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


from django.db.models.signals import post_save  # noqa: E402


def _measure(sender, instance, created, **kwargs):
    if created:
        transaction.on_commit(partial(get_url_length.delay, instance.id))


post_save.connect(_measure, sender=Task, dispatch_uid="ex05-measure")


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
    return started
