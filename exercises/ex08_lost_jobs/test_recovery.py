"""Grades exercise 08: with Redis down at commit time, every task still completes exactly once."""

from datetime import timedelta

import django_rq
from django.db import transaction
from django.utils import timezone

from lab import grader_fixtures, grading
from workshop_project.tasks.models import Task

LONG_AGO = timedelta(hours=1)


def make_stale(*tasks):
    Task.objects.filter(id__in=[task.id for task in tasks]).update(created_on=timezone.now() - LONG_AGO)


def lose_jobs(learner, samples, count=3):
    """Start tasks in one transaction while Redis refuses connections: their jobs are lost."""
    urls = [samples.url(2000 + n) for n in range(count)]
    with grader_fixtures.redis_down() as closed:
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
    pending = Task.objects.create(url=samples.url(2101))
    queue = django_rq.get_queue("default")
    for task in (done, pending, pending):
        queue.enqueue(learner.measure_once, task.id)
    grading.run_queued_jobs()
    if samples.fetches(done.url):
        grading.fail(
            f"measure_once({done.id}) fetched the page of a task that already had a result; expected it to do nothing."
        )
    expect_each_measured_once([pending], samples)


def test_only_stale_pending_tasks_are_enqueued(learner, samples):
    stale = Task.objects.create(url=samples.url(2200))
    fresh = Task.objects.create(url=samples.url(2201))
    finished = Task.objects.create(url=samples.url(2202), url_length=2202, result="OK")
    make_stale(stale, finished)
    count = learner.reconcile(older_than=timedelta(minutes=5))
    given = sorted(job.args[0] for job in django_rq.get_queue("default").jobs if job.args)
    if given != [stale.id]:
        grading.fail(
            f"reconcile() enqueued jobs for tasks {given}; expected only [{stale.id}], the pending task older than "
            f"older_than (not {fresh.id}, which is too young, nor {finished.id}, which is done)."
        )
    if count != 1:
        grading.fail(
            f"reconcile() enqueued one job but returned {count!r}; expected it to return how many it enqueued, 1."
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
