"""Grades exercise 04: on_commit, under the race amplifier; and without a transaction, with Redis down."""

from contextlib import contextmanager

import redis
from django.db import transaction

from lab.grader import grading
from lab.grader.grading import page_path
from workshop_project.tasks.jobs import get_url_length

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
        grading.fail(
            "Outside a transaction, start_task() returned without enqueueing its job; expected it at once.",
            cause="not_at_once",
        )
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


@contextmanager
def job_queue_pointed_at(url):
    """The queue the app's job enqueues on (bound when the job was decorated), pointed at ``url`` for the block."""
    queues = [getattr(cell.cell_contents, "queue", None) for cell in get_url_length.delay.__closure__ or ()]
    queue = next(queue for queue in queues if hasattr(queue, "connection"))
    saved = queue.connection
    queue.connection = redis.Redis.from_url(url)
    try:
        yield
    finally:
        queue.connection = saved


def test_without_a_transaction_a_failed_enqueue_reaches_the_caller(learner, samples, redis_down):
    """At once when there is no transaction: and if the enqueue fails, start_task's caller hears of it."""
    with redis_down() as closed, job_queue_pointed_at(closed):
        try:
            with transaction.atomic():  # a request that rolls back: nothing may reach Redis, so no error either
                learner.start_task(samples.url())
                transaction.set_rollback(True)
        except Exception as error:
            grading.fail(
                f"Inside a transaction that then rolled back, start_task() talked to Redis at once (with Redis down "
                f"it raised {type(error).__name__}); expected the enqueue to wait for the commit, which never came."
            )
        try:
            task = learner.start_task(samples.url())
        except Exception:
            return
    task_id = getattr(task, "id", task)
    elsewhere = [run for run in grading.runs(grading.queued_job_ids()) if tuple(run.args[:1]) == (task_id,)]
    if elsewhere:
        grading.fail(
            f"With the app's job pointed at a Redis that is down ({closed}), start_task() enqueued "
            f"{elsewhere[0].call} anyway, through a queue and connection of your own (made at import?); expected the "
            "job enqueued through the app's job (get_url_length.delay) and, with its Redis down, the error to reach "
            "the caller.",
            cause="queue_cached",
        )
    grading.fail(
        f"With no transaction and Redis down (nothing listens at {closed}), start_task() returned task "
        f"{task_id} without its job and without an error; expected the enqueue's error to reach "
        "the caller (on_commit runs the callback at once here; robust=True would only log the failure, and the "
        "task would wait for a job that never comes).",
        cause="robust",
    )
