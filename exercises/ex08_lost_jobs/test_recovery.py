"""Grades exercise 08: with Redis down at commit time, every task still completes exactly once.

The reconciler is called with other ``older_than`` values than its default
(two hours, five minutes, none at all), more than once, over tasks whose ids
do not follow their age, over a backlog larger than any batch, with Redis
down, after its own jobs were lost again, and twice at once: one
reconciler's whole sweep placed between the other's read and its enqueues
(``lab.interleave``). Every task must be measured exactly once, and a task
with a result (OK, or any error) never again.
"""

from datetime import timedelta

import django_rq
from django.db import connection, transaction
from django.utils import timezone

from lab.grader import fixtures, grading, interleave
from workshop_project.tasks.models import Task

LONG_AGO = timedelta(hours=1)
TASKS = Task._meta.db_table
CRASHED = "error: the job failed (JobTimeoutException)"  # another kind of error: a result too
BACKLOG = 105  # more than any batch a reconciler might take "to be safe"


def make_stale(*tasks):
    Task.objects.filter(id__in=[task.id for task in tasks]).update(created_on=timezone.now() - LONG_AGO)


def stale_pending(samples, count, first):
    """``count`` pending tasks, an hour old, in one INSERT (on SQLite, with ids above the last one handed out,
    so ``sqlite_ids`` never hands them out again)."""
    anchor = Task.objects.create(url=samples.url(first))
    ids = [anchor.id + 1 + n if connection.vendor == "sqlite" else None for n in range(count - 1)]
    Task.objects.bulk_create([Task(id=id_, url=samples.url(first + 1 + n)) for n, id_ in enumerate(ids)])
    tasks = list(Task.objects.filter(url__in=[samples.url(first + n) for n in range(count)]))
    make_stale(*tasks)
    return tasks


def reconcile(learner, what, **options):
    """Call the learner's reconcile(); one sentence if it raises."""
    try:
        return learner.reconcile(**options)
    except Exception as error:
        grading.fail(f"{grading.describe_error(error)} in {what}; expected it to enqueue the stale pending tasks.")


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
        grading.fail(
            f"Jobs reached the queue although the project's queue pointed at {closed}, where Redis refused every "
            "connection at the commit: the enqueue used a queue or connection made earlier, not "
            "django_rq.get_queue() at the time of the call.",
            cause="queue_kept",
        )
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
    crashed = Task.objects.create(url=samples.url(2104), result=CRASHED)
    pending = Task.objects.create(url=samples.url(2101))
    blank = Task.objects.create(url=samples.url(2102), result="")  # "" is not a result either
    queue = django_rq.get_queue("default")
    for task in (done, errored, crashed, pending, pending, blank):
        queue.enqueue(learner.measure_once, task.id)
    grading.run_queued_jobs()
    for task, what in (
        (done, "already had a result"),
        (errored, "had ended in an error (a result too)"),
        (crashed, f"had ended with {CRASHED!r} (a result too)"),
    ):
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
    crashed = Task.objects.create(url=samples.url(2206), result=CRASHED)
    late = Task.objects.create(url=samples.url(2205))  # a higher id than `fresh`, and older: ids are not ages
    make_stale(stale, blank, finished, errored, crashed, late)  # an hour old

    count = reconcile(learner, "reconcile(older_than=2 hours)", older_than=timedelta(hours=2))
    given = enqueued_task_ids()
    if given:
        grading.fail(
            f"reconcile(older_than=2 hours) enqueued jobs for tasks {given} and returned {grading.shown(count)}; "
            "expected nothing: every task is younger than that. Use the older_than it is given.",
            cause="older_than",
        )
    expect_count(count, [], "reconcile(older_than=2 hours)")

    count = reconcile(learner, "reconcile(older_than=5 minutes)", older_than=timedelta(minutes=5))
    given = enqueued_task_ids()
    expected = sorted([stale.id, blank.id, late.id])
    if given != expected:
        grading.fail(
            f"reconcile(older_than=5 minutes) enqueued jobs for tasks {given}; expected only {expected}, the "
            f'pending tasks (no result: NULL or "") older than that, whatever their ids; not {fresh.id} (too '
            f"young), {finished.id} (done), {errored.id} nor {crashed.id} (their jobs ended in an error: "
            "a result too).",
            cause="which_tasks",
        )
    expect_count(count, expected, "reconcile(older_than=5 minutes)")

    grading.clear_jobs()
    newest = Task.objects.create(url=samples.url(2207))  # created after the calls before: "now" has moved on
    count = reconcile(learner, "reconcile(older_than=timedelta(0))", older_than=timedelta(0))
    given = enqueued_task_ids()
    expected = sorted([stale.id, blank.id, fresh.id, late.id, newest.id])
    if given != expected:
        missing = sorted(set(expected) - set(given))
        said = (
            f"reconcile(older_than=timedelta(0)), called after the others, enqueued jobs for tasks {given}; "
            f"expected every pending task, {expected}, each older than no time at all"
        )
        if set(missing) <= {stale.id, blank.id, late.id}:
            grading.fail(
                f"{said}. Tasks {missing}, enqueued by the call before and still pending, were left out: a task "
                "still pending is enqueued again at every call.",
                cause="state_in_memory",
            )
        if newest.id in missing and fresh.id not in missing:
            grading.fail(
                f"{said}. Task {newest.id}, created after the earlier calls, was left out: the time was read "
                "before it existed, not at this call.",
                cause="state_in_memory",
            )
        if {newest.id, fresh.id} <= set(missing):
            grading.fail(
                f"{said}. The young tasks {sorted({newest.id, fresh.id})} were left out, as if the default five "
                "minutes applied: timedelta(0) is falsy, so `older_than or STALE_AFTER` reads it as the default.",
                cause="older_than",
            )
        grading.fail(f"{said}.", cause="which_tasks")
    expect_count(count, expected, "reconcile(older_than=timedelta(0))")


