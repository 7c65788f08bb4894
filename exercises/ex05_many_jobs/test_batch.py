"""Grades exercise 05: N tasks make N jobs with the right ids; a rolled-back savepoint enqueues nothing.

Each check calls ``start_tasks`` as views would, and varies what the
learner's code does not choose: a URL given twice, several calls in one
transaction, a transaction that rolls back before the next one commits, and
a ``check`` that fails with an error other than ``Rejected``. Jobs are
counted wherever they went: through rq's enqueue (the amplifier runs them at
once) or straight onto the queue's Redis list (``enqueue_many``, a pipeline).
"""

from django.db import transaction

from lab.grader import grading
from workshop_project.tasks.models import Task


class CheckFailed(Exception):
    """The grader's check() failing with an error that is not ``Rejected`` (a service that is down)."""


def enqueued(amp):
    """Every job enqueued so far: those the amplifier ran, then those put straight on the queue's list."""
    return [*amp.job_ids, *(job_id for job_id in grading.queued_job_ids() if job_id not in amp.job_ids)]


def start_in_a_transaction(learner, batches, amp, rollback=False):
    """Call start_tasks() once per batch the way a view would: inside the request's transaction."""
    returned = []
    with transaction.atomic():
        for urls in batches:
            returned.append(learner.start_tasks(urls))
        early = enqueued(amp)
        if early:
            grading.fail(
                f"{len(early)} job(s) were enqueued before the transaction committed "
                f"(the first: {grading.job_run(early[0])}); expected every job to wait for the commit."
            )
        if rollback:
            transaction.set_rollback(True)
    job_ids = enqueued(amp)
    if len(job_ids) > len(amp.job_ids):
        grading.run_queued_jobs()  # jobs that went straight to the queue's list: a worker takes them now
    return returned, grading.runs(job_ids)


def expect_one_job_per_task(runs, task_ids):
    given = sorted(run.args[0] if run.args else None for run in runs)
    if len(runs) != len(task_ids):
        grading.fail(
            f"{len(task_ids)} tasks were committed and, by the time the commit returned, {len(runs)} job(s) had been "
            "enqueued; expected one job per task."
        )
    if given != sorted(task_ids):
        grading.fail(
            f"The jobs were given task ids {given}; expected {sorted(task_ids)}, one each. "
            "(All the same id? A lambda in a loop reads the task when it runs, after the loop.)",
            cause="wrong_ids",
        )
    for run in runs:
        grading.expect_found(run, run.args[0])


def expect_started(returned, urls, task_ids):
    """start_tasks returns the tasks it started, one per URL kept, in the URLs' order."""
    ids = [getattr(task, "id", task) for task in returned] if isinstance(returned, list) else returned
    if ids != task_ids:
        grading.fail(
            f"For the {len(urls)} URLs given, start_tasks() returned {grading.shown(ids)} (task ids); expected the "
            f"tasks it started, in the order of the URLs: {task_ids}.",
            cause="each_url",
        )


def test_n_tasks_make_n_jobs_with_the_right_ids(learner, samples, amp):
    urls = [samples.url(1000), samples.url(1001), samples.url(1000)]  # one URL twice: two people, two tasks
    (returned,), runs = start_in_a_transaction(learner, [urls], amp)
    task_ids = list(Task.objects.order_by("id").values_list("id", flat=True))
    if len(task_ids) != len(urls):
        grading.fail(
            f"start_tasks() was given {len(urls)} URLs, one of them twice, and {len(task_ids)} tasks were committed; "
            "expected one task per URL, a URL given twice included (each is somebody's request).",
            cause="each_url",
        )
    expect_one_job_per_task(runs, task_ids)
    expect_started(returned, urls, task_ids)


def test_a_rolled_back_savepoint_enqueues_nothing(learner, samples, amp):
    urls = [samples.url(1000), samples.url(1001) + "?reject", samples.url(1002)]
    (returned,), runs = start_in_a_transaction(learner, [urls], amp)
    kept = list(Task.objects.order_by("id").values_list("id", flat=True))
    if len(kept) != 2:
        grading.fail(
            f"{len(kept)} task(s) were committed from 3 URLs, one of them rejected; expected 2: only the rejected "
            "URL's savepoint rolls back, the others go on.",
            cause="each_url",
        )
    orphans = [run for run in runs if not run.args or run.args[0] not in kept]
    if orphans:
        grading.fail(
            f"The rejected URL's savepoint rolled back, yet a job ran for a task that is not there: {orphans[0]}. "
            "Expected no job for it: register its callback inside the savepoint, so Django drops it with the savepoint."
        )
    expect_one_job_per_task(runs, kept)
    expect_started(returned, urls, kept)


def test_each_call_gets_its_own_jobs_after_a_rollback(learner, samples, amp):
    """More than one call: a request that rolls back, then one that calls start_tasks twice and commits."""
    _, runs = start_in_a_transaction(learner, [[samples.url(1000)]], amp, rollback=True)
    if runs:
        grading.fail(
            f"A transaction that called start_tasks() and then rolled back enqueued {runs[0].call}; "
            "expected no job: nothing it created was committed."
        )
    _, runs = start_in_a_transaction(learner, [[samples.url(1001)], [samples.url(1002), samples.url(1003)]], amp)
    kept = list(Task.objects.order_by("id").values_list("id", flat=True))
    given = sorted(run.args[0] if run.args else None for run in runs)
    if given != kept:
        grading.fail(
            f"After a transaction that rolled back, the next one called start_tasks() twice and committed tasks "
            f"{kept}; the jobs enqueued were given {given}. Expected one job per committed task, each call's own: "
            "nothing kept from an earlier transaction, nothing registered only once."
        )
    for run in runs:
        grading.expect_found(run, run.args[0])


def test_any_other_error_reaches_the_caller(learner, samples, amp, monkeypatch):
    """Only a URL that check() rejects is skipped: another error leaves start_tasks, and the caller rolls back."""
    rejected, checked = learner.Rejected, []

    def check(task):
        checked.append(task.url)
        if "reject" in task.url:
            raise rejected(task.url)
        if "down" in task.url:
            raise CheckFailed("the service check() calls did not answer")

    monkeypatch.setattr(learner, "check", check)
    urls = [samples.url(1000), samples.url(1001) + "?down", samples.url(1002)]
    try:
        with transaction.atomic():
            returned = learner.start_tasks(urls)
    except CheckFailed:
        pass
    else:
        if urls[1] not in checked:
            grading.fail(
                f"start_tasks() never called check(task) for {urls[1]}; expected it to run check(task) for each task "
                "it creates (the module's check, as the starter does)."
            )
        grading.fail(
            f"check() failed with CheckFailed (not Rejected) for the second URL, and start_tasks() returned "
            f"{grading.shown(returned)}; expected that error to reach the caller: only a URL that check() rejects "
            "is skipped."
        )
    runs = grading.runs(enqueued(amp))
    if runs:
        grading.fail(
            f"start_tasks() raised, so its caller's transaction rolled back, yet {runs[0].call} was enqueued; "
            "expected no job for a transaction that rolled back."
        )
