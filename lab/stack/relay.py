"""The stack's outbox relay (``manage.py relay``, ``bin/run relay``): sends the outbox's rows to rq.

The request wrote an ``Outbox`` row in its own transaction
(``workshop_project/tasks/outbox.py``). A pass of the relay:

1. **claims** the oldest unsent rows, in a transaction. On PostgreSQL with
   ``SELECT ... FOR UPDATE SKIP LOCKED``: a second relay skips the rows the
   first one holds and takes the next ones. SQLite has no row locks (Django
   ignores ``select_for_update`` there), so the relay takes the database's
   one write lock first: relays take turns, and so do the requests' writes
   while a batch is being sent;
2. **enqueues** each with a job id made from the row's key (a UUID) and rq's
   ``unique=True`` (rq 2.8 and later): if a relay died after enqueueing but
   before marking, the next one's re-send is refused with
   ``DuplicateJobError`` instead of running the job a second time;
3. **marks** them sent, in the same transaction as the claim.

Delivery is at least once from the table's point of view (a crash means a
re-send) and once in rq, for as long as rq keeps the job's key
(``DEDUP_TTL``). A row whose send fails for its own reason (its job no
longer exists) counts an attempt and is left alone at ``MAX_ATTEMPTS``: a
poison row must not block the others or be retried forever. Redis being down
is not the row's fault: the relay stops the batch, keeps every row waiting,
and tries again on its next pass.

It lives in the lab, not in ``workshop_project/``: it is exercise 09's
answer, and a learner should meet it after trying (lessons 10 and 11 run it).
"""

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import django_rq
import redis
from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone
from rq.exceptions import DuplicateJobError

from workshop_project.tasks import job_registry
from workshop_project.tasks.models import Outbox, unknown_queue
from workshop_project.tasks.outbox import (
    BATCH,
    DEDUP_TTL,
    MAX_ATTEMPTS,
    POLL_INTERVAL,
    RETENTION,
    can_skip_locked,
    pending,
    take_write_lock,
)

logger = logging.getLogger(__name__)


def claim(batch=BATCH, max_attempts=MAX_ATTEMPTS, queues=None):
    """Lock and return up to ``batch`` unsent rows. Call it inside ``transaction.atomic()``."""
    rows = pending(max_attempts, queues)
    if can_skip_locked():
        return list(rows.select_for_update(skip_locked=True)[:batch])
    take_write_lock()
    return list(rows[:batch])


def send(row, connection=None):
    """Enqueue the row's job now, with its fixed job id; ``DuplicateJobError`` if rq has it already.

    The function is looked up among the registered jobs (``job_registry``),
    never imported from the row's text: a row may not run ``os.system``, nor
    stop the relay with a module that raises on import. A row whose job is not
    there (renamed by a deploy) fails at the relay, where it counts an
    attempt, instead of as a failed job for every re-send.

    ``commit_mode="auto"``: the relay must enqueue *inside* its transaction,
    before it marks the row. Deferred to the commit (django-rq's default), a
    crash right after the commit would lose the job: the very gap the outbox
    is here to close.
    """
    queue = django_rq.get_queue(row.queue, commit_mode="auto", connection=connection)
    return queue.enqueue(job_registry.find(row.func), *row.args, job_id=row.job_id, unique=True, result_ttl=DEDUP_TTL)


@dataclass
class Pass:
    """What one pass of the relay did."""

    sent: int = 0  # enqueued now
    duplicates: int = 0  # rq had the job already (a re-send after a crash): marked sent, not run again
    failed: int = 0  # this row's own error: one more attempt counted
    unknown_queue: int = 0  # rows for a queue not in RQ_QUEUES: a sentence written on each, once
    redis_error: str = ""  # Redis did not answer: the rest of the batch waits for the next pass

    @property
    def marked(self):
        return self.sent + self.duplicates

    def __str__(self):
        text = f"sent {self.sent}, already in rq {self.duplicates}, failed {self.failed}"
        text += f", unknown queue {self.unknown_queue}" if self.unknown_queue else ""
        return text + (f"; Redis: {self.redis_error}" if self.redis_error else "")


