# WRONG: Checks only the redirect and that a task exists: nothing about the queue or the job.
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


def test_the_view_creates_a_task(client, queue):
    response = client.post(PAGE, {"url": URL})
    assert response.status_code == 302
    assert Task.objects.count() == 1
