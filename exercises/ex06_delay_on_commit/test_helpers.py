"""Grades exercise 06: delay_on_commit waits for the commit of the right database, in any nesting,
never runs for a rollback, passes every argument on, and is immediate outside a transaction."""

from django.db import transaction
from django_rq import job

from lab.grader import grading
from workshop_project.tasks.models import Task


@job("default")
def find_on(task_id, *, alias):
    """The probe: find the task on database ``alias`` (a keyword argument, so it must be passed on)."""
    return Task.objects.using(alias).get(id=task_id).id


def create(alias, samples):
    return Task.objects.using(alias).create(url=samples.url())


def expect_nothing_yet(amp, alias, where):
    if amp.job_ids:
        run = grading.job_run(amp.job_ids[0])
        grading.fail(
            f"{where}, delay_on_commit(..., using={alias!r}) had already enqueued {run.call}, "
            f"and the worker said: {run}; expected the job to wait for {alias!r} to commit."
        )


def expect_one_found(amp, task, alias, when):
    if len(amp.job_ids) != 1:
        grading.fail(f"{when}, {len(amp.job_ids)} jobs were enqueued; expected exactly one.")
    run = grading.job_run(amp.job_ids[0])
    if run.failed and "TypeError" in run.exc_type and "alias" in run.detail:
        grading.fail(
            f"The job failed with {run.short_type}: {run.detail}: delay_on_commit() did not pass the job's "
            "keyword arguments on; expected job.delay(*args, **kwargs)."
        )
    grading.expect_found(run, task.id, model=f"task on {alias!r}", using=alias)


def delay(learner, task, alias, **using):
    learner.delay_on_commit(find_on, task.id, alias=alias, **using)


def test_it_waits_for_the_commit_on_default(learner, samples, amp):
    with transaction.atomic():
        task = create("default", samples)
        delay(learner, task, "default")
        expect_nothing_yet(amp, "default", "Inside a transaction on 'default'")
    expect_one_found(amp, task, "default", "When the transaction on 'default' committed")


def test_it_waits_for_the_commit_on_a_second_database(learner, samples, amp):
    with transaction.atomic(using="second"):
        task = create("second", samples)
        delay(learner, task, "second", using="second")
        expect_nothing_yet(amp, "second", "Inside a transaction on 'second'")
    expect_one_found(amp, task, "second", "When the transaction on 'second' committed")


def test_it_waits_for_its_own_database_in_either_nesting(learner, samples, amp):
    with transaction.atomic(using="second"):
        with transaction.atomic(using="default"):
            task = create("second", samples)
            delay(learner, task, "second", using="second")
        expect_nothing_yet(amp, "second", "With 'default' committed and 'second' still open")
    expect_one_found(amp, task, "second", "When 'second' committed (after 'default')")
    amp.job_ids.clear()
    with transaction.atomic(using="default"):
        with transaction.atomic(using="second"):
            task = create("default", samples)
            delay(learner, task, "default", using="default")
        expect_nothing_yet(amp, "default", "With 'second' committed and 'default' still open")
    expect_one_found(amp, task, "default", "When 'default' committed (after 'second')")


def test_nothing_is_enqueued_when_the_second_database_rolls_back(learner, samples, amp):
    with transaction.atomic(using="second"):
        task = create("second", samples)
        delay(learner, task, "second", using="second")
        transaction.set_rollback(True, using="second")
    if amp.job_ids:
        run = grading.job_run(amp.job_ids[0])
        grading.fail(
            f"The transaction on 'second' rolled back, yet {run.call} was enqueued (the worker said: {run}); "
            "expected no job: never if it rolls back."
        )


def test_outside_a_transaction_it_enqueues_at_once(learner, samples, amp):
    task = create("default", samples)
    delay(learner, task, "default")
    if len(amp.job_ids) != 1:
        grading.fail(
            f"Outside a transaction, delay_on_commit() enqueued {len(amp.job_ids)} jobs; expected one, at once."
        )
    expect_one_found(amp, task, "default", "Outside a transaction")
