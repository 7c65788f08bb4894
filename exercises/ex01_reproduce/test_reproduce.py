"""Grades exercise 01: worker_in_the_block() makes the race certain, and it really is the race.

Each check uses the tool as a test suite would and reads what the worker did
from rq: the job, its status, and rq's failed-job registry. A job that ran on
the transaction's own connection (this thread, an inline queue) finds the
uncommitted row; a worker that reads another database fails even after the
commit. Neither is the race, and the sentences say so.
"""

import django_rq
from django.db import transaction
from rq.registry import FailedJobRegistry

from lab.grader import grading
from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Task

RUNS = 3
APP_JOB = f"{get_url_length.__module__}.{get_url_length.__name__}"


def from_the_lab(value):
    where = getattr(value, "__module__", None) or getattr(value, "__name__", None) or ""
    return isinstance(where, str) and (where == "lab" or where.startswith("lab."))


def tool(learner):
    """``learner.worker_in_the_block()``, checked to be a context manager built without the lab."""
    borrowed = sorted(
        name for name, value in vars(learner).items() if not name.startswith("__") and from_the_lab(value)
    )
    if borrowed:
        grading.fail(
            f"Your file uses the lab's {borrowed[0]}; expected a tool built from rq's worker and a thread "
            "(a test suite of your own has no lab to import)."
        )
    manager = learner.worker_in_the_block()
    if not (hasattr(manager, "__enter__") and hasattr(manager, "__exit__")):
        grading.fail(
            f"worker_in_the_block() returned {grading.shown(manager)}; expected a context manager (@contextmanager)."
        )
    return manager


def expect_the_race(job_id, task_id, after):
    """The job failed with Task.DoesNotExist in rq's failed-job registry: the app's own job, for ``task_id``."""
    if transaction.get_connection().closed_in_transaction:
        grading.fail(
            f"{after}, the transaction's own database connection had been closed: your tool closed this "
            "thread's connections. Expected the worker to run on another thread and close only its own."
        )
    run = grading.job_run(job_id)
    if run.finished:
        grading.fail(
            f"{after}, {run.call} had already run and found task {task_id} before the commit: it ran on the "
            "same database connection as the transaction (on this thread, or an inline queue), which sees the "
            "uncommitted row; a real worker never does. Expected a worker on another thread, with its own "
            "connection, to fail with Task.DoesNotExist."
        )
    if not run.failed:
        grading.fail(
            f"{after}, {run.call} was still {run.job_status}: no worker had run it. Expected a worker to run it "
            "before the block ends (if your worker's thread raised an error, did you keep it and raise it again?)."
        )
    if job_id not in grading.failed_job_ids():
        grading.fail(f"{run.call} failed, but rq's failed-job registry does not hold it; expected a real rq worker.")
    if run.func_name != APP_JOB or tuple(run.args) != (task_id,):
        grading.fail(f"The job that failed was {run.call}; expected the app's own get_url_length({task_id}).")
    if not run.missed_its_row:
        grading.fail(f"The job {run}; expected it to fail with Task.DoesNotExist.")


def expect_succeeds_when_requeued(learner, job_id, task_id):
    """After the commit, the same job, requeued and run by the learner's worker, finds its row."""
    if not Task.objects.filter(id=task_id).exists():
        grading.fail(f"Task {task_id} does not exist even after the commit; expected the transaction to commit it.")
    FailedJobRegistry(queue=django_rq.get_queue("default")).requeue(job_id)
    with tool(learner):
        pass  # nothing enqueued in the block: the worker runs what waits in the queue
    run = grading.job_run(job_id)
    if run.missed_its_row:
        grading.fail(
            f"After the commit, the same job {run.call}, requeued, failed again with {run.short_type}: your worker "
            "reads another database than the one the task was committed to. That is not the race."
        )
    if not run.finished:
        grading.fail(f"Requeued after the commit, the job {run}; expected it to find task {task_id} and finish.")


def test_inside_a_transaction_the_apps_job_fails_with_does_not_exist(learner, samples):
    manager = tool(learner)
    with transaction.atomic():
        task = Task.objects.create(url=samples.url())
        with manager:
            job = get_url_length.delay(task.id)
        expect_the_race(job.id, task.id, after="When the block ended")


def test_the_same_job_succeeds_when_requeued_after_the_commit(learner, samples):
    manager = tool(learner)
    with transaction.atomic():
        task = Task.objects.create(url=samples.url())
        with manager:
            job = get_url_length.delay(task.id)
        expect_the_race(job.id, task.id, after="When the block ended")
    expect_succeeds_when_requeued(learner, job.id, task.id)


def test_outside_a_transaction_the_job_it_runs_succeeds(learner, samples):
    task = Task.objects.create(url=samples.url())  # committed at once
    with tool(learner):
        job = get_url_length.delay(task.id)
    run = grading.job_run(job.id)
    if run.missed_its_row:
        grading.fail(
            f"Task {task.id} was committed before the block, yet your worker failed with {run.short_type}: "
            "it reads another database than your code writes to. That is not the race."
        )
    if not run.finished:
        grading.fail(f"With the task committed, the job {run}; expected your worker to run it and finish.")


def test_reproduce_fails_every_time_on_the_apps_own_row(learner, samples):
    for attempt in range(1, RUNS + 1):
        before = set(Task.objects.values_list("id", flat=True))
        returned = learner.reproduce(samples.url())
        job_id = grading.job_id_of(returned, what="reproduce()'s return value")
        created = sorted(set(Task.objects.values_list("id", flat=True)) - before)
        if len(created) != 1:
            grading.fail(
                f"After reproduce() returned, {len(created)} new tasks were committed; expected its transaction "
                "to commit exactly one (the race needs the row to exist once the transaction is over)."
            )
        expect_the_race(job_id, created[0], after=f"Attempt {attempt} of {RUNS}: when reproduce() returned")
        FailedJobRegistry(queue=django_rq.get_queue("default")).requeue(job_id)
        grading.run_queued_jobs()  # the grader's own worker, after the commit
        run = grading.job_run(job_id)
        if not run.finished:
            grading.fail(
                f"Requeued after reproduce() had committed, its job {run}; expected it to find task "
                f"{created[0]} then: that is what shows the first failure was the race."
            )
