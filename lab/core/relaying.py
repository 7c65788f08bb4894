"""Put an outbox relay through what happens in production: a crash, a second relay, Redis gone.

Shared by lesson 10, exercise 09's grader and ``tests/test_outbox.py``. Nothing
here replaces the relay's own code: each helper runs a real relay function
(the app's or a learner's) on real threads, each with its own database
connection, against a real Redis, and only decides *when* things happen.
"""

import contextlib
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC

from django.db import connection, connections

from workshop_project.tasks.models import Outbox, Task

OUTBOX_TABLE = Outbox._meta.db_table


class SimulatedCrash(Exception):
    """The relay's process "died" here: its transaction is rolled back, as a lost connection's would be."""


def is_mark(sql):
    """The statement that marks outbox rows sent: an UPDATE of the table that sets sent_on."""
    sql = sql.lower()
    return sql.lstrip().startswith("update") and OUTBOX_TABLE in sql and "sent_on" in sql


@contextlib.contextmanager
def crash_before_mark():
    """On this thread's connection: the statement that marks rows sent fails, as if the
    process had died after enqueueing and before marking. Yields a list of the crashes."""
    crashes = []

    def wrapper(execute, sql, params, many, context):
        if is_mark(sql):
            crashes.append(sql)
            raise SimulatedCrash("the relay died after enqueueing, before marking the rows sent")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield crashes


@dataclass
class RelayRun:
    """What one relay on one thread did: its return value, or the error it raised."""

    name: str
    result: object = None
    error: BaseException | None = None
    claimed_at: float | None = None  # when its first query on the outbox, inside a transaction, returned
    finished_at: float | None = None


@dataclass
class TwoRelays:
    first: RelayRun
    second: RelayRun
    #: True when the second relay's claim returned while the first still held its rows
    #: (SKIP LOCKED); False when it had to wait for the first to finish (a lock, or SQLite's one writer).
    overlapped: bool = False
    notes: list = field(default_factory=list)


def two_relays_at_once(relay, hold=2.0, timeout=60.0):
    """Run ``relay()`` on two threads so that their passes overlap for certain.

    The first relay pauses right after its claim (its first read of the outbox
    inside a transaction) until the second relay's claim has returned, or for
    at most ``hold`` seconds if the second is kept waiting (a row lock, or
    SQLite's write lock). So a relay that does not lock its rows is caught
    every time, and one that does is never slowed down for long.
    """
    first, second = RelayRun("relay A"), RelayRun("relay B")
    second_claimed = threading.Event()
    first_claimed = threading.Event()

    def run(me, after_claim):
        def wrapper(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            claim = sql.lstrip().lower().startswith("select") and OUTBOX_TABLE in sql.lower()
            if claim and me.claimed_at is None and connection.in_atomic_block:
                me.claimed_at = time.monotonic()
                after_claim()
            return result

        try:
            with connection.execute_wrapper(wrapper):
                me.result = relay()
        except BaseException as error:  # reported to the caller, who says what went wrong
            me.error = error
        finally:
            me.finished_at = time.monotonic()
            if me is first:
                first_claimed.set()  # never leave the second one waiting for a relay that crashed
            else:
                second_claimed.set()
            connections.close_all()

    def first_after_claim():
        first_claimed.set()
        second_claimed.wait(hold)

    threads = [
        threading.Thread(target=run, args=(first, first_after_claim), name="relay-A", daemon=True),
        threading.Thread(target=run, args=(second, second_claimed.set), name="relay-B", daemon=True),
    ]
    threads[0].start()
    first_claimed.wait(timeout)  # the second starts once the first holds its rows
    threads[1].start()
    for thread in threads:
        thread.join(timeout)
    both = TwoRelays(first, second)
    if second.claimed_at is not None and first.finished_at is not None:
        both.overlapped = second.claimed_at < first.finished_at
    return both


class StoppableRedis:
    """A private redis-server on a fixed loopback port that can really be stopped and started again.

    Stopped means stopped: the process exits and every client gets
    "Connection refused", as when Redis crashes or restarts in production.
    """

    def __init__(self, port=None):
        from lab.testing import free_port, redis_binary

        self.binary = redis_binary()  # a system redis-server, else pip's valkey-server; one line if neither
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = tempfile.TemporaryDirectory(prefix="workshop-outage-redis-")
        self.process = None

    def client(self):
        import redis

        return redis.Redis(port=self.port, socket_connect_timeout=1)

    def start(self):
        from lab.testing import wait_until

        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", self.folder.name]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(self.client().ping, "the private redis-server", process=self.process)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def close(self):
        self.stop()
        self.folder.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


class LessonQueue:
    """A queue of the lesson's own, whose Redis the lesson can take away and give back.

    The live relay sends the rows of the queues it knows ("default"); rows
    that name this queue wait for a relay started in the notebook. While
    "down", the queue points at a loopback port where nothing listens: every
    enqueue gets a real "Connection refused", as from a stopped Redis; the
    workshop's own Redis keeps serving the web and the worker meanwhile.
    The outbox variant's rows name this queue while it is open (this process
    only: requests sent with Django's test ``Client`` from the notebook).
    """

    def __init__(self, name="lesson10"):
        from django.conf import settings

        self.name = name
        self.queues = dict(settings.RQ_QUEUES)
        self.real_url = self.queues["default"]["URL"]
        self.url = None
        self._override = None
        self.redis_up()

    def _point_at(self, url):
        from django.test import override_settings

        if self._override is not None:
            self._override.disable()
        queues = {**self.queues, self.name: {**self.queues["default"], "URL": url}}
        self._override = override_settings(RQ_QUEUES=queues, WORKSHOP_OUTBOX_QUEUE=self.name)
        self._override.enable()
        self.url = url

    def redis_down(self):
        from lab.testing import free_port

        self._point_at(f"redis://127.0.0.1:{free_port()}/0")

    def redis_up(self):
        self._point_at(self.real_url)

    def close(self):
        if self._override is not None:
            self._override.disable()
            self._override = None


def enqueue_delays(variant, runs=10, timeout=30):
    """Submit ``runs`` requests to a live variant; for each, the milliseconds from the task's
    INSERT to its job's arrival in Redis (rq's ``enqueued_at``), once the job has run."""
    import django_rq
    from rq.job import Job

    from lab.core import web
    from lab.core.outcomes import wait_for

    submissions = [web.submit(variant) for _ in range(runs)]
    delays = []
    for submission in submissions:
        wait_for(task_id=submission.task_id, timeout=timeout)
        task = Task.objects.get(id=submission.task_id)
        job = Job.fetch(task.job_id, connection=django_rq.get_connection("default"))
        enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=UTC)
        delays.append((enqueued - task.created_on).total_seconds() * 1000)
    return delays
