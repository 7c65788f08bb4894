"""Grades exercise 06: delay_on_commit waits for the commit of the right database, in any nesting,
never runs for a rollback, passes every argument on, and is immediate outside a transaction.

It also varies what the learner does not control: a call on another thread
(its own connection), the same call again after one that rolled back, a
keyword argument whose value is None, a job whose @job decorator names
another queue, and Redis down outside a transaction (the error must reach
the caller).
"""

import redis
from django.db import transaction
from django_rq import get_connection, job
from rq import Queue
from rq.decorators import job as rq_job
from rq.registry import ScheduledJobRegistry

from lab.grader import grading
from workshop_project.tasks.models import Task

LOW = "ex06-low"  # the queue find_on_low's decorator names: not "default"


@job("default")
def find_on(task_id, *, alias, tag):
    """The probe: find the task on database ``alias`` (keyword arguments, so they must be passed on;
    ``tag`` is always None: a None is an argument too)."""
    return Task.objects.using(alias).get(id=task_id).id


@job(Queue(LOW, connection=get_connection("default")))
def find_on_low(task_id, *, alias, tag):
    """The same probe, declared for another queue than "default"."""
    return Task.objects.using(alias).get(id=task_id).id


def find_on_nowhere(task_id, *, alias, tag):
    """Decorated in the check, for a queue whose Redis refuses every connection."""
    return task_id


def create(alias, samples):
    return Task.objects.using(alias).create(url=samples.url())


def expect_nothing_yet(amp, alias, where, using_passed=True):
    """``using_passed``: the call named the alias (a sentence never shows an argument that was not passed)."""
    if amp.job_ids:
        run = grading.job_run(amp.job_ids[0])
        called = f"delay_on_commit(..., using={alias!r})" if using_passed else "delay_on_commit(...) without using="
        grading.fail(
            f"{where}, {called} had already enqueued {run.call}, "
            f"and the worker said: {run}; expected the job to wait for {alias!r} to commit."
        )


def expect_one_found(amp, task, alias, when, queue="default"):
    if len(amp.job_ids) != 1:
        scheduled = ScheduledJobRegistry(queue=Queue(queue, connection=get_connection("default"))).get_job_ids()
        if scheduled and not amp.job_ids:
            grading.fail(
                f"{when}, no job was enqueued, and {len(scheduled)} waits in rq's scheduled-job registry: a job "
                "scheduled with enqueue_in/enqueue_at is in Redis before the commit, runs after a rollback, and "
                "runs before a commit that takes longer than its delay. Expected exactly one job, enqueued when "
                "the transaction commits.",
                cause="scheduled",
            )
        grading.fail(f"{when}, {len(amp.job_ids)} jobs were enqueued; expected exactly one.")
    run = grading.job_run(amp.job_ids[0])
    if run.failed and "TypeError" in run.exc_type and "argument" in run.detail:
        if "'using'" in run.detail:
            grading.fail(
                f"The job failed with {run.short_type}: {run.detail}: delay_on_commit() passed its own `using` "
                "on to the job; expected the job to get exactly what it was given except `using`.",
                cause="using_to_the_job",
            )
        grading.fail(
            f"The job failed with {run.short_type}: {run.detail}: delay_on_commit() did not pass the job's "
            "keyword arguments on; expected job.delay(*args, **kwargs), every one (a None too).",
            cause="kwargs",
        )
    origin = grading.fetch_job(run.job_id).origin
    if origin != queue:
        grading.fail(
            f"{when}, the job was enqueued on queue {origin!r}; expected {queue!r}, the queue its @job decorator "
            "names: call job.delay(...) itself, which knows the job's queue and options.",
            cause="not_job_delay",
        )
    grading.expect_found(run, task.id, model=f"task on {alias!r}", using=alias)


def delay(learner, task, alias, probe=find_on, **using):
    learner.delay_on_commit(probe, task.id, alias=alias, tag=None, **using)


def test_it_waits_for_the_commit_on_default(learner, samples, amp):
    with transaction.atomic():
        task = create("default", samples)
        delay(learner, task, "default")
        expect_nothing_yet(amp, "default", "Inside a transaction on 'default'", using_passed=False)
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


def test_it_waits_for_the_transaction_of_the_thread_that_calls_it(learner, samples, amp):
    def request_on_another_thread():
        with transaction.atomic():
            task = create("default", samples)
            delay(learner, task, "default")
            if amp.job_ids:
                run = grading.job_run(amp.job_ids[0])
                grading.fail(
                    "On another thread (a request served by a thread of its own, with its own connection), inside a "
                    f"transaction on 'default', delay_on_commit() had already enqueued {run.call}, and the worker "
                    f"said: {run}; expected the job to wait for that thread's transaction to commit. A connection "
                    "looked up at import is the importing thread's, never in this transaction.",
                    cause="kept_at_import",
                )
        return task

    task = grading.run_on_thread(request_on_another_thread, "ex06-request")
    expect_one_found(amp, task, "default", "When that thread's transaction committed")


def test_a_call_after_a_rolled_back_one_is_enqueued_at_its_commit(learner, samples, amp):
    task = create("second", samples)  # committed: the same call is made twice, as a retried request would
    with transaction.atomic(using="second"):
        delay(learner, task, "second", using="second")
        transaction.set_rollback(True, using="second")
    if amp.job_ids:
        run = grading.job_run(amp.job_ids[0])
        grading.fail(f"The transaction on 'second' rolled back, yet {run.call} was enqueued; expected no job.")
    with transaction.atomic(using="second"):
        delay(learner, task, "second", using="second")
        expect_nothing_yet(amp, "second", "Inside the retried transaction on 'second'")
    if len(amp.job_ids) != 1:
        grading.fail(
            f"After a call whose transaction on 'second' rolled back, the same call in a new transaction "
            f"enqueued {len(amp.job_ids)} jobs when it committed; expected exactly one: every call waits for its "
            "own transaction, and nothing of a rolled-back one is kept for later.",
            cause="state_in_memory",
        )
    expect_one_found(amp, task, "second", "When the retried transaction on 'second' committed")


def test_the_job_goes_to_the_queue_its_decorator_names(learner, samples, amp):
    with transaction.atomic():
        task = create("default", samples)
        delay(learner, task, "default", probe=find_on_low)
        expect_nothing_yet(amp, "default", "Inside a transaction on 'default'", using_passed=False)
    expect_one_found(amp, task, "default", "When the transaction on 'default' committed", queue=LOW)


def test_outside_a_transaction_an_enqueue_error_reaches_the_caller(learner, samples):
    nowhere = redis.Redis(port=grading.free_port(), socket_connect_timeout=0.5, retry=None)
    probe = rq_job(Queue("default", connection=nowhere), connection=nowhere)(find_on_nowhere)
    try:
        learner.delay_on_commit(probe, 1, alias="default", tag=None)
    except redis.RedisError:
        return
    except Exception as error:
        grading.fail(
            f"With Redis down, outside a transaction, delay_on_commit() did not let the enqueue's error through: "
            f"{grading.describe_error(error)}; expected job.delay()'s own redis.ConnectionError to reach the caller."
        )
    grading.fail(
        "With Redis down, outside a transaction, delay_on_commit() returned without an error; expected "
        "job.delay()'s ConnectionError to reach the caller: the job was not enqueued, and nobody would know "
        "(robust=True logs the error and goes on).",
        cause="robust",
    )
