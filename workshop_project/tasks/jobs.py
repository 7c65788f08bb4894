"""The background job: measure a task's URL.

It is the article's job, with one change: whatever happens to the fetch is
recorded on the task, so a task never stays "pending" once its job ran: a
failed fetch as its one-sentence reason, anything unexpected (rq's job
timeout, a bug) as "error: the job failed (...)", and then re-raised so rq
records it too. What still fails is the first line,
``Task.objects.get``, when the job starts before the view's transaction has
committed: that ``Task.DoesNotExist`` is the bug this workshop is about, so
it is deliberately not caught.
"""

import time

from django.db import OperationalError
from django_rq import job
from rq import get_current_job

from . import job_registry
from .fetch import FetchError, fetch_length
from .models import Task

SAVE_PATIENCE_SECONDS = 30  # on top of SQLite's own timeout; rq's job timeout is 60 s


@job_registry.register  # an outbox row may name it (job_registry.py)
@job("default")
def get_url_length(task_id):
    task = Task.objects.get(id=task_id)
    measure(task)


@job_registry.register
@job("default")
def create_task_and_measure(**fields):
    """Fix 3: the job creates the row itself from the request's data, so there is nothing to miss.

    It takes the form's fields by name (`url=...`) and returns the new task's id (lesson 04 prints it).
    """
    task = Task.objects.create(**fields)
    measure(task)
    return task.id


def measure(task):
    """Fetch the task's URL and store the outcome and the job's id on the task."""
    current = get_current_job()
    task.job_id = current.id if current else None
    try:
        task.url_length = fetch_length(task.url)
        task.result = "OK"
    except FetchError as error:
        task.url_length = None
        task.result = f"error: {error}"[:128]
    except Exception as error:  # rq's JobTimeoutException is one: never leave the task pending
        task.url_length = None
        task.result = f"error: the job failed ({type(error).__name__})"[:128]
        save_outcome(task)
        raise
    save_outcome(task)


def save_outcome(task, patience=SAVE_PATIENCE_SECONDS):
    """Write what the job found. On SQLite, a busy database ("database is locked" after the
    connection's timeout, while requests queue for the write lock) is waited out a while
    longer rather than leaving a task pending whose job did run."""
    deadline = time.monotonic() + patience
    while True:
        try:
            task.save(update_fields=["url_length", "job_id", "result"])
            return
        except OperationalError as error:
            if "database is locked" not in str(error) or time.monotonic() > deadline:
                raise
