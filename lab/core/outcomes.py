"""What did the worker do? Read it back from rq and the database, with a deadline.

One record, :class:`Outcome`, says what one job did. Lessons count them,
``workshop race`` summarises them and the grader turns them into sentences;
"failed with DoesNotExist" is decided in one place, :attr:`Outcome.missed_its_row`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import django_rq
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.registry import FailedJobRegistry

from workshop_project.tasks.failures import exception_of, jobs_of_tasks, short_type
from workshop_project.tasks.models import Task

DEFAULT_TIMEOUT = 15.0
POLL_INTERVAL = 0.02


@dataclass
class Outcome:
    """How one job (or one submission) ended.

    ``status`` is one word a lesson can count: the task's status once its job
    finished ("OK" or "error"), the exception a failed job raised
    ("DoesNotExist", "ValueError"), rq's status for a job that has not run
    ("queued", "deferred", ...), or "timeout" / "no job" / "finished".
    The other fields say which job it was, as rq recorded it.
    """

    status: str
    task_id: int | None = None
    job_id: str | None = None
    detail: str = ""  # the task's result, or the exception's message
    func_name: str = ""  # "workshop_project.tasks.jobs.get_url_length"
    args: tuple = ()
    kwargs: dict | None = None
    job_status: str = ""  # rq's own: "finished", "failed", "queued", ...
    exc_type: str = ""  # a failed job's exception, dotted: "workshop_project.tasks.models.Task.DoesNotExist"

    @property
    def failed(self) -> bool:
        return self.job_status == JobStatus.FAILED

    @property
    def finished(self) -> bool:
        return self.job_status == JobStatus.FINISHED

    @property
    def missed_its_row(self) -> bool:
        """The job failed because the row it was given was not there (the race, or a wrong id)."""
        return self.failed and self.exc_type.endswith("DoesNotExist")

    @property
    def message(self) -> str:
        return self.detail

    @property
    def short_type(self) -> str:
        """ "Task.DoesNotExist" rather than the full dotted path."""
        return short_type(self.exc_type)

    @property
    def call(self) -> str:
        """``get_url_length(3)``"""
        arguments = [repr(arg) for arg in self.args]
        arguments += [f"{key}={value!r}" for key, value in (self.kwargs or {}).items()]
        return f"{self.func_name.rsplit('.', 1)[-1] or 'a job'}({', '.join(arguments)})"

    def __str__(self) -> str:
        if not self.failed:
            return f"{self.call} {self.job_status or self.status}"
        text = f"{self.call} failed with {self.short_type}: {self.detail.rstrip('.')}"
        if "database is locked" in self.detail:
            text += (
                " (a transaction that had written to the database was still open, so SQLite kept the job from writing)"
            )
        return text


def _status_of(job: Job) -> str:
    status = job.get_status(refresh=True)
    return str(getattr(status, "value", status) or "")


def outcome_of(job: Job) -> Outcome:
    """Everything rq (and the task's row) says about one job, whatever its state."""
    job_status = _status_of(job)
    try:
        args, kwargs = tuple(job.args), dict(job.kwargs)
    except Exception:  # a job whose arguments cannot be unpickled here
        args, kwargs = (), {}
    outcome = Outcome(job_status, job_id=job.id, func_name=job.func_name or "", args=args, kwargs=kwargs or None)
    outcome.job_status = job_status
    if job_status == JobStatus.FAILED:
        outcome.exc_type, outcome.detail = exception_of(job)
        outcome.status = outcome.exc_type.rsplit(".", 1)[-1] or "failed"
    elif job_status == JobStatus.FINISHED:
        task_id = args[0] if args and isinstance(args[0], int) else job.return_value()
        task = Task.objects.filter(id=task_id).first() if isinstance(task_id, int) else None
        outcome.status = task.status if task else "finished"
        outcome.task_id = task.id if task else task_id if isinstance(task_id, int) else None
        outcome.detail = (task.result or "") if task else ""
    if outcome.task_id is None and args and isinstance(args[0], int):
        outcome.task_id = args[0]
    return outcome


def outcome_of_job(job: Job) -> Outcome | None:
    """The job's outcome once it has finished or failed; None while it is still to run."""
    outcome = outcome_of(job)
    return outcome if outcome.job_status in (JobStatus.FAILED, JobStatus.FINISHED) else None


def fetch_outcome(job_id: str, queue_name: str = "default") -> Outcome | None:
    """The outcome of the job with this id; None if Redis holds no such job."""
    try:
        return outcome_of(Job.fetch(job_id, connection=django_rq.get_connection(queue_name)))
    except NoSuchJobError:
        return None


def failures(queue_name: str = "default", since: set | None = None) -> list[Outcome]:
    """The queue's failed jobs, oldest first (optionally only those not in ``since``)."""
    queue = django_rq.get_queue(queue_name)
    registry = FailedJobRegistry(queue=queue)
    ids = [job_id for job_id in registry.get_job_ids() if not since or job_id not in since]
    jobs = [job for job in Job.fetch_many(ids, connection=queue.connection) if job is not None]
    return [outcome_of(job) for job in jobs]


def clear_failures(queue_name: str = "default") -> None:
    """Empty the queue's failed-job registry (a lesson starts from a clean slate)."""
    queue = django_rq.get_queue(queue_name)
    registry = FailedJobRegistry(queue=queue)
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)


def clear_jobs(queue_name: str = "default") -> None:
    """Delete every job, queue and registry in the queue's Redis database: rq's keys only.

    Workers' registrations ("rq:worker...") are kept: a worker that is
    running stays known, and ``doctor`` and the tests still find it. Keys
    that are not rq's are never touched: the server may not be the workshop's
    alone (the grader runs against whatever answers at REDIS_URL).
    """
    connection = django_rq.get_connection(queue_name)
    stale = [key for key in connection.scan_iter(match="rq:*") if not key.startswith(b"rq:worker")]
    if stale:
        connection.delete(*stale)


def outcome_of_task(task_id: int, queue: Queue) -> Outcome | None:
    task = Task.objects.filter(id=task_id).first()
    if task and task.result:
        return Outcome(task.status, task.id, task.job_id, task.result, job_status=JobStatus.FINISHED)
    noted = jobs_of_tasks([task_id], queue.connection).get(task_id)
    if noted is not None:  # the project's queue noted the task's job: read that one job
        return outcome_of_job(noted) if noted.get_status(refresh=False) == JobStatus.FAILED else None
    # A job made on a plain rq Queue is not noted: look for it among the failed ones.
    registry = FailedJobRegistry(queue=queue)
    for job in Job.fetch_many(registry.get_job_ids(), connection=queue.connection):
        if job is not None and tuple(job.args[:1]) == (task_id,):
            return outcome_of_job(job)
    return None


def wait_for(
    task_id: int | None = None, job_id: str | None = None, timeout: float = DEFAULT_TIMEOUT, queue_name: str = "default"
) -> Outcome:
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
