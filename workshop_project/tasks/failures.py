"""What the worker's failures say, read from rq's failed-job registry.

The page shows a task whose job failed as failed, with the exception (a job
that raised ``Task.DoesNotExist`` never writes to its row, so the row alone
would say "pending" forever). The lab reads the same registry the same way.
"""

from typing import NamedTuple

import django_rq
from rq.job import Job
from rq.registry import FailedJobRegistry


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


def failed_jobs(queue_name="default"):
    """The queue's failed jobs (those rq still has), in the registry's order."""
    queue = django_rq.get_queue(queue_name)
    ids = FailedJobRegistry(queue=queue).get_job_ids()
    return [job for job in Job.fetch_many(ids, connection=queue.connection) if job is not None]


def exception_of(job):
    """("workshop_project.tasks.models.Task.DoesNotExist", "Task matching query does not exist.")"""
    result = job.latest_result()
    return last_exception_line(result.exc_string if result else job.exc_info)


def failures_by_task(task_ids, queue_name="default"):
    """``{task id: Failed(...)}`` for the failed jobs whose first argument is one of ``task_ids``."""
    wanted = set(task_ids)
    found = {}
    for job in failed_jobs(queue_name):
        task_id = job.args[0] if job.args else None
        if isinstance(task_id, int) and task_id in wanted:
            exc_type, message = exception_of(job)
            found[task_id] = Failed(job.id, short_type(exc_type), message)
    return found
