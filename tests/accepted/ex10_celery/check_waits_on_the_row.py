# ACCEPTED: check_view waits for the row with a deadline instead of a ping barrier
"""Exercise 10, solved: the article's Celery view, safe, and a test with a real Celery worker.

``delay_on_commit`` (Celery >= 5.4) is ``transaction.on_commit(partial(self.delay, ...))``:
the message is sent when the transaction commits, never if it rolls back. It
returns ``None``, so ``hold`` has nothing to wait for.

``check_view`` runs a real worker on a thread of this process
(``celery.contrib.testing.worker.start_worker``, the solo pool: one task at a
time, in order) with its own database connection. The ``ping`` sent after the
request is a barrier: when it answers, the worker has run every message the
request sent before it. Only then is the row read.
"""

from celery.contrib.testing.worker import start_worker

from workshop_project.celery import app as celery_app
from workshop_project.tasks.celery_jobs import measure_task
from workshop_project.tasks.enqueue_ways import hold
from workshop_project.tasks.models import Task
from workshop_project.tasks.views import TASK_ID_HEADER, TaskFormView


class View(TaskFormView):
    source = __file__

    def form_valid(self, form):
        task = Task.objects.create(url=form.cleaned_data["url"])
        result = measure_task.delay_on_commit(task.id)  # None: sent when the transaction commits
        hold(result)
        self.rest_of_request(form)
        return self.started(task=task)


def check_view(client, page, url):
    """Post the form to ``page``; raise AssertionError unless a real Celery worker measured the task."""
    import time

    with start_worker(celery_app, pool="solo", perform_ping_check=False):
        response = client.post(page, {"url": url})
        task_id = int(response[TASK_ID_HEADER])
        deadline = time.monotonic() + 2
        while not Task.objects.get(id=task_id).result and time.monotonic() < deadline:
            time.sleep(0.05)
    assert Task.objects.get(id=task_id).result == "OK", f"task {task_id} was not measured"
