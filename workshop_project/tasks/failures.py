"""What the worker's failures say, read from each task's own job.

The page shows a task whose job failed as failed, with the exception (a job
that raised ``Task.DoesNotExist`` never writes to its row, so the row alone
would say "pending" forever). The job is found by the task's id
(``queues.JOB_OF_TASK``, noted when the job was made), never by reading rq's
failed-job registry: a day of lessons leaves thousands of failed jobs there,
and one row's poll read them all.
"""

from typing import NamedTuple

import django_rq
from rq.job import Job, JobStatus

from .queues import JOB_OF_TASK


class Failed(NamedTuple):
    """What the page shows for a task whose job failed."""

    job_id: str
    exc_type: str  # "Task.DoesNotExist"
    message: str


def last_exception_line(exc_string):
    """Split a traceback's exception line ("pkg.Error: message") into type and message.

    rq stores the whole traceback, source lines included. The exception line
    is the first unindented line after the last frame; a message may go on
    for more lines (PostgreSQL adds "DETAIL: Key (id)=(3) already exists."),
    which are not the exception's type.
    """
    lines = [line for line in (exc_string or "").strip().splitlines() if line.strip()]
    if not lines:
        return "", ""
    frames = [index for index, line in enumerate(lines) if line.startswith("  File ")]
    after = [line for line in lines[frames[-1] + 1 :] if not line.startswith(" ")] if frames else []
    exc_type, _, message = (after[0] if after else lines[-1]).partition(": ")
    return exc_type.strip(), message.strip()


def short_type(exc_type):
    """ "Task.DoesNotExist" rather than "workshop_project.tasks.models.Task.DoesNotExist"."""
    parts = exc_type.split(".")
    return ".".join([part for part in parts if part[:1].isupper()] or parts[-1:])


def exception_of(job):
    """("workshop_project.tasks.models.Task.DoesNotExist", "Task matching query does not exist.")"""
    result = job.latest_result()
    return last_exception_line(result.exc_string if result else job.exc_info)


def jobs_of_tasks(task_ids, connection):
    """``{task id: its last job}`` for the tasks that have one rq still keeps: two round trips in all."""
    task_ids = list(task_ids)
    job_ids = connection.hmget(JOB_OF_TASK, [str(task_id) for task_id in task_ids]) if task_ids else []
    noted = [(task_id, job_id.decode()) for task_id, job_id in zip(task_ids, job_ids, strict=True) if job_id]
    jobs = Job.fetch_many([job_id for _, job_id in noted], connection=connection) if noted else []
    return {
        task_id: job
        for (task_id, _), job in zip(noted, jobs, strict=True)
        if job is not None and tuple(job.args[:1]) == (task_id,)
    }


def failures_by_task(task_ids, queue_name="default"):
    """``{task id: Failed(...)}`` for the tasks among ``task_ids`` whose last job failed."""
    connection = django_rq.get_queue(queue_name).connection
    found = {}
    for task_id, job in jobs_of_tasks(task_ids, connection).items():
        if job.get_status(refresh=False) == JobStatus.FAILED:
            exc_type, message = exception_of(job)
            found[task_id] = Failed(job.id, short_type(exc_type), message)
    return found
