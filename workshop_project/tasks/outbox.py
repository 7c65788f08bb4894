"""The transactional outbox: enqueue a job by writing a row, in the request's transaction.

The gap this closes is the one left after the commit: ``on_commit`` enqueues
after the transaction, so if Redis is down at that moment, or the process
dies between the commit and the callback, the row exists and its job does
not. Here the request does not talk to Redis at all. It writes an
``Outbox`` row in its own transaction (``add``), so the task and the promise
to run its job commit together or not at all.

A separate process, the relay, sends the committed rows to rq. Exercise 09
has you write one (lesson 10 shows what it must survive); the stack's own
relay, ``manage.py relay``, is the lab's (``lab/stack/relay.py``), so that
the answer does not sit here. This module holds what both share: the
settings below, ``add``, and the pieces of a claim each database needs
(``pending``, ``can_skip_locked``, ``take_write_lock``).
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection

from . import job_registry
from .job_registry import dotted_path
from .models import Outbox
from .relay_heartbeat import STALE_AFTER, heartbeat_path, last_pass_age  # noqa: F401 (doctor, manage.py relay)

#: How many rows one pass claims (one transaction).
BATCH = 100
#: Seconds between passes when the outbox is empty: the latency the relay adds, at most.
POLL_INTERVAL = 0.5
#: Failed sends after which a row is left alone (a poison row).
MAX_ATTEMPTS = 5
#: Sent rows are deleted after this long (kept a while to look at, and to count).
RETENTION = timedelta(hours=1)
#: How long rq keeps a relayed job's key after it ran, in seconds. While the key exists,
#: ``unique=True`` refuses a re-send of the same row; after that a re-send would run again.
DEDUP_TTL = 24 * 3600


def add(func, *args, queue=None):
    """Promise to run ``func(*args)``: an outbox row, in the caller's transaction. No Redis call.

    The queue defaults to ``settings.WORKSHOP_OUTBOX_QUEUE`` ("default").
    A function that is not a registered job (``job_registry.py``) is refused here,
    in the caller, with ``job_registry.UnknownJob`` (a ``ValueError``).
    """
    queue = queue or getattr(settings, "WORKSHOP_OUTBOX_QUEUE", "default")
    job_registry.find(dotted_path(func))
    return Outbox.objects.create(queue=queue, func=dotted_path(func), args=list(args))


def pending(max_attempts=MAX_ATTEMPTS, queues=None):
    """The rows still to send, oldest first, without the poison ones (only ``queues``'s, if given)."""
    rows = Outbox.objects.filter(sent_on__isnull=True, attempts__lt=max_attempts)
    if queues is not None:
        rows = rows.filter(queue__in=list(queues))
    return rows.order_by("id")


def can_skip_locked():
    """True on PostgreSQL (and MySQL 8, Oracle); False on SQLite, which has no row locks."""
    return connection.features.has_select_for_update_skip_locked


def take_write_lock():
    """SQLite: make this transaction the database's one writer now, not at its first real write.

    A write that changes nothing is enough. Without it, two relays would both
    read the same unsent rows (each in its own snapshot) and both send them.
    Another relay, or a request, that wants to write waits for this
    transaction to end (the ``timeout`` in settings: 20 s).
    """
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Outbox._meta.db_table} SET id = id WHERE 0")  # no input in it: a fixed statement
