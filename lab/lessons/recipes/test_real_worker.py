"""A test that can see the race: a real rq worker, on the test database, during the request.

``TransactionTestCase`` (pytest-django: ``django_db(transaction=True)``) lets
the request's transaction really commit, as in production. The worker is an
rq ``SimpleWorker`` on another thread, so it has its own connection to the
*test* database (a worker process would need to be told the test database's
name; a thread inherits the test settings). The lab's ``amplifier`` hands it
every job the instant it is enqueued, while the view is still inside its
transaction: a worker that is always faster than the view. Exercise 01
builds that piece yourself.

Lesson 08 runs this file: the correct view passes, the article's view fails.
"""

from django.test import TransactionTestCase

from lab.core.amplifier import amplifier
from lab.core.outcomes import clear_jobs, failures
from workshop_project.tasks.models import Task


class OnCommitViewTests(TransactionTestCase):
    databases = "__all__"  # ATOMIC_REQUESTS opens a transaction on both aliases
    page = "/variants/on_commit/"

    def setUp(self):
        clear_jobs()

    def test_the_worker_finds_the_task(self):
        with amplifier():  # every job is run at once, by a worker with its own connection
            response = self.client.post(self.page, {"url": "http://127.0.0.1:9/", "hold_ms": 0})
        assert response.status_code == 302
        for failure in failures():
            self.fail(f"{failure}: the job ran before the view's transaction committed")
        task = Task.objects.get(id=response["X-Task-Id"])
        assert task.result is not None, "the job never ran"


class ArticleViewTests(OnCommitViewTests):
    page = "/variants/broken/"