def expect_count(count, expected, call):
    if count != len(expected) or isinstance(count, bool):
        grading.fail(
            f"{call} enqueued {len(expected)} jobs but returned {grading.shown(count)}; "
            f"expected it to return how many it enqueued, {len(expected)}.",
            cause="count",
        )


def test_every_stale_task_is_enqueued_however_many(learner, samples):
    tasks = stale_pending(samples, BACKLOG, first=3000)
    count = reconcile(learner, f"reconcile() over {BACKLOG} stale pending tasks")
    given = enqueued_task_ids()
    expected = sorted(task.id for task in tasks)
    if given != expected:
        grading.fail(
            f"After an outage left {BACKLOG} stale pending tasks, reconcile() enqueued jobs for {len(given)} of "
            "them; expected every one: the promise is every pending task older than older_than, not a batch.",
            cause="batch",
        )
    expect_count(count, expected, f"reconcile() over {BACKLOG} stale pending tasks")


def test_with_redis_down_it_counts_no_enqueue(learner, samples):
    tasks = stale_pending(samples, 2, first=3200)
    raised = None
    with fixtures.redis_down() as closed:
        try:
            count = learner.reconcile()
        except Exception as error:  # the enqueue's error reaching the caller is right
            raised, count = error, None
    if grading.queued_job_ids():
        grading.fail(
            f"reconcile() put jobs in the queue although the project's queue pointed at {closed}, where Redis "
            "refused every connection: the enqueue used a queue or connection made earlier, not "
            "django_rq.get_queue() at the time of the call.",
            cause="queue_kept",
        )
    if raised is None and count != 0:
        grading.fail(
            f"With Redis down, reconcile() enqueued nothing and returned {grading.shown(count)}; expected 0, or the "
            "enqueue's error (ConnectionError) to reach the caller: it returns how many it enqueued, not how many "
            "it tried.",
            cause="count",
        )
    count = reconcile(learner, "reconcile() once Redis was back")
    expected = sorted(task.id for task in tasks)
    if enqueued_task_ids() != expected:
        grading.fail(
            f"Once Redis was back, reconcile() enqueued jobs for {enqueued_task_ids()}; expected {expected}, the "
            "tasks it could not enqueue while Redis was down: they are still pending.",
            cause="which_tasks",
        )
    expect_count(count, expected, "reconcile() once Redis was back")


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


def test_a_task_whose_second_job_was_lost_is_enqueued_again(learner, samples):
    tasks = lose_jobs(learner, samples)
    make_stale(*tasks)
    reconcile(learner, "the first reconcile()")
    grading.clear_jobs()  # Redis lost those jobs too (a restart without persistence)
    reconcile(learner, "the second reconcile()")
    given = enqueued_task_ids()
    expected = sorted(task.id for task in tasks)
    if given != expected:
        grading.fail(
            f"The first reconcile()'s jobs were lost too; the second reconcile() enqueued jobs for {given}; "
            f"expected {expected}, every task still pending: whether a task needs a job is in the database "
            "(its result), not in what the reconciler remembers from an earlier call.",
            cause="state_in_memory",
        )
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples)


def is_read_of_tasks(sql):
    return interleave.first_word(sql) == "select" and TASKS in sql.lower()


def test_two_reconcilers_at_once_still_measure_each_task_once(learner, samples):
    tasks = stale_pending(samples, 3, first=3300)
    both = interleave.at_once(lambda: learner.reconcile(), TASKS, is_read_of_tasks, when="after")
    for run, name in zip(both.copies, ("reconciler A", "reconciler B"), strict=True):
        if run.error:
            grading.fail(
                f"With reconciler B's sweep placed between reconciler A's read and its enqueues, {name}: "
                f"{grading.describe_error(run.error)}; expected both to enqueue the stale tasks."
            )
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples)
