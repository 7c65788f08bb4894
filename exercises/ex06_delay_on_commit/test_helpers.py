"""Grades exercise 06: delay_on_commit waits for the commit of the right database, and is immediate outside one."""

from django.db import transaction

from lab import grading
from lab.probes import find_task
from workshop_project.tasks.models import Task


def expect_it_waits_for(learner, alias, samples, amp):
    with transaction.atomic(using=alias):
        task = Task.objects.using(alias).create(url=samples.url())
        if alias == "default":
            learner.delay_on_commit(find_task, task.id, alias)
        else:
            learner.delay_on_commit(find_task, task.id, alias, using=alias)
        if amp.job_ids:
            run = grading.job_run(amp.job_ids[0])
            grading.fail(
                f"Inside a transaction on {alias!r}, delay_on_commit() enqueued {run.call} at once "
                f"and the worker said: {run}; "
                f"expected the job to wait for {alias!r} to commit."
            )
    if len(amp.job_ids) != 1:
        grading.fail(
            f"When the transaction on {alias!r} committed, {len(amp.job_ids)} jobs were enqueued; expected exactly one."
        )
    grading.expect_found(grading.job_run(amp.job_ids[0]), task.id, model=f"task on {alias!r}")


def test_it_waits_for_the_commit_on_default(learner, samples, amp):
    expect_it_waits_for(learner, "default", samples, amp)


def test_it_waits_for_the_commit_on_a_second_database(learner, samples, amp):
    expect_it_waits_for(learner, "second", samples, amp)


def test_outside_a_transaction_it_enqueues_at_once(learner, samples, amp):
    task = Task.objects.create(url=samples.url())
    learner.delay_on_commit(find_task, task.id, "default")
    if len(amp.job_ids) != 1:
        grading.fail(
            f"Outside a transaction, delay_on_commit() enqueued {len(amp.job_ids)} jobs; expected one, at once."
        )
    grading.expect_found(grading.job_run(amp.job_ids[0]), task.id)
