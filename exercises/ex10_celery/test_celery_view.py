"""Grades exercise 10: the article's Celery view, made safe, with a real Celery worker; and your check_view.

The view's checks run a real Celery worker on a thread (its own database
connection) and read what it ran from Celery's result backend. Your
``check_view`` is run on your view, where it must pass, and on three broken
views, where it must raise ``AssertionError``; those are served from this
module's ``urlpatterns`` (the project's own pages stay where they are).
"""

import pytest
from django.test import Client
from django.urls import include, path

from lab.grader import celery_worker, grading
from lab.grader.grading import page_path
from workshop_project.celery import app as celery_app
from workshop_project.tasks.celery_jobs import measure_task
from workshop_project.tasks.models import Task
from workshop_project.tasks.views import TaskFormView

PAGE = page_path("ex10_celery")
ARTICLE = "/variants/celery/"  # the article's view on Celery: .delay(), then hold
NEVER_SENDS, ANOTHER_ID = "/graded/never-sends/", "/graded/another-id/"


class NeverSends(TaskFormView):
    """Creates the task and forgets to send it."""

    def form_valid(self, form):
        task = Task.objects.create(url=form.cleaned_data["url"])
        self.rest_of_request(form)
        return self.started(task=task)


class SendsAnotherId(TaskFormView):
    """Sends at the commit, but for another task (one that exists, so the worker measures it)."""

    def form_valid(self, form):
        task = Task.objects.create(url=form.cleaned_data["url"])
        other = Task.objects.create(url=form.cleaned_data["url"])
        measure_task.delay_on_commit(other.id)
        self.rest_of_request(form)
        return self.started(task=task)


urlpatterns = [
    path(NEVER_SENDS.strip("/") + "/", NeverSends.as_view()),
    path(ANOTHER_ID.strip("/") + "/", SendsAnotherId.as_view()),
    path("", include("workshop_project.urls")),
]


@pytest.fixture(autouse=True)
def celery_state(settings):
    """An empty Celery database, this module's pages served, and Celery's settings as they were."""
    celery_worker.flush()
    settings.ROOT_URLCONF = __name__
    eager = celery_app.conf.task_always_eager
    yield
    celery_app.conf.task_always_eager = eager  # a check_view that switched eager mode on leaves it here


@pytest.fixture
def worker():
    """A real Celery worker for the view's checks (check_view starts its own, so not for those)."""
    with celery_worker.worker():
        yield


def expect_measured(task_id, when):
    """The task's row says OK; else one sentence on what the worker ran instead."""
    task = Task.objects.get(id=task_id)
    if task.result == "OK":
        return
    runs = celery_worker.runs()
    mine = [run for run in runs if run.args[:1] == [task_id]]
    failed = [run for run in mine if run.status == "FAILURE"]
    if failed:
        grading.fail(
            f"{when}, the Celery worker ran {failed[0]}; expected it to find the row: "
            "send the task when the transaction commits."
        )
    if not runs:
        grading.fail(f"{when}, no measure_task reached the Celery worker; expected one, sent at the commit.")
    if not mine:
        grading.fail(
            f"{when}, the worker ran {runs[0].call}, for another task; expected measure_task({task_id}), "
            "the id of the task the view created."
        )
    grading.fail(f"{when}, task {task_id} was not measured (its result: {task.result!r}); expected 'OK'.")


def test_the_worker_finds_its_row(browser, samples, worker):
    response = grading.post_form(browser, PAGE, samples.url())
    celery_worker.settle()
    expect_measured(grading.task_id_of(response), "After a request that succeeded")


def test_one_task_for_the_tasks_own_id(browser, samples, worker):
    response = grading.post_form(browser, PAGE, samples.url())
    task_id = grading.task_id_of(response)
    celery_worker.settle()
    runs = celery_worker.runs()
    if not runs and Task.objects.get(id=task_id).result:
        grading.fail(
            f"Task {task_id} was measured, but no measure_task reached the Celery worker: the view ran it itself, "
            "in the request; expected it sent to the worker, at the commit."
        )
    if len(runs) != 1:
        grading.fail(
            f"One request sent {len(runs)} measure_task messages ({', '.join(run.call for run in runs) or 'none'}); "
            "expected exactly one."
        )
    if runs[0].args != [task_id]:
        grading.fail(f"The request sent {runs[0].call}; expected measure_task({task_id}), its own task's id.")
    expect_measured(task_id, "After one request")


def test_a_failing_request_sends_nothing(browser, samples, worker):
    grading.post_form(browser, PAGE, samples.url(), failing=True)
    celery_worker.settle()
    runs = celery_worker.runs()
    if runs:
        grading.fail(
            f"A request that failed after the create still sent a task: the worker ran {runs[0]}; "
            "expected nothing, because its transaction rolled back."
        )


def run_check(learner, page, samples, what, should_pass):
    """Run the learner's check_view on ``page``; it must pass there, or raise AssertionError."""
    check = getattr(learner, "check_view", None)
    if not callable(check):
        grading.fail("Your file has no check_view(client, page, url); expected the test you write there.")
    try:
        check(Client(HTTP_HOST="localhost"), page, samples.url())
    except AssertionError as error:
        if should_pass:
            grading.fail(
                f"Your check_view raised AssertionError ({str(error) or 'a failed assert'}) on {what}; "
                "expected it to pass there: a real Celery worker measures that view's task after the commit."
            )
        return
    except Exception as error:  # the learner's code, or a view it drove: one sentence
        expected = "pass" if should_pass else "raise AssertionError"
        grading.fail(f"{grading.describe_error(error)} in check_view on {what}; expected it to {expected}.")
    if not should_pass:
        grading.fail(
            f"Your check_view passed on {what}; expected it to raise AssertionError. Does a real worker "
            "(not task_always_eager, not a mock) run the task, and do you read this request's own task?"
        )


def test_your_check_passes_on_your_view(learner, samples):
    run_check(learner, PAGE, samples, "your view", should_pass=True)


def test_your_check_fails_on_the_articles_view(learner, samples):
    run_check(learner, ARTICLE, samples, "the article's view (.delay() before the commit)", should_pass=False)


def test_your_check_fails_on_a_view_that_never_sends(learner, samples):
    run_check(learner, NEVER_SENDS, samples, "a view that never sends the task", should_pass=False)


def test_your_check_fails_on_a_view_that_sends_another_tasks_id(learner, samples):
    run_check(learner, ANOTHER_ID, samples, "a view that sends another task's id", should_pass=False)
