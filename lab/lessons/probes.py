"""Jobs that ask the worker one question, for the grader and the notebooks.

``find_task`` answers "can the worker see this row yet?": it fails with
``Task.DoesNotExist`` unless the task is committed on the database it is
told to read, exactly like the article's job does on its first line.
``answer`` waits for such a job and says, in one line, what the worker saw.
``read_url`` returns what the worker reads (lesson 02's stale read),
``insert_if_missing`` is the duplicate-key symptom, and ``first_query``
times the worker's pickup.

This module is imported by the worker for every ``find_task`` job: keep it small.
"""

import time

from django_rq import job
from rq import get_current_job
from rq.job import Job, JobStatus

from lab.core.outcomes import POLL_INTERVAL, outcome_of
from workshop_project.tasks.models import Task


@job("default")
def find_task(task_id, using="default"):
    """Return ``task_id`` if the worker can read that task on database ``using``."""
    return Task.objects.using(using).get(id=task_id).id


@job("default")
def read_url(task_id):
    """The URL of the task, as the worker sees it."""
    return Task.objects.get(id=task_id).url


@job("default")
def url_of(task):
    """The URL of a task passed as a model instance: what rq pickled, not what the database holds."""
    return task.url


@job("default")
def insert_if_missing(task_id, url):
    """Create the task unless the worker can see it; say in the job's meta when it has looked."""
    missing = not Task.objects.filter(id=task_id).exists()
    current = get_current_job()
    current.meta["looked"] = "missing" if missing else "there"
    current.save_meta()
    if missing:
        Task.objects.create(id=task_id, url=url)


@job("default")
def first_query(sent):
    """Seconds from ``sent`` (the enqueuer's ``time.time()``) to the end of this job's first query."""
    Task.objects.exists()
    return time.time() - sent


def finished(job: Job, timeout: float = 10.0) -> JobStatus:
    """Wait until the job has finished or failed (or ``timeout`` seconds); return its status."""
    deadline = time.monotonic() + timeout
    while True:
        status = job.get_status(refresh=True)
        if status in (JobStatus.FINISHED, JobStatus.FAILED) or time.monotonic() > deadline:
            return status
        time.sleep(POLL_INTERVAL)


def returned(job: Job, timeout: float = 10.0):
    """What the job returned, once it has finished (None if it failed or did not run in time)."""
    return job.return_value() if finished(job, timeout) == JobStatus.FINISHED else None


def answer(job: Job, timeout: float = 10.0) -> str:
    """Wait for a ``find_task`` job to end; say what the worker saw, in one line."""
    status = finished(job, timeout)
    if status == JobStatus.FINISHED:
        return f"the worker found task {job.return_value()}"
    if status == JobStatus.FAILED:
        return f"the worker did not find task {job.args[0]}: {outcome_of(job).short_type}"
    return f"the worker has not run the job after {timeout:g} s (it is {status})"
