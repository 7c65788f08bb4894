"""Grades exercise 09: the outbox relay sends every committed row exactly once, whatever happens.

The relay checks write their rows with the app's ``outbox.add`` (so a bug in
your ``start_task`` fails only its own checks), run your ``relay_once`` for
real, and let a real rq worker run what it enqueued. Exactly once is counted
where it matters: the fetches of each task's page.
"""

from django.db import DatabaseError, transaction

from lab import grader_fixtures, grading, relaying
from workshop_project.tasks import outbox
from workshop_project.tasks.jobs import get_url_length
from workshop_project.tasks.models import Outbox, Task

GONE = "workshop_project.tasks.jobs.renamed_long_ago"


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


def test_two_relays_at_once_send_each_row_once(learner, samples):
    tasks = waiting_rows(samples, 6)
    both = relaying.two_relays_at_once(learner.relay_once)
    for run in (both.first, both.second):
        if isinstance(run.error, DatabaseError) and not outbox.can_skip_locked():
            grading.fail(
                f"With two relays at once, {run.name} failed with {type(run.error).__name__}: {run.error}: "
                "both read the same rows and then both wrote. SQLite has no row locks (select_for_update "
                "does nothing there): take the write lock first, outbox.take_write_lock()."
            )
        if run.error:
            grading.fail(f"With two relays at once, {run.name}: {grading.describe_error(run.error)}.")
    counts = (both.first.result, both.second.result)
    if not all(isinstance(count, int) for count in counts):
        grading.fail(
            f"Two relays at once returned {counts[0]!r} and {counts[1]!r}; "
            "expected each to return how many rows it marked sent."
        )
    if sum(counts) != len(tasks):
        grading.fail(
            f"Two relays at once marked {counts[0]} and {counts[1]} rows; expected {len(tasks)} in all: "
            "each row claimed by one relay only (lock the rows you claim)."
        )
    if outbox.can_skip_locked() and not both.overlapped:
        grading.fail(
            "Relay B waited for relay A to finish instead of taking other rows: "
            "on PostgreSQL, claim with select_for_update(skip_locked=True)."
        )
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples, after="With two relays at once")


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
    relay(learner, "relay_once() after the crash")
    unsent = Outbox.objects.filter(sent_on__isnull=True).count()
    if unsent:
        grading.fail(
            f"After the crash, the next pass left {unsent} rows unsent; expected it to send them again: rq "
            "refuses the copies (DuplicateJobError), which means they were sent already: mark them sent."
        )
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples, after="After a crash between the enqueue and the mark and a re-send")


def test_a_poison_row_stops_at_the_limit_and_blocks_nothing(learner, samples):
    poison = Outbox.objects.create(func=GONE, args=[1])  # its job was renamed by a deploy
    tasks = waiting_rows(samples, 2)
    first = relay(learner, "relay_once() with a poison row first in line", max_attempts=3)
    if first != 2:
        grading.fail(
            f"The first pass marked {first!r} rows; expected the 2 good rows behind the poison row to be sent: "
            "a row that fails must not stop the others."
        )
    for n in range(4):
        relay(learner, f"pass {n + 2} with a poison row", max_attempts=3)
    poison.refresh_from_db()
    if poison.sent_on is not None:
        grading.fail("The poison row (its job no longer exists) was marked sent; expected it to stay unsent.")
    if poison.attempts != 3:
        grading.fail(
            f"After five passes with max_attempts=3 the poison row has attempts={poison.attempts}; expected 3: "
            "one per failed send, and no more sends once it reaches the limit."
        )
    if not poison.last_error:
        grading.fail("The poison row's last_error is empty; expected the error that failed its send.")
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples, after="With a poison row in the outbox")


def test_rows_wait_while_redis_is_down(learner, samples):
    tasks = waiting_rows(samples, 3)
    with grader_fixtures.redis_down() as closed:
        try:
            learner.relay_once()
        except Exception:  # a relay may end its pass by raising: the loop around it tries again
            pass
    spent = list(Outbox.objects.filter(attempts__gt=0).values_list("id", flat=True))
    if spent:
        grading.fail(
            f"While Redis ({closed}) was down, rows {spent} counted a failed attempt; expected none: an outage is "
            "not the row's fault, and a long one would use up every row's attempts."
        )
    if Outbox.objects.filter(sent_on__isnull=False).exists():
        grading.fail("While Redis was down, rows were marked sent; expected them to wait in the outbox.")
    done = relay(learner, "relay_once() after Redis came back")
    if done != 3:
        grading.fail(f"Once Redis was back, relay_once() marked {done!r} rows; expected the 3 that waited.")
    grading.run_queued_jobs()
    expect_each_measured_once(tasks, samples, after="After Redis came back")
