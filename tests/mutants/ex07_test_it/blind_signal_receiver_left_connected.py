# WRONG: The tests are right, but the file connects a got_request_exception receiver at import and never disconnects
# it: every later request in the process (the grader's, the project's own tests) is recorded by this test file
# (a signal receiver registered globally).
# BLIND (rt2, from the docstring and lesson only)
"""Exercise 07: test an on_commit view.  (Lesson: 08_testing)

Write tests for the page /variants/on_commit/ (its code is in
workshop_project/tasks/variants/on_commit.py): it creates a Task and
enqueues ``get_url_length`` for it with ``transaction.on_commit``.

The grader runs your tests against that view and against broken copies of
it: one that enqueues before the commit (the article's bug), one that never
enqueues, one that enqueues the job for the wrong task, one that enqueues it
twice, one that enqueues another function, and one that catches a failing
request's error and answers 500 itself (so the failed request commits, and
its job is enqueued). Your tests must pass on the real view and fail on
every broken one.

What you need to know:
- Each test runs in a transaction that is rolled back, never committed, so
  on_commit callbacks never run by themselves. pytest-django's
  ``django_capture_on_commit_callbacks`` fixture (Django's
  ``TestCase.captureOnCommitCallbacks``) collects them, and runs them when
  its block ends if you pass ``execute=True``.
- No worker runs here: a job that was enqueued waits in the queue. The
  ``queue`` fixture below is that queue, emptied before each test;
  ``queue.jobs`` lists its jobs (``job.func_name``, ``job.args``).
- ``client.post(PAGE, {"url": URL})`` submits the form as a browser would;
  add ``"fail": "on"`` and the request fails after the create (the view
  raises; set ``client.raise_request_exception = False`` to get the 500
  response instead of the exception).

This file is not collected by ``pytest exercises/`` itself (its name does
not start with ``test_``); the grader runs it. To run it alone:

    pytest --noconftest exercises/ex07_test_it/my_tests.py

Grade it:  pytest exercises/ex07_test_it
"""

import django_rq
import pytest
from django.core.signals import got_request_exception

from workshop_project.tasks.models import Task  # noqa: F401 (you will want it)

PAGE = "/variants/on_commit/"
URL = "http://127.0.0.1:8000/samples/1234/"

pytestmark = pytest.mark.django_db(databases="__all__")

ERRORS = []


def remember_the_error(sender, request=None, **kwargs):
    ERRORS.append(request.path if request is not None else None)


got_request_exception.connect(remember_the_error)


@pytest.fixture
def queue():
    """The queue get_url_length is enqueued on, empty at the start of each test."""
    queue = django_rq.get_queue("default")
    queue.empty()
    return queue


def test_nothing_is_enqueued_before_the_commit(client, queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(PAGE, {"url": URL})
        assert queue.count == 0
    assert len(callbacks) == 1


def test_the_job_gets_the_tasks_id_after_the_commit(client, queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(PAGE, {"url": URL})
    task = Task.objects.get(url=URL)
    assert [(job.func_name, job.args) for job in queue.jobs] == [
        ("workshop_project.tasks.jobs.get_url_length", (task.id,))
    ]


def test_a_failing_request_enqueues_nothing(client, queue, django_capture_on_commit_callbacks):
    client.raise_request_exception = False
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(PAGE, {"url": URL, "fail": "on"})
    assert response.status_code == 500
    assert ERRORS[-1] == PAGE  # the view really raised
    assert callbacks == []
    assert queue.count == 0
