"""Grades exercise 09: the outbox relay sends every committed row exactly once, whatever happens.

The relay checks write their rows with the app's ``outbox.add`` (so a bug in
your ``start_task`` fails only its own checks), run your ``relay_once`` for
real, and let a real rq worker run what it enqueued. Exactly once is counted
where it matters: the fetches of each task's page.

Two relays at once are not left to timing: ``lab.grader.interleave`` stops relay A
inside its transaction (right after its claim, and in another check right
before its mark) until relay B has made its own claim or waits for A's lock,
on SQLite and on PostgreSQL alike (see that module for how each is told).
"""

import redis
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from lab.grader import fixtures, grading, interleave, relaying
from workshop_project.tasks import outbox
from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Outbox, Task

OUTBOX_TABLE = Outbox._meta.db_table

GONE = "workshop_project.tasks.jobs.renamed_long_ago"
OTHER = "ex09-other"  # a second queue, configured for one check: a row names its own queue


def waiting_rows(samples, count, first=4000):
    """``count`` tasks, each with its outbox row, each committed by its own "request"."""
    tasks = []
    for n in range(count):
        with transaction.atomic():
            task = Task.objects.create(url=samples.url(first + n))
            outbox.add(get_url_length, task.id)
        tasks.append(task)
    return tasks


def expect_each_measured_once(tasks, samples, after):
    for task in tasks:
        task.refresh_from_db()
        fetched = samples.fetches(task.url)
        if fetched != 1:
            grading.fail(
                f"{after}, task {task.id}'s page was fetched {fetched} times; expected exactly once "
                f"(its status: {task.status})."
            )


def relay(learner, what, **options):
    """Run the learner's relay_once; one sentence if it raises."""
    try:
        return learner.relay_once(**options)
    except Exception as error:
        grading.fail(f"{grading.describe_error(error)} in {what}; expected it to send the waiting rows.")


def test_the_request_writes_a_row_and_enqueues_nothing(learner, samples):
    with transaction.atomic():
        task = learner.start_task(samples.url(4100))
        queued = grading.queued_job_ids()
        if queued:
            grading.fail(
                f"start_task() put job {queued[0]} in Redis inside the request's transaction; expected no Redis "
                "call at all, only an Outbox row written beside the task."
            )
        if not Outbox.objects.filter(args=[getattr(task, "id", None)]).exists():
            grading.fail(
                "start_task() returned, inside the request's transaction, and no Outbox row for its task exists "
                "yet; expected the row written in that transaction (outbox.add), so the task and the promise "
                "to measure it commit together or not at all."
            )
    rows = list(Outbox.objects.values_list("func", "args"))
    expected = (outbox.dotted_path(get_url_length), [task.id])
    if rows != [expected]:
        grading.fail(f"start_task() left the outbox rows {rows}; expected one, {expected}.")


def test_nothing_is_sent_for_a_rolled_back_request(learner, samples):
    with transaction.atomic():
        kept = learner.start_task(samples.url(4200))
    lost = None
    try:
        with transaction.atomic():
            lost = learner.start_task(samples.url(4201))
            raise RuntimeError("the request failed after start_task()")
    except RuntimeError:
        pass
    relay(learner, "relay_once()")
    ran = grading.runs(grading.run_queued_jobs())
    for run in ran:
        if lost is not None and tuple(run.args[:1]) == (lost.id,):
            grading.fail(
                f"A job for task {lost.id}, whose request rolled back, reached Redis ({run}); expected a "
                "rolled-back request to leave no row and no job."
            )
    expect_each_measured_once([kept], samples, after="After one relay pass")


def test_each_row_is_sent_once(learner, samples):
    tasks = waiting_rows(samples, 3)
    first = relay(learner, "the first relay_once()")
    second = relay(learner, "the second relay_once()")
    if (first, second) != (3, 0):
        grading.fail(
            f"Two passes over three waiting rows returned {first!r} and {second!r}; expected 3 and 0: "
            "each row sent and marked once, and marked rows left alone."
        )
    ids = sorted(grading.queued_job_ids())
    expected = sorted(row.job_id for row in Outbox.objects.all())
    if ids != expected:
        grading.fail(f"The queue holds the jobs {ids}; expected each row's fixed id, {expected}.")
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples, after="After two relay passes")


