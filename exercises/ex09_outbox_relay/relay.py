"""Exercise 09: the outbox relay.  (Lesson: 10_outbox)

The request must not talk to Redis. It writes its job down instead, as an
``Outbox`` row in its own transaction, and a relay sends the rows to rq
after they are committed. Write both halves:

1. ``start_task(url)``: create the task and its outbox row, no ``.delay()``;
2. ``send(row)``: give the job the row's fixed id, so a second send of the
   same row is refused by rq instead of running the job twice;
3. ``relay_once()``: claim the waiting rows, send each, mark them sent,
   and leave a row that keeps failing alone after ``max_attempts``.

The grader runs two relays at once, crashes one between the enqueue and the
mark, stops Redis, and feeds it a row whose job no longer exists. Every task
must be measured exactly once. It counts the fetches of each task's page.

Grade it:  pytest exercises/ex09_outbox_relay
"""

import django_rq
from django.utils.module_loading import import_string

from workshop_project.tasks import outbox  # noqa: F401  (you will want these two)
from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Outbox, Task  # noqa: F401

MAX_ATTEMPTS = 3


def start_task(url):
    """The request's work, inside its transaction: a task, and the promise to measure it."""
    task = Task.objects.create(url=url)
    # TODO: no Redis call in a request. Write the job down: outbox.add(get_url_length, task.id)
    get_url_length.delay(task.id)
    return task


def send(row):
    """Enqueue one row's job, now (commit_mode="auto": not deferred to a commit)."""
    queue = django_rq.get_queue(row.queue, commit_mode="auto")
    func = import_string(row.func)  # a job that no longer exists fails here, at the relay
    # TODO: the same id on every send (row.job_id), and unique=True so rq refuses a second copy.
    return queue.enqueue(func, *row.args)


def relay_once(batch=100, max_attempts=MAX_ATTEMPTS):
    """Send up to ``batch`` waiting rows to rq; return how many rows it marked sent."""
    # TODO 1: in one transaction.atomic() block, claim the oldest unsent rows with fewer than
    #         max_attempts failed attempts. Lock them: select_for_update(skip_locked=True) where
    #         the database can (outbox.can_skip_locked()); on SQLite, outbox.take_write_lock() first.
    # TODO 2: send(row) each. rq's DuplicateJobError means a relay that crashed sent it already:
    #         count it as sent.
    # TODO 3: mark the sent rows (sent_on=timezone.now()) in the same block.
    # TODO 4: any other error is the row's own: row.attempts += 1, keep the error in row.last_error,
    #         and go on with the next row. Redis being down (redis.RedisError) is not the row's
    #         fault: stop the pass without counting an attempt.
    return 0
