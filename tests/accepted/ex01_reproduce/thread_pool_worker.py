# ACCEPTED: a hand-made thread worker: rq's Worker in a one-thread pool, whose result() raises the thread's error here.
"""Exercise 01, solved: a burst worker on another thread, run when the block ends.

The thread gets its own database connection from Django, so the worker sees
only what is committed, exactly as a worker process would. rq's worker
normally installs signal handlers and times jobs out with SIGALRM; signals
only work on the main thread, so this worker uses a timer instead and
installs none. An error on the thread is kept and raised again on the
caller's thread: a tool that loses its worker's errors reports "no race"
when the truth is "no worker".
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import django_rq
from django.db import connections, transaction
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task


class ThreadWorker(SimpleWorker):
    """rq's worker, runnable off the main thread: a timer for job timeouts, no signal handlers."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass


@contextmanager
def worker_in_the_block(queue_name="default"):
    """When the block ends, run every queued job on another thread (its own database connection); wait for it."""
    queue = django_rq.get_queue(queue_name)
    yield

    def work():
        try:
            return ThreadWorker([queue], connection=queue.connection).work(burst=True)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(work).result()


def reproduce(url):
    with transaction.atomic():  # the request's transaction
        task = Task.objects.create(url=url)
        with worker_in_the_block():
            job = get_url_length.delay(task.id)
    return job.id
