"""Grades exercise 10's check_view: your test, with a real Celery worker.

It must pass on your view and raise ``AssertionError`` on three broken ones:
the article's view (``/variants/celery/``) and two served from this module's
``urlpatterns`` (the project's own pages stay where they are). Your check
starts its own worker; the grader's (``test_celery_view.py``) is not running.
"""

import pytest
from django.test import Client
from django.urls import include, path

from lab.grader import grading
from lab.grader.grading import page_path
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
def graded_pages(settings):
    """This module's broken views, beside the project's pages."""
    settings.ROOT_URLCONF = __name__


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
