"""What did the worker do? Read it back from rq and the database, with a deadline."""

import time
from dataclasses import dataclass

import django_rq
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry

from workshop_project.tasks.failures import exception_of, short_type
from workshop_project.tasks.models import Task

DEFAULT_TIMEOUT = 15.0
POLL_INTERVAL = 0.02


@dataclass
class Failure:
    """One failed job, as the worker recorded it."""

    job_id: str
    func_name: str
    args: tuple
    exc_type: str  # e.g. "workshop_project.tasks.models.Task.DoesNotExist"
    message: str  # e.g. "Task matching query does not exist."

    @property
    def is_does_not_exist(self):
        return self.exc_type.endswith("DoesNotExist")

    @property
    def short_type(self):
        """ "Task.DoesNotExist" rather than the full dotted path."""
        return short_type(self.exc_type)

    def __str__(self):
        return f"{self.func_name}{self.args}: {self.short_type}: {self.message}"


def failure_of(job):
    exc_type, message = exception_of(job)
    return Failure(job.id, job.func_name, tuple(job.args), exc_type, message)


def failures(queue_name="default", since=None):
    """The queue's failed jobs, oldest first (optionally only those not in ``since``)."""
    queue = django_rq.get_queue(queue_name)
    registry = FailedJobRegistry(queue=queue)
    ids = [job_id for job_id in registry.get_job_ids() if not since or job_id not in since]
    jobs = [job for job in Job.fetch_many(ids, connection=queue.connection) if job is not None]
    return [failure_of(job) for job in jobs]


def clear_failures(queue_name="default"):
    """Empty the queue's failed-job registry (a lesson starts from a clean slate)."""
    queue = django_rq.get_queue(queue_name)
    registry = FailedJobRegistry(queue=queue)
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)


def clear_jobs(queue_name="default"):
    """Delete every job, queue and registry in the queue's Redis database.

    Workers' registrations ("rq:worker...") are kept: a worker that is
    running stays known, and ``doctor`` and the tests still find it.
    """
    connection = django_rq.get_connection(queue_name)
    stale = [key for key in connection.scan_iter() if not key.startswith(b"rq:worker")]
    if stale:
        connection.delete(*stale)


@dataclass
class Outcome:
    """How one submission ended: "OK", "error" (recorded on the task),
    an exception name such as "DoesNotExist" (the job failed), or "timeout"."""

    status: str
    task_id: int | None = None
    job_id: str | None = None
    detail: str = ""

    @property
    def failed_with_does_not_exist(self):
        return self.status == "DoesNotExist"


def outcome_of_job(job):
    status = job.get_status(refresh=True)
    if status == JobStatus.FAILED:
        failure = failure_of(job)
        return Outcome(failure.exc_type.rsplit(".", 1)[-1] or "failed", job_id=job.id, detail=failure.message)
    if status == JobStatus.FINISHED:
        task_id = job.args[0] if job.args and isinstance(job.args[0], int) else job.return_value()
        task = Task.objects.filter(id=task_id).first()
        if task:
            return Outcome(task.status, task.id, job.id, task.result or "")
        return Outcome("finished", task_id, job.id)
    return None


def outcome_of_task(task_id, queue):
    task = Task.objects.filter(id=task_id).first()
    if task and task.result:
        return Outcome(task.status, task.id, task.job_id, task.result)
    registry = FailedJobRegistry(queue=queue)
    for job in Job.fetch_many(registry.get_job_ids(), connection=queue.connection):
        if job is not None and tuple(job.args[:1]) == (task_id,):
            return outcome_of_job(job)
    return None


def wait_for(task_id=None, job_id=None, timeout=DEFAULT_TIMEOUT, queue_name="default"):
    """Poll until the job has finished or failed, or until ``timeout`` seconds pass.

    Give the job id when you have it; with only a task id (an ``on_commit``
    view cannot know its job's id), the task row and the failed-job registry
    are watched instead.
    """
    if task_id is None and job_id is None:
        raise ValueError("wait_for needs a task_id or a job_id")
    queue = django_rq.get_queue(queue_name)
    deadline = time.monotonic() + timeout
    while True:
        if job_id:
            job = Job.fetch(job_id, connection=queue.connection)
            outcome = outcome_of_job(job)
        else:
            outcome = outcome_of_task(task_id, queue)
        if outcome:
            return outcome
        if time.monotonic() > deadline:
            return Outcome("timeout", task_id, job_id, f"nothing happened within {timeout:g} s: is the worker running?")
        time.sleep(POLL_INTERVAL)
