# WRONG: Checks that the job got an int, not that it got this task's id.
"""Exercise 07, solved: tests that see what is enqueued before and after the commit.

``django_capture_on_commit_callbacks`` stands in for the commit a test never
makes: inside its block the view has run and nothing is committed; when the
block ends (with ``execute=True``) the callbacks run as a commit would run
them. The queue is real Redis, and no worker takes the jobs, so the test
reads exactly what the view enqueued, and when.
"""

import django_rq
import pytest

from workshop_project.tasks.models import Task

PAGE = "/variants/on_commit/"
URL = "http://127.0.0.1:8000/samples/1234/"

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def queue():
    """The queue get_url_length is enqueued on, empty at the start of each test."""
    queue = django_rq.get_queue("default")
    queue.empty()
    return queue


def test_nothing_is_enqueued_before_the_commit(client, queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(PAGE, {"url": URL})
        assert response.status_code == 302
        assert queue.count == 0, "a job was enqueued before the commit"
    assert len(callbacks) == 1


def test_the_job_gets_the_tasks_id_after_the_commit(client, queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(PAGE, {"url": URL})
    task = Task.objects.get()
    jobs = queue.jobs
    assert [job.func_name for job in jobs] == ["workshop_project.tasks.jobs.get_url_length"]
    assert isinstance(jobs[0].args[0], int)


def test_a_failing_request_enqueues_nothing(client, queue, django_capture_on_commit_callbacks):
    client.raise_request_exception = False
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(PAGE, {"url": URL, "fail": "on"})
    assert response.status_code == 500
    assert callbacks == [], "a request that failed left a callback to run at the commit"
    assert queue.count == 0
