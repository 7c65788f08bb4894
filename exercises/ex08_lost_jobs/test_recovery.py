"""Grades exercise 08: with Redis down at commit time, every task still completes exactly once."""

from datetime import timedelta

import django_rq
from django.db import transaction
from django.utils import timezone

from lab.grader import fixtures, grading
from workshop_project.tasks.models import Task

LONG_AGO = timedelta(hours=1)


def make_stale(*tasks):
    Task.objects.filter(id__in=[task.id for task in tasks]).update(created_on=timezone.now() - LONG_AGO)


def lose_jobs(learner, samples, count=3):
    """Start tasks in one transaction while Redis refuses connections: their jobs are lost."""
    urls = [samples.url(2000 + n) for n in range(count)]
    with fixtures.redis_down() as closed:
        try:
            with transaction.atomic():
                tasks = [learner.start_task(url) for url in urls]
        except Exception as error:
            grading.fail(
                f"With Redis down at the commit, the commit raised {type(error).__name__}: {error}; "
                "expected the request to succeed (on_commit(..., robust=True)) and its tasks to wait, pending."
            )
    if grading.queued_job_ids():
        grading.fail(f"Jobs reached the queue although Redis ({closed}) refused every connection at the commit.")
    return tasks


def expect_each_measured_once(tasks, samples):
    for task in tasks:
        task.refresh_from_db()
        fetched = samples.fetches(task.url)
        if fetched != 1:
            grading.fail(
                f"Task {task.id}'s page was fetched {fetched} times; expected exactly once (its status: {task.status})."
            )
        if task.result != "OK":
            grading.fail(f"Task {task.id} ended {task.status} ({task.result}); expected OK.")


def test_the_job_is_idempotent(learner, samples):
    done = Task.objects.create(url=samples.url(2100), url_length=2100, result="OK")
    errored = Task.objects.create(url=samples.url(2103), result="error: the page did not answer in time")
    pending = Task.objects.create(url=samples.url(2101))
    blank = Task.objects.create(url=samples.url(2102), result="")  # "" is not a result either
    queue = django_rq.get_queue("default")
    for task in (done, errored, pending, pending, blank):
        queue.enqueue(learner.measure_once, task.id)
    grading.run_queued_jobs()
    for task, what in ((done, "already had a result"), (errored, "had ended in an error (a result too)")):
        if samples.fetches(task.url):
            grading.fail(
                f"measure_once({task.id}) fetched the page of a task that {what}; expected it to do nothing: "
                'only a pending task (no result: NULL or "") is measured.'
            )
    expect_each_measured_once([pending, blank], samples)


def test_only_stale_pending_tasks_are_enqueued(learner, samples):
    stale = Task.objects.create(url=samples.url(2200))
    blank = Task.objects.create(url=samples.url(2203), result="")
    fresh = Task.objects.create(url=samples.url(2201))
    finished = Task.objects.create(url=samples.url(2202), url_length=2202, result="OK")
    errored = Task.objects.create(url=samples.url(2204), result="error: the page did not answer in time")
    make_stale(stale, blank, finished, errored)  # an hour old

    count = learner.reconcile(older_than=timedelta(hours=2))
    given = enqueued_task_ids()
    if given or count != 0:
        grading.fail(
            f"reconcile(older_than=2 hours) enqueued jobs for tasks {given} and returned {grading.shown(count)}; "
            "expected nothing: every task is younger than that. Use the older_than it is given."
        )

    count = learner.reconcile(older_than=timedelta(minutes=5))
    given = enqueued_task_ids()
    expected = sorted([stale.id, blank.id])
    if given != expected:
        grading.fail(
            f"reconcile(older_than=5 minutes) enqueued jobs for tasks {given}; expected only {expected}, the "
            f'pending tasks (no result: NULL or "") older than that; not {fresh.id} (too young), '
            f"{finished.id} (done) nor {errored.id} (its fetch ended in an error: it has a result)."
        )
    if count != len(expected) or isinstance(count, bool):
        grading.fail(
            f"reconcile() enqueued {len(expected)} jobs but returned {grading.shown(count)}; "
            f"expected it to return how many it enqueued, {len(expected)}."
        )


def enqueued_task_ids():
    """The first argument of each queued job: task ids, or whatever the learner's code gave instead."""
    given = [job.args[0] for job in django_rq.get_queue("default").jobs if job.args]
    return sorted(
        given, key=lambda value: (not isinstance(value, int), value if isinstance(value, int) else 0, str(value))
    )


def test_lost_jobs_complete_exactly_once_after_reconciling(learner, samples):
    tasks = lose_jobs(learner, samples)
    make_stale(*tasks)
    learner.reconcile()
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples)


def test_reconciling_twice_still_measures_each_task_once(learner, samples):
    tasks = lose_jobs(learner, samples)
    make_stale(*tasks)
    learner.reconcile()
    learner.reconcile()  # before any worker ran: every task is now in the queue twice
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples)
