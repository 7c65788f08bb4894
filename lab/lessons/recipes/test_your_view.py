"""A test that sees the race, for your own suite: Django's test client, rq, and exercise 01's tool.

The view is wrapped so that ``worker_in_the_block()`` ends *inside* the
request: when the view returns, a real rq worker on another thread (its own
database connection) runs what the view enqueued, before Django commits the
request's transaction (``ATOMIC_REQUESTS``). That is what a fast worker does
in production, every time. After the commit, the same tool runs what the
commit enqueued (``on_commit``). No lab, no patched rq: copy it, point
``VIEWS`` at your views.

Lessons 03 to 05 and 08 run it: it fails on the article's view and passes
on every fix.
"""

from functools import wraps

import django_rq
import pytest
from django.urls import path
from rq.job import Job

from exercises.ex01_reproduce.reproduce import worker_in_the_block  # exercise 01: your tool
from workshop_project.tasks.models import Task
from workshop_project.tasks.variants import autocommit, broken, in_job, non_atomic, on_commit


def worker_after(view):
    """The view, then a worker on its own connection, still inside the request's transaction."""

    @wraps(view)  # keeps @non_atomic_requests visible to Django's handler
    def wrapped(request, *args, **kwargs):
        with worker_in_the_block():
            return view(request, *args, **kwargs)

    return wrapped


VIEWS = {"broken": broken.View, "autocommit": autocommit.View, "non_atomic": non_atomic.View}
VIEWS |= {"in_job": in_job.View, "on_commit": on_commit.View}
urlpatterns = [path(f"{name}/", worker_after(view.as_view())) for name, view in VIEWS.items()]


@pytest.mark.urls(__name__)
@pytest.mark.django_db(transaction=True, databases="__all__")  # the request's transaction really commits
@pytest.mark.parametrize("name", VIEWS)
def test_the_job_finds_its_task(client, name):
    queue = django_rq.get_queue("default")
    queue.empty()
    failed = queue.failed_job_registry
    for job_id in failed.get_job_ids():  # the earlier tests' failures are not this one's
        failed.remove(job_id, delete_job=True)
    response = client.post(f"/{name}/", {"url": "http://127.0.0.1:9/", "hold_ms": 0})
    assert response.status_code == 302, response.status_code
    with worker_in_the_block():
        pass  # after the commit: run what the commit enqueued
    for job_id in failed.get_job_ids():
        error = Job.fetch(job_id, connection=queue.connection).latest_result().exc_string.strip().splitlines()[-1]
        kind, _, message = error.partition(": ")
        pytest.fail(f"the job failed: {kind.rsplit('.', 1)[-1]}: {message}")
    assert Task.objects.filter(result__isnull=False).count() == 1, "no task was measured: did the job run?"