def test_a_pass_sends_the_oldest_rows_up_to_batch_each_to_its_queue(learner, samples):
    queues = {**settings.RQ_QUEUES, OTHER: settings.RQ_QUEUES["default"]}
    with override_settings(RQ_QUEUES=queues):
        tasks = waiting_rows(samples, 5, first=4500)
        rows = list(Outbox.objects.order_by("id"))
        Outbox.objects.filter(pk__in=[rows[1].pk, rows[2].pk]).update(queue=OTHER)
        rows = list(Outbox.objects.order_by("id"))
        expected = [[row.pk for row in rows[:2]], [row.pk for row in rows[2:4]], [rows[4].pk]]
        for number, batch in enumerate(expected, 1):
            before = set(Outbox.objects.filter(sent_on__isnull=False).values_list("pk", flat=True))
            done = relay(learner, f"relay_once(batch=2), pass {number}", batch=2)
            marked = sorted(set(Outbox.objects.filter(sent_on__isnull=False).values_list("pk", flat=True)) - before)
            if marked != batch or done != len(batch):
                grading.fail(
                    f"Pass {number} of relay_once(batch=2) over five waiting rows (ids {[row.pk for row in rows]}) "
                    f"marked rows {marked} and returned {done!r}; expected {batch} and {len(batch)}: "
                    "at most `batch` rows a pass, the oldest first.",
                    cause="batch_or_order",
                )
        queued = {name: grading.queued_job_ids(name) for name in ("default", OTHER)}
        for row in rows:
            if row.job_id not in queued[row.queue]:
                found = [name for name, ids in queued.items() if row.job_id in ids]
                grading.fail(
                    f"Row {row.pk} names the queue {row.queue!r}, but its job {row.job_id} is in "
                    f"{found[0] if found else 'no queue'!r}; expected it in {row.queue!r}: send(row) takes "
                    "the row's own queue, row.queue.",
                    cause="queue",
                )
        grading.run_queued_jobs()
        grading.run_queued_jobs(OTHER)
    expect_each_measured_once(tasks, samples, after="After three passes of relay_once(batch=2)")


def two_relays(learner, samples, window, when, first):
    """Six waiting rows, and two relays whose passes interleave at ``window`` of relay A's."""
    tasks = waiting_rows(samples, 6, first=first)
    both = interleave.at_once(learner.relay_once, OUTBOX_TABLE, window, when=when)
    for run in both.copies:
        if isinstance(run.error, DatabaseError) and not outbox.can_skip_locked():
            grading.fail(
                f"With two relays at once, {run.name} failed with {type(run.error).__name__}: {run.error}: "
                "both read the same rows and then both wrote. SQLite has no row locks (select_for_update "
                "does nothing there): take the write lock first, outbox.take_write_lock().",
                cause="no_claim_lock",
            )
        if run.error:
            grading.fail(f"With two relays at once, {run.name}: {grading.describe_error(run.error)}.")
    counts = (both.first.result, both.second.result)
    if not all(isinstance(count, int) and not isinstance(count, bool) for count in counts):
        grading.fail(
            f"Two relays at once returned {counts[0]!r} and {counts[1]!r}; "
            "expected each to return how many rows it marked sent."
        )
    return tasks, both, counts


def is_claim(sql):
    return interleave.first_word(sql) == "select" and OUTBOX_TABLE in sql.lower() and connection.in_atomic_block


def test_two_relays_at_once_send_each_row_once(learner, samples):
    tasks, both, counts = two_relays(learner, samples, is_claim, "after", first=4600)
    if sum(counts) != len(tasks):
        grading.fail(
            f"Relay B claimed while relay A held the rows it had just claimed; they marked {counts[0]} and "
            f"{counts[1]} rows, expected {len(tasks)} in all: each row claimed by one relay only "
            "(lock the rows you claim).",
            cause="no_claim_lock",
        )
    if outbox.can_skip_locked() and not both.second.claimed:
        grading.fail(
            "Relay B waited for relay A's locks instead of taking other rows: "
            "on PostgreSQL, claim with select_for_update(skip_locked=True).",
            cause="no_skip_locked",
        )
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples, after="With two relays at once")


def test_a_second_relay_between_send_and_mark_takes_nothing(learner, samples):
    tasks, both, counts = two_relays(learner, samples, relaying.is_mark, "before", first=4700)
    if sum(counts) != len(tasks):
        grading.fail(
            f"Relay B claimed after relay A had sent its rows and before it marked them; they marked {counts[0]} "
            f"and {counts[1]} rows, expected {len(tasks)} in all: relay B took rows relay A had sent. Claim, "
            "send and mark in ONE transaction, so the rows stay locked until they are marked.",
            cause="mark_in_another_transaction",
        )
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples, after="With a second relay between the send and the mark")


