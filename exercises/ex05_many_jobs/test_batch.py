"""Grades exercise 05: N tasks make N jobs with the right ids; a rolled-back savepoint enqueues nothing."""

from django.db import transaction

from lab.grader import grading
from workshop_project.tasks.models import Task


def start_in_a_transaction(learner, urls, amp):
    """Call start_tasks() the way a view would: inside the request's transaction."""
    with transaction.atomic():
        learner.start_tasks(urls)
        if amp.job_ids:
            grading.fail(
                f"{len(amp.job_ids)} job(s) were enqueued before the transaction committed "
                f"(the first: {grading.job_run(amp.job_ids[0])}); expected every job to wait for the commit."
            )
    return grading.runs(amp.job_ids)


def expect_one_job_per_task(runs, task_ids):
    given = sorted(run.args[0] if run.args else None for run in runs)
    if len(runs) != len(task_ids):
        grading.fail(f"{len(task_ids)} tasks were committed and {len(runs)} jobs enqueued; expected one job per task.")
    if given != sorted(task_ids):
        grading.fail(
            f"The jobs were given task ids {given}; expected {sorted(task_ids)}, one each. "
            "(All the same id? A lambda in a loop reads the task when it runs, after the loop.)"
        )
    for run in runs:
        grading.expect_found(run, run.args[0])


def test_n_tasks_make_n_jobs_with_the_right_ids(learner, samples, amp):
    urls = [samples.url(1000 + n) for n in range(3)]
    runs = start_in_a_transaction(learner, urls, amp)
    expect_one_job_per_task(runs, list(Task.objects.values_list("id", flat=True)))


def test_a_rolled_back_savepoint_enqueues_nothing(learner, samples, amp):
    urls = [samples.url(1000), samples.url(1001) + "?reject", samples.url(1002)]
    runs = start_in_a_transaction(learner, urls, amp)
    kept = list(Task.objects.values_list("id", flat=True))
    if len(kept) != 2:
        grading.fail(f"{len(kept)} tasks were committed; expected 2 (the rejected URL's savepoint rolls back).")
    orphans = [run for run in runs if not run.args or run.args[0] not in kept]
    if orphans:
        grading.fail(
            f"The rejected URL's savepoint rolled back, yet a job ran for a task that is not there: {orphans[0]}. "
            "Expected no job for it: register its callback inside the savepoint, so Django drops it with the savepoint."
        )
    expect_one_job_per_task(runs, kept)
