"""Jobs that ask the worker one question, for the grader and the notebooks.

``find_task`` answers "can the worker see this row yet?": it fails with
``Task.DoesNotExist`` unless the task is committed on the database it is
told to read, exactly like the article's job does on its first line.
``answer`` waits for such a job and says, in one line, what the worker saw.

This module is imported by the worker for every ``find_task`` job: keep it small.
"""

import time

from django_rq import job
from rq.job import Job, JobStatus

from workshop_project.tasks.models import Task

from .outcomes import POLL_INTERVAL, outcome_of


@job("default")
def find_task(task_id, using="default"):
    """Return ``task_id`` if the worker can read that task on database ``using``."""
    return Task.objects.using(using).get(id=task_id).id


def answer(job: Job, timeout: float = 10.0) -> str:
    """Wait for a ``find_task`` job to end; say what the worker saw, in one line."""
    deadline = time.monotonic() + timeout
    while True:
        status = job.get_status(refresh=True)
        if status == JobStatus.FINISHED:
            return f"the worker found task {job.return_value()}"
        if status == JobStatus.FAILED:
            return f"the worker did not find task {job.args[0]}: {outcome_of(job).short_type}"
        if time.monotonic() > deadline:
            return f"the worker has not run the job after {timeout:g} s (it is {status})"
        time.sleep(POLL_INTERVAL)
