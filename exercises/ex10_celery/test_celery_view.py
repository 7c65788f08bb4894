"""Grades exercise 10's view: made safe, with a real Celery worker.

One real Celery worker runs on a thread for these checks (its own database
connection), and what it ran is read from Celery's result backend. Your
``check_view`` is graded in ``test_check_view.py``: it starts workers of its
own, so none of these may be running then.
"""

import pytest

from lab.grader import celery_worker, grading
from lab.grader.grading import page_path
from workshop_project.tasks.models import Task

PAGE = page_path("ex10_celery")


@pytest.fixture(scope="module")
def worker(django_db_blocker):
    """One real Celery worker for this module's checks (started once: a start and a stop cost
    about half a second, and the mutant suite grades many answers)."""
    with django_db_blocker.unblock(), celery_worker.worker():
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
