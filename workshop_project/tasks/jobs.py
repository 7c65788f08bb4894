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

from django_rq import job
from rq import get_current_job

from .fetch import FetchError, fetch_length
from .models import Task


@job("default")
def get_url_length(task_id):
    task = Task.objects.get(id=task_id)
    measure(task)


@job("default")
def create_task_and_measure(url):
    """Fix 3: the job creates the row itself, so there is nothing to miss."""
    task = Task.objects.create(url=url)
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
        task.save(update_fields=["url_length", "job_id", "result"])
        raise
    task.save(update_fields=["url_length", "job_id", "result"])