def test_a_crash_between_enqueue_and_mark_does_not_run_twice(learner, samples):
    tasks = waiting_rows(samples, 3)
    crashed = False
    with relaying.crash_before_mark() as crashes:
        try:
            learner.relay_once()
        except relaying.SimulatedCrash:
            crashed = True
        except Exception as error:
            grading.fail(f"{grading.describe_error(error)} in relay_once(); expected it to send the rows.")
    if not crashes:
        grading.fail("relay_once() never marked a row sent (an UPDATE of the rows' sent_on); expected it to.")
    if not crashed:
        grading.fail(
            "relay_once() carried on after marking the rows failed; expected the failure to reach the caller, "
            "with the rows' marks rolled back."
        )
    done = relay(learner, "relay_once() after the crash")
    unsent = Outbox.objects.filter(sent_on__isnull=True).count()
    if unsent:
        grading.fail(
            f"After the crash, the next pass left {unsent} rows unsent; expected it to send them again: rq "
            "refuses the copies (DuplicateJobError), which means they were sent already: mark them sent."
        )
    if done != len(tasks):
        grading.fail(
            f"After the crash, the next pass marked the {len(tasks)} rows rq already had and returned {done!r}; "
            f"expected {len(tasks)}: a row rq refused as a duplicate is marked sent, and counts as marked.",
            cause="duplicates_not_counted",
        )
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples, after="After a crash between the enqueue and the mark and a re-send")


def test_a_poison_row_stops_at_the_limit_and_blocks_nothing(learner, samples):
    poison = Outbox.objects.create(func=GONE, args=[1])  # its job was renamed by a deploy
    tasks = waiting_rows(samples, 2)
    first = relay(learner, "relay_once() with a poison row first in line", max_attempts=2)
    if first != 2:
        grading.fail(
            f"The first pass marked {first!r} rows; expected the 2 good rows behind the poison row to be sent: "
            "a row that fails must not stop the others."
        )
    for n in range(4):
        relay(learner, f"pass {n + 2} with a poison row", max_attempts=2)
    poison.refresh_from_db()
    if poison.sent_on is not None:
        grading.fail("The poison row (its job no longer exists) was marked sent; expected it to stay unsent.")
    if poison.attempts != 2:
        grading.fail(
            f"After five passes with max_attempts=2 the poison row has attempts={poison.attempts}; expected 2: "
            "one per failed send, and no more sends once it reaches the max_attempts it is given.",
            cause="max_attempts",
        )
    if not poison.last_error:
        grading.fail("The poison row's last_error is empty; expected the error that failed its send.")
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples, after="With a poison row in the outbox")


def test_rows_wait_while_redis_is_down(learner, samples):
    tasks = waiting_rows(samples, 3)
    raised = None
    with fixtures.redis_down() as closed:
        try:
            learner.relay_once()
        except Exception as error:  # a relay may end its pass by raising: the loop around it tries again
            raised = error
    spent = list(Outbox.objects.filter(attempts__gt=0).values_list("id", flat=True))
    if spent:
        grading.fail(
            f"While Redis ({closed}) was down, rows {spent} counted a failed attempt; expected none: an outage is "
            "not the row's fault, and a long one would use up every row's attempts."
        )
    if Outbox.objects.filter(sent_on__isnull=False).exists():
        if isinstance(raised, redis.RedisError):
            grading.fail(
                f"While Redis was down, relay_once() committed its marks and only then raised "
                f"{type(raised).__name__}: the enqueue waited for the commit (django-rq's on_db_commit mode), "
                'after the mark. Expected send() to enqueue now, inside the pass (commit_mode="auto"), and the '
                "rows to wait in the outbox.",
                cause="deferred_send",
            )
        grading.fail("While Redis was down, rows were marked sent; expected them to wait in the outbox.")
    done = relay(learner, "relay_once() after Redis came back")
    if done != 3:
        grading.fail(f"Once Redis was back, relay_once() marked {done!r} rows; expected the 3 that waited.")
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples, after="After Redis came back")


def test_a_new_row_with_a_deleted_rows_id_is_sent(learner, samples):
    old = waiting_rows(samples, 2, first=4800)
    relay(learner, "relay_once()")
    grading.run_queued_jobs()
    reused = list(Outbox.objects.order_by("id").values_list("pk", flat=True))
    Outbox.objects.all().delete()  # a database made anew (a reset, a new test database) hands the ids out again
    tasks = []
    for pk, n in zip(reused, range(2), strict=False):
        with transaction.atomic():
            task = Task.objects.create(url=samples.url(4810 + n))
            Outbox.objects.create(pk=pk, func=outbox.dotted_path(get_url_length), args=[task.id])
        tasks.append(task)
    relay(learner, "relay_once() over rows that reuse old ids")
    missing = [row.pk for row in Outbox.objects.all() if row.job_id not in grading.queued_job_ids()]
    if missing:
        grading.fail(
            f"Rows {missing} reuse the ids of rows sent and deleted before (a database made anew hands ids out "
            "again); relay_once() did not send them. Expected every waiting row sent: whether a row was sent "
            "is in the table (sent_on), never in the relay's memory.",
            cause="state_in_memory",
        )
    grading.run_queued_jobs()
    expect_each_measured_once(old + tasks, samples, after="After rows that reuse old ids")
