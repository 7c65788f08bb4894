# ACCEPTED: one on_commit over the final list of started tasks.
"""Exercise 05, solved: one on_commit callback per task, registered in its savepoint.

``partial`` binds each task's id when the callback is registered; a lambda
would read the loop variable when it runs, after the loop, and every job
would get the last task. A callback registered inside a savepoint that
rolls back is dropped by Django, so a rejected URL gets no job.
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


def start_tasks(urls):
    started = []
    for url in urls:
        try:
            with transaction.atomic():  # a savepoint per URL
                task = Task.objects.create(url=url)
                check(task)
        except Rejected:
            continue  # the savepoint rolled back, and its callback with it
        started.append(task)
    transaction.on_commit(partial(enqueue_all, [task.id for task in started]))
    return started


def enqueue_all(task_ids):
    for task_id in task_ids:
        get_url_length.delay(task_id)
