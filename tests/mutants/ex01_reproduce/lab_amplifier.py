# WRONG: Wraps the lab's amplifier instead of building the tool: nothing to paste into a real test suite.
"""Exercise 01, solved: a burst worker on another thread, run when the block ends.

The thread gets its own database connection from Django, so the worker sees
only what is committed, exactly as a worker process would. rq's worker
normally installs signal handlers and times jobs out with SIGALRM; signals
only work on the main thread, so this worker uses a timer instead and
installs none. An error on the thread is kept and raised again on the
caller's thread: a tool that loses its worker's errors reports "no race"
when the truth is "no worker".
"""

import threading
from contextlib import contextmanager

import django_rq
from django.db import connections, transaction
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from lab.core.amplifier import amplifier
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
    with amplifier():
        yield
    return
    queue = django_rq.get_queue(queue_name)
    errors = []

    def work():
        try:
            ThreadWorker([queue], connection=queue.connection).work(burst=True)
        except BaseException as error:  # raised again below, on the caller's thread
            errors.append(error)
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def reproduce(url):
    with transaction.atomic():  # the request's transaction
        task = Task.objects.create(url=url)
        with worker_in_the_block():
            job = get_url_length.delay(task.id)
    return job.id