def relay_once(batch=BATCH, max_attempts=MAX_ATTEMPTS, queues=None, connection=None):
    """One pass: claim, enqueue, mark, in one transaction. Returns a ``Pass``.

    ``queues``: relay only the rows for these queues; a row for another queue
    waits for the relay that was given it. By default every queue in
    ``RQ_QUEUES``, and a row for a queue that is not there is an error: its
    ``last_error`` says so, once (no attempt is counted: a relay with other
    settings, a lesson's, may still send it).
    """
    done = Pass()
    if queues is None:
        queues = list(settings.RQ_QUEUES)
        # An idle pass is one read, outside any transaction: on SQLite it never takes
        # the write lock, so an idle relay never makes a request's write wait.
        waiting = set(
            pending(max_attempts)
            .filter(Q(queue__in=queues) | Q(last_error=""))
            .values_list("queue", flat=True)
            .distinct()
        )
        for name in sorted(waiting - set(queues)):
            done.unknown_queue += (
                pending(max_attempts).filter(queue=name, last_error="").update(last_error=unknown_queue(name)[:255])
            )
        if not waiting & set(queues):
            return done
    elif not pending(max_attempts, queues).exists():
        return done
    with transaction.atomic():
        sent_ids = []
        for row in claim(batch, max_attempts, queues):
            try:
                send(row, connection=connection)
            except DuplicateJobError:
                done.duplicates += 1
            except redis.RedisError as error:
                done.redis_error = f"{type(error).__name__}: {error}"
                break  # not this row's fault: it and the rest wait for the next pass
            except KeyboardInterrupt:
                raise  # the operator's Ctrl-C stops the relay (the transaction rolls back: nothing is lost)
            except BaseException as error:  # the row's own fault, whatever it raised (SystemExit included):
                # count it, go on with the others; a row must never stop the relay
                row.attempts += 1
                row.last_error = f"{type(error).__name__}: {error}"[:255]
                row.save(update_fields=["attempts", "last_error"])
                done.failed += 1
                continue
            else:
                done.sent += 1
            sent_ids.append(row.pk)
        if sent_ids:
            Outbox.objects.filter(pk__in=sent_ids).update(sent_on=timezone.now())
    return done


def clean(retention=RETENTION):
    """Delete the rows sent more than ``retention`` ago; return how many."""
    deleted, _ = Outbox.objects.filter(sent_on__lt=timezone.now() - retention).delete()
    return deleted


class Relay:
    """The relay's loop: ``relay_once`` until stopped, a heartbeat file, and a clean-up now and then.

    ``manage.py relay`` runs it in its own process; a lesson or a test can run
    it on a thread (``start()``/``stop()``), with its own database connection.
    """

    def __init__(
        self,
        interval=POLL_INTERVAL,
        batch=BATCH,
        max_attempts=MAX_ATTEMPTS,
        heartbeat=None,
        queues=None,
        redis_connection=None,
        clean_every=60.0,
    ):
        self.interval = interval
        self.batch = batch
        self.max_attempts = max_attempts
        self.heartbeat = Path(heartbeat) if heartbeat else None
        self.queues = queues
        self.redis_connection = redis_connection
        self.clean_every = clean_every
        self.stopping = threading.Event()
        self.passes = 0
        self.totals = Pass()
        self._thread = None

    def run(self):
        last_clean = time.monotonic()
        redis_was_down = False
        database_error = None
        while not self.stopping.is_set():
            try:
                done = relay_once(self.batch, self.max_attempts, self.queues, connection=self.redis_connection)
            except DatabaseError as error:  # not migrated, PostgreSQL restarting, SQLite busy too long
                if str(error) != database_error:
                    logger.warning("relay: the database refused this pass (%s); trying again", error)
                database_error = str(error)
                close_old_connections()
                self.stopping.wait(self.interval)
                continue  # no heartbeat: a relay that cannot read its table is not healthy
            database_error = None
            self.passes += 1
            self.totals.sent += done.sent
            self.totals.duplicates += done.duplicates
            self.totals.failed += done.failed
            if done.marked or done.failed or done.unknown_queue:
                logger.info("relay: %s", done)
            if done.redis_error and not redis_was_down:
                logger.warning("relay: Redis is down (%s); the rows wait in the outbox", done.redis_error)
            elif redis_was_down and not done.redis_error:
                logger.warning("relay: Redis is back")
            redis_was_down = bool(done.redis_error)
            if self.heartbeat:
                self.heartbeat.touch()
            if time.monotonic() - last_clean > self.clean_every:
                try:
                    clean()
                except DatabaseError as error:  # the next clean-up will try again
                    logger.warning("relay: could not delete old sent rows (%s)", error)
                last_clean = time.monotonic()
            if done.marked < self.batch or done.redis_error:  # a full batch: more may wait, go on at once
                self.stopping.wait(self.interval)
        close_old_connections()

    def start(self):
        """Run the loop on a thread (its own database connection); returns self."""
        from django.db import connections

        def loop():
            try:
                self.run()
            finally:
                connections.close_all()

        self._thread = threading.Thread(target=loop, name="outbox-relay", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout=30):
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
