# WRONG: A global side effect: instead of a worker class of its own it patches rq's shared SimpleWorker class at import
# WRONG: (signal handlers switched off, a timer death penalty) for every worker in the process, the live ones included.
# BLIND: written by helper rt1 from the docstring and lesson only, before reading the grader.
"""Exercise 01: reproduce the race, every time.  (Lesson: 02_the_race)

The race needs a worker that takes the job after ``.delay()`` and before the
transaction commits. A real worker does that only sometimes; to debug the
bug, or to prove a fix in a test, you need it every time. Build the tool:

``worker_in_the_block()`` is a context manager. When its block ends, a real
rq worker runs every job waiting in the queue, on another thread with its
own database connection, and the code after the block goes on only once
that worker has finished. Used inside a transaction, that is the race:

    with transaction.atomic():
        task = Task.objects.create(url=url)
        with worker_in_the_block():
            job = get_url_length.delay(task.id)
        # the job has run here, before the commit: Task.DoesNotExist

``reproduce(url)`` below is the article's view doing exactly that. Build
the tool from rq's own worker and a thread, not from the lab's amplifier:
it is meant for your own test suite, where there is no lab.

The grader uses your tool as a test suite would:
- inside a transaction, the app's own job for the app's own row fails with
  Task.DoesNotExist, and rq files it in its failed-job registry (every time);
- that same job, requeued after the commit and run by your tool (an empty
  block: the worker runs what waits in the queue), succeeds: so it was the
  race, not a wrong id and not another database;
- outside a transaction, a job it runs succeeds (same database as your code).

No sleeps: a sleep makes the race likely, not certain.

Grade it:  pytest exercises/ex01_reproduce
"""

import threading
from contextlib import contextmanager

import django_rq
from django.db import connections, transaction
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task

# rq installs signal handlers, which fail off the main thread: switch them off once, for every worker.
SimpleWorker._install_signal_handlers = lambda self: None
SimpleWorker.death_penalty_class = TimerDeathPenalty


@contextmanager
def worker_in_the_block(queue_name="default"):
    """When the block ends, run every queued job on another thread (its own database connection); wait for it."""
    queue = django_rq.get_queue(queue_name)
    yield
    errors = []

    def work():
        try:
            SimpleWorker([queue], connection=queue.connection).work(burst=True)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

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
