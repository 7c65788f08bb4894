# WRONG: Claims rows whether or not they were sent: every pass sends every row again (rq refuses the copies, and the relay counts them as sent).
"""Exercise 09, solved: the outbox relay.

The request writes an ``Outbox`` row beside its task, in its own
transaction: both commit or neither does, and no Redis call can fail the
request. The relay claims rows in a transaction (``SKIP LOCKED`` on
PostgreSQL, so a second relay takes other rows; SQLite has no row locks, so
it takes the database's write lock and the relays take turns), enqueues each
with the row's fixed job id and ``unique=True``, and marks them sent in the
same transaction. A crash after the enqueue rolls the marks back; the next
pass sends again and rq refuses the copy (``DuplicateJobError``), so the job
runs once. A row that fails for its own reason counts an attempt and is left
alone at the limit; Redis being down only ends the pass.
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


def start_task(url):
    """The request's work, inside its transaction: a task, and the promise to measure it."""
    task = Task.objects.create(url=url)
    outbox.add(get_url_length, task.id)  # a row in this transaction: no Redis call
    return task


def send(row):
    """Enqueue one row's job, now (commit_mode="auto": not deferred to a commit)."""
    queue = django_rq.get_queue(row.queue, commit_mode="auto")
    func = import_string(row.func)  # a job that no longer exists fails here, at the relay
    return queue.enqueue(func, *row.args, job_id=row.job_id, unique=True)


def relay_once(batch=100, max_attempts=MAX_ATTEMPTS):
    """Send up to ``batch`` waiting rows to rq; return how many rows it marked sent."""
    with transaction.atomic():
        waiting = Outbox.objects.filter(attempts__lt=max_attempts).order_by("id")
        if outbox.can_skip_locked():
            waiting = waiting.select_for_update(skip_locked=True)
        else:
            outbox.take_write_lock()  # SQLite: one writer at a time, so relays take turns
        sent = []
        for row in waiting[:batch]:
            try:
                send(row)
            except DuplicateJobError:
                pass  # sent by a relay that crashed before marking it: rq refused the copy
            except redis.RedisError:
                break  # Redis is down: not this row's fault; the rest waits for the next pass
            except Exception as error:
                row.attempts += 1
                row.last_error = f"{type(error).__name__}: {error}"[:255]
                row.save(update_fields=["attempts", "last_error"])
                continue
            sent.append(row.pk)
        Outbox.objects.filter(pk__in=sent).update(sent_on=timezone.now())
    return len(sent)
