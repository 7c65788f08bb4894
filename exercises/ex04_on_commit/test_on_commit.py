"""Grades exercise 04: on_commit, under the race amplifier."""

from django.db import transaction

from lab.grader import grading
from lab.grader.grading import page_path

PAGE = page_path("ex04_on_commit")


def test_the_worker_finds_its_row(browser, samples, amp):
    response = grading.post_form(browser, PAGE, samples.url())
    if len(amp.job_ids) != 1:
        grading.fail(f"The request enqueued {len(amp.job_ids)} jobs; expected exactly one, after the commit.")
    grading.expect_found(grading.job_run(amp.job_ids[0]), grading.task_id_of(response))


def test_a_failing_request_enqueues_nothing(browser, samples, amp):
    grading.post_form(browser, PAGE, samples.url(), failing=True)
    if amp.job_ids:
        run = grading.job_run(amp.job_ids[0])
        grading.fail(
            f"A request that failed after the create still enqueued {run.call} (the worker said: {run}); "
            "expected no job, because its transaction rolled back."
        )
    grading.post_form(browser, PAGE, samples.url())
    if len(amp.job_ids) != 1:
        grading.fail(f"A request that succeeds enqueued {len(amp.job_ids)} jobs; expected exactly one.")


def test_it_enqueues_at_the_commit_or_at_once_without_a_transaction(learner, samples, amp):
    with transaction.atomic():
        task = learner.start_task(samples.url())
        if amp.job_ids:
            run = grading.job_run(amp.job_ids[0])
            grading.fail(
                f"Inside a transaction, start_task() enqueued {run.call} before the commit, and the worker said: "
                f"{run}; expected the job to wait for the commit."
            )
    if len(amp.job_ids) != 1:
        grading.fail(f"When the transaction committed, {len(amp.job_ids)} jobs were enqueued; expected exactly one.")
    grading.expect_found(grading.job_run(amp.job_ids[0]), task.id)

    task = learner.start_task(samples.url())  # no transaction: autocommit
    if len(amp.job_ids) != 2:
        grading.fail("Outside a transaction, start_task() returned without enqueueing its job; expected it at once.")
    grading.expect_found(grading.job_run(amp.job_ids[1]), task.id)


def test_a_rolled_back_savepoint_enqueues_nothing(learner, samples, amp):
    with transaction.atomic():
        kept = learner.start_task(samples.url())
        try:
            with transaction.atomic():  # a savepoint, rolled back
                learner.start_task(samples.url(4321))
                raise RuntimeError("roll the savepoint back")
        except RuntimeError:
            pass
    runs = grading.runs(amp.job_ids)
    orphans = [run for run in runs if tuple(run.args[:1]) != (kept.id,)]
    if orphans:
        grading.fail(
            f"A task created in a savepoint that rolled back still got a job, {orphans[0]}; expected none: "
            "never enqueue for work that rolled back."
        )
    if len(runs) != 1:
        grading.fail(f"When the transaction committed, {len(runs)} jobs were enqueued for one kept task; expected one.")
    grading.expect_found(runs[0], kept.id)
