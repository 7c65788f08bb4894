# WRONG: It keeps the project's relay in line with its own limit by setting workshop_project.tasks.outbox.MAX_ATTEMPTS
# = 3 at import: the exercise works, and the running relay (manage.py relay, lesson 10) now gives up on rows
# after 3 attempts instead of 5 (patching a shared module attribute).
# BLIND (rt2, from the docstring and lesson only)
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
import redis
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from rq.exceptions import DuplicateJobError

from workshop_project.tasks import outbox
from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Outbox, Task

MAX_ATTEMPTS = 3


outbox.MAX_ATTEMPTS = MAX_ATTEMPTS  # one limit for both relays


def start_task(url):
    """The request's work, inside its transaction: a task, and the promise to measure it."""
    task = Task.objects.create(url=url)
    outbox.add(get_url_length, task.id)
    return task


def send(row):
    """Enqueue one row's job, now (commit_mode="auto": not deferred to a commit)."""
    queue = django_rq.get_queue(row.queue, commit_mode="auto")
    func = import_string(row.func)  # a job that no longer exists fails here, at the relay
    return queue.enqueue(func, *row.args, job_id=row.job_id, unique=True)


def relay_once(batch=100, max_attempts=MAX_ATTEMPTS):
    """Send up to ``batch`` waiting rows to rq; return how many rows it marked sent."""
    with transaction.atomic():
        waiting = Outbox.objects.filter(sent_on__isnull=True, attempts__lt=max_attempts).order_by("id")
        if outbox.can_skip_locked():
            rows = list(waiting.select_for_update(skip_locked=True)[:batch])
        else:
            outbox.take_write_lock()
            rows = list(waiting[:batch])
        sent = []
        for row in rows:
            try:
                send(row)
            except DuplicateJobError:
                pass  # a crashed relay sent it already
            except redis.RedisError:
                break  # Redis is down: not the row's fault, the rest wait
            except Exception as error:
                row.attempts += 1
                row.last_error = str(error)[:255]
                row.save(update_fields=["attempts", "last_error"])
                continue
            sent.append(row.pk)
        Outbox.objects.filter(pk__in=sent).update(sent_on=timezone.now())
    return len(sent)
