"""Lesson 08's table, measured: commit mode × test set-up × queue → what did the job see?

Run by the lesson as ``pytest lab/lessons/recipes/matrix.py``, on a test database
(pytest-django creates it) and a Redis database of its own (TEST_REDIS_URL).
Each trial posts, through Django's test client, to a view that does what
the article's view does (create a row, enqueue a job for it, under
``ATOMIC_REQUESTS``), on a queue in one commit mode, and then reads from
Redis what the job did: never ran, found the row, or ``DoesNotExist``.

The queues:

- ``ASYNC: False``: rq runs the job inline, inside ``.delay()``, on this
  thread and so on the test's own database connection;
- ``burst worker after``: a real queue, then ``SimpleWorker.work(burst=True)``
  once the request has returned, on this thread (the common test recipe);
- ``worker, own connection``: a real rq worker on another thread, with its
  own connection, that takes each job the instant it is enqueued (the lab's
  amplifier): what a fast worker does in production.

Each test writes its rows to the JSON file named by WORKSHOP_MATRIX_OUT and
then checks them against ``EXPECTED``: if django-rq or Django ever behave
differently, this run fails instead of the lesson showing a stale table.
"""

import json
import os
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from itertools import product

import django_rq
import pytest
from django.core.signals import got_request_exception, request_finished
from django.http import HttpResponse
from django.test import Client, TestCase, TransactionTestCase, override_settings
from django.urls import path
from django_rq import thread_queue
from rq import SimpleWorker
from rq.job import JobStatus

from lab.core.amplifier import amplifier
from lab.core.outcomes import clear_jobs
from lab.lessons.probes import find_task
from workshop_project.tasks.models import Task

MODES = ("auto", "on_db_commit", "request_finished")
INLINE, BURST, OWN_CONNECTION = "ASYNC: False", "burst worker after", "worker, own connection"
QUEUES = (INLINE, BURST, OWN_CONNECTION)

NEVER, FOUND, MISSED = "never ran", "found the row", "DoesNotExist"

#: What each set-up reports, by (commit mode, queue): TestCase, TestCase with
#: captureOnCommitCallbacks(execute=True), TransactionTestCase, pytest transaction=True.
EXPECTED = {
    ("auto", INLINE): (FOUND, FOUND, FOUND, FOUND),
    ("auto", BURST): (FOUND, FOUND, FOUND, FOUND),
    ("auto", OWN_CONNECTION): (MISSED, MISSED, MISSED, MISSED),
    ("on_db_commit", INLINE): (NEVER, FOUND, FOUND, FOUND),
    ("on_db_commit", BURST): (NEVER, FOUND, FOUND, FOUND),
    ("on_db_commit", OWN_CONNECTION): (NEVER, MISSED, FOUND, FOUND),
    ("request_finished", INLINE): (FOUND, FOUND, FOUND, FOUND),
    ("request_finished", BURST): (FOUND, FOUND, FOUND, FOUND),
    ("request_finished", OWN_CONNECTION): (MISSED, MISSED, FOUND, FOUND),
}
SETUPS = ("TestCase", "TestCase, capture(execute=True)", "TransactionTestCase", "pytest transaction=True")


@dataclass
class Trial:
    """One cell of the table."""

    setup: str
    mode: str
    queue: str
    job: str  # NEVER, FOUND or MISSED


def start_task(request, mode, queue):
    """The article's view: create a row and enqueue its job, inside the request's transaction."""
    task = Task.objects.create(url="http://127.0.0.1:9/")
    django_rq.get_queue("default", commit_mode=mode, is_async=queue != INLINE).enqueue(
        find_task, task.id, job_id=f"matrix-{task.id}"
    )
    return HttpResponse(str(task.id))


urlpatterns = [path("<str:mode>/<str:queue>/", start_task)]


def what_the_job_saw(job_id):
    job = django_rq.get_queue("default").fetch_job(job_id)
    if job is None:
        return NEVER
    status = job.get_status(refresh=True)
    if status == JobStatus.FINISHED:
        return FOUND
    if status == JobStatus.FAILED:
        return MISSED
    return NEVER  # still queued: no worker took it


def trial(setup, mode, queue, capture=None):
    """Post once to the view in ``mode`` on ``queue``; return what its job saw."""
    clear_jobs()
    if mode == "request_finished":  # what django-rq wires up when the project's mode is request_finished
        request_finished.connect(thread_queue.commit)
        got_request_exception.connect(thread_queue.clear)
    try:
        with amplifier() if queue == OWN_CONNECTION else nullcontext(), capture or nullcontext():
            task_id = int(Client().post(f"/{mode}/{queue}/").content)
        if queue == BURST:
            SimpleWorker([django_rq.get_queue("default")], connection=django_rq.get_connection()).work(burst=True)
    finally:
        request_finished.disconnect(thread_queue.commit)
        got_request_exception.disconnect(thread_queue.clear)
    return Trial(setup, mode, queue, what_the_job_saw(f"matrix-{task_id}"))


def record(trials, column):
    """Append the rows to the lesson's file, then check them against EXPECTED."""
    out = os.environ.get("WORKSHOP_MATRIX_OUT")
    if out:
        with open(out, "a", encoding="utf-8") as file:
            for row in trials:
                file.write(json.dumps(asdict(row)) + "\n")
    surprises = [
        f"{row.setup}, {row.mode}, {row.queue}: the job {row.job}, expected {EXPECTED[row.mode, row.queue][column]}"
        for row in trials
        if row.job != EXPECTED[row.mode, row.queue][column]
    ]
    assert not surprises, "; ".join(surprises)


def every_trial(setup, capture=None):
    return [trial(setup, mode, queue, capture() if capture else None) for mode, queue in product(MODES, QUEUES)]


@override_settings(ROOT_URLCONF=__name__)
class InTestCase(TestCase):
    databases = "__all__"

    def test_table(self):
        record(every_trial(SETUPS[0]), 0)

    def test_table_capturing_callbacks(self):
        record(every_trial(SETUPS[1], capture=lambda: self.captureOnCommitCallbacks(execute=True)), 1)


@override_settings(ROOT_URLCONF=__name__)
class InTransactionTestCase(TransactionTestCase):
    databases = "__all__"

    def test_table(self):
        record(every_trial(SETUPS[2]), 2)


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_table_with_pytest_transaction(settings):
    settings.ROOT_URLCONF = __name__
    record(every_trial(SETUPS[3]), 3)
